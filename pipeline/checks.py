"""Quality checks: small registered functions, each with an id, a severity and a title.

Severity "error" blocks approval and printing; "warning" is shown to reviewers
and fails only `outreach check --strict`. A check's title is the first line of
its docstring, which `outreach check --list` prints.

Scopes:
  translation  one translated string of one language (runs on every draft)
  source       one English string
  registry     the hotline registry
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import phonenumbers
from phonenumbers import shortnumberinfo

from pipeline import spans
from pipeline.content import Language, Source, SourceString
from pipeline.document import print_places
from pipeline.hotlines import Hotline

ERROR = "error"
WARNING = "warning"

# Longest translation, in characters, that still fits where each kind of string prints.
# Card strings are hard limits (the card has a fixed size); flyer strings a soft budget.
CARD_LENGTH_LIMIT = 150
TITLE_LENGTH_LIMIT = 60
FLYER_LENGTH_BUDGET = 220
MAX_READING_GRADE = 8.0
DEFAULT_MAX_AGE_DAYS = 180

INVISIBLE = {
    "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff",  # zero-width characters
    "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",  # embeddings and overrides
    "\u2066", "\u2067", "\u2068", "\u2069",  # isolates
    "\u200e", "\u200f", "\u061c",  # direction marks
}
# Zero-width joiners are needed to shape some scripts; they are only suspicious elsewhere.
JOINER_SCRIPTS = {"Arab", "Deva", "Beng", "Ethi"}
SCRIPT_RANGES = {
    "Latn": [(0x0041, 0x024F), (0x1E00, 0x1EFF)],
    "Cyrl": [(0x0400, 0x052F)],
    "Arab": [(0x0600, 0x06FF), (0x0750, 0x077F), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF)],
    "Deva": [(0x0900, 0x097F)],
    "Beng": [(0x0980, 0x09FF)],
    "Ethi": [(0x1200, 0x139F)],
    "Hans": [(0x4E00, 0x9FFF), (0x3400, 0x4DBF)],
    "Hant": [(0x4E00, 0x9FFF), (0x3400, 0x4DBF)],
    "Kore": [(0xAC00, 0xD7AF), (0x1100, 0x11FF), (0x3130, 0x318F), (0x4E00, 0x9FFF)],
    "Jpan": [(0x3040, 0x30FF), (0x4E00, 0x9FFF)],
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One check's result on one thing."""

    check: str
    severity: str
    message: str
    path: Path | None = None
    line: int | None = None
    string_id: str = ""
    language: str = ""

    def format(self, root: Path | None = None) -> str:
        where = ""
        if self.path is not None:
            path = self.path
            if root is not None:
                try:
                    path = path.relative_to(root)
                except ValueError:
                    pass
            where = f"{path}:{self.line}: " if self.line else f"{path}: "
        subject = f"{self.language}: {self.string_id}: " if self.language else (f"{self.string_id}: " if self.string_id else "")
        return f"{where}{self.severity}: {subject}{self.message} [{self.check}]"


@dataclass(frozen=True, slots=True)
class TranslationCase:
    """What a translation check looks at."""

    source: Source
    language: Language
    string: SourceString
    translation: str
    regions: frozenset[str]  # regions of the editions printed in this language


@dataclass(frozen=True, slots=True)
class Check:
    id: str
    severity: str
    scope: str
    function: Callable[..., Iterator[str]]

    @property
    def title(self) -> str:
        return (self.function.__doc__ or self.id).strip().splitlines()[0]


CHECKS: dict[str, Check] = {}


CheckFunction = TypeVar("CheckFunction", bound=Callable[..., Iterator[str]])


def check(check_id: str, severity: str, scope: str) -> Callable[[CheckFunction], CheckFunction]:
    """Register a check. The function yields one message per problem found."""

    def register(function: CheckFunction) -> CheckFunction:
        CHECKS[check_id] = Check(check_id, severity, scope, function)
        return function

    return register


# ------------------------------------------------------------------ translations


@check("empty", ERROR, "translation")
def check_empty(case: TranslationCase) -> Iterator[str]:
    """Translation is empty or only whitespace."""
    if not case.translation.strip():
        yield "the translation is empty"


