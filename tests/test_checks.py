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
    """Each check id appears in a parametrised case list that makes it fire (none declared covered by hand)."""
    from test_meaning import CASES as MEANING_CASES  # and test_glossary_warning_still_covers_terms_that_are_not_drugs

    covered = {c[0] for c in TRANSLATION_CASES} | set(SOURCE_CASES) | set(REGISTRY_CASES)
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
    "source-markup": ("treat it as an overdose.", "treat it as an <b>overdose</b>."),
    "source-invisible": ("treat it as an overdose.", "treat it as an \u202eoverdose."),
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


US_EMERGENCY = 'number_published: "911"\n        e164: null\n        hours: 24/7\n        cost: free\n        languages: not stated'
US_HELPLINE = 'number_published: "1-800-662-HELP (4357)"\n        e164: "+18006624357"'
REGISTRY_CASES = {
    # check id: (text in hotlines.yaml, replacement, start of the finding's message, days after compiling)
    "number-valid": ('e164: "+18002221222"', 'e164: "+1800222122"', "US poison_centre", 0),
    "number-agrees": (US_HELPLINE, US_HELPLINE.replace("+18006624357", "+18006624358"), "US drug_alcohol_helpline", 0),
    "short-number": (US_EMERGENCY, US_EMERGENCY.replace('"911"', '"91"'), "US emergency", 0),
    "emergency-number": (US_EMERGENCY, US_EMERGENCY.replace('"911"', '"988"'), "US emergency", 0),
    "unlisted-short-code": (US_EMERGENCY, US_EMERGENCY.replace('"911"', '"91"\n        unlisted_short_code: "trust me"'), "US emergency", 0),
    "number-age": ("", "", "US emergency", 181),
}


@pytest.mark.parametrize("check_id", list(REGISTRY_CASES))
def test_registry_check_fires_on_a_wrong_entry_and_not_on_the_shipped_one(project, check_id):
    old, new, subject, days = REGISTRY_CASES[check_id]
    today = read_source(project).registry.compiled + dt.timedelta(days=days)
    if old:
        quiet = [f for f in checks.check_registry(read_source(project), today) if f.check == check_id and f.message.startswith(subject)]
        assert quiet == []
        edit(project.source / "hotlines.yaml", old, new)
    else:  # number-age: the same registry, checked too long after it was compiled
        assert not any(f.check == check_id for f in checks.check_registry(read_source(project), today - dt.timedelta(days=2)))
    fired = [f for f in checks.check_registry(read_source(project), today) if f.check == check_id]
    assert any(f.message.startswith(subject) for f in fired), fired
    assert all(f.path.name == "hotlines.yaml" and f.line for f in fired)


@pytest.mark.parametrize("published, e164", [
    ("91", None),  # a typo of 911
    ("CALL-NOW", None),  # vanity letters that dial 2255669
    ("1-800-662-HELP (4357)", "+18006624358"),  # e164 typo
    ("1-800-662-HELP (4358)", "+18006624357"),  # the bracketed digits do not spell HELP
    ("1-800-662-4358", "+18006624357"),  # printed form and e164 disagree on the last digit
    ("1-800-622-4357", "+18006624357"),  # ... or in the middle (the old check compared the last 7 digits)
    ("911 or 1-800-662-4357", None),  # a full number with no e164
])
def test_wrong_us_numbers_are_errors_for_every_edition_that_prints_them(project, published, e164):
    from pipeline.build import Gate

    category = "emergency" if e164 is None else "drug_alcohol_helpline"
    old = US_EMERGENCY if e164 is None else US_HELPLINE
    new = old.replace('"911"' if e164 is None else '"1-800-662-HELP (4357)"', f'"{published}"')
    if e164:
        new = new.replace('"+18006624357"', f'"{e164}"')
    edit(project.source / "hotlines.yaml", old, new)
    source = read_source(project)
    errors = [f for f in checks.errors_of(checks.check_registry(source, source.registry.compiled)) if f.message.startswith(f"US {category}")]
    assert errors, published
    gate = Gate(source, source.registry.compiled)
    for edition in (e for e in source.editions.values() if e.region == "US" and category in e.hotlines):
        assert any(f in errors for f in gate.errors(edition, edition.formats[0])), edition.id


def test_vanity_numbers_and_alternatives_are_read_digit_for_digit():
    from pipeline.hotlines import published_numbers

    assert [n.digits for n in published_numbers("1-844-POISON-X or 1-844-764-7669")] == ["18447647669", "18447647669"]
    assert [n.digits for n in published_numbers("1553 / 0919-057-1553 / 0917-899-8727 (0917-899-USAP)")] == [
        "1553", "09190571553", "09178998727", "09178998727"]
    assert [n.digits for n in published_numbers("Paris 01 40 05 48 48 (others listed in notes)")] == ["0140054848"]
    assert [n.digits for n in published_numbers("(02) 8524-1078")] == ["0285241078"]
    assert [(n.digits, bool(n.problem)) for n in published_numbers("1-888-688-NORS (6677)")] == [("18886886677", False)]
    assert [(n.digits, bool(n.problem)) for n in published_numbers("1-888-688-NORS (6678)")] == [("18886886677", True)]


def test_the_shipped_registry_has_no_error(source):
    assert checks.errors_of(checks.check_registry(source, source.registry.compiled)) == []


def test_shipped_drafts_have_no_error_findings():
    from pathlib import Path

    from pipeline.project import Project
    from pipeline.validate import validate_project

    repo = Project(Path(__file__).resolve().parents[1])
    findings = validate_project(read_source(repo), dt.date(2026, 11, 21), 180)
    assert [f.format() for f in findings if f.severity == "error"] == []
