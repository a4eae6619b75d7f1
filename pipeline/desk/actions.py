"""The review desk's only door into the pipeline: every call the desk makes to a stage is here.

The desk reads and writes nothing itself. States come from `approval`, checks
from `checks`, an edit goes through `review.save_edit` (what `outreach review`
does with a person's edit), approvals and rejections through `approval.decide`
(what `outreach approve` / `reject` do), previews through `render.Renderer`
(what `outreach render --proof` does, nothing written to output/). Keeping
the calls in this one module lets them follow those stages when they change
(signed records, the project lock, the document plan) without touching the
web code.

Values handed to the web code are frozen dataclasses of plain data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from pipeline import checks
from pipeline.approval import (
    ENGLISH,
    State,
    StringState,
    decide,
    language_states,
    proof_texts,
)
from pipeline.catalog import catalog_languages, read_catalog
from pipeline.content import Citation, Source, read_source
from pipeline.errors import ContentError, RenderError
from pipeline.ledger import Decision, read_ledger
from pipeline.project import Project
from pipeline.review import read_review_item
from pipeline.review import save_edit as save_review_edit

DESK_TOOL = "outreach serve"  # how an edit made here is named in the PO's provenance comment
BACK_TRANSLATION_PREFIX = "back-translation:"  # provenance line that holds a stored back-translation
STATES = tuple(state.value for state in State)


class ActionError(Exception):
    """A refused action; `messages` say why, one sentence each."""

    def __init__(self, messages: list[str]):
        super().__init__("; ".join(messages))
        self.messages = messages


@dataclass(frozen=True, slots=True)
class FindingView:
    check: str
    severity: str  # "error" or "warning"
    message: str


@dataclass(frozen=True, slots=True)
class StringRow:
    """One string in a language's overview."""

    id: str
    state: str
    english: str
    translation: str
    findings: tuple[FindingView, ...]
    places: tuple[tuple[str, str], ...]  # (edition id, format) where it prints

    @property
    def errors(self) -> int:
        return sum(f.severity == checks.ERROR for f in self.findings)


@dataclass(frozen=True, slots=True)
class StringDetail:
    """Everything the string view shows."""

    row: StringRow
    kind: str  # "fact" or "ui"
    note: str
    citations: tuple[Citation, ...]
    previous_english: str | None  # the English the translation was written for, when stale
    provenance: tuple[str, ...]
    back_translation: str | None
    history: tuple[Decision, ...]
    decision_reason: str  # the latest rejection's reason, if rejected


@dataclass(frozen=True, slots=True)
class PreviewDocument:
    pdf: bytes
    fit_problems: tuple[str, ...]


# ---------------------------------------------------------------- reading


def load_source(root: Path) -> Source:
    """The project's validated source/ (ContentError when it is unusable)."""
    return read_source(Project(root.resolve()))


def source_stamp(root: Path) -> tuple:
    """Changes whenever a file the source is read from changes, so the desk knows to re-read it."""
    folder = Project(root.resolve()).source
    return tuple(sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in folder.glob("*.yaml")))


def language_stamp(source: Source, language: str) -> str:
    """Changes whenever the language's PO or ledger does (previews of other strings depend on them)."""
    parts = []
    for path in (source.project.po_path(language), source.project.ledger_path(language)):
        try:
            stat = path.stat()
        except FileNotFoundError:
            parts.append("-")
            continue
        parts.append(f"{stat.st_mtime_ns}:{stat.st_size}")
    return "/".join(parts)


def desk_languages(source: Source) -> list[str]:
    """Translated languages that have editions or a catalog, in languages.yaml order."""
    have = set(catalog_languages(source)) | {p.stem for p in source.project.translations.glob("*.po")}
    return [code for code in source.languages if code in have and code != ENGLISH]


def language_direction(source: Source, language: str) -> str:
    return source.languages[language].direction


def print_places(source: Source, language: str) -> dict[str, tuple[tuple[str, str], ...]]:
    """For each string id, the (edition, format) documents of this language that print it."""
    places: dict[str, list[tuple[str, str]]] = {i: [] for i in source.strings}
    for edition in source.editions.values():
        if edition.language != language:
            continue
        for format_name in edition.formats:
            for string_id in source.edition_string_ids(edition, format_name):
                places[string_id].append((edition.id, format_name))
    return {i: tuple(p) for i, p in places.items()}


def _views(findings: list[checks.Finding]) -> tuple[FindingView, ...]:
    return tuple(FindingView(f.check, f.severity, f.message) for f in findings)


def check_text(source: Source, language: str, string_id: str, text: str) -> tuple[FindingView, ...]:
    """What the checks say about a text, typed or saved."""
    _require_string(source, language, string_id)
    return _views(checks.check_translation(source, language, string_id, text))


def _row(source: Source, language: str, state: StringState, places: tuple[tuple[str, str], ...], findings: bool = True) -> StringRow:
    findings = check_text(source, language, state.id, state.translation) if state.translation and findings else ()
    return StringRow(state.id, state.state.value, state.english, state.translation, findings, places)


def state_counts(source: Source, language: str) -> dict[str, int]:
    """How many strings of a language are in each state."""
    _require_language(source, language)
    counts = dict.fromkeys(STATES, 0)
    for state in language_states(source, language).values():
        counts[state.state.value] += 1
    return counts


