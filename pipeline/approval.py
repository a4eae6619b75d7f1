"""The state of every string, the approval gate, and approving or rejecting strings.

A translation counts as approved only while the ledger's latest decision for it
is an approval of the current English and the current translation, and the
entry is not marked fuzzy. Removing `fuzzy` by hand, or editing either text
afterwards, therefore un-approves it.

English prints from reviewed source text: a string needs its `review` record in
source/ (who checked it against its citations) and a sign-off in the English
ledger (translations/ledger/en.jsonl) of exactly its current text, so editing
the English in source/ withdraws it until someone signs off the new wording
(`outreach approve en ID --key FILE`).

Every decision is signed with the reviewer's SSH key, and the key decides who
the reviewer is: it must be listed in source/reviewers.yaml for the language. A
record whose key is no longer listed there approves nothing.

Approving a string that has warnings requires naming each warning's check
(`acknowledge`); the checks and the messages the reviewer saw go into the
ledger record. A warning left unnamed refuses the whole approval.

A stale translation (the English changed after it was written) is not approved
blindly: the approval is refused, showing the old and the new English as a
word diff, unless the reviewer says they have read the change
(`english_changed_ok`). The record then binds the new English, as every record
binds the English as it stands.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from pipeline import checks
from pipeline.catalog import Catalog, CatalogEntry, read_catalog, sync_catalog, write_catalog
from pipeline.content import Source
from pipeline.document import DocumentPlan
from pipeline.errors import ContentError, Problem
from pipeline.ledger import Acknowledgement, Decision, Ledger, append_decisions, make_decision, read_ledger
from pipeline.lock import holding_project_lock
from pipeline.reviewers import read_reviewers
from pipeline.signing import SigningKey
from pipeline.worddiff import word_diff

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
    note: str = ""  # why a recorded decision no longer counts (its key is no longer listed)


def english_states(source: Source, ledger: Ledger) -> dict[str, StringState]:
    """English strings: approved while reviewed in source/ and signed off, as they stand, in the ledger."""
    latest = ledger.latest()
    result = {}
    for string in source.strings.values():
        decision = latest.get(string.id)
        note = ledger.revocation(decision) if decision is not None else ""
        if note:
            state = State.NEEDS_REVIEW
        elif decision is not None and decision.matches(string.text, string.text):
            state = State.REJECTED if decision.action == "reject" else State.APPROVED
        elif decision is not None:
            state = State.STALE  # signed off, but the English has changed since
        else:
            state = State.NEEDS_REVIEW
        if state is State.APPROVED and string.review is None:
            state = State.NEEDS_REVIEW
        result[string.id] = StringState(string.id, state, string.text, string.text, None, decision, note)
    return result


def string_states(source: Source, catalog: Catalog, ledger: Ledger) -> dict[str, StringState]:
    """Classify every source string of a catalog's language."""
    views = catalog.views()
    latest = ledger.latest()
    result = {}
    for string in source.strings.values():
        entry = views.get(string.id)
        decision = latest.get(string.id)
        note = ledger.revocation(decision) if decision is not None else ""
        valid = None if note else decision
        if entry is None or not entry.translation.strip():
            state = State.MISSING
        elif valid is not None and valid.action == "reject" and valid.matches(string.text, entry.translation):
            state = State.REJECTED  # rejected against the English as it is now, stale or not
        elif entry.english != string.text or entry.previous_english is not None:
            state = State.STALE
        elif valid is not None and valid.matches(string.text, entry.translation):
            if valid.action == "reject":
                state = State.REJECTED
            else:
                state = State.APPROVED if not entry.fuzzy else State.NEEDS_REVIEW
        elif entry.fuzzy:
            state = State.MACHINE if entry.is_machine else State.DRAFT
        else:
            state = State.NEEDS_REVIEW
        result[string.id] = StringState(string.id, state, string.text, entry.translation if entry else "", entry, decision, note)
    return result


def english_written_for(item: StringState) -> str | None:
    """The English a stale translation was written for (what `#| msgid` keeps); None unless the string is stale."""
    if item.state is not State.STALE or item.entry is None:
        return None
    entry = item.entry
    return entry.previous_english or (entry.english if entry.english != item.english else None)


def language_states(source: Source, language: str) -> dict[str, StringState]:
    project = source.project
    if language == ENGLISH:
        return english_states(source, read_ledger(project, ENGLISH))
    return string_states(source, read_catalog(project, language), read_ledger(project, language))


def blocking_strings(plan: DocumentPlan, states: dict[str, StringState]) -> list[StringState]:
    """Strings a document prints that are not approved: an empty list means it may print as final."""
    return [states[i] for i in plan.string_ids if states[i].state is not State.APPROVED]


def approved_texts(states: dict[str, StringState]) -> dict[str, str]:
    return {i: s.translation for i, s in states.items() if s.state is State.APPROVED}


def proof_texts(states: dict[str, StringState]) -> dict[str, str]:
    """What a proof prints: the current translation, or the English where there is none yet."""
    return {i: (s.translation or s.english) for i, s in states.items()}


