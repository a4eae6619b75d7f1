"""Text-level checks' helpers: language of each sentence, mixed-script words, repetition, stigma.

Language identification uses lingua-language-detector (models ship inside the
wheel, no download), built once per set of languages and restricted to the
project's languages, in low-accuracy mode: on the shipped drafts it labels every
sentence of 4 words and 20 letters or more (drug and brand names left out) correctly, and it is several times faster and
smaller than the high-accuracy models.

Homoglyphs use confusable-homoglyphs: pure Python, its data is Unicode's own
confusables.txt and Scripts.txt bundled in the package (maintained against new
Unicode releases), so nothing has to be compiled; ICU's spoof checker (PyICU)
would do the same job but needs libicu-dev and a C++ build on every machine.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from typing import TYPE_CHECKING


if TYPE_CHECKING:
    from lingua import Language, LanguageDetector

SENTENCE_RE = re.compile(r"[^.!?。！？؟\n]+[.!?。！？؟]*")
MIN_SENTENCE_LETTERS = 20
MIN_SENTENCE_WORDS = 4
MIN_CJK_CHARACTERS = 10
FOREIGN_CONFIDENCE = 0.9
CLAUSE_CONFIDENCE = 0.95
CLAUSE_RE = re.compile(r"[,;:،؛，；：]")
WORD_RE = re.compile(r"\w+")
# Scripts that are written together inside one "word" without spaces (Japanese, or Chinese
# next to a Latin brand name): mixing these is normal; any other mix is suspicious.
CJK_MIX = {"HAN", "HIRAGANA", "KATAKANA", "HANGUL", "LATIN"}
CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]+")
PLURAL_ENDINGS = {"s", "es", "x"}  # Latin-script plurals, matched without a lemmatiser
LINGUA_NAMES = {"zh-Hans": "zh", "zh-Hant": "zh"}


@functools.lru_cache(maxsize=8)
def _detector(codes: tuple[str, ...]) -> tuple[LanguageDetector | None, dict[Language, str]]:
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    languages = []
    for code in codes:
        iso = getattr(IsoCode639_1, LINGUA_NAMES.get(code, code).split("-")[0].upper(), None)
        if iso is not None:
            languages.append(Language.from_iso_code_639_1(iso))
    languages = sorted(set(languages), key=lambda lang: lang.name)
    if len(languages) < 2:
        return None, {}
    detector = LanguageDetectorBuilder.from_languages(*languages).with_low_accuracy_mode().build()
    names = {lang: lang.iso_code_639_1.name.lower() for lang in languages}
    return detector, names


def foreign_sentences(
    text: str, language: str, project_languages: tuple[str, ...], ignore: tuple[str, ...] = (), letters: dict[str, frozenset[str]] | None = None
) -> list[tuple[str, str, float]]:
    """(sentence, language code, confidence) for each long sentence confidently in another language.

    `letters` (from the lexicons) vetoes a verdict the alphabet contradicts: a sentence with
    letters of the translation's language that the detected language does not write
    (Vietnamese ư, ệ in a sentence lingua calls Tagalog) is not foreign.
    """
    letters = letters or {}
    detector, names = _detector(tuple(sorted(project_languages)))
    own = LINGUA_NAMES.get(language, language).split("-")[0]
    if detector is None or own not in names.values():
        return []
    from pipeline.spans import BARE_DOMAIN_RE, URL_RE

    text = BARE_DOMAIN_RE.sub(" ", URL_RE.sub(" ", text))
    found: list[tuple[str, str, float]] = []
    pieces = [m.group(0) for m in SENTENCE_RE.finditer(text)]
    # Clauses too (a foreign clause after a semicolon or a comma), held to a higher bar.
    clauses = [c for p in pieces for c in CLAUSE_RE.split(p) if c.strip() != p.strip()]
    # A sentence's head or tail from a clause mark on ("...; it can cause seizures, so get
    # help."): each clause alone may be too short to judge, the run of them is not.
    for piece in pieces:
        cuts = [m.start() for m in CLAUSE_RE.finditer(piece)]
        if len(cuts) > 1:  # with one mark, head and tail are the clauses themselves
            clauses += [piece[cut + 1 :] for cut in cuts[:-1]] + [piece[:cut] for cut in cuts[1:]]
    # And stretches lingua finds in another language inside a sentence with no mark between
    # ("..., pinch the nose with your fingers y sopla..."), each checked again on its own.
    stretches = []
    for piece in pieces:
        cleaned = _ignore_pattern(ignore).sub(" ", re.sub(r"\{[a-z_]+\}", " ", piece))
        for result in detector.detect_multiple_languages_of(cleaned):
            if names.get(result.language) != own:
                stretches.append(cleaned[result.start_index:result.end_index])
    candidates = [(p, FOREIGN_CONFIDENCE) for p in pieces] + [(c, CLAUSE_CONFIDENCE) for c in clauses + stretches]
    for sentence, bar in candidates:
        probe = _ignore_pattern(ignore).sub(" ", re.sub(r"\{[a-z_]+\}", " ", sentence))
        cjk = sum(len(run) for run in CJK_RE.findall(probe))
        if cjk >= MIN_CJK_CHARACTERS and cjk * 2 >= sum(ch.isalpha() for ch in probe):
            pass  # written without spaces: enough characters is enough
        elif sum(ch.isalpha() for ch in probe) < MIN_SENTENCE_LETTERS or len(WORD_RE.findall(probe)) < MIN_SENTENCE_WORDS:
            continue
        values = detector.compute_language_confidence_values(probe)
        if not values:
            continue
        top = values[0]
        code = names.get(top.language, "")
        own_letters = letters.get(language, frozenset()) - letters.get(code, frozenset())
        if own_letters and code in letters | {"en": frozenset()} and own_letters & set(probe.casefold()):
            continue
        if code and code != own and top.value >= bar and not any(s == sentence.strip() for s, _, _ in found):
            found.append((sentence.strip(), code, top.value))
    return found


@functools.lru_cache(maxsize=64)
def _ignore_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    """One pattern for every word to leave out (brand and drug names), longest first."""
    alternatives = "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True)) or "(?!)"
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def latin_runs(text: str, ignore: tuple[str, ...] = (), words: int = 3) -> list[str]:
    """Runs of `words` or more Latin-script words (for languages not written in Latin script)."""
    probe = _ignore_pattern(ignore).sub(" ", re.sub(r"\{[a-z_]+\}", " ", text))
    pattern = r"[A-Za-z][A-Za-z'’-]*(?:[\s,;:]+[A-Za-z][A-Za-z'’-]*){" + str(words - 1) + ",}"
    return [m.group(0) for m in re.finditer(pattern, probe)]


@functools.lru_cache(maxsize=8192)
def _alias(char: str) -> str:
    from confusable_homoglyphs import categories  # loads its tables (and urllib) on import: only when a check runs

    return str(categories.alias(char))


def _confusable(char: str, script_alias: str) -> bool:
    from confusable_homoglyphs import confusables

    return bool(confusables.is_confusable(char, preferred_aliases=[script_alias]))


def _scripts(word: str) -> set[str]:
    if word.isascii():
        return {"LATIN"} if any(ch.isalpha() for ch in word) else set()
    return {_alias(ch) for ch in word if ch.isalpha()} - {"COMMON", "INHERITED"}


def mixed_script_words(text: str, script_alias: str) -> list[tuple[str, str]]:
    """(word, scripts) for words mixing scripts in a way no language does, or written wholly
    in another script with letters that all look like the language's own (a disguised word)."""
    found = []
    for word in WORD_RE.findall(text):
        scripts = _scripts(word)
        if len(scripts) > 1 and not scripts <= CJK_MIX:
            found.append((word, "+".join(sorted(scripts))))
        elif (
            len(scripts) == 1
            and len(word) > 1
            and script_alias in ("LATIN", "CYRILLIC", "GREEK")
            and scripts != {script_alias}
            and scripts <= {"CYRILLIC", "GREEK", "LATIN", "ARMENIAN", "CHEROKEE", "COPTIC"}
            and all(_confusable(ch, script_alias) for ch in word if ch.isalpha())
        ):
            found.append((word, next(iter(scripts)) + " letters that look " + script_alias))
    return found


