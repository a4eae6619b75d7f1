"""Interactive review, driven by scripted key presses and lines."""

from __future__ import annotations


import polib
import pytest

from conftest import NOW, edit, hand_edit_po
from pipeline.approval import State, decide, language_states
from pipeline.content import read_source
from pipeline.errors import ContentError
from pipeline.ledger import read_ledger
from pipeline.review import ReviewSummary, run_review, strings_to_review
from pipeline.worddiff import word_diff

CALL = "call-emergency"
CALL_ES = "Llama al {emergency} ahora, da la dirección y di que la persona no respira o no despierta."
BOTH = "both-slow-breathing"
BOTH_ES = "Las benzodiacepinas y los opioides hacen más lenta la respiración, y juntos pueden detenerla."


pytestmark = pytest.mark.usefixtures("po_files_compile")
KEYS: dict = {}


@pytest.fixture(autouse=True)
def _signing_keys(keys):
    """Scripts sign as the named test reviewer."""
    KEYS.update(keys)


def write_drafts(project, source, drafts: dict[str, str], language="es", machine=False):
    origin = "machine draft: Argos Translate test model, 2026-11-20" if machine else "contributor draft, 2026-11-20"
    hand_edit_po(source, language, {i: {"msgstr": text, "fuzzy": True, "provenance": [origin]} for i, text in drafts.items()})


class Script:
    """Scripted terminal: keys and lines are consumed in order; everything written is kept."""

    def __init__(self, keys: str, lines=(), editor=()):
        self.keys = list(keys)
        self.lines = list(lines)
        self.editor = list(editor)
        self.output: list[str] = []
        self.prompts: list[str] = []

    def read_key(self) -> str:
        if not self.keys:
            raise EOFError
        return self.keys.pop(0)

    def read_line(self, prompt: str) -> str:
        self.prompts.append(prompt)
        return self.lines.pop(0)

    def edit_in_editor(self, text: str) -> str:
        self.prompts.append(f"editor: {text}")
        return self.editor.pop(0)

    @property
    def text(self) -> str:
        return "\n".join(self.output)

    def run(self, source, language="es", reviewer="Ana Reviewer"):
        return run_review(source, language, KEYS[reviewer], lambda: NOW, self.read_key, self.read_line, self.output.append, self.edit_in_editor)


def state_of(source, string_id=CALL, language="es"):
    return language_states(source, language)[string_id].state


def test_only_strings_needing_a_decision_are_reviewed_in_source_order(keys, project, source):
    write_drafts(project, source, {CALL: CALL_ES, BOTH: BOTH_ES})
    assert strings_to_review(source, "es") == [BOTH, CALL]
    decide(source, "es", [BOTH], keys["Ana Reviewer"], "approve", NOW)
    assert strings_to_review(source, "es") == [CALL]


def test_approve_writes_the_ledger(project, source):
    write_drafts(project, source, {CALL: CALL_ES}, machine=True)
    script = Script("a")
    summary = script.run(source)
    assert summary.approved == (CALL,) and not summary.quit
    assert "[1/1] call-emergency (machine draft)" in script.text
    assert "machine draft: Argos Translate test model, 2026-11-20" in script.text
    record = read_ledger(project, "es").decisions[-1]
    assert (record.string_id, record.action, record.reviewer, record.translation) == (CALL, "approve", "Ana Reviewer", CALL_ES)
    assert state_of(source) is State.APPROVED


def test_reject_requires_a_reason(project, source):
    write_drafts(project, source, {CALL: CALL_ES})
    script = Script("rr", lines=["", "say 'calle y número'"])
    summary = script.run(source)
    assert "a reason is required to reject; nothing recorded" in script.text
    assert summary.rejected == (CALL,)
    decisions = read_ledger(project, "es").decisions
    assert [(d.action, d.reason) for d in decisions] == [("reject", "say 'calle y número'")]
    assert state_of(source) is State.REJECTED