@check("placeholders", ERROR, "translation")
def check_placeholders(case: TranslationCase) -> Iterator[str]:
    """Placeholders such as {emergency} are the same as in the English."""
    expected = sorted(spans.find_placeholders(case.string.text))
    found = sorted(spans.find_placeholders(case.translation))
    if expected != found:
        missing = sorted(set(expected) - set(found))
        extra = sorted(set(found) - set(expected))
        parts = []
        if missing:
            parts.append("missing " + ", ".join("{" + m + "}" for m in missing))
        if extra:
            parts.append("unexpected " + ", ".join("{" + m + "}" for m in extra))
        if not parts:
            parts.append(f"expected each of {', '.join('{' + e + '}' for e in expected)} exactly once")
        yield "placeholders differ from the English: " + "; ".join(parts)


@check("numbers", ERROR, "translation")
def check_numbers(case: TranslationCase) -> Iterator[str]:
    """Numbers (doses, minutes, hours) are the same as in the English."""
    expected = sorted(spans.find_numbers(case.string.text))
    found = sorted(spans.find_numbers(case.translation))
    if expected != found:
        yield f"numbers differ from the English: expected {', '.join(expected) or 'none'}, found {', '.join(found) or 'none'}"


@check("phone-registry", ERROR, "translation")
def check_phone_registry(case: TranslationCase) -> Iterator[str]:
    """Every phone number in a translation is a printable registry number of the edition's region."""
    for number in spans.find_phone_numbers(case.translation):
        digits = spans.digits_of(number)
        allowed = [
            entry
            for region in case.regions
            for entry in case.source.registry.all_numbers(region)
            if case.source.registry.is_printable(entry) and digits in (entry.dial_digits(), spans.digits_of(entry.display_number()))
        ]
        if not allowed:
            yield f"phone number {number} is not a printable registry number for {', '.join(sorted(case.regions)) or 'any edition'}; use a placeholder"


@check("urls", ERROR, "translation")
def check_urls(case: TranslationCase) -> Iterator[str]:
    """URLs come only from the allowlist in source/urls.yaml."""
    for url in spans.find_urls(case.translation):
        if not any(url.startswith(prefix) for prefix in case.source.url_allowlist):
            yield f"URL {url} is not in source/urls.yaml"


@check("keep-terms", ERROR, "translation")
def check_keep_terms(case: TranslationCase) -> Iterator[str]:
    """Names that must not be translated (Narcan, Xanax ...) are kept."""
    for term in case.source.glossary.keep:
        if spans.find_terms(case.string.text, [term]) and term not in case.translation:
            yield f"{term!r} must appear unchanged"


@check("glossary", WARNING, "translation")
def check_glossary(case: TranslationCase) -> Iterator[str]:
    """Glossary terms use the approved word for the language."""
    for term, words in case.source.glossary.terms.items():
        word = words.get(case.language.code)
        if word and spans.find_terms(case.string.text, [term]) and word.casefold() not in case.translation.casefold():
            yield f"{term!r} should be translated as {word!r}"


@check("untranslated", WARNING, "translation")
def check_untranslated(case: TranslationCase) -> Iterator[str]:
    """Translation is the English text unchanged."""
    if case.language.code != "en" and case.translation.strip() == case.string.text.strip() and re.search(r"[A-Za-z]{4}", case.string.text):
        yield "the translation is identical to the English"


@check("markup", ERROR, "translation")
def check_markup(case: TranslationCase) -> Iterator[str]:
    """No HTML or other markup in the text."""
    match = re.search(r"<\s*/?\s*[A-Za-z!][^>]*>|&[A-Za-z]+;|&#\d+;|\]\(|\*\*", case.translation)
    if match:
        yield f"markup {match.group(0)!r} in the text"


@check("invisible", ERROR, "translation")
def check_invisible(case: TranslationCase) -> Iterator[str]:
    """No invisible or direction-override characters that can disguise text."""
    allowed = {"\u200c", "\u200d"} if case.language.script in JOINER_SCRIPTS else set()
    for char in sorted(set(case.translation)):
        if (char in INVISIBLE and char not in allowed) or (unicodedata.category(char) == "Cc" and char not in "\n"):
            yield f"invisible character U+{ord(char):04X} ({unicodedata.name(char, 'control')})"