@dataclass(frozen=True, slots=True)
class Outcome:
    decisions: tuple[Decision, ...]
    unchanged: tuple[str, ...] = ()  # already in the requested state: no new record
    english_changed: tuple[str, ...] = ()  # approved although the English changed after the translation was written


@holding_project_lock(lambda *args, **options: options.get("action") or args[4])
def decide(
    source: Source,
    language: str,
    string_ids: list[str],
    key: SigningKey,
    action: str,
    now: dt.datetime,
    reason: str = "",
    reviewer: str | None = None,
    acknowledge: Collection[str] = (),
    english_changed_ok: bool = False,
) -> Outcome:
    """Approve or reject strings of one language, signed with `key`: all of them, or none if any cannot be.

    The reviewer is the owner of `key` in source/reviewers.yaml; `reviewer`, if
    given, must be that name. `acknowledge` names the warning checks the reviewer
    has read and accepts; approving a string with a warning whose check is not
    named is refused. Approving a stale translation is refused, with the old and
    new English, unless `english_changed_ok` says the reviewer has read what
    changed in the English (English sign-offs are of the English itself: not affected).
    """
    _check_acknowledgeable(source, language, acknowledge)
    if language != ENGLISH and language not in source.languages:
        raise ContentError([Problem(source.project.source / "languages.yaml", None, f"{language!r} is not a translated language")])
    signer = signer_name(source, key, language, reviewer)
    if language == ENGLISH:
        return _decide_english(source, string_ids, key, signer, action, now, reason, acknowledge)
    project = source.project
    catalog = read_catalog(project, language)
    ledger = read_ledger(project, language)
    sync_catalog(source, catalog)
    views = catalog.views()
    states = string_states(source, catalog, ledger)
    acknowledged: dict[str, tuple[Acknowledgement, ...]] = {}
    problems = []
    for string_id in string_ids:
        entry = views.get(string_id)
        where = (catalog.path, entry.line if entry and entry.line else None)
        if string_id not in source.strings:
            problems.append(Problem(catalog.path, None, f"{string_id}: no such string"))
        elif entry is None or not entry.translation.strip():
            problems.append(Problem(*where, f"{string_id}: there is no translation to {action}"))
        elif action == "approve":
            findings = checks.check_translation(source, language, string_id, entry.translation, entry.current_back_translation)
            was = english_written_for(states[string_id])
            if was is not None and not english_changed_ok:
                problems.append(Problem(*where, _english_changed_refusal(string_id, was, states[string_id].english)))
            approved = states[string_id].state is State.APPROVED
            acknowledged[string_id], refusals = _approval_refusals(string_id, findings, acknowledge, approved)
            problems += [Problem(*where, message) for _, message in refusals]
    _raise_refusals(problems, action, reason, catalog.path)

    texts = {i: catalog.translation(i) for i in string_ids}
    decisions, unchanged = _new_decisions(source, ledger, states, texts, key, signer, action, now, reason, acknowledged)
    for decision in decisions:
        # The PO shows the latest decision too, so a translator working in Poedit sees a rejection's reason.
        if action == "approve":
            catalog.approve(decision.string_id)
        else:
            catalog.reject(decision.string_id, f"rejected by {signer}, {now.date().isoformat()}: {reason}")
    # Ledger first: if the run dies before the catalog is written, the entry is
    # still fuzzy, so nothing counts as approved until a rerun completes it.
    if decisions:
        append_decisions(ledger, decisions)
        write_catalog(catalog, now)
    changed = tuple(d.string_id for d in decisions if action == "approve" and states[d.string_id].state is State.STALE)
    return Outcome(tuple(decisions), unchanged, changed)


def _english_changed_refusal(string_id: str, was: str, now: str) -> str:
    """Why a stale translation is not approved: the old and the new English, and what changed, word by word."""
    return (
        f"{string_id}: cannot approve: the English changed after this translation was written, so it may say what the old English said\n"
        f"    was:     {was}\n"
        f"    now:     {now}\n"
        f"    changes: {word_diff(was, now)}\n"
        "    if the translation says what the English says now, approve it with --english-changed-ok (or a in review); otherwise edit or reject it"
    )


def _new_decisions(
    source: Source,
    ledger: Ledger,
    states: dict[str, StringState],
    texts: dict[str, str],
    key: SigningKey,
    reviewer: str,
    action: str,
    now: dt.datetime,
    reason: str,
    acknowledged: dict[str, tuple[Acknowledgement, ...]] | None = None,
) -> tuple[list[Decision], tuple[str, ...]]:
    """Chained records for each string not already in the wanted state; and the ids that were."""
    wanted = State.APPROVED if action == "approve" else State.REJECTED
    unchanged = tuple(i for i in texts if states[i].state is wanted)
    decisions = []
    previous = ledger.head
    for string_id, text in texts.items():
        if string_id in unchanged:
            continue
        decision = make_decision(
            previous, ledger.language, string_id, action, reviewer, source.english(string_id), text, now, reason, key,
            acknowledged=(acknowledged or {}).get(string_id, ()),
        )
        decisions.append(decision)
        previous = decision.hash
    return decisions, unchanged


