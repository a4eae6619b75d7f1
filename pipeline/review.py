"""Interactive review of one language, one string at a time.

`outreach review LANG` walks the strings that need a decision (every state but
approved and missing, in source order) and shows for each its English, the old
English as a word diff when the English changed, the current text, its
machine back-translation into English (when `outreach backtranslate` stored one
for this very text) with a word diff against the English and its chrF score,
where the text came from and what the checks found. The reviewer approves, edits, rejects
or skips it. Each decision goes through `approval.decide` at once, so quitting
loses nothing; an edit is written to the PO as a person's text awaiting review
and the string is shown again so it can be approved. Approving a string with
warnings asks for a key press per warning; the acknowledged warnings go into
the ledger record. A stale string is approved only on the screen that showed
what changed in its English (it is shown again first if that changed meanwhile).

Nothing here talks to a terminal: the caller passes the functions that read a
key, read a line, write text and open an editor, so tests can script a session.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from pipeline import checks, similarity
from pipeline.approval import ENGLISH, State, StringState, decide, english_written_for, signer_name, string_states
from pipeline.catalog import BACK_TRANSLATION, BackTranslation, Catalog, read_catalog, sync_catalog, write_catalog
from pipeline.content import Source
from pipeline.errors import ContentError, Problem
from pipeline.ledger import read_ledger
from pipeline.lock import holding_project_lock
from pipeline.signing import SigningKey
from pipeline.worddiff import word_diff

SKIPPED_STATES = (State.APPROVED, State.MISSING)
KEYS_HELP = "[a]pprove  [e]dit  [E]dit in $EDITOR  [r]eject  [s]kip  [q]uit"
ACKNOWLEDGE_KEY = "y"


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
    back_translation: BackTranslation | None = None  # as stored; may be of an earlier translation

    @property
    def errors(self) -> list[checks.Finding]:
        return checks.errors_of(self.findings)

    @property
    def warnings(self) -> list[checks.Finding]:
        return [f for f in self.findings if f.severity == checks.WARNING]

    @property
    def current_back_translation(self) -> BackTranslation | None:
        """The stored back-translation if it was made from the translation shown, else None."""
        back = self.back_translation
        return back if back is not None and back.is_current(self.state.translation) else None


def strings_to_review(source: Source, language: str) -> list[str]:
    """Ids that need a decision, in source order."""
    catalog = _synced_catalog(source, language)
    states = string_states(source, catalog, read_ledger(source.project, language))
    return [i for i, s in states.items() if s.state not in SKIPPED_STATES]


def read_review_item(source: Source, language: str, string_id: str) -> ReviewItem:
    """The current state of one string, read fresh from the PO and the ledger."""
    catalog = _synced_catalog(source, language)
    item = string_states(source, catalog, read_ledger(source.project, language))[string_id]
    previous = english_written_for(item)
    back = item.entry.back_translation if item.entry is not None else None
    current_back = item.entry.current_back_translation if item.entry is not None else ""
    findings = checks.check_translation(source, language, string_id, item.translation, current_back) if item.translation else []
    return ReviewItem(
        state=item,
        previous_english=previous,
        provenance=tuple(line for line in item.entry.provenance_lines if not line.startswith(BACK_TRANSLATION)) if item.entry is not None else (),
        note=source.strings[string_id].note,
        findings=tuple(findings),
        back_translation=back,
    )


def describe_item(item: ReviewItem, language: str, position: int, total: int) -> str:
    """The text shown for one string."""
    state = item.state
    lines = [f"[{position}/{total}] {state.id} ({state.state.value})", f"  English:  {state.english}"]
    if item.previous_english is not None:
        lines.append(f"  was:      {item.previous_english}")
        lines.append(f"  changes:  {word_diff(item.previous_english, state.english)}")
    lines.append(f"  {language + ':':9} {state.translation}")
    lines += describe_back_translation(item, language)
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


def describe_back_translation(item: ReviewItem, language: str) -> list[str]:
    """The back-translation lines of a string: text, provenance, word diff against the English, chrF."""
    back = item.current_back_translation
    if back is None:
        if item.back_translation is not None and item.state.translation:
            return [f"  back:     (out of date: made from an earlier translation; run `outreach backtranslate {language}`)"]
        return []
    score = similarity.score_similarity(item.state.english, back.text)
    low = similarity.is_low_similarity(item.state.english, back.text)
    verdict = f"LOW, below {similarity.LOW_SIMILARITY:.0f}" if low else "0-100, higher is closer"
    return [
        f"  back:     {back.text}",
        f"            (machine back-translation into English: {back.engine}, {back.date})",
        f"  diff:     {word_diff(item.state.english, back.text)}",
        f"  chrF:     {score:.0f} ({verdict})",
    ]


def person_text_errors(findings: list[checks.Finding]) -> list[str]:
    """The comment lines written next to a person's text for its error findings."""
    return [f"check: {f.message} [{f.check}]" for f in checks.errors_of(findings)]