@check("length", ERROR, "translation")
def check_length(case: TranslationCase) -> Iterator[str]:
    """Text fits its space: card strings have a hard limit, flyer strings a budget."""
    limit, where = length_limit(case.source, case.string)
    length = len(case.translation)
    if length > limit:
        yield f"{length} characters is over the {where} limit of {limit} by {length - limit}"


@check("repetition", ERROR, "translation")
def check_repetition(case: TranslationCase) -> Iterator[str]:
    """The same word three or more times in a row (a known machine-translation failure)."""
    words = re.findall(r"\w+", case.translation.casefold())
    run = 1
    for before, word in zip(words, words[1:]):
        run = run + 1 if word == before else 1
        if run == 3:
            yield f"{word!r} repeated {run}+ times in a row"
            return
    # Scripts without spaces: the same 2-4 character chunk three times running.
    match = re.search(r"(\w{2,4})\1\1", case.translation.replace(" ", ""))
    if match and not words[1:]:
        yield f"{match.group(1)!r} repeated 3+ times in a row"


@check("script", ERROR, "translation")
def check_script(case: TranslationCase) -> Iterator[str]:
    """Most letters are in the language's own script."""
    ranges = SCRIPT_RANGES.get(case.language.script)
    if not ranges:
        return
    kept = set("".join(case.source.glossary.keep))
    letters = [ch for ch in case.translation if ch.isalpha() and ch not in kept]
    if not letters:
        return
    inside = sum(1 for ch in letters if any(lo <= ord(ch) <= hi for lo, hi in ranges))
    if inside / len(letters) < 0.5:
        yield f"only {inside} of {len(letters)} letters are in the {case.language.name} script ({case.language.script})"


@check("wording", WARNING, "translation")
def check_translation_wording(case: TranslationCase) -> Iterator[str]:
    """Person-first, non-stigmatising words (source/wording.yaml)."""
    yield from _stigma(case.source, case.language.code, case.translation)


def length_limit(source: Source, string: SourceString) -> tuple[int, str]:
    """The most characters a string may have where it prints (read from the document plans)."""
    everywhere = print_places(source)
    places = set(everywhere.get(string.id, set()))
    if string.variant_of:  # a regional variant is held to the limits of the slot it fills anywhere
        places |= everywhere.get(string.variant_of, set())
    if "label" in places:
        return TITLE_LENGTH_LIMIT, "label"
    if "card" in places:
        return CARD_LENGTH_LIMIT, "wallet card"
    return FLYER_LENGTH_BUDGET, "flyer"


# ------------------------------------------------------------------ source


@check("citations", ERROR, "source")
def check_citations(source: Source, string: SourceString) -> Iterator[str]:
    """Every fact block cites at least one source."""
    if string.kind == "fact" and not string.citations:
        yield "a fact block needs at least one citation"


@check("source-review", ERROR, "source")
def check_source_review(source: Source, string: SourceString) -> Iterator[str]:
    """Every English string has a review record (who checked it, when)."""
    if string.review is None:
        yield "no review record: add `review: {by: ..., date: YYYY-MM-DD}`"


@check("reading-grade", ERROR, "source")
def check_reading_grade(source: Source, string: SourceString) -> Iterator[str]:
    """Plain language: Flesch-Kincaid grade 8 or lower (textstat)."""
    if string.kind != "fact":
        return
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import textstat
    grade = textstat.flesch_kincaid_grade(spans.PLACEHOLDER_RE.sub("help", string.text))
    if grade > MAX_READING_GRADE:
        yield f"reading grade {grade:.1f} is above {MAX_READING_GRADE:.0f}; use shorter words and sentences"


@check("source-wording", ERROR, "source")
def check_source_wording(source: Source, string: SourceString) -> Iterator[str]:
    """Person-first, non-stigmatising English (NIDA "Words Matter")."""
    yield from _stigma(source, "en", string.text)


@check("source-phone", ERROR, "source")
def check_source_phone(source: Source, string: SourceString) -> Iterator[str]:
    """No literal phone numbers in English text: use a placeholder."""
    for number in spans.find_phone_numbers(string.text):
        yield f"literal phone number {number}; use a placeholder such as {{helpline}}"


@check("source-urls", ERROR, "source")
def check_source_urls(source: Source, string: SourceString) -> Iterator[str]:
    """URLs in English text come only from the allowlist."""
    for url in spans.find_urls(string.text):
        if not any(url.startswith(prefix) for prefix in source.url_allowlist):
            yield f"URL {url} is not in source/urls.yaml"


