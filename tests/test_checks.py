"""Every check fires on the input it exists for and stays quiet on a clean one."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import edit
from pipeline import checks
from pipeline.content import read_source

CLEAN_ES = {
    "call-emergency": "Llama al {emergency} ahora, da la dirección y di que la persona no respira o no despierta.",
    "give-naloxone": "Dale naloxona (Narcan) si la tienes, y dale otra dosis si no hay cambio en 2 a 3 minutos.",
    "fake-pills-fentanyl": "El «Xanax» de la calle puede ser falso y tener fentanilo, que no se puede ver, oler ni saborear.",
}

TRANSLATION_CASES = [
    # (check id, language, string id, bad translation)
    ("empty", "es", "call-emergency", "   "),
    ("placeholders", "es", "call-emergency", "Llama al número de emergencias ahora."),
    ("numbers", "es", "give-naloxone", "Dale naloxona (Narcan) si la tienes, y otra dosis si no hay cambio en 5 minutos."),
    ("phone-registry", "es", "call-emergency", "Llama al {emergency} o al 1-844-326-4514 ahora."),
    ("urls", "es", "call-emergency", "Llama al {emergency}; lee https://example.com/ayuda"),
    ("keep-terms", "es", "give-naloxone", "Dale naloxona si la tienes, y otra dosis si no hay cambio en 2 a 3 minutos."),
    ("glossary-drug", "es", "fake-pills-fentanyl", "El «Xanax» de la calle puede ser falso y tener fentanyl, que no se puede ver."),
    ("untranslated", "es", "call-emergency", "Call {emergency} now, give the address, and say the person is not breathing or won't wake."),
    ("markup", "es", "call-emergency", "Llama al {emergency} <b>ahora</b>."),
    ("invisible", "es", "call-emergency", "Llama al {emergency} ahora\u202e.aíd"),
    ("length", "es", "call-emergency", "Llama al {emergency} " + "ahora y " * 30),
    ("repetition", "es", "call-emergency", "Llama al {emergency} ahora ahora ahora."),
    ("script", "ar", "call-emergency", "Call {emergency} now please, this is not Arabic at all."),
    ("script", "es", "call-emergency", "Позвоните {emergency} сейчас и назовите адрес."),
    ("wording", "es", "call-emergency", "Llama al {emergency} si un adicto no despierta."),
]


@pytest.mark.parametrize("check_id,language,string_id,bad", TRANSLATION_CASES, ids=[f"{c[0]}-{c[1]}" for c in TRANSLATION_CASES])
def test_translation_check_fires_on_bad_and_not_on_clean(source, check_id, language, string_id, bad):
    fired = {f.check for f in checks.check_translation(source, language, string_id, bad)}
    assert check_id in fired
    clean = CLEAN_ES.get(string_id) if language == "es" else "اتصل بالرقم {emergency} الآن وأعط العنوان."
    quiet = {f.check for f in checks.check_translation(source, language, string_id, clean)}
    assert check_id not in quiet, quiet


def test_every_registered_check_has_a_test():
    from test_meaning import CASES as MEANING_CASES  # and test_glossary_warning_still_covers_terms_that_are_not_drugs

    covered = {c[0] for c in TRANSLATION_CASES} | set(SOURCE_CASES) | {"number-valid", "short-number", "number-age"}
    covered |= {"back-translation"}  # needs a stored back-translation: tests/test_backtranslate.py
    covered |= {c[0] for c in MEANING_CASES} | {"glossary"}
    assert set(checks.CHECKS) <= covered, set(checks.CHECKS) - covered


SOURCE_CASES = {
    "citations": ("    text: \"If you can't tell whether someone is high or overdosing, treat it as an overdose.\"\n", None),
    "source-review": ("    text: \"If you can't tell whether someone is high or overdosing, treat it as an overdose.\"\n", None),
    "reading-grade": ("If you can't tell whether someone is high or overdosing, treat it as an overdose.",
                      "Indeterminate differentiation between intoxication and pharmacological overdose necessitates presumptive overdose management protocols."),
    "source-wording": ("If you can't tell whether someone is high or overdosing", "If you can't tell whether an addict is high or overdosing"),
    "source-phone": ("If you can't tell whether someone is high or overdosing, treat it as an overdose.", "If you can't tell, call 1-800-662-4357 and treat it as an overdose."),
    "source-urls": ("If you can't tell whether someone is high or overdosing, treat it as an overdose.", "If unsure, see https://example.org and treat it as an overdose."),
}


@pytest.mark.parametrize("check_id", list(SOURCE_CASES))
def test_source_check_fires_on_bad_english(project, check_id):
    facts = project.source / "facts.yaml"
    clean = {f.check for f in checks.check_source(read_source(project)) if f.string_id == "if-unsure-act"}
    assert check_id not in clean
    old, new = SOURCE_CASES[check_id]
    if check_id in ("source-review", "citations"):
        text = facts.read_text()
        start = text.index(old)
        if check_id == "source-review":  # drop the block's review record
            cut_from, cut_to = text.index("    review:\n", start), text.index("\n\n", start) + 1
            facts.write_text(text[:cut_from] + text[cut_to:])
        else:  # an empty citation list
            cut_from, cut_to = text.index("    citations:\n", start), text.index("    review:\n", start)
            facts.write_text(text[:cut_from] + "    citations: []\n" + text[cut_to:])
    else:
        edit(facts, old, new)
    findings = [f for f in checks.check_source(read_source(project)) if f.check == check_id]
    assert findings and findings[0].string_id == "if-unsure-act"
    assert findings[0].path.name == "facts.yaml" and findings[0].line


def test_registry_checks(project):
    source = read_source(project)
    today = source.registry.compiled
    quiet = {f.check for f in checks.check_registry(source, today)}
    assert "number-valid" not in quiet and "number-age" not in quiet
    # Old registry: every printed number needs re-checking.
    aged = checks.check_registry(source, today + dt.timedelta(days=181))
    assert any(f.check == "number-age" and "US emergency" in f.message for f in aged)
    assert not any(f.check == "number-age" for f in checks.check_registry(source, today + dt.timedelta(days=179)))
    # A wrong digit in a printed number.
    edit(project.source / "hotlines.yaml", 'number_published: "1-800-222-1222"\n        e164: "+18002221222"',
         'number_published: "1-800-222-1222"\n        e164: "+18002221221"')
    wrong = [f for f in checks.check_registry(read_source(project), today) if f.check == "number-valid"]
    assert wrong and "does not match" in wrong[0].message
    # A medium-confidence short code phonenumbers does not know is a warning, not an error.
    assert not any(f.check == "short-number" for f in checks.check_registry(source, today))
    text = (project.source / "hotlines.yaml").read_text()
    cvv = text.index('number_published: "188"')
    high = text.index("confidence: high", cvv)
    (project.source / "hotlines.yaml").write_text(text[:high] + "confidence: medium" + text[high + len("confidence: high"):])
    findings = [f for f in checks.check_registry(read_source(project), today) if f.check == "short-number"]
    assert [f.severity for f in findings] == ["warning"] and "short number 188 for BR" in findings[0].message


def test_shipped_drafts_have_no_error_findings():
    from pathlib import Path

    from pipeline.project import Project
    from pipeline.validate import validate_project

    repo = Project(Path(__file__).resolve().parents[1])
    findings = validate_project(read_source(repo), dt.date(2026, 11, 21), 180)
    assert [f.format() for f in findings if f.severity == "error"] == []
