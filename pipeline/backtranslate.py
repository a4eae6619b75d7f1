"""Back-translation for reviewers: each translation drafted back into English by machine.

A reviewer who reads the target language slowly, or not at all, can compare
the English with what the translation says when translated back. Each
translation of a language is run through the reverse Argos model (LANG→en),
with the translate stage's machinery: the same engine loading (a clear error
saying how to install a missing model), protected spans (placeholders,
numbers, phone numbers, URLs and kept names come back exactly as the
translation has them; the language's glossary words come back as their English
term) and batched sentences through one model loaded once.

The result is stored beside the entry through `Catalog.set_back_translation`,
with the engine, model, version and date and the fingerprint of the
translation it was made from. Only translations without a current
back-translation are sent to the model, so a rerun on an unchanged catalog loads
nothing. A back-translation is never a translation: it lives in a comment and
is only ever shown, next to the English, to reviewers and `outreach check`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from pipeline import similarity
from pipeline.catalog import (
    BackTranslation,
    Catalog,
    read_catalog,
    translation_fingerprint,
    write_catalog,
)
from pipeline.content import Source
from pipeline.lock import holding_project_lock
from pipeline.spans import Span, protected_spans
from pipeline.translate import (
    Engine,
    Protected,
    join_sentences,
    load_engine,
    protect_spans,
    restore,
    split_sentences,
)

ENGLISH = "en"


@dataclass
class BackReport:
    """What one run did for one language, by string id."""

    language: str
    translated: list[str] = field(default_factory=list)  # given a new back-translation
    current: list[str] = field(default_factory=list)  # already had one of their current translation
    low: dict[str, float] = field(default_factory=dict)  # new back-translations far from the English: chrF
    engine: str = ""
    wrote: bool = False


def load_back_engine(source: Source, language: str) -> Engine:
    """The installed LANG→en model, or ModelError saying how to install one."""
    return load_engine(source, language, ENGLISH)


def strings_to_backtranslate(source: Source, catalog: Catalog) -> list[str]:
    """Ids, in source order, whose translation has no back-translation made from it."""
    views = catalog.views()
    return [
        string_id
        for string_id in source.strings
        if (view := views.get(string_id)) is not None
        and view.translation.strip()
        and (view.back_translation is None or not view.back_translation.is_current(view.translation))
    ]


def protect_back(text: str, source: Source, language: str) -> Protected:
    """A translation with its protected spans as tokens; the language's glossary words come back as the English term."""
    english_of = {
        word.casefold(): term for term, words in source.glossary.terms.items() if (word := words.get(language))
    }
    found = protected_spans(text, list(source.glossary.keep), list(english_of))

    def english_term(span: Span) -> str:
        term = english_of.get(span.text.casefold(), span.text)
        return term[:1].upper() + term[1:] if span.text[:1].isupper() else term

    return protect_spans(text, found, english_term)


@holding_project_lock("backtranslate")
def backtranslate_language(
    source: Source,
    language: str,
    engine_factory: Callable[[], Engine],
    now: dt.datetime,
    progress: Callable[[str], None] = lambda message: None,
) -> BackReport:
    """Back-translate every translation of `language` that lacks a current back-translation; load the model only if one does."""
    if language == ENGLISH or language not in source.languages:
        raise ValueError(f"{language!r} is not a translated language")
    catalog = read_catalog(source.project, language)
    report = BackReport(language)
    wanted = strings_to_backtranslate(source, catalog)
    views = catalog.views()
    report.current = [
        i for i in source.strings if (v := views.get(i)) is not None and v.translation.strip() and i not in wanted
    ]
    if not wanted:
        return report

    engine = engine_factory()
    report.engine = engine.description
    progress(f"{language}: back-translating {len(wanted)} strings with {engine.description}")
    protected = {i: protect_back(views[i].translation, source, language) for i in wanted}
    sentences_of = {i: split_sentences(protected[i].text) for i in wanted}
    translated = iter(engine.translate([sentence for i in wanted for sentence in sentences_of[i]]))
    day = now.astimezone(dt.timezone.utc).date().isoformat()
    for string_id in wanted:
        joined = join_sentences([next(translated) for _ in sentences_of[string_id]], ENGLISH)
        text, _lost = restore(joined, protected[string_id])
        back = BackTranslation(" ".join(text.split()), engine.description, day, translation_fingerprint(views[string_id].translation))
        catalog.set_back_translation(string_id, back)
        report.translated.append(string_id)
        english = source.english(string_id)
        if back.text and similarity.is_low_similarity(english, back.text):
            report.low[string_id] = similarity.score_similarity(english, back.text)
    write_catalog(catalog, now)
    report.wrote = True
    return report