def test_rejected_strings_come_back_with_the_reason(keys, project, source):
    write_drafts(project, source, {CALL: CALL_ES})
    decide(source, "es", [CALL], keys["Ana Reviewer"], "reject", NOW, reason="say 'calle y número'")
    script = Script("s")
    summary = script.run(source, reviewer="Ben Reviewer")
    assert "(rejected)" in script.text and "rejected by Ana Reviewer" in script.text and "calle y número" in script.text
    assert summary.skipped == (CALL,)


def test_quit_after_one_approval_keeps_it(project, source):
    write_drafts(project, source, {CALL: CALL_ES, BOTH: BOTH_ES})
    script = Script("aq")
    summary = script.run(source)
    assert summary.quit and summary.approved == (BOTH,) and summary.unreviewed == (CALL,)
    assert state_of(source, BOTH) is State.APPROVED
    assert state_of(source, CALL) is State.DRAFT
    assert [d.string_id for d in read_ledger(project, "es").decisions] == [BOTH]


def test_end_of_input_quits_like_q(project, source):
    write_drafts(project, source, {CALL: CALL_ES, BOTH: BOTH_ES})
    summary = Script("s").run(source)
    assert summary.quit and summary.skipped == (BOTH,) and summary.unreviewed == (CALL,)


def test_edit_then_approve_records_the_edited_text(project, source):
    write_drafts(project, source, {CALL: CALL_ES}, machine=True)
    better = "Llama al {emergency} ya, da la dirección y di que la persona no respira o no despierta."
    script = Script("ea", lines=[better])
    summary = script.run(source)
    assert summary.edited == (CALL,) and summary.approved == (CALL,)
    assert "saved your text" in script.text and "(needs review)" in script.text
    assert "edited by Ana Reviewer in outreach review, 2026-11-21" in script.text
    record = read_ledger(project, "es").decisions[-1]
    assert record.action == "approve" and record.translation == better
    entry = polib.pofile(str(project.po_path("es"))).find(CALL, by="msgctxt")
    assert entry.msgstr == better and "fuzzy" not in entry.flags
    assert "outreach: edited by Ana Reviewer in outreach review, 2026-11-21" in entry.tcomment
    assert "machine draft" not in entry.tcomment  # never mistaken for machine output again
    assert state_of(source) is State.APPROVED


def test_edit_in_editor_and_unchanged_edits(project, source):
    write_drafts(project, source, {CALL: CALL_ES})
    better = "Llama al {emergency} enseguida, da la dirección y di que la persona no respira o no despierta."
    script = Script("eEEs", lines=[""], editor=[CALL_ES + "\n", better + "\n"])
    summary = script.run(source)
    assert script.text.count("text unchanged") == 2
    assert f"editor: {CALL_ES}" in script.prompts
    assert summary.edited == (CALL,) and summary.skipped == (CALL,)
    assert language_states(source, "es")[CALL].translation == better
    assert state_of(source) is State.NEEDS_REVIEW
    assert not project.ledger_path("es").exists()


def test_error_finding_blocks_approval_and_stays_on_the_string(project, source):
    write_drafts(project, source, {CALL: "Llama ahora, da la dirección y di que la persona no respira o no despierta."})
    script = Script("aq")
    summary = script.run(source)
    assert "error: placeholders differ from the English: missing {emergency} [placeholders]" in script.text
    assert "call-emergency: cannot approve: placeholders differ" in script.text
    assert summary.approved == () and summary.unreviewed == (CALL,)
    assert not project.ledger_path("es").exists()
    assert state_of(source) is State.DRAFT


def test_edit_that_fixes_an_error_can_then_be_approved(project, source):
    write_drafts(project, source, {CALL: "Llama ahora, da la dirección y di que la persona no respira o no despierta."})
    script = Script("aeea", lines=["Llama ya.", CALL_ES])
    summary = script.run(source)
    # The first edit still lacks {emergency}: it is kept, but as a fuzzy draft that cannot be approved.
    assert script.text.count("cannot approve") == 1
    assert summary.approved == (CALL,)
    assert read_ledger(project, "es").decisions[-1].translation == CALL_ES


