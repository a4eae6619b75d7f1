"""The review desk's only door into the pipeline: every call the desk makes to a stage is here.

The desk reads and writes nothing itself. States come from `approval`, checks
from `checks`, an edit goes through `review.save_edit` (what `outreach review`
does with a person's edit), approvals and rejections through `approval.decide`
(what `outreach approve` / `reject` do), signed with the reviewer's key loaded
once when the desk starts, previews through `render.Renderer` (what `outreach
render --proof` does, nothing written to output/). Keeping the calls in this
one module lets them follow those stages when they change (the project lock,
the document plan) without touching the web code.

Every write the desk makes happens in `record_change`, and only there: the
check that the string is still as the reviewer saw it, the edit, and the
decision run together under one lock.

Values handed to the web code are frozen dataclasses of plain data.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from pipeline import checks, similarity
from pipeline.approval import (
    ENGLISH,
    State,
    StringState,
    decide,
    english_written_for,
    language_states,
    proof_texts,
    signer_name,
)
from pipeline.catalog import BackTranslation, catalog_languages, read_catalog
from pipeline.content import Citation, Source, read_source
from pipeline.document import plan_document
from pipeline.errors import ContentError, Problem, RenderError
from pipeline.ledger import Decision, read_ledger
from pipeline.lock import project_lock
from pipeline.project import Project
from pipeline.review import read_review_item
from pipeline.review import save_edit as save_review_edit
from pipeline.signing import SigningKey

if TYPE_CHECKING:  # the renderer (WeasyPrint) is imported only when a preview is first drawn
    from pipeline.render import Renderer

DESK_TOOL = "outreach serve"  # how an edit made here is named in the PO's provenance comment
STATES = tuple(state.value for state in State)
ACTIONS = ("save", "approve", "reject")
_WRITES = threading.Lock()  # one desk write at a time in this process (see record_change)
SourceStamp = tuple[tuple[str, int, int], ...]  # (file name, mtime ns, size) of each source/*.yaml
_P = ParamSpec("_P")
_R = TypeVar("_R")


class ActionError(Exception):
    """A refused action; `messages` say why, one sentence each.

    `incomplete` marks a request that lacks something the reviewer must give
    (a text, a reason), as opposed to one the pipeline refused.
    """

    def __init__(self, messages: list[str], incomplete: bool = False):
        super().__init__("; ".join(messages))
        self.messages = messages
        self.incomplete = incomplete


class ChangedMeanwhile(ActionError):
    """The string's saved text is no longer the one the reviewer opened: nothing was recorded."""

    def __init__(self, current: str):
        super().__init__(["the string was changed elsewhere since it was opened"])
        self.current = current


class EnglishNotSeen(ActionError):
    """The page the reviewer sent did not show the string's English as it stands, or what changed in it: nothing was recorded."""


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
class BackTranslationView:
    """A stored machine back-translation into English, and how close it comes to the English."""

    text: str
    engine: str
    date: str
    current: bool  # made from the saved translation; False: from an earlier one (neither scored nor checked)
    score: float | None  # chrF against the English, 0-100 (None when not current)
    low: bool  # below similarity.LOW_SIMILARITY on an English long enough to judge
    threshold: float = similarity.LOW_SIMILARITY


@dataclass(frozen=True, slots=True)
class Change:
    """What a reviewer asks the desk to record for one string."""

    action: str  # "save" (the typed text), "approve" (the typed text, saved first if changed) or "reject"
    base: str  # the saved text the reviewer opened: nothing is recorded if it has changed since
    text: str | None  # the typed text (None: a rejection sent without the text box)
    reason: str = ""  # why it is rejected, for the translator
    acknowledge: tuple[str, ...] = ()  # one check id per warning the reviewer ticked as read
    english: str | None = None  # the English the page showed (None: not sent)
    english_was: str = ""  # the old English whose change the page showed, for a stale string ("" if it showed none)


@dataclass(frozen=True, slots=True)
class StringDetail:
    """Everything the string view shows."""

    row: StringRow
    kind: str  # "fact" or "ui"
    note: str
    citations: tuple[Citation, ...]
    previous_english: str | None  # the English the translation was written for, when stale
    provenance: tuple[str, ...]
    back_translation: BackTranslationView | None
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


def source_stamp(root: Path) -> SourceStamp:
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
            for string_id in plan_document(source, edition, format_name).string_ids:
                places[string_id].append((edition.id, format_name))
    return {i: tuple(p) for i, p in places.items()}


