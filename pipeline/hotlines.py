"""The hotline registry: every phone number that may ever be printed.

Loaded from source/hotlines.yaml, keeping each entry's sources, confidence and
the registry's compile date. Only entries of high or medium confidence print;
UNVERIFIED, low-confidence and do-not-print numbers never do.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from pathlib import Path

import phonenumbers

from pipeline.errors import Collector
from pipeline.spans import digits_of
from pipeline.yamlfile import Node, each_mapping, read_yaml, unknown_keys

CATEGORIES = (
    "emergency",
    "drug_alcohol_helpline",
    "never_use_alone",
    "poison_centre",
    "suicide_crisis",
    "health_advice",
)
CONFIDENCES = ("high", "medium", "low", "UNVERIFIED")
PRINTABLE_CONFIDENCE = ("high", "medium")

# Text placeholders filled from the registry: {name} -> category of line.
PLACEHOLDER_CATEGORIES = {
    "emergency": "emergency",
    "helpline": "drug_alcohol_helpline",
    "never_use_alone": "never_use_alone",
    "poison_centre": "poison_centre",
    "crisis_line": "suicide_crisis",
}
# Placeholders filled from elsewhere than a hotline entry.
OTHER_PLACEHOLDERS = {"date": "the date the hotline registry was compiled"}

ENTRY_KEYS = (
    "category", "service", "number_published", "e164", "e164_alt", "other_numbers", "extra_channels",
    "hours", "cost", "languages", "notes", "sources", "confidence", "unlisted_short_code", "area",
)
# Phone keypad letters, for vanity numbers such as 1-800-662-HELP.
_VANITY = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "22233344455566677778889999")
_ALTERNATIVES = re.compile(r"\s+or\s+|\s*/\s*|\s*;\s*")
_PARENTHESIS = re.compile(r"\(([^()]*)\)")
# The member states, where 112 is the emergency number everywhere.
EU_MEMBERS = (
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU",
    "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
)
# Hours notes that say, with no caveat, that a line never closes ("Open 24/7" prints only for these).
ALWAYS_OPEN = ("24/7", "24/7, 365 days a year", "24 hours a day, every day", "24 hours a day, 7 days a week")
_PLAIN_NUMBER = re.compile(r"^[\d\s().+\-]+$")


@dataclass(frozen=True, slots=True)
class Hotline:
    """One phone line of one region, exactly as the registry records it."""

    region: str
    category: str
    service: str
    number_published: str | None
    e164: str | None
    hours: str
    cost: str
    sources: tuple[str, ...]
    confidence: str
    line: int
    e164_alt: str | None = None
    unlisted_short_code: str = ""  # why a short code phonenumbers does not know is printed anyway
    area: str = ""  # the place a local line serves, printed after its label (e.g. Paris)

    @property
    def is_open_24_7(self) -> bool:
        """True only when the registry states plainly, with no caveat, that the line never closes."""
        return self.hours.strip() in ALWAYS_OPEN

    @property
    def is_free(self) -> bool:
        """True only when the registry's cost note starts with 'free' and says nothing against it."""
        cost = self.cost.strip()
        return cost.startswith("free") and "not" not in cost.lower() and "charge" not in cost.lower()

    def display_number(self) -> str:
        """The number as printed: the operator's own digits, else the national format of the E.164 form."""
        published = self.number_published or ""
        if _PLAIN_NUMBER.match(published):
            return published.strip()
        if self.e164:
            parsed = phonenumbers.parse(self.e164)
            if parsed.country_code == 1:
                # North America writes toll-free and long-distance numbers 1-800-662-4357.
                national = str(parsed.national_number)
                return f"1-{national[:3]}-{national[3:6]}-{national[6:]}"
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
        return published.strip()

    def dial_digits(self) -> str:
        return digits_of(self.e164 or self.display_number())


@dataclass(frozen=True, slots=True)
class PublishedNumber:
    """One number written in `number_published`, with vanity letters turned into keypad digits."""

    text: str
    digits: str
    problem: str = ""  # e.g. the digits in "HELP (4358)" do not spell the letters