def test_stale_entry_shows_the_old_english_as_a_word_diff(keys, project, source):
    write_drafts(project, source, {CALL: CALL_ES})
    decide(source, "es", [CALL], keys["Ana Reviewer"], "approve", NOW)
    edit(project.source / "facts.yaml", "give the address, and say", "give the street address, and say")
    changed = read_source(project)
    script = Script("q")
    script.run(changed)
    assert "(stale)" in script.text
    assert "was:      Call {emergency} now, give the address, and say" in script.text
    assert "changes:  Call {emergency} now, give the {+street+} address, and say" in script.text


def test_word_diff_marks_removed_and_added_words():
    assert word_diff("take one dose now", "take two doses now") == "take [-one dose-] {+two doses+} now"
    assert word_diff("a b", "a b") == "a b"


def test_refuses_english_an_unknown_language_and_a_reviewer_not_listed_for_it(source):
    with pytest.raises(ContentError, match="not a translated language"):
        Script("").run(source, language="en")
    with pytest.raises(ContentError, match="may review es only, not fr"):
        Script("").run(source, language="fr", reviewer="Esme Spanish")


def test_nothing_to_review(source):
    script = Script("")
    summary = script.run(source)
    assert "es: nothing to review" in script.text and summary == ReviewSummary("es", (), (), (), (), (), False)


def test_a_stale_string_is_approved_on_the_screen_that_showed_what_changed(keys, project, source):
    write_drafts(project, source, {CALL: CALL_ES})
    decide(source, "es", [CALL], keys["Ana Reviewer"], "approve", NOW)
    edit(project.source / "facts.yaml", "give the address, and say", "give the street address, and say")
    changed = read_source(project)
    script = Script("a")
    summary = script.run(changed)
    assert summary.approved == (CALL,)
    shown = script.text
    assert shown.index("changes:  Call {emergency} now, give the {+street+} address") < shown.index("call-emergency: approved by")
    record = read_ledger(project, "es").decisions[-1]
    assert record.english == changed.english(CALL) != source.english(CALL) and record.translation == CALL_ES
    assert state_of(changed) is State.APPROVED


class ChangingScript(Script):
    """A script during which the PO is made stale behind the session, just before the key press numbered `at` is read."""

    def __init__(self, keys: str, project, at: int, old_english: str):
        super().__init__(keys)
        self.project, self.at, self.old_english, self.presses = project, at, old_english, 0

    def read_key(self) -> str:
        self.presses += 1
        if self.presses == self.at:  # e.g. a PO tool run meanwhile, keeping an older English as `#| msgid`
            po = polib.pofile(str(self.project.po_path("es")), wrapwidth=0)
            entry = po.find(CALL, by="msgctxt")
            entry.previous_msgid = self.old_english
            entry.flags = ["fuzzy", *entry.flags]
            po.save()
        return super().read_key()


OLDER = "Call {emergency} now and say the person is not breathing."


def test_english_changed_on_screen_is_shown_before_a_approves(project, source):
    write_drafts(project, source, {CALL: CALL_ES})
    script = ChangingScript("xa", project, at=1, old_english=OLDER)  # x: an unknown key, while the PO goes stale
    summary = script.run(source)
    shown = script.text
    assert "(draft)" in shown and "(stale)" in shown
    assert shown.index(f"was:      {OLDER}") < shown.index("call-emergency: approved by")
    assert summary.approved == (CALL,)


def test_english_changed_between_the_screen_and_a_is_refused_with_the_change(project, source):
    write_drafts(project, source, {CALL: CALL_ES})
    script = ChangingScript("a", project, at=1, old_english=OLDER)  # the screen showed a draft; `a` meets a stale string
    summary = script.run(source)
    assert summary.approved == () and not project.ledger_path("es").exists()
    assert "approve refused: call-emergency: cannot approve: the English changed after this translation was written" in script.text
    assert f"was:     {OLDER}" in script.text