def doubled_words(text: str, allowed: frozenset[str]) -> list[str]:
    """Words, or phrases of up to four words, written twice in a row (only spaces between),
    except legitimate reduplications; in Chinese, Japanese and Korean runs, a phrase of two or more characters said twice."""
    found = []
    # Vowel marks (Arabic harakat) would split a word in two: compare words without them.
    text = "".join(ch for ch in unicodedata.normalize("NFC", text) if unicodedata.category(ch) != "Mn")
    matches = list(WORD_RE.finditer(text))
    for before, after in itertools.pairwise(matches):
        word = before.group(0).casefold()
        if word == after.group(0).casefold() and not text[before.end():after.start()].strip() and word not in allowed and not word.isdigit():
            found.append(before.group(0))
    # A phrase of two to four words said twice in a row ("لا يتنفس لا يتنفس").
    words = [m.group(0).casefold() for m in matches]
    for size in (2, 3, 4):
        for i in range(len(matches) - 2 * size + 1):
            span = matches[i : i + 2 * size]
            if words[i : i + size] == words[i + size : i + 2 * size] and all(not text[a.end() : b.start()].strip() for a, b in itertools.pairwise(span)):
                found.append(text[span[0].start() : span[size - 1].end()])
    for run in CJK_RE.findall(text):
        for match in re.finditer(r"(.{2,8}?)\1", run):
            if match.group(0) not in allowed and match.group(1) not in allowed:
                found.append(match.group(1))
    return found