def published_numbers(published: str) -> list[PublishedNumber]:
    """Every number `number_published` writes: "A or B" and "A / B" are two; words in lower case are notes.

    "1-800-662-HELP (4357)" is one number, 18006624357, whose bracketed digits must
    spell its letters; "0917-899-8727 (0917-899-USAP)" is two ways of writing one
    number, each checked; "(02) 8524-1078" keeps its area code.
    """
    numbers: list[PublishedNumber] = []
    for part in _ALTERNATIVES.split(published.strip()):
        extra: list[str] = []
        problem = ""
        outer = _PARENTHESIS.sub(" ", part)
        has_letters = bool(re.search(r"[A-Z]", "".join(w for w in outer.split() if not re.search(r"[a-z]", w))))
        kept = part
        for match in _PARENTHESIS.finditer(part):
            inner = match.group(1).strip()
            if re.search(r"[a-z]", inner):
                kept = kept.replace(match.group(0), " ")  # a note, e.g. "(others listed in notes)"
            elif re.search(r"[A-Z]", inner) and re.search(r"\d", inner):
                extra.append(inner)  # the same number written another way
                kept = kept.replace(match.group(0), " ")
            elif has_letters and re.fullmatch(r"[\d\s-]+", inner):
                kept = kept.replace(match.group(0), " ")  # the digits of the letters before it
                spelled = digits_of(_vanity_digits(outer))
                if not spelled.endswith(digits_of(inner)):
                    problem = f"({inner}) does not spell the letters of {outer.strip()!r}"
        for text in [kept, *extra]:
            digits = digits_of(_vanity_digits(text))
            if digits:
                numbers.append(PublishedNumber(part.strip() if text is kept else text, digits, problem if text is kept else ""))
    return numbers


@functools.lru_cache(maxsize=1024)
def _digits(number: str) -> str:
    return digits_of(number)


def _vanity_digits(text: str) -> str:
    """Words in capitals (HELP, CALL-NOW) become keypad digits; words with lower-case letters are dropped."""
    words = [w for w in text.split() if not re.search(r"[a-z]", w)]
    return " ".join(words).translate(_VANITY)


@dataclass(frozen=True, slots=True)
class DoNotPrint:
    number: str
    why: str
    line: int

    @property
    def digits(self) -> str:
        return _digits(self.number)


@dataclass(frozen=True, slots=True)
class Region:
    iso: str
    name: str
    entries: tuple[Hotline, ...]


@dataclass(frozen=True, slots=True)
class Registry:
    path: Path
    compiled: dt.date
    regions: dict[str, Region]
    do_not_print: tuple[DoNotPrint, ...]

    def is_forbidden(self, entry: Hotline) -> bool:
        """A number on the do-not-print list (matched on its digits)."""
        digits = entry.dial_digits()
        national = digits_of(entry.number_published or "")
        return any(d.digits and (d.digits in digits or d.digits in national) for d in self.do_not_print if len(d.digits) >= 7)

    def is_printable(self, entry: Hotline) -> bool:
        return (
            entry.confidence in PRINTABLE_CONFIDENCE
            and bool(entry.number_published)
            and not self.is_forbidden(entry)
        )

    def printable(self, region: str, category: str) -> list[Hotline]:
        """The region's entries of one category that may print, in registry order."""
        found = self.regions.get(region)
        if found is None:
            return []
        return [e for e in found.entries if e.category == category and self.is_printable(e)]

    def first_printable(self, region: str, category: str) -> Hotline | None:
        entries = self.printable(region, category)
        return entries[0] if entries else None

    def all_numbers(self, region: str) -> list[Hotline]:
        found = self.regions.get(region)
        return list(found.entries) if found else []


def _text(value: object) -> str:
    return "" if value is None else str(value)


