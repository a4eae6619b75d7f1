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

from pipeline import meaning, similarity, spans, textscan
from pipeline.content import Language, Source, SourceString
from pipeline.document import print_places
from pipeline.errors import format_location
from pipeline.hotlines import EU_MEMBERS, Hotline, published_numbers
from pipeline.ignorables import is_default_ignorable

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
    "\u2800", "\u2028", "\u2029",  # braille blank (drawn as nothing), line and paragraph separators
}
# Zero-width joiners are needed to shape some scripts; they are only suspicious elsewhere.
JOINER_SCRIPTS = {"Arab", "Deva", "Beng", "Ethi"}
# The only invisible characters a language needs: ZWNJ in Persian (می‌شود), ZWNJ and ZWJ
# in the Indic scripts (conjunct forms). Keyed by language code, then by script.
NEEDED_JOINERS = {"fa": {"\u200c"}, "Deva": {"\u200c", "\u200d"}, "Beng": {"\u200c", "\u200d"}}
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
        where = "" if self.path is None else f"{format_location(self.path, self.line, root)}: "
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
    back_translation: str = ""  # a stored machine back-translation of this very translation, if any


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
        if not spans.url_allowed(url, case.source.url_allowlist):
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
        if _is_drug(case.source, term):
            continue  # drug names: the `glossary-drug` error
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
    match = re.search(r"<\s*/?\s*[A-Za-z!][^>]*>?|&#?[A-Za-z0-9]{2,};?|\]\(|\*\*|\{\{|\}\}|\[/?[a-z]+\]", case.translation)
    if match:
        yield f"markup {match.group(0)!r} in the text"


@check("invisible", ERROR, "translation")
def check_invisible(case: TranslationCase) -> Iterator[str]:
    """No invisible or direction-override characters that can disguise text."""
    allowed = NEEDED_JOINERS.get(case.language.code, NEEDED_JOINERS.get(case.language.script, set()))
    for char in sorted(set(case.translation)):
        hidden = char in INVISIBLE or is_default_ignorable(char) or unicodedata.category(char) in ("Cf", "Co", "Cs", "Cn")
        if (hidden and char not in allowed) or (unicodedata.category(char) == "Cc" and char not in "\n\t"):
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


@check("wording", ERROR, "translation")
def check_translation_wording(case: TranslationCase) -> Iterator[str]:
    """Person-first, non-stigmatising words (source/wording.yaml)."""
    yield from _stigma(case.source, case.language.code, case.translation)


@check("back-translation", WARNING, "translation")
def check_back_translation(case: TranslationCase) -> Iterator[str]:
    """The stored back-translation into English is close to the English (chrF)."""
    english, back = case.string.text, case.back_translation
    if back and similarity.is_low_similarity(english, back):
        shown = back if len(back) <= 80 else back[:80] + "…"
        yield (
            f"the back-translation says {shown!r}: chrF {similarity.score_similarity(english, back):.0f} "
            f"against the English (below {similarity.LOW_SIMILARITY:.0f}); check the meaning"
        )


# ------------------------------------------------------------------ meaning and hidden text

# Scripts whose avoided words are found anywhere in a word: no spaces (Chinese, Japanese),
# or particles and articles written onto the word (Korean 중독자가, Arabic والمدمنين).
SPACELESS_SCRIPTS = {"Hans", "Hant", "Jpan", "Kore", "Arab"}
SCRIPT_ALIASES = {"Latn": "LATIN", "Cyrl": "CYRILLIC", "Arab": "ARABIC", "Deva": "DEVANAGARI", "Beng": "BENGALI", "Ethi": "ETHIOPIC", "Hans": "HAN", "Hant": "HAN", "Kore": "HANGUL", "Jpan": "HAN"}
# Digits a language writes besides 0-9 (Unicode character names start with these).
NATIVE_DIGITS = {"Arab": ("ARABIC-INDIC DIGIT", "EXTENDED ARABIC-INDIC DIGIT"), "Deva": ("DEVANAGARI DIGIT",), "Beng": ("BENGALI DIGIT",)}