def _decide_english(
    source: Source, string_ids: list[str], key: SigningKey, reviewer: str, action: str, now: dt.datetime, reason: str,
    acknowledge: Collection[str] = (),
) -> Outcome:
    """Sign off (or reject) English wording as it stands in source/; source check errors block a sign-off."""
    ledger = read_ledger(source.project, ENGLISH)
    states = english_states(source, ledger)
    acknowledged: dict[str, tuple[Acknowledgement, ...]] = {}
    problems = []
    source_findings = checks.check_source(source)
    for string_id in string_ids:
        if string_id not in source.strings:
            problems.append(Problem(source.project.source, None, f"{string_id}: no such string"))
        elif action == "approve":
            findings = [f for f in source_findings if f.string_id == string_id]
            string, approved = source.strings[string_id], states[string_id].state is State.APPROVED
            acknowledged[string_id], refusals = _approval_refusals(string_id, findings, acknowledge, approved)
            # An error is shown where the source check found it; a warning not acknowledged, at the string.
            problems += [
                Problem(f.path or string.path, f.line, message) if f.severity == checks.ERROR else Problem(string.path, string.line, message)
                for f, message in refusals
            ]
    _raise_refusals(problems, action, reason, ledger.path)
    texts = {i: source.english(i) for i in string_ids}
    decisions, unchanged = _new_decisions(source, ledger, states, texts, key, reviewer, action, now, reason, acknowledged)
    if decisions:
        append_decisions(ledger, decisions)
    return Outcome(tuple(decisions), unchanged)


def _check_acknowledgeable(source: Source, language: str, acknowledge: Collection[str]) -> None:
    """Only warning checks can be acknowledged; an unknown id is a usage error (exit 2)."""
    problems = []
    where = source.project.ledger_path(language)
    for check_id in sorted(set(acknowledge)):
        if check_id not in checks.CHECKS:
            problems.append(Problem(where, None, f"cannot acknowledge {check_id!r}: no such check (see `outreach check --list`)"))
        elif checks.CHECKS[check_id].severity != checks.WARNING:
            problems.append(Problem(where, None, f"cannot acknowledge {check_id!r}: it finds errors, which block approval until the text is fixed"))
    if problems:
        raise ContentError(problems, unusable=True)


def _approval_refusals(
    string_id: str, findings: list[checks.Finding], acknowledge: Collection[str], approved: bool
) -> tuple[tuple[Acknowledgement, ...], list[tuple[checks.Finding, str]]]:
    """What a string's check findings do to approving it: the warnings the reviewer acknowledged, and a refusal
    message, with its finding, for each error and (unless the string is approved already) each warning not acknowledged."""
    refusals = [(f, f"{string_id}: cannot approve: {f.message} [{f.check}]") for f in checks.errors_of(findings)]
    if approved:
        return (), refusals
    warnings = [f for f in findings if f.severity == checks.WARNING]
    accepted = tuple(Acknowledgement(f.check, f.message) for f in warnings if f.check in acknowledge)
    refusals += [
        (f, f"{string_id}: cannot approve without acknowledging the warning: {f.message} [{f.check}] (once read, acknowledge it: --acknowledge {f.check}, or y in review)")
        for f in warnings
        if f.check not in acknowledge
    ]
    return accepted, refusals


def _raise_refusals(problems: list[Problem], action: str, reason: str, where: Path) -> None:
    """Refuse the whole decision (ContentError) if any string was refused, or a rejection gives no reason (reported at `where`)."""
    if action == "reject" and not reason.strip():
        problems = [*problems, Problem(where, None, "a reason is required to reject")]
    if problems:
        raise ContentError(problems)


def signer_name(source: Source, key: SigningKey, language: str, claimed: str | None = None) -> str:
    """The name of the reviewer who owns `key`, if they may decide on `language`; ContentError otherwise."""
    reviewers = read_reviewers(source.project)
    entry = reviewers.by_key(key.public_line)
    if entry is None:
        raise ContentError([Problem(reviewers.path, None, f"key {key.fingerprint} ({key.path}) is not listed: only a listed reviewer can approve or reject (see `outreach reviewers add`)")])
    if not entry.may_review(language):
        raise ContentError([Problem(reviewers.path, entry.line, f"{entry.name} may review {', '.join(entry.languages)} only, not {language}")])
    if claimed is not None and claimed.strip() != entry.name:
        raise ContentError([Problem(reviewers.path, entry.line, f"--reviewer {claimed.strip()!r} does not match the key's owner {entry.name!r} (key {key.fingerprint})")])
    return entry.name


STATUS_COLUMNS = (State.APPROVED, State.NEEDS_REVIEW, State.DRAFT, State.MACHINE, State.STALE, State.REJECTED, State.MISSING)


def status_counts(states: dict[str, StringState]) -> dict[State, int]:
    counts = {state: 0 for state in STATUS_COLUMNS}
    for item in states.values():
        counts[item.state] += 1
    return counts