def read_registry(path: Path, problems: Collector) -> Registry:
    """Load and validate the registry, adding every problem to `problems`."""
    data = read_yaml(path)
    if not isinstance(data, Node):
        problems.add(path, 1, "expected a mapping with 'meta', 'regions' and 'do_not_print'")
        return Registry(path, dt.date.min, {}, ())
    compiled = dt.date.min
    meta = data.get("meta")
    if isinstance(meta, Node):
        try:
            compiled = dt.date.fromisoformat(_text(meta.get("compiled")))
        except ValueError:
            problems.add(path, meta.line_of("compiled"), "meta.compiled must be a date written YYYY-MM-DD")
    else:
        problems.add(path, data.line, "missing 'meta' with the 'compiled' date")

    regions: dict[str, Region] = {}
    raw_regions = data.get("regions") or []
    if not isinstance(raw_regions, list):
        problems.add(path, data.line_of("regions"), "regions must be a list of {region, iso, entries}")
        raw_regions = []
    for raw_region in each_mapping(path, raw_regions, data.line_of("regions"), "each region must be a mapping", problems):
        iso = _text(raw_region.get("iso"))
        if not re.fullmatch(r"[A-Z]{2}", iso):
            problems.add(path, raw_region.line_of("iso"), f"region iso must be two capital letters, not {iso!r}")
            continue
        if iso in regions:
            problems.add(path, raw_region.line_of("iso"), f"region {iso} is listed twice")
            continue
        entries = []
        raw_entries = raw_region.get("entries") or []
        if not isinstance(raw_entries, list):
            problems.add(path, raw_region.line_of("entries"), f"region {iso}: entries must be a list")
            raw_entries = []
        for raw in raw_entries:
            entry = _read_entry(path, iso, raw, problems, raw_region.line_of("entries"))
            if entry is not None:
                entries.append(entry)
        regions[iso] = Region(iso, _text(raw_region.get("region")), tuple(entries))

    do_not_print = []
    raw_list = data.get("do_not_print") or []
    if not isinstance(raw_list, list):
        problems.add(path, data.line_of("do_not_print"), "do_not_print must be a list")
        raw_list = []
    for raw in raw_list:
        if not isinstance(raw, Node) or not raw.get("number"):
            problems.add(path, getattr(raw, "line", data.line_of("do_not_print")), "do_not_print entries need a 'number'")
            continue
        do_not_print.append(DoNotPrint(_text(raw["number"]), _text(raw.get("why")), raw.line))
    return Registry(path, compiled, regions, tuple(do_not_print))


def _read_entry(path: Path, iso: str, raw: object, problems: Collector, list_line: int) -> Hotline | None:
    if not isinstance(raw, Node):
        problems.add(path, list_line, f"region {iso}: each entry must be a mapping")
        return None
    for line, message in unknown_keys(raw, ENTRY_KEYS):
        problems.add(path, line, f"{iso} entry: {message}")
    category = _text(raw.get("category"))
    if category not in CATEGORIES:
        problems.add(path, raw.line_of("category"), f"unknown category {category!r} (known: {', '.join(CATEGORIES)})")
        return None
    confidence = _text(raw.get("confidence"))
    if confidence not in CONFIDENCES:
        problems.add(path, raw.line_of("confidence"), f"confidence must be one of {', '.join(CONFIDENCES)}, not {confidence!r}")
        return None
    number = raw.get("number_published")
    e164 = raw.get("e164")
    if confidence in PRINTABLE_CONFIDENCE and not number:
        problems.add(path, raw.line, f"{iso} {category}: a {confidence}-confidence entry needs number_published")
    if e164 is not None and not re.fullmatch(r"\+\d{6,15}", _text(e164)):
        problems.add(path, raw.line_of("e164"), f"e164 must look like +15551234567, not {e164!r}")
        e164 = None
    sources = raw.get("sources") or []
    if not isinstance(sources, list):
        problems.add(path, raw.line_of("sources"), f"{iso} {category}: sources must be a list of URLs")
        sources = []
    if confidence in PRINTABLE_CONFIDENCE and not sources:
        problems.add(path, raw.line, f"{iso} {category}: a printable entry needs at least one source")
    return Hotline(
        region=iso,
        category=category,
        service=_text(raw.get("service")),
        number_published=_text(number) if number else None,
        e164=_text(e164) if e164 else None,
        hours=_text(raw.get("hours")),
        cost=_text(raw.get("cost")),
        sources=tuple(_text(s) for s in sources),
        confidence=confidence,
        line=raw.line,
        e164_alt=_text(raw.get("e164_alt")) or None,
        unlisted_short_code=_text(raw.get("unlisted_short_code")),
        area=_text(raw.get("area")),
    )