def _is_drug(source: Source, term: str) -> bool:
    """Whether a glossary term names a drug (a drug concept of source/lexicon/en.yaml)."""
    english = source.lexicons.get("en")
    return english is not None and meaning.names_drug(english, term)


def _meaning(case: TranslationCase, kinds: tuple[str, ...]) -> Iterator[str]:
    english, target = case.source.lexicons.get("en"), case.source.lexicons.get(case.language.code)
    if english is None or target is None or case.language.code == "en":
        return
    for kind, message in meaning.compare(english, target, case.string.text, case.translation, dict(case.string.invariants)):
        if kind in kinds:
            yield message


@check("units", ERROR, "translation")
def check_units(case: TranslationCase) -> Iterator[str]:
    """Each unit of time in the English (seconds, minutes, hours) is that unit in the translation."""
    yield from _meaning(case, ("unit",))


@check("negation", ERROR, "translation")
def check_negation(case: TranslationCase) -> Iterator[str]:
    """The translation negates as often as the English (not, never; no, 不, لا, ن-, hindi...)."""
    yield from _meaning(case, ("negation",))


@check("drug-names", ERROR, "translation")
def check_drug_names(case: TranslationCase) -> Iterator[str]:
    """Each drug the English names is named as often, and no dangerous look-alike (naltrexone, tramadol) appears."""
    yield from _meaning(case, ("drug",))


@check("positions", ERROR, "translation")
def check_positions(case: TranslationCase) -> Iterator[str]:
    """Body positions and directions are kept (on the side, not the back; head back, not forward)."""
    yield from _meaning(case, ("position",))


@check("opposites", ERROR, "translation")
def check_opposites(case: TranslationCase) -> Iterator[str]:
    """A word of the English is not replaced by its opposite (slow/fast, tiny/large)."""
    yield from _meaning(case, ("antonym",))


@check("glossary-drug", ERROR, "translation")
def check_glossary_drug(case: TranslationCase) -> Iterator[str]:
    """Drug names use the glossary's approved word for the language."""
    for term, words in case.source.glossary.terms.items():
        word = words.get(case.language.code)
        if word and _is_drug(case.source, term) and spans.find_terms(case.string.text, [term]) and word.casefold() not in case.translation.casefold():
            yield f"{term!r} must be translated as {word!r}"


@check("foreign-sentence", ERROR, "translation")
def check_foreign_sentence(case: TranslationCase) -> Iterator[str]:
    """No sentence left in English or in another language than the translation's."""
    if case.language.code == "en":
        return
    keep = tuple(case.source.glossary.keep) + tuple(
        form
        for code in ("en", case.language.code)
        if code in case.source.lexicons
        for concept in case.source.lexicons[code].concepts.values()
        if concept.kind == "drug"
        for form in concept.forms
        if "*" not in form
    )
    if case.language.script != "Latn":
        for run in textscan.latin_runs(case.translation, keep):
            yield f"{run!r} is in Latin script inside {case.language.name}: translate it"
    letters = {code: lexicon.letters for code, lexicon in case.source.lexicons.items()}
    for sentence, code, confidence in textscan.foreign_sentences(case.translation, case.language.code, tuple(case.source.languages), keep, letters):
        name = case.source.languages[code].name if code in case.source.languages else code
        yield f"this sentence reads as {name} ({confidence:.0%}), not {case.language.name}: {sentence!r}"


@check("homoglyphs", ERROR, "translation")
def check_homoglyphs(case: TranslationCase) -> Iterator[str]:
    """No word mixes scripts or hides look-alike letters of another script (Cyrillic а in a Latin word)."""
    for word, scripts in textscan.mixed_script_words(case.translation, SCRIPT_ALIASES.get(case.language.script, "")):
        yield f"{word!r} mixes scripts ({scripts}): retype it"