def language_rows(source: Source, language: str, findings: bool = True) -> list[StringRow]:
    """Every string of a language with its state and (unless `findings` is False) its check findings, in source order."""
    _require_language(source, language)
    places = print_places(source, language)
    return [_row(source, language, s, places[i], findings) for i, s in language_states(source, language).items()]


def string_detail(source: Source, language: str, string_id: str) -> StringDetail:
    """One string, read fresh from the PO and the ledger."""
    _require_string(source, language, string_id)
    item = read_review_item(source, language, string_id)
    places = print_places(source, language)[string_id]
    string = source.strings[string_id]
    state = item.state
    row = StringRow(state.id, state.state.value, state.english, state.translation, _views(list(item.findings)), places)
    reason = state.decision.reason if state.decision is not None and state.state is State.REJECTED else ""
    return StringDetail(
        row=row,
        kind=string.kind,
        note=item.note,
        citations=string.citations,
        previous_english=item.previous_english,
        provenance=tuple(line for line in item.provenance if not line.startswith(BACK_TRANSLATION_PREFIX)),
        back_translation=read_back_translation(source, language, string_id),
        history=tuple(read_ledger(source.project, language).history(string_id)),
        decision_reason=reason,
    )


def read_back_translation(source: Source, language: str, string_id: str) -> str | None:
    """The stored back-translation of a string's current text, if the PO holds one.

    Stored back-translations are being added (issue 10); until they land this
    reads an `outreach: back-translation: ...` comment line and finds none in
    today's catalogs. Re-point it at the back-translation stage's accessor.
    """
    entry = read_catalog(source.project, language).views().get(string_id)
    if entry is None:
        return None
    for line in entry.provenance_lines:
        if line.startswith(BACK_TRANSLATION_PREFIX):
            return line[len(BACK_TRANSLATION_PREFIX):].strip() or None
    return None


def current_translation(source: Source, language: str, string_id: str) -> str:
    _require_string(source, language, string_id)
    return language_states(source, language)[string_id].translation


# ---------------------------------------------------------------- writing


def save_edit(source: Source, language: str, string_id: str, text: str, reviewer: str, now: dt.datetime) -> None:
    """A reviewer's new wording, written to the PO as `outreach review` writes it (awaiting approval)."""
    _require_string(source, language, string_id)
    try:
        save_review_edit(source, language, string_id, text, reviewer, now, tool=DESK_TOOL)
    except ContentError as exc:
        raise ActionError([p.message for p in exc.problems]) from None


def approve(source: Source, language: str, string_id: str, reviewer: str, now: dt.datetime, key: Path | None = None) -> str:
    """Approve the string's current text; the new ledger record's hash ("" if it was already approved).

    `key` is the reviewer's signing key given to `outreach serve --key`; it is
    passed on to the ledger once approvals are signed.
    """
    return _decide(source, language, string_id, reviewer, "approve", now, "", key)


def reject(source: Source, language: str, string_id: str, reviewer: str, reason: str, now: dt.datetime, key: Path | None = None) -> str:
    """Reject the string's current text with a reason for the translator."""
    return _decide(source, language, string_id, reviewer, "reject", now, reason, key)


def _decide(source: Source, language: str, string_id: str, reviewer: str, action: str, now: dt.datetime, reason: str, key: Path | None) -> str:
    _require_string(source, language, string_id)
    try:
        outcome = decide(source, language, [string_id], reviewer, action, now, reason)
    except ContentError as exc:
        raise ActionError([p.message for p in exc.problems]) from None
    return outcome.decisions[0].hash if outcome.decisions else ""


# ---------------------------------------------------------------- preview


def new_renderer(source: Source):
    """One warm renderer for the server process (fonts, stylesheets, images parsed once)."""
    from pipeline.render import Renderer

    return Renderer(source)


def render_preview(renderer, source: Source, language: str, edition_id: str, format_name: str, string_id: str, text: str) -> PreviewDocument:
    """A proof of one document with `text` in place of the string, its box outlined; nothing is written.

    Every other string prints as a proof prints it (its current text, or the
    English where there is none). ActionError when the document cannot be
    drawn (a missing glyph, a number on the do-not-print list...).
    """
    _require_string(source, language, string_id)
    edition = source.editions.get(edition_id)
    if edition is None or edition.language != language or format_name not in edition.formats:
        raise ActionError([f"{edition_id} {format_name}: no such document in {language}"])
    if string_id not in source.edition_string_ids(edition, format_name):
        raise ActionError([f"{edition_id} {format_name} does not print {string_id}"])
    texts = proof_texts(language_states(source, language))
    if text.strip():
        texts[string_id] = text
    try:
        document = renderer.render(edition, format_name, texts, proof=True, highlight=string_id)
    except RenderError as exc:
        raise ActionError([str(exc)]) from None
    return PreviewDocument(document.pdf, document.fit_problems)


# ---------------------------------------------------------------- guards


def _require_language(source: Source, language: str) -> None:
    if language == ENGLISH or language not in source.languages:
        raise ActionError([f"{language!r} is not a translated language"])


def _require_string(source: Source, language: str, string_id: str) -> None:
    _require_language(source, language)
    if string_id not in source.strings:
        raise ActionError([f"{string_id!r}: no such string"])