@holding_project_lock("review")
def save_edit(
    source: Source, language: str, string_id: str, text: str, reviewer: str, now: dt.datetime, tool: str = "outreach review"
) -> None:
    """Write a reviewer's new wording for one string into the language's PO; `tool` names where it was typed."""
    catalog = _synced_catalog(source, language)
    if not catalog.has(string_id):
        raise ContentError([Problem(catalog.path, None, f"{string_id}: no such string")])
    day = now.astimezone(dt.timezone.utc).date().isoformat()
    findings = checks.check_translation(source, language, string_id, text)
    catalog.set_person_text(string_id, text, f"edited by {reviewer} in {tool}, {day}", person_text_errors(findings))
    write_catalog(catalog, now)


def run_review(
    source: Source,
    language: str,
    key: SigningKey,
    now: Callable[[], dt.datetime],
    read_key: Callable[[], str],
    read_line: Callable[[str], str],
    write: Callable[[str], None],
    edit_in_editor: Callable[[str], str | None],
    reviewer: str | None = None,
) -> ReviewSummary:
    """Review every string of `language` that needs a decision, one at a time.

    `now()` gives the time of each decision and edit as it is made (a session
    can be long). `read_key` returns one key press, `read_line(prompt)` a line
    of text, `edit_in_editor(text)` the edited text (None when the editor was
    closed without saving). EOFError from either reader ends the session like `q`.
    Decisions are signed with `key`, whose owner in source/reviewers.yaml is the
    reviewer (`reviewer`, if given, must be that name).
    """
    name = _check_can_review(source, language, key, reviewer)
    session = _Session(source, language, key, name, now, read_key, read_line, write, edit_in_editor)
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
    key: SigningKey
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
        shown_was: str | None = None  # the old English whose diff was last shown
        while True:
            item = read_review_item(self.source, self.language, string_id)
            if item.state.state in SKIPPED_STATES:
                self.write(f"{string_id}: now {item.state.state.value}; moving on")
                return True
            if show or item.previous_english != shown_was:  # the English changed meanwhile: show what changed first
                self.write(describe_item(item, self.language, position, total))
                shown_was = item.previous_english
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
                    continue
                acknowledged = self.acknowledge(item)
                if acknowledged is None:
                    self.write(f"{string_id}: not approved: every warning must be acknowledged first")
                # A stale string's diff has just been shown (above): approving it is approving against the new English.
                elif self.record(string_id, "approve", acknowledge=acknowledged, english_changed_ok=item.previous_english is not None):
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

    def acknowledge(self, item: ReviewItem) -> tuple[str, ...] | None:
        """Ask for a key press per warning; the acknowledged check ids, or None if one was not acknowledged."""
        acknowledged: list[str] = []
        for finding in item.warnings:
            self.write(f"  {finding.severity}: {finding.message} [{finding.check}]")
            self.write(f"  press {ACKNOWLEDGE_KEY} to acknowledge this warning and go on approving, any other key to go back")
            if self.read_key() != ACKNOWLEDGE_KEY:
                return None
            acknowledged.append(finding.check)
        return tuple(dict.fromkeys(acknowledged))

    def record(
        self, string_id: str, action: str, reason: str = "", acknowledge: tuple[str, ...] = (), english_changed_ok: bool = False
    ) -> bool:
        """Append the decision to the ledger now; False (and why) if it was refused."""
        try:
            outcome = decide(
                self.source, self.language, [string_id], self.key, action, self.now(), reason, self.reviewer,
                acknowledge=acknowledge, english_changed_ok=english_changed_ok,
            )
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


def _check_can_review(source: Source, language: str, key: SigningKey, reviewer: str | None) -> str:
    """Refuse before showing anything if no decision could be recorded; the reviewer's name."""
    if language == ENGLISH or language not in source.languages:
        raise ContentError([Problem(source.project.source / "languages.yaml", None, f"{language!r} is not a translated language")])
    name = signer_name(source, key, language, reviewer)
    ledger = read_ledger(source.project, language)
    errors = [p for p in ledger.problems if p.severity == "error"]
    if errors:
        raise ContentError(errors)
    return name


def _synced_catalog(source: Source, language: str) -> Catalog:
    catalog = read_catalog(source.project, language)
    sync_catalog(source, catalog)
    return catalog

