"""Machine drafts with Argos Translate, offline, in batches, touching only what needs it.

For each language: the catalog is brought in line with the English; strings
that are missing, or whose machine draft went stale, are drafted. An identical
English string already approved in this language is reused (translation
memory) before any model is loaded. Everything else goes to CTranslate2 in
batches through one model loaded once. Placeholders, numbers, phone numbers,
URLs and glossary terms are swapped for tokens before translation and restored
after; a draft whose protected spans did not survive is still saved, flagged.
Drafts are fuzzy and say which engine, model and date produced them. A person's
text (an edit, a contributor draft) is never replaced.

Sentences are split here with a local rule, so nothing is ever downloaded.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from pipeline import checks
from pipeline.approval import State, string_states
from pipeline.catalog import Catalog, read_catalog, sync_catalog, write_catalog
from pipeline.content import Source
from pipeline.ledger import read_ledger
from pipeline.lock import holding_project_lock
from pipeline.errors import ModelError
from pipeline.models import MISSING_MODEL_HELP, NO_TRANSLATE_EXTRA, ModelInfo, find_model
from pipeline.spans import Span, protected_spans

TOKEN_RE = re.compile(r"\[\s*(\d+)\s*\]")
SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+(?=\S)")
BATCH_SIZE = 32


class Engine(Protocol):
    """Translates a batch of sentences; `description` goes into each draft's provenance."""

    description: str

    def translate(self, sentences: list[str]) -> list[str]: ...


class ArgosEngine:
    """One Argos package, loaded once: its tokenizer and its CTranslate2 model."""

    def __init__(self, model: ModelInfo, beam_size: int = 2):
        try:
            import ctranslate2  # noqa: PLC0415 - translate extra only
            from argostranslate.package import Package  # noqa: PLC0415
        except ImportError:
            raise ModelError(NO_TRANSLATE_EXTRA) from None

        self.model = model
        package = Package(model.path)
        self.tokenizer = package.tokenizer
        self.target_prefix = getattr(package, "target_prefix", "") or ""
        self.translator = ctranslate2.Translator(str(model.path / "model"), device="cpu", compute_type="auto")
        self.beam_size = beam_size
        self.description = f"Argos Translate model {model.code} {model.version} ({model.from_code}→{model.to_code})"

    def tokenize(self, sentences: list[str]) -> list[list[str]]:
        return [self.tokenizer.encode(s) for s in sentences]

    def translate_tokens(self, tokenized: list[list[str]]) -> list[list[str]]:
        results: list[list[str]] = []
        for start in range(0, len(tokenized), BATCH_SIZE):
            batch = tokenized[start:start + BATCH_SIZE]
            # Bound decoding relative to the input: a failing model repeats words forever.
            limit = 2 * max((len(t) for t in batch), default=1) + 8
            prefix = [[self.target_prefix]] * len(batch) if self.target_prefix else None
            outputs = self.translator.translate_batch(
                batch,
                target_prefix=prefix,
                beam_size=self.beam_size,
                max_decoding_length=limit,
                replace_unknowns=True,
            )
            results.extend(out.hypotheses[0] for out in outputs)
        return results

    def translate(self, sentences: list[str]) -> list[str]:
        decoded = [self.tokenizer.decode(tokens) for tokens in self.translate_tokens(self.tokenize(sentences))]
        if self.target_prefix:
            decoded = [d[len(self.target_prefix):].lstrip() if d.startswith(self.target_prefix) else d for d in decoded]
        return decoded


class PivotEngine:
    """Translate through English when there is no direct model (Argos models are to/from English)."""

    def __init__(self, first: Engine, second: Engine):
        self.first = first
        self.second = second
        self.description = f"{first.description}, then {second.description} (pivot through English)"

    def translate(self, sentences: list[str]) -> list[str]:
        return self.second.translate(self.first.translate(sentences))


def load_engine(source: Source, from_language: str, to_language: str) -> Engine:
    """The installed model(s) for a pair, pivoting through English if needed; a clear error if missing."""
    from_code = source.languages[from_language].argos
    to_code = source.languages[to_language].argos
    direct = find_model(from_code, to_code)
    if direct is not None:
        return ArgosEngine(direct)
    if "en" not in (from_code, to_code):
        first, second = find_model(from_code, "en"), find_model("en", to_code)
        if first and second:
            return PivotEngine(ArgosEngine(first), ArgosEngine(second))
    raise ModelError(MISSING_MODEL_HELP.format(from_code=from_code, to_code=to_code))


# ------------------------------------------------------------------ protected spans


@dataclass(frozen=True, slots=True)
class Protected:
    text: str  # what the model sees
    spans: tuple[Span, ...]  # token n stands for spans[n - 1]
    replacements: tuple[str, ...]  # what token n becomes in the translation


def protect(text: str, source: Source, language: str) -> Protected:
    """English `text` with its protected spans as tokens; glossary terms come back as `language`'s word."""
    terms = list(source.glossary.terms)
    found = protected_spans(text, list(source.glossary.keep), terms)

    def term_word(span: Span) -> str:
        return source.glossary.terms.get(span.text.lower(), {}).get(language) or span.text

    return protect_spans(text, found, term_word)