def _views(findings: list[checks.Finding]) -> tuple[FindingView, ...]:
    return tuple(FindingView(f.check, f.severity, f.message) for f in findings)


def check_text(source: Source, language: str, string_id: str, text: str) -> tuple[FindingView, ...]:
    """What the checks say about a text, typed or saved (with its stored back-translation, if made from this very text)."""
    _require_string(source, language, string_id)
    entry = read_catalog(source.project, language).views().get(string_id)
    back = entry.back_translation if entry is not None else None
    back_text = back.text if back is not None and back.is_current(text) else ""
    return _views(checks.check_translation(source, language, string_id, text, back_text))


def _row(source: Source, language: str, state: StringState, places: tuple[tuple[str, str], ...], findings: bool = True) -> StringRow:
    found: tuple[FindingView, ...] = ()
    if state.translation and findings:
        back = state.entry.current_back_translation if state.entry is not None else ""
        found = _views(checks.check_translation(source, language, state.id, state.translation, back))
    return StringRow(state.id, state.state.value, state.english, state.translation, found, places)


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
        provenance=item.provenance,  # without the back-translation line, shown on its own
        back_translation=_back_translation_view(item.back_translation, item.current_back_translation is not None, state.english),
        history=tuple(read_ledger(source.project, language).history(string_id)),
        decision_reason=reason,
    )


def _back_translation_view(back: BackTranslation | None, current: bool, english: str) -> BackTranslationView | None:
    """The stored back-translation as the page shows it (review.describe_back_translation's content)."""
    if back is None:
        return None
    if not current:
        return BackTranslationView(back.text, back.engine, back.date, current=False, score=None, low=False)
    score = similarity.score_similarity(english, back.text)
    return BackTranslationView(back.text, back.engine, back.date, True, score, similarity.is_low_similarity(english, back.text))


def current_translation(source: Source, language: str, string_id: str) -> str:
    _require_string(source, language, string_id)
    return language_states(source, language)[string_id].translation


# ---------------------------------------------------------------- the reviewer


def key_owner(source: Source, key: SigningKey, claimed: str | None = None) -> str:
    """The name `key` is listed under in source/reviewers.yaml, if it may decide on a language the desk serves.

    `claimed` (serve --reviewer), if given, must be that name. ContentError
    otherwise, as `outreach approve` refuses the same key: the desk does not start.
    """
    refusals: list[ContentError] = []
    for language in desk_languages(source):
        try:
            return signer_name(source, key, language, claimed)
        except ContentError as exc:
            refusals.append(exc)
    if not refusals:
        raise ContentError([Problem(source.project.translations, None, "no translated language to review")], unusable=True)
    raise refusals[0]  # not listed, listed for none of these languages, or another name


def decision_refusal(source: Source, language: str, key: SigningKey, reviewer: str) -> str:
    """Why this reviewer's key cannot record decisions on `language` now ("" when it can).

    Read at each request: removing the key from source/reviewers.yaml while the desk runs stops it at once.
    """
    try:
        signer_name(source, key, language, reviewer)
    except ContentError as exc:
        return "; ".join(p.message for p in exc.problems)
    return ""


# ---------------------------------------------------------------- writing


def record_change(source: Source, language: str, string_id: str, change: Change, key: SigningKey, reviewer: str, now: dt.datetime) -> str:
    """Record one reviewer's change to one string; what happened: "saved", "approved", "rejected" or "unchanged".

    The one place the desk writes. Under one lock: the string must still hold
    the text the reviewer opened (ChangedMeanwhile otherwise, nothing written);
    a typed text that differs is saved as the reviewer's edit (`outreach
    review`'s save_edit) and, for "approve", then approved; decisions go through
    `approval.decide` signed with `key`, exactly as `outreach approve` / `reject`
    record them. ActionError when refused.
    """
    if change.action not in ACTIONS:
        raise ActionError([f"unknown action {change.action!r}"])
    _require_string(source, language, string_id)
    with _WRITES, project_lock(source.project, "review desk"):  # and one writer across processes
        refusal = decision_refusal(source, language, key, reviewer)
        if refusal:
            raise ActionError([refusal])
        current = current_translation(source, language, string_id)
        if change.base != current:
            raise ChangedMeanwhile(current)
        if change.action == "reject":
            return _reject(source, language, string_id, change, current, key, reviewer, now)
        stale = _require_english_seen(source, language, string_id, change)
        text = change.text or ""
        if not text.strip():
            raise ActionError(["The text is empty: type a translation, or reject the string."], incomplete=True)
        acknowledged: tuple[str, ...] = ()
        if change.action == "approve":  # before anything is written: a refused approval saves nothing
            acknowledged = _acknowledged(source, language, string_id, text, change.acknowledge, changed=text != current)
        if text != current:
            _call(save_review_edit, source, language, string_id, text, reviewer, now, tool=DESK_TOOL)
        if change.action == "save":
            return "saved"
        outcome = _call(
            decide, source, language, [string_id], key, "approve", now, reviewer=reviewer, acknowledge=acknowledged,
            english_changed_ok=stale,  # the page showed this very change (checked above)
        )
        return "approved" if outcome.decisions else "unchanged"


