"""Interactive review of one language, one string at a time.

`outreach review LANG` walks the strings that need a decision (every state but
approved and missing, in source order) and shows for each its English, the old
English as a word diff when the English changed, the current text, where that
text came from and what the checks found. The reviewer approves, edits, rejects
or skips it. Each decision goes through `approval.decide` at once, so quitting
loses nothing; an edit is written to the PO as a person's text awaiting review
and the string is shown again so it can be approved.

Nothing here talks to a terminal: the caller passes the functions that read a
key, read a line, write text and open an editor, so tests can script a session.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable
from dataclasses import dataclass, field

import polib

from pipeline import checks
from pipeline.approval import ENGLISH, State, StringState, decide, string_states
from pipeline.catalog import FUZZY, Catalog, provenance_lines, read_catalog, set_provenance, sync_catalog, write_catalog
from pipeline.content import Source
from pipeline.errors import ContentError, Problem
from pipeline.ledger import read_ledger
from pipeline.lock import holding_project_lock

SKIPPED_STATES = (State.APPROVED, State.MISSING)
KEYS_HELP = "[a]pprove  [e]dit  [E]dit in $EDITOR  [r]eject  [s]kip  [q]uit"


@dataclass(frozen=True, slots=True)
class ReviewSummary:
    """What one review session did, by string id."""

    language: str
    approved: tuple[str, ...]
    rejected: tuple[str, ...]
    edited: tuple[str, ...]  # an edited string may also be approved afterwards
    skipped: tuple[str, ...]
    unreviewed: tuple[str, ...]  # not reached because the reviewer quit
    quit: bool


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """Everything the reviewer sees about one string."""

    state: StringState
    previous_english: str | None  # the English the translation was written for, when stale
    provenance: tuple[str, ...]  # the entry's `outreach:` comment lines
    note: str  # the note for translators from source/
    findings: tuple[checks.Finding, ...]

    @property
    def errors(self) -> list[checks.Finding]:
        return checks.errors_of(self.findings)


def strings_to_review(source: Source, language: str) -> list[str]:
    """Ids that need a decision, in source order."""
    catalog = _synced_catalog(source, language)
    states = string_states(source, catalog, read_ledger(source.project, language))
    return [i for i, s in states.items() if s.state not in SKIPPED_STATES]


def read_review_item(source: Source, language: str, string_id: str) -> ReviewItem:
    """The current state of one string, read fresh from the PO and the ledger."""
    catalog = _synced_catalog(source, language)
    item = string_states(source, catalog, read_ledger(source.project, language))[string_id]
    entry = catalog.entry(string_id)
    previous = None
    if item.state is State.STALE and item.entry is not None:
        previous = item.entry.previous_english or (item.entry.english if item.entry.english != item.english else None)
    findings = checks.check_translation(source, language, string_id, item.translation) if item.translation else []
    return ReviewItem(
        state=item,
        previous_english=previous,
        provenance=tuple(provenance_lines(entry)) if entry is not None else (),
        note=source.strings[string_id].note,
        findings=tuple(findings),
    )


def word_diff(old: str, new: str) -> str:
    """The new text with removed words as [-...-] and added words as {+...+} (as wdiff shows them)."""
    before, after = old.split(), new.split()
    parts = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=before, b=after, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(" ".join(before[i1:i2]))
            continue
        if op in ("delete", "replace"):
            parts.append("[-" + " ".join(before[i1:i2]) + "-]")
        if op in ("insert", "replace"):
            parts.append("{+" + " ".join(after[j1:j2]) + "+}")
    return " ".join(parts)


def describe_item(item: ReviewItem, language: str, position: int, total: int) -> str:
    """The text shown for one string."""
    state = item.state
    lines = [f"[{position}/{total}] {state.id} ({state.state.value})", f"  English:  {state.english}"]
    if item.previous_english is not None:
        lines.append(f"  was:      {item.previous_english}")
        lines.append(f"  changes:  {word_diff(item.previous_english, state.english)}")
    lines.append(f"  {language + ':':9} {state.translation}")
    if state.state is State.REJECTED and state.decision is not None:
        lines.append(f"  rejected by {state.decision.reviewer}, {state.decision.time}: {state.decision.reason}")
    for number, line in enumerate(item.provenance):
        lines.append(f"  {'from:' if number == 0 else '':9} {line}")
    if item.note:
        lines.append(f"  note:     {item.note}")
    for finding in item.findings:
        lines.append(f"  {finding.severity}: {finding.message} [{finding.check}]")
    if item.errors:
        lines.append("  cannot be approved until the errors are fixed: edit it, reject it or skip it")
    return "\n".join(lines)


def mark_person_text(entry: polib.POEntry, text: str, origin: str, findings: list[checks.Finding]) -> None:
    """Make `text` the entry's translation as a person's text that awaits approval.

    The text is no longer a draft (not fuzzy) and answers the current English
    (no previous English). A text with error findings stays fuzzy: it cannot be
    approved anyway, and msgfmt and Poedit would refuse, for example, a
    non-fuzzy translation that lacks a placeholder.
    """
    errors = checks.errors_of(findings)
    entry.msgstr = text
    entry.previous_msgid = None
    if errors and FUZZY not in entry.flags:
        entry.flags.insert(0, FUZZY)
    if not errors and FUZZY in entry.flags:
        entry.flags.remove(FUZZY)
    set_provenance(entry, [origin, *(f"check: {f.message} [{f.check}]" for f in errors)])


@holding_project_lock("review")
def save_edit(source: Source, language: str, string_id: str, text: str, reviewer: str, now: dt.datetime) -> None:
    """Write a reviewer's new wording for one string into the language's PO."""
    catalog = _synced_catalog(source, language)
    entry = catalog.entry(string_id)
    if entry is None:
        raise ContentError([Problem(catalog.path, None, f"{string_id}: no such string")])
    day = now.astimezone(dt.timezone.utc).date().isoformat()
    findings = checks.check_translation(source, language, string_id, text)
    mark_person_text(entry, text, f"edited by {reviewer} in outreach review, {day}", findings)
    write_catalog(catalog, now)


def run_review(
    source: Source,
    language: str,
    reviewer: str,
    now: Callable[[], dt.datetime],
    read_key: Callable[[], str],
    read_line: Callable[[str], str],
    write: Callable[[str], None],
    edit_in_editor: Callable[[str], str | None],
) -> ReviewSummary:
    """Review every string of `language` that needs a decision, one at a time.

    `now()` gives the time of each decision and edit as it is made (a session
    can be long). `read_key` returns one key press, `read_line(prompt)` a line
    of text, `edit_in_editor(text)` the edited text (None when the editor was
    closed without saving). EOFError from either reader ends the session like `q`.
    """
    _check_can_review(source, language, reviewer)
    session = _Session(source, language, reviewer, now, read_key, read_line, write, edit_in_editor)
    queue = strings_to_review(source, language)
    if not queue:
        write(f"{language}: nothing to review")
    for position, string_id in enumerate(queue, start=1):
        try:
            carry_on = session.review_string(string_id, position, len(queue))
        except EOFError:
            carry_on = False
        if not carry_on:
            return session.summary(queue[position - 1:], quit=True)
    return session.summary([], quit=False)


@dataclass
class _Session:
    """One reviewer's session: the terminal functions and what has been decided so far."""

    source: Source
    language: str
    reviewer: str
    now: Callable[[], dt.datetime]
    read_key: Callable[[], str]
    read_line: Callable[[str], str]
    write: Callable[[str], None]
    edit_in_editor: Callable[[str], str | None]
    approved: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    edited: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def review_string(self, string_id: str, position: int, total: int) -> bool:
        """Show one string until the reviewer moves on; False when they quit."""
        show = True
        while True:
            item = read_review_item(self.source, self.language, string_id)
            if item.state.state in SKIPPED_STATES:
                self.write(f"{string_id}: now {item.state.state.value}; moving on")
                return True
            if show:
                self.write(describe_item(item, self.language, position, total))
            self.write(KEYS_HELP)
            show = False
            key = self.read_key()
            if key == "q":
                return False
            if key == "s":
                self.skipped.append(string_id)
                return True
            if key == "a":
                if item.errors:
                    self.write(f"{string_id}: cannot approve: " + "; ".join(f"{f.message} [{f.check}]" for f in item.errors))
                elif self.record(string_id, "approve"):
                    self.approved.append(string_id)
                    return True
            elif key == "r":
                reason = self.read_line("Reason for rejecting (for the translator)").strip()
                if not reason:
                    self.write("a reason is required to reject; nothing recorded")
                elif self.record(string_id, "reject", reason):
                    self.rejected.append(string_id)
                    return True
            elif key in ("e", "E"):
                show = self.edit(string_id, item.state.translation, in_editor=key == "E")
            else:
                self.write(f"unknown key {key!r}")

    def edit(self, string_id: str, current: str, in_editor: bool) -> bool:
        """Ask for new wording and save it; True if the text changed."""
        if in_editor:
            new = self.edit_in_editor(current)
        else:
            new = self.read_line("New text (empty keeps the current text)")
        new = (new or "").strip()
        if not new or new == current:
            self.write("text unchanged")
            return False
        save_edit(self.source, self.language, string_id, new, self.reviewer, self.now())
        if string_id not in self.edited:
            self.edited.append(string_id)
        self.write(f"{string_id}: saved your text; it awaits approval")
        return True

    def record(self, string_id: str, action: str, reason: str = "") -> bool:
        """Append the decision to the ledger now; False (and why) if it was refused."""
        try:
            outcome = decide(self.source, self.language, [string_id], self.reviewer, action, self.now(), reason)
        except ContentError as exc:
            for problem in exc.problems:
                self.write(f"{action} refused: {problem.message}")
            return False
        verb = "approved" if action == "approve" else "rejected"
        self.write(f"{string_id}: {verb} by {self.reviewer} ({outcome.decisions[0].hash[:12]})")
        return True

    def summary(self, unreviewed: list[str], quit: bool) -> ReviewSummary:
        return ReviewSummary(
            language=self.language,
            approved=tuple(self.approved),
            rejected=tuple(self.rejected),
            edited=tuple(self.edited),
            skipped=tuple(self.skipped),
            unreviewed=tuple(unreviewed),
            quit=quit,
        )


def _check_can_review(source: Source, language: str, reviewer: str) -> None:
    """Refuse before showing anything if no decision could be recorded."""
    if language == ENGLISH or language not in source.languages:
        raise ContentError([Problem(source.project.source / "languages.yaml", None, f"{language!r} is not a translated language")])
    if not reviewer.strip():
        raise ContentError([Problem(source.project.po_path(language), None, "a reviewer name is required")])
    ledger = read_ledger(source.project, language)
    if ledger.problems:
        raise ContentError(list(ledger.problems))


def _synced_catalog(source: Source, language: str) -> Catalog:
    catalog = read_catalog(source.project, language)
    sync_catalog(source, catalog)
    return catalog

