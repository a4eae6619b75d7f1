"""Find the parts of a text that must not change in translation.

Placeholders, phone numbers, other numbers, URLs and glossary terms are found
here once and used both by the translate stage (to protect them) and by the
checks (to compare a translation with its English).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

PLACEHOLDER_RE = re.compile(r"\{([a-z_]+)\}")
URL_RE = re.compile(r"\b(?:https?://|www\.)[^\s<>\"']+[^\s<>\"'.,;:!?)]", re.IGNORECASE)
# What a browser or a phone's text view turns into a link: a scheme or www., or a bare
# domain ending in a top-level domain people type (example.org/path, CDC.GOV), any case.
_TLDS = (
    "com|org|net|gov|edu|mil|int|info|io|co|app|health|care|help|online|site|link|ly|me|tv|biz|xyz|shop|store|top|club|"
    "live|life|news|click|today|world|support|page|web|fun|space|tech|pro|ws|cc|to|gg|ai|lat|one|website|blog|"
    "us|ca|mx|uk|ie|au|nz|br|es|fr|pt|de|it|nl|be|ch|at|ru|ua|cn|tw|hk|jp|kr|in|bd|ph|vn|ir|sa|ae|eg|ma|ht|so|et"
)
BARE_DOMAIN_RE = re.compile(
    rf"(?<![\w@./-])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:{_TLDS})(?![\w-])(?:[/?#][^\s<>\"'«»“”]*[^\s<>\"'.,;:!?)«»“”])?",
    re.IGNORECASE,
)
# An e-mail address, which a phone or mail reader links too (mailto:): judged as a URL.
EMAIL_RE = re.compile(r"(?<![\w.+-])[\w.+-]+@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}(?![\w-])", re.IGNORECASE)
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
    """Every web address, as a browser would link it: with a scheme, www. or a bare domain;
    and every e-mail address."""
    emails = EMAIL_RE.findall(text)
    text = EMAIL_RE.sub(" ", text)
    found = URL_RE.findall(text)
    rest = URL_RE.sub(" ", text)
    return emails + found + BARE_DOMAIN_RE.findall(rest)


def url_key(url: str) -> str:
    """A URL as compared with the allowlist: case-folded, without scheme or www."""
    return re.sub(r"^(?:https?://)?(?:www\.)?", "", url.strip().casefold())


def url_allowed(url: str, allowlist: tuple[str, ...] | list[str]) -> bool:
    return any(url_key(url).startswith(url_key(prefix)) for prefix in allowlist)


def read_numerals(text: str) -> str:
    """The text with every numeral Unicode defines written as ASCII digits.

    Decimal digits of any script (Arabic-Indic, Persian, Devanagari, full-width) become
    0-9; compatibility numerals (superscripts, circled, Roman numerals) become their
    value. CJK ideographs with a numeric value (一, 五) stay words: they are also
    parts of ordinary words (一起).
    """
    out = []
    for ch in text:
        if ch.isascii():
            out.append(ch)
            continue
        category = unicodedata.category(ch)
        if category == "Nd":
            out.append(str(unicodedata.digit(ch)))
        elif category in ("No", "Nl"):
            folded = unicodedata.normalize("NFKC", ch)
            value = unicodedata.numeric(ch, None)
            if folded.isascii() and any(c.isdigit() for c in folded):
                out.append(folded.replace("\u2044", "/"))
            elif value is not None and float(value).is_integer():
                out.append(str(int(value)))
            else:
                out.append(ch)
        else:
            out.append(ch)
    return "".join(out)


def digits_of(text: str) -> str:
    """The decimal digits of a text, in any script, as ASCII."""
    return "".join(str(int(ch)) for ch in text if ch.isdecimal())


def find_phone_numbers(text: str) -> list[str]:
    """Digit runs that look like phone numbers (7 or more digits)."""
    without_urls = URL_RE.sub(" ", PLACEHOLDER_RE.sub(" ", read_numerals(text)))
    return [m.group(0).strip() for m in PHONE_RE.finditer(without_urls) if len(digits_of(m.group(0))) >= 7]


def find_numbers(text: str) -> list[str]:
    """Every number in a text (outside placeholders and URLs), as ASCII digits."""
    without = URL_RE.sub(" ", PLACEHOLDER_RE.sub(" ", read_numerals(text)))
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
