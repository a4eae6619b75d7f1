"""The state of every string, the approval gate, and approving or rejecting strings.

A translation counts as approved only while the ledger's latest decision for it
is an approval of the current English and the current translation, and the
entry is not marked fuzzy. Removing `fuzzy` by hand, or editing either text
afterwards, therefore un-approves it.

English prints from reviewed source text: a string needs its `review` record in
source/ (who checked it against its citations) and a sign-off in the English
ledger (translations/ledger/en.jsonl) of exactly its current text, so editing
the English in source/ withdraws it until someone signs off the new wording
(`outreach approve en ID --reviewer NAME`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum

from pipeline import checks
from pipeline.catalog import FUZZY, Catalog, CatalogEntry, read_catalog, set_provenance, sync_catalog, write_catalog, provenance_lines
from pipeline.content import Edition, Source
from pipeline.errors import ContentError, Problem
from pipeline.ledger import Decision, Ledger, append_decisions, make_decision, read_ledger
from pipeline.lock import holding_project_lock

ENGLISH = "en"


class State(str, Enum):
    APPROVED = "approved"
    NEEDS_REVIEW = "needs review"  # a person's text (edited, or fuzzy removed) not yet approved
    MACHINE = "machine draft"
    DRAFT = "draft"  # contributor draft or translation-memory suggestion
    STALE = "stale"  # the English changed since this translation was written
    REJECTED = "rejected"
    MISSING = "missing"


@dataclass(frozen=True, slots=True)
class StringState:
    id: str
    state: State
    english: str
    translation: str  # what a proof shows: the translation, or "" when missing
    entry: CatalogEntry | None
    decision: Decision | None


def english_states(source: Source, ledger: Ledger) -> dict[str, StringState]:
    """English strings: approved while reviewed in source/ and signed off, as they stand, in the ledger."""
    latest = ledger.latest()
    result = {}
    for string in source.strings.values():
        decision = latest.get(string.id)
        if decision is not None and decision.matches(string.text, string.text):
            state = State.REJECTED if decision.action == "reject" else State.APPROVED
        elif decision is not None:
            state = State.STALE  # signed off, but the English has changed since
        else:
            state = State.NEEDS_REVIEW
        if state is State.APPROVED and string.review is None:
            state = State.NEEDS_REVIEW
        result[string.id] = StringState(string.id, state, string.text, string.text, None, decision)
    return result


def string_states(source: Source, catalog: Catalog, ledger: Ledger) -> dict[str, StringState]:
    """Classify every source string of a catalog's language."""
    views = catalog.views()
    latest = ledger.latest()
    result = {}
    for string in source.strings.values():
        entry = views.get(string.id)
        decision = latest.get(string.id)
        if entry is None or not entry.translation.strip():
            state = State.MISSING
        elif entry.english != string.text or entry.previous_english is not None:
            state = State.STALE
        elif decision is not None and decision.matches(string.text, entry.translation):
            if decision.action == "reject":
                state = State.REJECTED
            else:
                state = State.APPROVED if not entry.fuzzy else State.NEEDS_REVIEW
        elif entry.fuzzy:
            state = State.MACHINE if entry.is_machine else State.DRAFT
        else:
            state = State.NEEDS_REVIEW
        result[string.id] = StringState(string.id, state, string.text, entry.translation if entry else "", entry, decision)
    return result


def language_states(source: Source, language: str) -> dict[str, StringState]:
    project = source.project
    if language == ENGLISH:
        return english_states(source, read_ledger(project, ENGLISH))
    return string_states(source, read_catalog(project, language), read_ledger(project, language))


def blocking_strings(source: Source, edition: Edition, format_name: str, states: dict[str, StringState]) -> list[StringState]:
    """Strings a document needs that are not approved: an empty list means it may print as final."""
    return [states[i] for i in source.edition_string_ids(edition, format_name) if states[i].state is not State.APPROVED]


def approved_texts(states: dict[str, StringState]) -> dict[str, str]:
    return {i: s.translation for i, s in states.items() if s.state is State.APPROVED}


def proof_texts(states: dict[str, StringState]) -> dict[str, str]:
    """What a proof prints: the current translation, or the English where there is none yet."""
    return {i: (s.translation or s.english) for i, s in states.items()}


@dataclass(frozen=True, slots=True)
class Outcome:
    decisions: tuple[Decision, ...]
    unchanged: tuple[str, ...] = ()  # already in the requested state: no new record