def protect_spans(text: str, found: list[Span], term_word: Callable[[Span], str]) -> Protected:
    """Replace each span by a numbered token; a term span comes back as `term_word(span)`, others as they were."""
    pieces, replacements, position = [], [], 0
    for number, span in enumerate(found, start=1):
        pieces.append(text[position:span.start])
        pieces.append(f"[{number}]")
        position = span.end
        replacements.append(term_word(span) if span.kind == "term" else span.text)
    pieces.append(text[position:])
    return Protected("".join(pieces), tuple(found), tuple(replacements))


def restore(translated: str, protected: Protected) -> tuple[str, list[Span]]:
    """Put the protected spans back; return the text and the spans the model lost."""
    seen: set[int] = set()

    def put_back(match: re.Match[str]) -> str:
        number = int(match.group(1))
        if 1 <= number <= len(protected.replacements) and number not in seen:
            seen.add(number)
            return protected.replacements[number - 1]
        return match.group(0)

    restored = TOKEN_RE.sub(put_back, translated)
    lost = [span for n, span in enumerate(protected.spans, start=1) if n not in seen]
    return restored, lost


def split_sentences(text: str) -> list[str]:
    return [s for s in SENTENCE_END.split(text.strip()) if s]


def join_sentences(sentences: list[str], language: str) -> str:
    glue = "" if language in ("zh-Hans", "zh-Hant", "ja") else " "
    return glue.join(s.strip() for s in sentences)


# ------------------------------------------------------------------ drafting


@dataclass
class DraftReport:
    language: str
    drafted: list[str] = field(default_factory=list)  # ids drafted by the model
    from_memory: list[str] = field(default_factory=list)  # ids filled from translation memory
    flagged: dict[str, list[str]] = field(default_factory=dict)  # id -> findings on its new draft
    english_changed: list[str] = field(default_factory=list)
    kept_stale: list[str] = field(default_factory=list)  # a person's text kept as a stale draft
    wrote: bool = False


def needs_draft(catalog: Catalog) -> list[str]:
    """Ids with no translation, or whose machine draft no longer matches its English."""
    return catalog.needs_draft()


@holding_project_lock("translate")
def draft_language(
    source: Source,
    language: str,
    engine_factory: Callable[[], Engine],
    now: dt.datetime,
    source_language: str = "en",
    progress: Callable[[str], None] = lambda message: None,
) -> DraftReport:
    """Draft what needs drafting in one language; load the model only if something does."""
    project = source.project
    report = DraftReport(language)
    catalog = read_catalog(project, language)
    before = catalog.path.read_text(encoding="utf-8") if catalog.path.exists() else None
    report.english_changed = sync_catalog(source, catalog)
    ledger = read_ledger(project, language)
    states = string_states(source, catalog, ledger)
    wanted = needs_draft(catalog)
    report.kept_stale = [i for i in report.english_changed if i not in wanted and states[i].state is State.STALE]

    if source_language == "en":
        inputs = {i: source.english(i) for i in wanted}
    else:
        pivot_states = string_states(source, read_catalog(project, source_language), read_ledger(project, source_language))
        inputs = {i: pivot_states[i].translation for i in wanted if pivot_states[i].state is State.APPROVED}

    memory = {s.english: s.translation for s in states.values() if s.state is State.APPROVED}
    memory_ids = {s.english: i for i, s in states.items() if s.state is State.APPROVED}
    day = now.date().isoformat()
    for string_id in list(inputs):
        english = source.english(string_id)
        if english in memory:
            catalog.set_machine_draft(string_id, memory[english], [f"translation memory: the approved text of {memory_ids[english]}, {day}"])
            report.from_memory.append(string_id)
            del inputs[string_id]

    if inputs:
        engine = engine_factory()
        progress(f"{language}: drafting {len(inputs)} strings with {engine.description}")
        ids = list(inputs)
        protected = {i: protect(inputs[i], source, language) for i in ids}
        sentences_of = {i: split_sentences(protected[i].text) for i in ids}
        flat = [sentence for i in ids for sentence in sentences_of[i]]
        translated = iter(engine.translate(flat))
        pivot = f" from {source_language}" if source_language != "en" else ""
        for string_id in ids:
            joined = join_sentences([next(translated) for _ in sentences_of[string_id]], language)
            text, lost = restore(joined, protected[string_id])
            findings = [f"check: protected {span.kind} {span.text!r} did not survive translation" for span in lost]
            findings += [
                f"check: {f.message} [{f.check}]"
                for f in checks.errors_of(checks.check_translation(source, language, string_id, text))
            ]
            catalog.set_machine_draft(string_id, text, [f"machine draft{pivot}: {engine.description}, {day}", *findings])
            report.drafted.append(string_id)
            if findings:
                report.flagged[string_id] = findings

    after = catalog.to_text()
    if after != before:
        write_catalog(catalog, now)
        report.wrote = True
    return report
