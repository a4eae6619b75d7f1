"""The approval gate and the ledger: only approved text of the current English prints."""

from __future__ import annotations

import json
import subprocess

import polib
import pytest

from conftest import NOW, edit, hand_edit_po
from pipeline.approval import State, blocking_strings, decide, language_states
from pipeline.catalog import read_catalog, sync_catalog, write_catalog
from pipeline.content import read_source
from pipeline.errors import ContentError
from pipeline.ledger import read_ledger

TRANSLATION = "Llama al {emergency} ahora, da la dirección y di que la persona no respira o no despierta."


pytestmark = pytest.mark.usefixtures("po_files_compile")


def write_draft(project, source, language="es", string_id="call-emergency", text=TRANSLATION):
    hand_edit_po(source, language, {string_id: {"msgstr": text, "fuzzy": True}})


def state_of(source, string_id="call-emergency", language="es"):
    return language_states(source, language)[string_id].state


def test_po_round_trip_is_lossless_and_valid_for_msgfmt(project, source):
    write_draft(project, source)
    path = project.po_path("es")
    first = path.read_text()
    catalog = read_catalog(project, "es")
    sync_catalog(source, catalog)
    write_catalog(catalog, NOW)
    assert path.read_text() == first
    entry = polib.pofile(str(path)).find("Call {emergency} now, give the address, and say the person is not breathing or won't wake.", msgctxt="call-emergency")
    assert entry.msgstr == TRANSLATION and "fuzzy" in entry.flags and "python-brace-format" in entry.flags
    subprocess.run(["msgfmt", "--check", "-o", "/dev/null", str(path)], check=True)


def test_approve_binds_reviewer_and_both_texts(keys, project, source):
    write_draft(project, source)
    assert state_of(source) is State.DRAFT
    decide(source, "es", ["call-emergency"], keys["Ana Reviewer"], "approve", NOW)
    assert state_of(source) is State.APPROVED
    entry = polib.pofile(str(project.po_path("es"))).find("call-emergency", by="msgctxt")
    assert "fuzzy" not in entry.flags
    record = json.loads(project.ledger_path("es").read_text().splitlines()[-1])
    assert record["reviewer"] == "Ana Reviewer"
    assert record["english"] == source.english("call-emergency")
    assert record["translation"] == TRANSLATION
    assert len(record["english_sha256"]) == 64 and record["time"].startswith("2026-11-21T12:00")


def test_removing_fuzzy_by_hand_is_not_approval(project, source):
    write_draft(project, source)
    edit(project.po_path("es"), "#, fuzzy, python-brace-format\nmsgctxt \"call-emergency\"", "#, python-brace-format\nmsgctxt \"call-emergency\"")
    assert state_of(source) is State.NEEDS_REVIEW


def test_editing_after_approval_unapproves(keys, project, source):
    write_draft(project, source)
    decide(source, "es", ["call-emergency"], keys["Ana Reviewer"], "approve", NOW)
    edit(project.po_path("es"), "ahora, da la dirección", "ya, da la dirección")
    assert state_of(source) is State.NEEDS_REVIEW


def test_english_change_keeps_the_translation_as_stale_draft(keys, project, source):
    write_draft(project, source)
    decide(source, "es", ["call-emergency"], keys["Ana Reviewer"], "approve", NOW)
    edit(project.source / "facts.yaml", "give the address, and say", "give the street address, and say")
    changed = read_source(project)
    assert state_of(changed) is State.STALE
    catalog = read_catalog(project, "es")
    sync_catalog(changed, catalog)
    write_catalog(catalog, NOW)
    entry = polib.pofile(str(project.po_path("es"))).find("call-emergency", by="msgctxt")
    assert entry.msgstr == TRANSLATION  # the translator's text is kept
    assert "fuzzy" in entry.flags
    assert entry.previous_msgid == source.english("call-emergency")  # `#| msgid` shows the old English
    assert state_of(changed) is State.STALE


def test_reject_records_reason_and_blocks(keys, project, source):
    write_draft(project, source)
    decide(source, "es", ["call-emergency"], keys["Ana Reviewer"], "reject", NOW, reason="say 'calle y número'")
    assert state_of(source) is State.REJECTED
    assert read_ledger(project, "es").decisions[-1].reason == "say 'calle y número'"
    entry = polib.pofile(str(project.po_path("es"))).find("call-emergency", by="msgctxt")
    assert "outreach: rejected by Ana Reviewer, 2026-11-21: say 'calle y número'" in entry.tcomment  # seen in Poedit
    assert "fuzzy" in entry.flags


def test_approval_refused_for_error_findings_and_nothing_written(keys, project, source):
    write_draft(project, source, text="Llama al 555-123-4567 ahora.")
    with pytest.raises(ContentError) as raised:
        decide(source, "es", ["call-emergency"], keys["Ana Reviewer"], "approve", NOW)
    text = str(raised.value)
    assert "cannot approve" in text and "placeholders" in text and "phone-registry" in text
    assert not project.ledger_path("es").exists()


def test_tampered_ledger_approves_nothing(keys, project, source):
    write_draft(project, source)
    decide(source, "es", ["call-emergency"], keys["Ana Reviewer"], "approve", NOW)
    path = project.ledger_path("es")
    path.write_text(path.read_text().replace("Ana Reviewer", "Someone Else"))
    ledger = read_ledger(project, "es")
    assert ledger.problems and "altered" in ledger.problems[0].message
    assert state_of(source) is not State.APPROVED


def test_gate_lists_every_unapproved_string(source):
    states = language_states(source, "es")
    blocking = blocking_strings(source, source.editions["es-US"], "card", states)
    assert {b.id for b in blocking} == set(source.edition_string_ids(source.editions["es-US"], "card"))
    assert blocking_strings(source, source.editions["en-US"], "card", language_states(source, "en")) == []


def test_approving_an_approved_string_again_records_nothing(keys, project, source):
    write_draft(project, source)
    decide(source, "es", ["call-emergency"], keys["Ana Reviewer"], "approve", NOW)
    outcome = decide(source, "es", ["call-emergency"], keys["Ana Reviewer"], "approve", NOW)
    assert outcome.decisions == () and outcome.unchanged == ("call-emergency",)
    assert len(read_ledger(project, "es").decisions) == 1


def test_english_changed_and_changed_back_is_no_longer_stale(project, source):
    write_draft(project, source)
    facts = project.source / "facts.yaml"
    original = facts.read_text()
    edit(facts, "give the address, and say", "give the street address, and say")
    changed = read_source(project)
    catalog = read_catalog(project, "es")
    sync_catalog(changed, catalog)
    write_catalog(catalog, NOW)
    assert state_of(changed) is State.STALE
    facts.write_text(original)
    catalog = read_catalog(project, "es")
    sync_catalog(source, catalog)
    write_catalog(catalog, NOW)
    entry = polib.pofile(str(project.po_path("es"))).find("call-emergency", by="msgctxt")
    assert entry.previous_msgid is None and entry.msgstr == TRANSLATION
    assert state_of(source) is State.DRAFT
