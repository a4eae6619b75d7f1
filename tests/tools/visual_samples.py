"""Sample pages for the visual regression test, and the pixel comparison it uses.

`make update-references` (tests/tools/update_references.py) renders these
samples into tests/visual/*.png after a reviewed design change; the test
renders them again and compares pixel by pixel with a small tolerance.
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import polib
from PIL import Image, ImageChops

REPO = Path(__file__).resolve().parents[2]
REFERENCES = REPO / "tests" / "visual"
DPI = 40
# A pixel counts as changed when a channel moves by more than this (anti-aliasing noise stays below).
PIXEL_THRESHOLD = 48
# The share of changed pixels a page may have and still match its reference.
MAX_CHANGED_SHARE = 0.004


@dataclass(frozen=True)
class Sample:
    name: str
    edition: str
    format: str
    page: int  # 1-based


SAMPLES = (
    Sample("en-US-flyer-letter-p1", "en-US", "flyer-letter", 1),
    Sample("en-US-flyer-letter-p2", "en-US", "flyer-letter", 2),
    Sample("en-US-card-front", "en-US", "card", 1),
    Sample("en-US-card-back", "en-US", "card", 2),
    Sample("en-US-sheet-letter-fronts", "en-US", "sheet-letter", 1),
    Sample("ar-US-card-front", "ar-US", "card", 1),
    Sample("zh-Hans-US-flyer-letter-p1", "zh-Hans-US", "flyer-letter", 1),
)


def sample_texts(source, language: str) -> dict[str, str]:
    """English from source/; other languages from the shipped drafts (the test needs text, not approval)."""
    texts = {s.id: s.text for s in source.strings.values()}
    if language != "en":
        for entry in polib.pofile(str(REPO / "translations" / f"{language}.po")):
            if entry.msgctxt in texts and entry.msgstr and not entry.obsolete:
                texts[entry.msgctxt] = entry.msgstr
    return texts


def render_samples(source, renderer, out_dir: Path) -> dict[str, Path]:
    """Render each sample page to PNG in out_dir; return name -> path."""
    pngs = {}
    documents: dict[tuple[str, str], bytes] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for sample in SAMPLES:
            key = (sample.edition, sample.format)
            if key not in documents:
                edition = source.editions[sample.edition]
                documents[key] = renderer.render(edition, sample.format, sample_texts(source, edition.language), proof=False).pdf
            pdf = Path(scratch) / "doc.pdf"
            pdf.write_bytes(documents[key])
            stem = Path(scratch) / sample.name
            subprocess.run(
                ["pdftoppm", "-r", str(DPI), "-png", "-f", str(sample.page), "-l", str(sample.page), "-singlefile", str(pdf), str(stem)],
                check=True,
            )
            target = out_dir / f"{sample.name}.png"
            Image.open(f"{stem}.png").convert("RGB").save(target, optimize=True)
            pngs[sample.name] = target
    return pngs


def changed_share(reference: Path, candidate: Path) -> float:
    """The share of pixels that differ beyond the threshold (1.0 if the sizes differ)."""
    a = Image.open(reference).convert("RGB")
    b = Image.open(candidate).convert("RGB")
    if a.size != b.size:
        return 1.0
    difference = ImageChops.difference(a, b).convert("L").point(lambda value: 255 if value > PIXEL_THRESHOLD else 0)
    changed = difference.histogram()[255]
    return changed / (a.size[0] * a.size[1])