def _stigma(source: Source, language: str, text: str) -> Iterator[str]:
    for avoid in source.avoid.get(language, ()):
        if spans.find_terms(text, [avoid.term]):
            yield f"avoid {avoid.term!r}; say {avoid.instead!r}"


# ------------------------------------------------------------------ registry


@check("number-valid", ERROR, "registry")
def check_number_valid(source: Source, entry: Hotline, today: dt.date, max_age_days: int) -> Iterator[str]:
    """Printable full numbers are valid for their region and match their printed form (phonenumbers)."""
    if not source.registry.is_printable(entry) or not entry.e164:
        return
    parsed = phonenumbers.parse(entry.e164)
    if not phonenumbers.is_valid_number(parsed):
        yield f"{entry.e164} is not a valid phone number"
    elif entry.region != "EU" and not phonenumbers.is_valid_number_for_region(parsed, entry.region):
        yield f"{entry.e164} is not a number of {entry.region}"
    printed = spans.digits_of(entry.display_number()).lstrip("0")
    if printed and not spans.digits_of(entry.e164).endswith(printed[-7:]):
        yield f"printed number {entry.display_number()} does not match e164 {entry.e164}"


@check("short-number", WARNING, "registry")
def check_short_number(source: Source, entry: Hotline, today: dt.date, max_age_days: int) -> Iterator[str]:
    """Printed short codes of medium confidence are known to phonenumbers for their region."""
    # phonenumbers' short-code data lags behind new services; a high-confidence entry is
    # already confirmed by its sources, so only the weaker ones are questioned here.
    if not source.registry.is_printable(entry) or entry.e164 or entry.region == "EU" or entry.confidence == "high":
        return
    digits = spans.digits_of(entry.display_number().split(" or ")[0])
    if not shortnumberinfo.is_valid_short_number_for_region(phonenumbers.parse(digits, entry.region), entry.region):
        yield f"phonenumbers does not know short number {digits} for {entry.region}; confirm it by dialing"


@check("number-age", WARNING, "registry")
def check_number_age(source: Source, entry: Hotline, today: dt.date, max_age_days: int) -> Iterator[str]:
    """Printable numbers were verified within the re-verification age."""
    if not source.registry.is_printable(entry):
        return
    age = (today - source.registry.compiled).days
    if age > max_age_days:
        yield f"{entry.display_number()} was last checked {source.registry.compiled} ({age} days ago, limit {max_age_days}); dial it and update the registry"


# ------------------------------------------------------------------ running


def edition_regions(source: Source, language: str) -> frozenset[str]:
    return frozenset(e.region for e in source.editions.values() if e.language == language)


def check_translation(source: Source, language: str, string_id: str, translation: str) -> list[Finding]:
    """Run every translation check on one string; an empty translation only gets `empty`."""
    string = source.strings[string_id]
    case = TranslationCase(source, source.languages[language], string, translation, edition_regions(source, language))
    selected = [CHECKS["empty"]] if not translation.strip() else [c for c in CHECKS.values() if c.scope == "translation"]
    return [
        Finding(c.id, c.severity, message, string_id=string_id, language=language)
        for c in selected
        for message in c.function(case)
    ]


def check_source(source: Source) -> list[Finding]:
    findings = []
    for string in source.strings.values():
        for c in (c for c in CHECKS.values() if c.scope == "source"):
            for message in c.function(source, string):
                findings.append(Finding(c.id, c.severity, message, string.path, string.line, string.id))
    return findings


def check_registry(source: Source, today: dt.date, max_age_days: int = DEFAULT_MAX_AGE_DAYS) -> list[Finding]:
    findings = []
    used = {(e.region, c) for e in source.editions.values() for c in e.hotlines}
    for region in source.registry.regions.values():
        for entry in region.entries:
            for c in (c for c in CHECKS.values() if c.scope == "registry"):
                if c.id in ("number-age", "short-number") and (entry.region, entry.category) not in used:
                    continue  # advice about lines no edition prints
                for message in c.function(source, entry, today, max_age_days):
                    findings.append(Finding(c.id, c.severity, f"{entry.region} {entry.category}: {message}", source.registry.path, entry.line))
    return findings


def errors_of(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == ERROR]
