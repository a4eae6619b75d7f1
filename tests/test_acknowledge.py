"""Acknowledged warnings: approving a string with warnings names each one, and the ledger keeps them."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from conftest import NOW, edit
from test_review import Script

from pipeline import checks
from pipeline.approval import State, decide, language_states
from pipeline.catalog import read_catalog, sync_catalog, write_catalog
from pipeline.cli import main
from pipeline.content import read_source
from pipeline.errors import ContentError
from pipeline.ledger import Acknowledgement, read_ledger

NALOXONE = "give-naloxone"
# Lacks the glossary word "naloxona" (a glossary warning) and says "adicto" (a wording warning); no errors.
TWO_WARNINGS = "Da Narcan al adicto si lo tienes, y da otra dosis si no hay cambio en 2 a 3 minutos."
ONE_WARNING = "Da Narcan si lo tienes, y da otra dosis si no hay cambio en 2 a 3 minutos."
CALL = "call-emergency"
CALL_ES = "Llama al {emergency} ahora, da la dirección y di que la persona no respira o no despierta."

pytestmark = pytest.mark.usefixtures("po_files_compile")


def write_drafts(project, source, drafts: dict[str, str]) -> None:
    catalog = read_catalog(project, "es")
    sync_catalog(source, catalog)
    for string_id, text in drafts.items():
        entry = catalog.entry(string_id)
        entry.msgstr = text
        entry.flags.insert(0, "fuzzy")
    write_catalog(catalog, NOW)


def warning_checks_of(source, string_id, text):
    return sorted({f.check for f in checks.check_translation(source, "es", string_id, text) if f.severity == checks.WARNING})


def test_the_test_texts_have_the_warnings_they_are_meant_to(source):
    assert warning_checks_of(source, NALOXONE, TWO_WARNINGS) == ["glossary", "wording"]
    assert warning_checks_of(source, NALOXONE, ONE_WARNING) == ["glossary"]
    assert not checks.errors_of(checks.check_translation(source, "es", NALOXONE, TWO_WARNINGS))
    assert warning_checks_of(source, CALL, CALL_ES) == []


def test_approving_without_acknowledging_is_refused_and_writes_nothing(project, source):
    write_drafts(project, source, {NALOXONE: TWO_WARNINGS, CALL: CALL_ES})
    po_before = project.po_path("es").read_bytes()
    with pytest.raises(ContentError) as raised:
        decide(source, "es", [CALL, NALOXONE], "Ana Reviewer", "approve", NOW, acknowledge=["glossary"])
    messages = [p.message for p in raised.value.problems]
    # Only the warning left unnamed is listed; the whole command records nothing, not even the clean string.
    assert len(messages) == 1 and "[wording]" in messages[0] and "adicto" in messages[0] and "--acknowledge wording" in messages[0]
    assert not raised.value.unusable
    assert not project.ledger_path("es").exists()
    assert project.po_path("es").read_bytes() == po_before
    assert language_states(source, "es")[NALOXONE].state is State.DRAFT


def test_acknowledged_warnings_go_into_the_hashed_record(project, source):
    write_drafts(project, source, {NALOXONE: TWO_WARNINGS})
    outcome = decide(source, "es", [NALOXONE], "Ana Reviewer", "approve", NOW, acknowledge=["wording", "glossary"])
    assert language_states(source, "es")[NALOXONE].state is State.APPROVED
    record = read_ledger(project, "es").decisions[-1]
    assert record == outcome.decisions[0]
    assert [a.check for a in record.acknowledged] == ["glossary", "wording"]
    assert "'naloxone' should be translated as 'naloxona'" in record.acknowledged[0].message
    # The acknowledgement is part of the hashed record: removing it breaks the chain.
    path = project.ledger_path("es")
    fields = json.loads(path.read_text())
    fields["acknowledged"] = fields["acknowledged"][:1]
    path.write_text(json.dumps(fields) + "\n")
    ledger = read_ledger(project, "es")
    assert ledger.problems and "altered" in ledger.problems[0].message
    assert language_states(source, "es")[NALOXONE].state is not State.APPROVED


def test_a_string_without_warnings_needs_no_acknowledgement_and_keeps_the_old_record_form(project, source):
    write_drafts(project, source, {CALL: CALL_ES})
    decide(source, "es", [CALL], "Ana Reviewer", "approve", NOW)
    line = project.ledger_path("es").read_text()
    assert "acknowledged" not in json.loads(line)
    assert read_ledger(project, "es").decisions[-1].acknowledged == ()


def test_old_records_without_the_field_still_read(project):
    ledger = read_ledger(project, "en")  # the shipped sign-offs predate acknowledgements
    assert ledger.decisions and not ledger.problems
    assert all(d.acknowledged == () for d in ledger.decisions)


@pytest.mark.parametrize("name,expected", [("glosary", "no such check"), ("numbers", "finds errors")])
def test_only_warning_checks_can_be_acknowledged(project_dir, project, source, name, expected):
    write_drafts(project, source, {NALOXONE: ONE_WARNING})
    result = CliRunner().invoke(
        main, ["--project", str(project_dir), "approve", "es", NALOXONE, "--reviewer", "Ana", "--acknowledge", name]
    )
    assert result.exit_code == 2 and expected in result.output
    assert not project.ledger_path("es").exists()


def test_cli_refuses_then_records_and_history_shows_the_acknowledgement(project_dir, project, source):
    write_drafts(project, source, {NALOXONE: ONE_WARNING})
    runner = CliRunner()
    refused = runner.invoke(main, ["--project", str(project_dir), "approve", "es", NALOXONE, "--reviewer", "Ana"])
    assert refused.exit_code == 1
    assert "give-naloxone: cannot approve without acknowledging the warning" in refused.output and "[glossary]" in refused.output
    assert not project.ledger_path("es").exists()
    approved = runner.invoke(
        main, ["--project", str(project_dir), "approve", "es", NALOXONE, "--reviewer", "Ana", "--acknowledge", "glossary"]
    )
    assert approved.exit_code == 0, approved.output
    assert "acknowledged: 'naloxone' should be translated as 'naloxona' [glossary]" in approved.output
    history = runner.invoke(main, ["--project", str(project_dir), "history", "es", NALOXONE])
    assert "acknowledged warning: 'naloxone' should be translated as 'naloxona' [glossary]" in history.output


def test_review_asks_for_a_key_per_warning(project, source):
    write_drafts(project, source, {NALOXONE: TWO_WARNINGS})
    declined = Script("ayn")  # approve, acknowledge the first warning, not the second
    summary = declined.run(source)
    assert summary.approved == () and "not approved: every warning must be acknowledged first" in declined.text
    assert not project.ledger_path("es").exists()
    accepted = Script("ayy")
    summary = accepted.run(source)
    assert summary.approved == (NALOXONE,)
    record = read_ledger(project, "es").decisions[-1]
    assert [a.check for a in record.acknowledged] == ["glossary", "wording"]


def _long_sentence_warning(source, string):
    """Test-only warning on the English of rescue-breathing."""
    if string.id == "rescue-breathing":
        yield "long sentence (test)"


def test_english_sign_off_acknowledges_source_warnings(project, monkeypatch):
    monkeypatch.setitem(checks.CHECKS, "test-english", checks.Check("test-english", checks.WARNING, "source", _long_sentence_warning))
    edit(project.source / "facts.yaml", "tilt the head back", "tilt their head back")
    source = read_source(project)
    before = project.ledger_path("en").read_bytes()
    with pytest.raises(ContentError) as raised:
        decide(source, "en", ["rescue-breathing"], "Dr. A. Reviewer", "approve", NOW)
    assert "long sentence (test) [test-english]" in str(raised.value)
    assert project.ledger_path("en").read_bytes() == before
    decide(source, "en", ["rescue-breathing"], "Dr. A. Reviewer", "approve", NOW, acknowledge=["test-english"])
    record = read_ledger(project, "en").decisions[-1]
    assert record.acknowledged == (Acknowledgement("test-english", "long sentence (test)"),)
    assert language_states(source, "en")["rescue-breathing"].state is State.APPROVED
