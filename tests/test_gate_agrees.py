"""`outreach check` agrees with the gate: whatever makes `render` refuse a final shows in `check`."""

from __future__ import annotations

import pytest
from conftest import NOW, REPO, edit, hand_edit_po

from pipeline import checks
from pipeline.approval import decide
from pipeline.build import Gate
from pipeline.content import read_source
from pipeline.validate import gate_findings, validate_project

CARD_ES = "es-US"


def shipped_es(string_ids):
    import polib

    shipped = polib.pofile(str(REPO / "translations" / "es.po"))
    return {i: shipped.find(i, by="msgctxt").msgstr for i in string_ids}


@pytest.fixture
def approved_card(keys, project, source):
    """es-US's card with every string approved (so its final may print)."""
    edition = source.editions[CARD_ES]
    ids = source.edition_string_ids(edition, "card")
    hand_edit_po(source, "es", {i: {"msgstr": text} for i, text in shipped_es(ids).items()})
    decide(source, "es", ids, keys["Ana Reviewer"], "approve", NOW)
    assert Gate(source).allows(edition, "card")
    return ids


def check_findings(source):
    """What `outreach check` reports (the CLI adds the gate findings to the checks' findings)."""
    return validate_project(source, NOW.date(), 180) + gate_findings(source)


def refused_formats(message: str) -> list[str]:
    """The formats a final-refused warning names: "es-US: no final of card, flyer-a4 until ..."."""
    return message.split(": no final of ", 1)[1].split(" until ")[0].split(", ")


def agrees(source):
    """Every document the gate refuses is named by check: an error about it, or a final-refused warning for it."""
    gate = Gate(source, NOW.date())
    findings = check_findings(source)
    refused_warnings = {f.message.split(":")[0]: refused_formats(f.message) for f in findings if f.check == "final-refused"}
    for edition in source.editions.values():
        for format_name in edition.formats:
            refused = not gate.allows(edition, format_name)
            errors = gate.errors(edition, format_name)
            named = bool(errors) and all(e in findings for e in errors) or format_name in refused_warnings.get(edition.id, [])
            assert refused == named, (edition.id, format_name, refused)
    return findings


def test_the_shipped_project_agrees(source):
    findings = agrees(source)
    assert any(f.check == "final-refused" and f.message.startswith("es-US:") for f in findings)
    assert not any(f.check == "final-refused" and f.message.startswith("en-US:") for f in findings)  # quiet where it prints


def test_a_fully_approved_card_has_no_gate_warning(project, approved_card):
    source = read_source(project)
    findings = agrees(source)
    assert not [f for f in findings if f.check in ("approval-stale", "approval-missing") and f.language == "es"]
    refused = next(f.message for f in findings if f.check == "final-refused" and f.message.startswith("es-US:"))
    assert "card" not in refused_formats(refused)


def test_translation_edited_after_approval_is_approval_stale(project, approved_card):
    source = read_source(project)
    hand_edit_po(source, "es", {"call-emergency": {"msgstr": shipped_es(["call-emergency"])["call-emergency"] + " Ya."}})
    findings = agrees(read_source(project))
    stale = [f for f in findings if f.check == "approval-stale"]
    assert [(f.language, f.string_id) for f in stale] == [("es", "call-emergency")]
    assert stale[0].path.name == "es.po" and stale[0].line and "text changed" in stale[0].message
    assert "card" in refused_formats(next(f.message for f in findings if f.check == "final-refused" and f.message.startswith("es-US:")))


def test_fuzzy_removed_by_hand_is_approval_missing(project, source):
    hand_edit_po(source, "es", {"call-emergency": {"msgstr": shipped_es(["call-emergency"])["call-emergency"], "fuzzy": False}})
    findings = agrees(read_source(project))
    missing = [f for f in findings if f.check == "approval-missing"]
    assert [(f.language, f.string_id) for f in missing] == [("es", "call-emergency")] and missing[0].line


def test_english_edited_after_sign_off_is_approval_stale(project, source):
    edit(project.source / "facts.yaml", "give the address, and say", "give the street address, and say")
    findings = agrees(read_source(project))
    stale = [f for f in findings if f.check == "approval-stale" and f.language == "en"]
    assert [f.string_id for f in stale] == ["call-emergency"]
    assert stale[0].path.name == "facts.yaml" and "English changed" in stale[0].message
    assert any(f.check == "final-refused" and f.message.startswith("en-US:") for f in findings)


def test_a_registry_error_refuses_every_edition_that_prints_the_entry_and_check_says_so(project, source):
    edit(project.source / "hotlines.yaml", 'number_published: "911"\n        e164: null\n        hours: 24/7\n        cost: free\n        languages: not stated',
         'number_published: "91"\n        e164: null\n        hours: 24/7\n        cost: free\n        languages: not stated')
    source = read_source(project)
    agrees(source)
    errors = checks.errors_of(check_findings(source))
    assert any(f.check == "emergency-number" for f in errors)
    assert not Gate(source, NOW.date()).allows(source.editions["en-US"], "card")


def test_outreach_check_prints_the_gate_warnings(project_dir, source):
    from click.testing import CliRunner

    from pipeline.cli import main

    hand_edit_po(source, "es", {"call-emergency": {"msgstr": shipped_es(["call-emergency"])["call-emergency"], "fuzzy": False}})
    result = CliRunner().invoke(main, ["--project", str(project_dir), "check"])
    assert result.exit_code == 0  # states are warnings, not errors
    assert "translations/es.po:" in result.output and "warning: es: call-emergency: not marked fuzzy" in result.output
    assert "[approval-missing]" in result.output and "[final-refused]" in result.output
    strict = CliRunner().invoke(main, ["--project", str(project_dir), "check", "--strict"])
    assert strict.exit_code == 1
