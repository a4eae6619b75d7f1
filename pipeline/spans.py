"""Find the parts of a text that must not change in translation.

Placeholders, phone numbers, other numbers, URLs and glossary terms are found
here once and used both by the translate stage (to protect them) and by the
checks (to compare a translation with its English).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

PLACEHOLDER_RE = re.compile(r"\{([a-z_]+)\}")
URL_RE = re.compile(r"\b(?:https?://|www\.)[^\s<>\"']+[^\s<>\"'.,;:!?)]")
# A run of digits with the separators phone numbers use, at least 7 digits in all,
# or a "1-800"-style number; then plain numbers (decimal digits in any script).
PHONE_RE = re.compile(r"(?<![\w])(?:\+?\d[\d\s().\-/]{5,}\d)(?![\w])")
NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)*")


@dataclass(frozen=True, slots=True)
class Span:
    """A protected piece of text: where it is, what it says and what kind it is."""

    start: int
    end: int
    text: str
    kind: str  # placeholder | url | phone | number | term | keep


def find_placeholders(text: str) -> list[str]:
    return PLACEHOLDER_RE.findall(text)


def find_urls(text: str) -> list[str]:
    return URL_RE.findall(text)


def digits_of(text: str) -> str:
    """The decimal digits of a text, in any script, as ASCII."""
    return "".join(str(int(ch)) for ch in text if ch.isdecimal())


def find_phone_numbers(text: str) -> list[str]:
    """Digit runs that look like phone numbers (7 or more digits)."""
    without_urls = URL_RE.sub(" ", PLACEHOLDER_RE.sub(" ", text))
    return [m.group(0).strip() for m in PHONE_RE.finditer(without_urls) if len(digits_of(m.group(0))) >= 7]


def find_numbers(text: str) -> list[str]:
    """Every number in a text (outside placeholders and URLs), as ASCII digits."""
    without = URL_RE.sub(" ", PLACEHOLDER_RE.sub(" ", text))
    return [digits_of(m.group(0)) for m in NUMBER_RE.finditer(without)]


@functools.lru_cache(maxsize=1024)
def _term_pattern(term: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(term)}(?!\w)", flags=re.IGNORECASE)


def find_terms(text: str, terms: list[str]) -> list[Span]:
    """Whole-word, case-insensitive occurrences of any of `terms`."""
    spans = []
    for term in sorted(terms, key=len, reverse=True):
        for match in _term_pattern(term).finditer(text):
            spans.append(Span(match.start(), match.end(), match.group(0), "term"))
    return spans


def protected_spans(text: str, keep: list[str], terms: list[str]) -> list[Span]:
    """All spans to protect, longest-first where they overlap, in text order."""
    found: list[Span] = []
    for match in PLACEHOLDER_RE.finditer(text):
        found.append(Span(match.start(), match.end(), match.group(0), "placeholder"))
    for match in URL_RE.finditer(text):
        found.append(Span(match.start(), match.end(), match.group(0), "url"))
    for match in PHONE_RE.finditer(text):
        if len(digits_of(match.group(0))) >= 7:
            found.append(Span(match.start(), match.end(), match.group(0).strip(), "phone"))
    for match in NUMBER_RE.finditer(text):
        found.append(Span(match.start(), match.end(), match.group(0), "number"))
    found += [Span(s.start, s.end, s.text, "keep") for s in find_terms(text, keep)]
    found += find_terms(text, terms)
    found.sort(key=lambda s: (s.start, -(s.end - s.start)))
    chosen: list[Span] = []
    for span in found:
        if chosen and span.start < chosen[-1].end:
            continue
        chosen.append(span)
    return chosen
