"""Acknowledged warnings: approving a string with warnings names each one, and the ledger keeps them."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from conftest import NOW, edit, hand_edit_po
from test_review import Script, _signing_keys  # noqa: F401 - the autouse fixture: review scripts sign as the named test reviewer

from pipeline import checks
from pipeline.approval import State, decide, language_states
from pipeline.catalog import (
    BackTranslation,
    read_catalog,
    translation_fingerprint,
    write_catalog,
)
from pipeline.cli import main
from pipeline.content import read_source
from pipeline.errors import ContentError
from pipeline.ledger import Acknowledgement, read_ledger

CALL = "call-emergency"
CALL_ES = "Llama al {emergency} ahora, da la dirección y di que la persona no respira o no despierta."
BOTH = "both-slow-breathing"
BOTH_ES = "Las benzodiacepinas y los opioides hacen más lenta la respiración, y juntos pueden detenerla."
# A stored back-translation that says something else: a back-translation warning on call-emergency.
WRONG_BACK = "Keep Narcan at home and tell your friends where it is."

pytestmark = pytest.mark.usefixtures("po_files_compile")



def _test_warning(case):
    """Test-only warning on call-emergency (other checks may change severity; this one will not)."""
    if case.string.id == CALL:
        yield "a test warning"


def write_drafts(project, source, drafts: dict[str, str]) -> None:
    hand_edit_po(source, "es", {string_id: {"msgstr": text, "fuzzy": True} for string_id, text in drafts.items()})


@pytest.fixture
def warned(project, source, monkeypatch):
    """call-emergency with two warnings (back-translation, test-warning); both-slow-breathing with none."""
    monkeypatch.setitem(checks.CHECKS, "test-warning", checks.Check("test-warning", checks.WARNING, "translation", _test_warning))
    write_drafts(project, source, {CALL: CALL_ES, BOTH: BOTH_ES})
    catalog = read_catalog(project, "es")
    catalog.set_back_translation(CALL, BackTranslation(WRONG_BACK, "test engine", "2026-11-21", translation_fingerprint(CALL_ES)))
    write_catalog(catalog, NOW)
    return source


def warning_checks_of(project, source, string_id):
    view = read_catalog(project, "es").views()[string_id]
    findings = checks.check_translation(source, "es", string_id, view.translation, view.current_back_translation)
    assert not checks.errors_of(findings)
    return sorted(f.check for f in findings if f.severity == checks.WARNING)


def test_the_test_strings_have_the_warnings_they_are_meant_to(project, warned):
    assert warning_checks_of(project, warned, CALL) == ["back-translation", "test-warning"]
    assert warning_checks_of(project, warned, BOTH) == []


def test_approving_without_acknowledging_is_refused_and_writes_nothing(project, warned, keys):
    po_before = project.po_path("es").read_bytes()
    with pytest.raises(ContentError) as raised:
        decide(warned, "es", [BOTH, CALL], keys["Ana Reviewer"], "approve", NOW, acknowledge=["back-translation"])
    messages = [p.message for p in raised.value.problems]
    # Only the warning left unnamed is listed; the whole command records nothing, not even the clean string.
    assert len(messages) == 1 and "a test warning [test-warning]" in messages[0] and "--acknowledge test-warning" in messages[0]
    assert not raised.value.unusable
    assert not project.ledger_path("es").exists()
    assert project.po_path("es").read_bytes() == po_before
    assert language_states(warned, "es")[CALL].state is State.DRAFT


def test_acknowledged_warnings_go_into_the_hashed_record(project, warned, keys):
    outcome = decide(warned, "es", [CALL], keys["Ana Reviewer"], "approve", NOW, acknowledge=["test-warning", "back-translation"])
    assert language_states(warned, "es")[CALL].state is State.APPROVED
    record = read_ledger(project, "es").decisions[-1]
    assert record == outcome.decisions[0]
    assert [a.check for a in record.acknowledged] == ["back-translation", "test-warning"]
    assert WRONG_BACK in record.acknowledged[0].message and record.acknowledged[1].message == "a test warning"
    # The acknowledgement is part of the hashed record: removing one breaks the chain.
    path = project.ledger_path("es")
    fields = json.loads(path.read_text())
    fields["acknowledged"] = fields["acknowledged"][:1]
    path.write_text(json.dumps(fields) + "\n")
    ledger = read_ledger(project, "es")
    assert ledger.problems and "altered" in ledger.problems[0].message
    assert language_states(warned, "es")[CALL].state is not State.APPROVED


def test_a_string_without_warnings_needs_no_acknowledgement_and_keeps_the_old_record_form(project, source, keys):
    write_drafts(project, source, {CALL: CALL_ES})
    decide(source, "es", [CALL], keys["Ana Reviewer"], "approve", NOW)
    line = project.ledger_path("es").read_text()
    assert "acknowledged" not in json.loads(line)
    assert read_ledger(project, "es").decisions[-1].acknowledged == ()


def test_old_records_without_the_field_still_read(project):
    ledger = read_ledger(project, "en")  # the shipped sign-offs predate acknowledgements
    assert ledger.decisions and not ledger.problems
    assert all(d.acknowledged == () for d in ledger.decisions)


@pytest.mark.parametrize("name,expected", [("back-translaton", "no such check"), ("numbers", "finds errors")])
def test_only_warning_checks_can_be_acknowledged(project_dir, project, warned, name, expected, key_files):
    result = CliRunner().invoke(
        main, ["--project", str(project_dir), "approve", "es", CALL, "--key", str(key_files["Ana Reviewer"]),
               "--acknowledge", "back-translation", "--acknowledge", "test-warning", "--acknowledge", name]
    )
    assert result.exit_code == 2 and expected in result.output
    assert not project.ledger_path("es").exists()


def test_cli_refuses_then_records_and_history_shows_the_acknowledgement(project_dir, project, warned, key_files):
    runner = CliRunner()
    refused = runner.invoke(main, ["--project", str(project_dir), "approve", "es", CALL, "--key", str(key_files["Ana Reviewer"])])
    assert refused.exit_code == 1
    assert refused.output.count("call-emergency: cannot approve without acknowledging the warning") == 2
    assert "[back-translation]" in refused.output and "[test-warning]" in refused.output
    assert not project.ledger_path("es").exists()
    approved = runner.invoke(
        main, ["--project", str(project_dir), "approve", "es", CALL, "--key", str(key_files["Ana Reviewer"]),
               "--acknowledge", "back-translation", "--acknowledge", "test-warning"]
    )
    assert approved.exit_code == 0, approved.output
    assert "acknowledged: a test warning [test-warning]" in approved.output
    history = runner.invoke(main, ["--project", str(project_dir), "history", "es", CALL])
    assert "acknowledged warning: a test warning [test-warning]" in history.output
    assert "acknowledged warning: the back-translation says 'Keep Narcan at home" in history.output


def test_review_asks_for_a_key_per_warning(project, warned):
    declined = Script("sayn")  # skip the clean string; approve, acknowledge the first warning, not the second
    summary = declined.run(warned)
    assert summary.approved == () and "not approved: every warning must be acknowledged first" in declined.text
    assert not project.ledger_path("es").exists()
    accepted = Script("sayy")
    summary = accepted.run(warned)
    assert summary.approved == (CALL,)
    record = read_ledger(project, "es").decisions[-1]
    assert [a.check for a in record.acknowledged] == ["back-translation", "test-warning"]


def _long_sentence_warning(source, string):
    """Test-only warning on the English of rescue-breathing."""
    if string.id == "rescue-breathing":
        yield "long sentence (test)"


def test_english_sign_off_acknowledges_source_warnings(project, monkeypatch, keys):
    monkeypatch.setitem(checks.CHECKS, "test-english", checks.Check("test-english", checks.WARNING, "source", _long_sentence_warning))
    edit(project.source / "facts.yaml", "tilt the head back", "tilt their head back")
    source = read_source(project)
    before = project.ledger_path("en").read_bytes()
    with pytest.raises(ContentError) as raised:
        decide(source, "en", ["rescue-breathing"], keys["project maintainers"], "approve", NOW)
    assert "long sentence (test) [test-english]" in str(raised.value)
    assert project.ledger_path("en").read_bytes() == before
    decide(source, "en", ["rescue-breathing"], keys["project maintainers"], "approve", NOW, acknowledge=["test-english"])
    record = read_ledger(project, "en").decisions[-1]
    assert record.acknowledged == (Acknowledgement("test-english", "long sentence (test)"),)
    assert language_states(source, "en")["rescue-breathing"].state is State.APPROVED