@holding_project_lock(lambda source, language, string_ids, reviewer, action, *rest, **options: action)
def decide(
    source: Source,
    language: str,
    string_ids: list[str],
    reviewer: str,
    action: str,
    now: dt.datetime,
    reason: str = "",
) -> Outcome:
    """Approve or reject strings of one language: all of them, or none if any cannot be."""
    if language == ENGLISH:
        return _decide_english(source, string_ids, reviewer, action, now, reason)
    if language not in source.languages:
        raise ContentError([Problem(source.project.source / "languages.yaml", None, f"{language!r} is not a translated language")])
    if not reviewer.strip():
        raise ContentError([Problem(source.project.po_path(language), None, "a reviewer name is required")])
    project = source.project
    catalog = read_catalog(project, language)
    ledger = read_ledger(project, language)
    sync_catalog(source, catalog)
    views = catalog.views()
    problems = []
    for string_id in string_ids:
        entry = views.get(string_id)
        where = (catalog.path, entry.line if entry and entry.line else None)
        if string_id not in source.strings:
            problems.append(Problem(catalog.path, None, f"{string_id}: no such string"))
        elif entry is None or not entry.translation.strip():
            problems.append(Problem(*where, f"{string_id}: there is no translation to {action}"))
        elif action == "approve":
            for finding in checks.errors_of(checks.check_translation(source, language, string_id, entry.translation)):
                problems.append(Problem(*where, f"{string_id}: cannot approve: {finding.message} [{finding.check}]"))
    if action == "reject" and not reason.strip():
        problems.append(Problem(catalog.path, None, "a reason is required to reject"))
    if problems:
        raise ContentError(problems)

    states = string_states(source, catalog, ledger)
    texts = {i: catalog.entry(i).msgstr for i in string_ids}
    decisions, unchanged = _new_decisions(source, ledger, states, texts, reviewer, action, now, reason)
    for decision in decisions:
        entry = catalog.entry(decision.string_id)
        # The PO shows the latest decision too, so a translator working in Poedit sees a rejection's reason.
        kept = [line for line in provenance_lines(entry) if not line.startswith(("check", "rejected by"))]
        if action == "approve":
            if FUZZY in entry.flags:
                entry.flags.remove(FUZZY)
            entry.previous_msgid = None
            set_provenance(entry, kept)
        else:
            if FUZZY not in entry.flags:
                entry.flags.insert(0, FUZZY)
            set_provenance(entry, [*kept, f"rejected by {reviewer}, {now.date().isoformat()}: {reason}"])
    # Ledger first: if the run dies before the catalog is written, the entry is
    # still fuzzy, so nothing counts as approved until a rerun completes it.
    if decisions:
        append_decisions(ledger, decisions)
        write_catalog(catalog, now)
    return Outcome(tuple(decisions), unchanged)


def _new_decisions(
    source: Source,
    ledger: Ledger,
    states: dict[str, StringState],
    texts: dict[str, str],
    reviewer: str,
    action: str,
    now: dt.datetime,
    reason: str,
) -> tuple[list[Decision], tuple[str, ...]]:
    """Chained records for each string not already in the wanted state; and the ids that were."""
    wanted = State.APPROVED if action == "approve" else State.REJECTED
    unchanged = tuple(i for i in texts if states[i].state is wanted)
    decisions = []
    previous = ledger.head
    for string_id, text in texts.items():
        if string_id in unchanged:
            continue
        decision = make_decision(previous, ledger.language, string_id, action, reviewer, source.english(string_id), text, now, reason)
        decisions.append(decision)
        previous = decision.hash
    return decisions, unchanged


def _decide_english(source: Source, string_ids: list[str], reviewer: str, action: str, now: dt.datetime, reason: str) -> Outcome:
    """Sign off (or reject) English wording as it stands in source/; source check errors block a sign-off."""
    ledger = read_ledger(source.project, ENGLISH)
    problems = []
    source_errors = checks.errors_of(checks.check_source(source))
    for string_id in string_ids:
        if string_id not in source.strings:
            problems.append(Problem(source.project.source, None, f"{string_id}: no such string"))
        elif action == "approve":
            for finding in source_errors:
                if finding.string_id == string_id:
                    problems.append(Problem(finding.path, finding.line, f"{string_id}: cannot approve: {finding.message} [{finding.check}]"))
    if action == "reject" and not reason.strip():
        problems.append(Problem(ledger.path, None, "a reason is required to reject"))
    if problems:
        raise ContentError(problems)
    texts = {i: source.english(i) for i in string_ids}
    decisions, unchanged = _new_decisions(source, ledger, english_states(source, ledger), texts, reviewer, action, now, reason)
    if decisions:
        append_decisions(ledger, decisions)
    return Outcome(tuple(decisions), unchanged)


STATUS_COLUMNS = (State.APPROVED, State.NEEDS_REVIEW, State.DRAFT, State.MACHINE, State.STALE, State.REJECTED, State.MISSING)


def status_counts(states: dict[str, StringState]) -> dict[State, int]:
    counts = {state: 0 for state in STATUS_COLUMNS}
    for item in states.values():
        counts[item.state] += 1
    return counts