def _require_english_seen(source: Source, language: str, string_id: str, change: Change) -> bool:
    """Refuse (EnglishNotSeen) a save or approval sent from a page that did not show the English as it stands.

    The page sends the English it showed and, for a stale string, the old
    English of the change it showed; either differing from now means the
    reviewer has not seen what their text will count as translating (a save
    or an approval makes a stale text answer the current English). True when
    the string is stale and the page showed exactly its change.
    """
    item = language_states(source, language)[string_id]
    was = english_written_for(item)
    if (change.english is not None and change.english != item.english) or (was is not None and (change.english is None or change.english_was != was)):
        raise EnglishNotSeen([
            "The English of this string changed since this page was opened, or the page did not show what changed. "
            "Nothing was recorded. The English as it stands and what changed in it are shown below: "
            "check the translation says what the English says now, then save or approve again."
        ])
    return was is not None


def _reject(source: Source, language: str, string_id: str, change: Change, current: str, key: SigningKey, reviewer: str, now: dt.datetime) -> str:
    if change.text is not None and change.text != current:
        raise ActionError(["You changed the text but did not save it. Save your text first, or undo your change, then reject."])
    if not change.reason.strip():
        raise ActionError(["Give a reason for the translator to reject."], incomplete=True)
    outcome = _call(decide, source, language, [string_id], key, "reject", now, change.reason, reviewer=reviewer)
    return "rejected" if outcome.decisions else "unchanged"


def _acknowledged(source: Source, language: str, string_id: str, text: str, ticked: tuple[str, ...], changed: bool) -> tuple[str, ...]:
    """The checks whose every warning on `text` the reviewer ticked as read (one tick per warning, not one per check).

    ActionError naming each warning left unticked, unless `text` is the saved
    text and already approved (re-approving records nothing, as `outreach approve`).
    `approval.decide` refuses the same approval anyway; this says it in the
    page's words. A tick for an unknown or error check is passed on for
    `decide` to refuse.
    """
    warnings = [f for f in check_text(source, language, string_id, text) if f.severity == checks.WARNING]
    counts, ticks = Counter(f.check for f in warnings), Counter(ticked)
    unread = [f for f in warnings if ticks[f.check] < counts[f.check]]
    if unread and (changed or language_states(source, language)[string_id].state is not State.APPROVED):
        raise ActionError([f"Not approved: tick “I have read this warning” under this warning first: {f.message} [{f.check}]" for f in unread])
    return tuple(check for check in ticks if ticks[check] >= counts[check])


def _call(function: Callable[_P, _R], *args: _P.args, **kwargs: _P.kwargs) -> _R:
    """A stage call; its ContentError becomes the desk's ActionError (messages only: the page has no file:line)."""
    try:
        return function(*args, **kwargs)
    except ContentError as exc:
        raise ActionError([p.message for p in exc.problems]) from None


# ---------------------------------------------------------------- preview


def new_renderer(source: Source) -> Renderer:
    """One warm renderer for the server process (fonts, stylesheets, images parsed once)."""
    from pipeline.render import Renderer

    return Renderer(source)


def render_preview(renderer: Renderer, source: Source, language: str, edition_id: str, format_name: str, string_id: str, text: str) -> PreviewDocument:
    """A proof of one document with `text` in place of the string, its box outlined; nothing is written.

    Every other string prints as a proof prints it (its current text, or the
    English where there is none). ActionError when the document cannot be
    drawn (a missing glyph, a number on the do-not-print list...).
    """
    _require_string(source, language, string_id)
    edition = source.editions.get(edition_id)
    if edition is None or edition.language != language or format_name not in edition.formats:
        raise ActionError([f"{edition_id} {format_name}: no such document in {language}"])
    if string_id not in plan_document(source, edition, format_name).string_ids:
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