@check("numeral-forms", ERROR, "translation")
def check_numeral_forms(case: TranslationCase) -> Iterator[str]:
    """Numbers use 0-9 or the language's own digits, not superscript, full-width or other numeral forms."""
    native = NATIVE_DIGITS.get(case.language.script, ())
    for char in sorted({c for c in case.translation if not c.isascii() and unicodedata.numeric(c, None) is not None and unicodedata.category(c) in ("Nd", "No", "Nl")}):
        name = unicodedata.name(char, f"U+{ord(char):04X}")
        if unicodedata.category(char) == "Nd" and name.startswith(native) and native:
            continue
        yield f"numeral {char!r} ({name}): write {spans.read_numerals(char)!r} with the digits the language uses"


@check("doubled-words", ERROR, "translation")
def check_doubled_words(case: TranslationCase) -> Iterator[str]:
    """No word or phrase written twice in a row, except the language's legitimate reduplications."""
    lexicon = case.source.lexicons.get(case.language.code)
    allowed = lexicon.reduplication if lexicon else frozenset()
    for word in textscan.doubled_words(case.translation, allowed):
        yield f"{word!r} is written twice in a row"


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
        if not spans.url_allowed(url, source.url_allowlist):
            yield f"URL {url} is not in source/urls.yaml"


_SOURCE_MARKUP = re.compile(r"<\s*/?\s*[A-Za-z!][^>]*>|&[A-Za-z]+;|&#\d+;|\]\(|\*\*")


@check("source-markup", ERROR, "source")
def check_source_markup(source: Source, string: SourceString) -> Iterator[str]:
    """No HTML or other markup in English text (it would print literally, or not at all)."""
    match = _SOURCE_MARKUP.search(string.text)
    if match:
        yield f"markup {match.group(0)!r} in the text"


@check("source-invisible", ERROR, "source")
def check_source_invisible(source: Source, string: SourceString) -> Iterator[str]:
    """No invisible, bidi-override or control characters in English text."""
    for char in sorted(set(string.text)):
        if char in INVISIBLE or (unicodedata.category(char) in ("Cc", "Cf") and char != "\n"):
            yield f"invisible character U+{ord(char):04X} ({unicodedata.name(char, 'control')})"


def _stigma(source: Source, language: str, text: str) -> Iterator[str]:
    avoid = source.avoid.get(language, ())
    script = source.languages[language].script if language in source.languages else "Latn"
    found = set(textscan.scan_terms(text, [a.term for a in avoid], language, substring=script in SPACELESS_SCRIPTS))
    for entry in avoid:
        if entry.term in found:
            yield f"avoid {entry.term!r}; say {entry.instead!r}"


# ------------------------------------------------------------------ registry


@check("number-valid", ERROR, "registry")
def check_number_valid(source: Source, entry: Hotline, today: dt.date, max_age_days: int) -> Iterator[str]:
    """Printable full numbers (e164, e164_alt) are valid phone numbers of their region (phonenumbers)."""
    if not source.registry.is_printable(entry):
        return
    for number in (entry.e164, entry.e164_alt):
        if not number:
            continue
        parsed = phonenumbers.parse(number)
        if not phonenumbers.is_valid_number(parsed):
            yield f"{number} is not a valid phone number"
        elif entry.region != "EU" and not phonenumbers.is_valid_number_for_region(parsed, entry.region):
            yield f"{number} is not a number of {entry.region}"


def _as_e164(digits: str, region: str) -> str | None:
    """A written number's international form, read as its region dials it; None if it cannot be one."""
    if region == "EU" or len(digits) < 3:
        return None
    try:
        parsed = phonenumbers.parse(digits, region)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _is_short_number(digits: str, region: str) -> bool:
    regions = EU_MEMBERS if region == "EU" else (region,)
    try:
        return all(shortnumberinfo.is_valid_short_number_for_region(phonenumbers.parse(digits, r), r) for r in regions)
    except phonenumbers.NumberParseException:
        return False