def scan_terms(text: str, terms: list[str], language: str, substring: bool) -> list[str]:
    """Avoided terms found in a text: as substrings (scripts without spaces), or as whole
    words compared on lemmas (simplemma) and on the listed forms."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    found = []
    if substring:
        return [term for term in terms if term.casefold() in folded]
    tokens = WORD_RE.findall(folded)
    for term in terms:
        parts = term.casefold().split()
        if _word_pattern(term.casefold()).search(folded):
            found.append(term)
            continue
        # Lemmatise only when some word shares a stem with the term: loading a language's
        # dictionary costs half a second, and most texts hold no avoided word at all.
        if len(parts) == 1 and any(token.startswith(parts[0]) and token[len(parts[0]):] in PLURAL_ENDINGS for token in tokens):
            found.append(term)
            continue
        if not any(_share_stem(token, part) for part in parts for token in tokens):
            continue
        lemmas = _lemmas(tuple(tokens), language)
        term_lemmas = list(_lemmas(tuple(parts), language))
        n = len(term_lemmas)
        if n and any(list(lemmas[i:i + n]) == term_lemmas for i in range(len(lemmas) - n + 1)):
            found.append(term)
    return found


@functools.lru_cache(maxsize=4096)
def _word_pattern(term: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(term)}(?!\w)")


def _share_stem(token: str, word: str) -> bool:
    """A token that may be an inflection of the word: the word plus an ending (adictos, toxicomanes).
    Other forms (adicta, drogada) are listed in source/wording.yaml."""
    return len(word) >= 3 and token != word and token.startswith(word) and len(token) <= len(word) + 4


@functools.lru_cache(maxsize=4096)
def _lemmas(tokens: tuple[str, ...], language: str) -> tuple[str, ...]:
    import simplemma

    code = language.split("-")[0]
    try:
        return tuple(simplemma.lemmatize(t, lang=code).casefold() for t in tokens)
    except ValueError:  # no lemmatiser for this language: the listed forms are matched as written
        return tokens
