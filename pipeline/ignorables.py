r"""Unicode's Default_Ignorable_Code_Point property, carried as data.

Source: DerivedCoreProperties.txt of the Unicode Character Database,
https://www.unicode.org/Public/UCD/latest/ucd/DerivedCoreProperties.txt (property
Default_Ignorable_Code_Point), extracted from the tables of the `regex` package
(2026.11.19), which tracks the current Unicode release. Python's `unicodedata` has
the general categories (Cf) but not this property. These code points draw nothing
yet change what a reader, a search or a comparison sees (U+034F, U+115F, U+3164,
U+FFA0, U+180B-U+180F and the zero-width and bidirectional controls are among them).
Regenerate with: [c for c in range(0x110000) if regex.match(r"\p{DI}", chr(c))].
"""

from __future__ import annotations

import bisect

DEFAULT_IGNORABLE_RANGES: tuple[tuple[int, int], ...] = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)
_STARTS = [start for start, _ in DEFAULT_IGNORABLE_RANGES]


def is_default_ignorable(char: str) -> bool:
    """Whether a character has the Default_Ignorable_Code_Point property."""
    code = ord(char)
    index = bisect.bisect_right(_STARTS, code) - 1
    return index >= 0 and DEFAULT_IGNORABLE_RANGES[index][0] <= code <= DEFAULT_IGNORABLE_RANGES[index][1]