@check("number-agrees", ERROR, "registry")
def check_number_agrees(source: Source, entry: Hotline, today: dt.date, max_age_days: int) -> Iterator[str]:
    """The printed number, number_published (vanity letters as keypad digits) and e164 agree digit for digit."""
    if not source.registry.is_printable(entry):
        return
    full = {n for n in (entry.e164, entry.e164_alt) if n}
    written = published_numbers(entry.number_published or "")
    found = []  # one message per disagreement, the most specific first
    if not written:
        found.append(f"number_published {entry.number_published!r} holds no number")
    for number in written:
        if number.problem:
            found.append(f"number_published {entry.number_published!r}: {number.problem}")
        international = _as_e164(number.digits, entry.region)
        if international in full or len(number.digits) <= 6:
            continue  # the e164 written out, or a short code (checked by short-number)
        if full:
            found.append(f"number_published {number.text!r} (digits {number.digits}) does not match e164 {' or '.join(sorted(full))}")
        else:
            found.append(f"number_published {number.text!r} (digits {number.digits}) is not a short number of {entry.region}; a full number needs its e164")
    if not found and entry.e164 and not any(_as_e164(n.digits, entry.region) == entry.e164 for n in written):
        found.append(f"e164 {entry.e164} is not the number written in number_published {entry.number_published!r}")
    printed = spans.digits_of(entry.display_number())
    if not found and entry.e164 and len(printed) > 6 and _as_e164(printed, entry.region) not in full:
        found.append(f"printed number {entry.display_number()} does not match e164 {entry.e164}")
    yield from found


def _unknown_short_codes(entry: Hotline) -> list[str]:
    """Short codes written in number_published that phonenumbers does not know for the region."""
    full = {entry.e164, entry.e164_alt} - {None}
    return [
        number.digits
        for number in published_numbers(entry.number_published or "")
        if len(number.digits) <= 6 and _as_e164(number.digits, entry.region) not in full
        and not _is_short_number(number.digits, entry.region)
    ]


@check("short-number", ERROR, "registry")
def check_short_number(source: Source, entry: Hotline, today: dt.date, max_age_days: int) -> Iterator[str]:
    """Printed short codes are valid short numbers of their region (phonenumbers' short-number data)."""
    if not source.registry.is_printable(entry) or entry.unlisted_short_code:
        return
    for digits in _unknown_short_codes(entry):
        yield (f"{digits} is not a valid short number of {entry.region} (phonenumbers); if the sources confirm it, "
               "say so in the entry's unlisted_short_code")


@check("unlisted-short-code", WARNING, "registry")
def check_unlisted_short_code(source: Source, entry: Hotline, today: dt.date, max_age_days: int) -> Iterator[str]:
    """A short code phonenumbers does not know, printed on the registry's word (unlisted_short_code)."""
    if not source.registry.is_printable(entry) or not entry.unlisted_short_code:
        return
    for digits in _unknown_short_codes(entry):
        yield f"phonenumbers does not know short number {digits} for {entry.region}; printed because: {entry.unlisted_short_code}"


@check("emergency-number", ERROR, "registry")
def check_emergency_number(source: Source, entry: Hotline, today: dt.date, max_age_days: int) -> Iterator[str]:
    """Every number of an emergency entry is an emergency number of its region (phonenumbers)."""
    if entry.category != "emergency" or not source.registry.is_printable(entry):
        return
    regions = EU_MEMBERS if entry.region == "EU" else (entry.region,)
    for number in published_numbers(entry.number_published or ""):
        if not all(shortnumberinfo.is_emergency_number(number.digits, r) for r in regions):
            yield f"{number.text!r} (digits {number.digits}) is not an emergency number of {entry.region}"


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


def check_translation(source: Source, language: str, string_id: str, translation: str, back_translation: str = "") -> list[Finding]:
    """Run every translation check on one string; an empty translation only gets `empty`.

    `back_translation` is the stored back-translation of exactly this translation
    (CatalogEntry.current_back_translation), when there is one.
    """
    string = source.strings[string_id]
    case = TranslationCase(source, source.languages[language], string, translation, edition_regions(source, language), back_translation)
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
                if c.id in ("number-age", "short-number", "unlisted-short-code") and (entry.region, entry.category) not in used:
                    continue  # advice about lines no edition prints
                for message in c.function(source, entry, today, max_age_days):
                    findings.append(Finding(c.id, c.severity, f"{entry.region} {entry.category}: {message}", source.registry.path, entry.line))
    return findings


def errors_of(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == ERROR]
