"""Loading source/: the shipped content is valid, and bad input is reported as file:line."""

from __future__ import annotations

import pytest
from conftest import edit

from pipeline.content import read_source
from pipeline.document import plan_document
from pipeline.errors import ContentError


def test_shipped_content_loads(source):
    assert len(source.facts) == 27  # 20 + the benzo step, the pupils caveat, use-with-someone and four en-GB variants
    assert all(f.citations and f.review for f in source.facts)
    assert len(source.editions) >= 10
    languages = {e.language for e in source.editions.values()}
    assert len(languages) >= 8
    assert {"ar", "zh-Hans"} <= languages
    assert source.languages["ar"].direction == "rtl"


def test_every_problem_is_reported_with_its_line(project):
    facts = project.source / "facts.yaml"
    edit(facts, "    topic: signs\n", "    topic: gossip\n")
    edit(facts, "Call {emergency} now", "Call {ambulance} now")
    edit(project.source / "editions.yaml", "language: vi\n", "language: xx\n")
    with pytest.raises(ContentError) as raised:
        read_source(project)
    messages = [p.format(project.root) for p in raised.value.problems]
    text = "\n".join(messages)
    assert "topic must be one of" in text
    assert "unknown placeholder {ambulance}" in text
    assert "vi-US: language 'xx' is not in languages.yaml" in text
    assert len(messages) == 3
    lines = facts.read_text().splitlines()
    topic = next(m for m in messages if "topic" in m)
    path, line, _ = topic.split(":", 2)
    assert path == "source/facts.yaml"
    assert "gossip" in lines[int(line) - 1]
    assert not raised.value.unusable


def test_yaml_syntax_error_is_unusable_with_line(project):
    (project.source / "strings.yaml").write_text("strings:\n  - id: ui.x\n    text: [unclosed\n")
    with pytest.raises(ContentError) as raised:
        read_source(project)
    assert raised.value.unusable
    problem = raised.value.problems[0]
    assert problem.path.name == "strings.yaml" and problem.line is not None
    assert "invalid YAML" in problem.message


def test_edition_needing_an_unverified_line_is_refused(project):
    # Vietnam has no verified drug helpline: an edition asking for one must not load.
    edit(project.source / "editions.yaml", "    region: PH\n    formats: [flyer-a4, card, sheet-a4]\n    hotlines: [emergency, suicide_crisis]",
         "    region: VN\n    formats: [flyer-a4, card, sheet-a4]\n    hotlines: [emergency, drug_alcohol_helpline]")
    with pytest.raises(ContentError) as raised:
        read_source(project)
    assert any("no printable drug_alcohol_helpline line for VN" in p.message for p in raised.value.problems)


def test_do_not_print_and_unverified_numbers_never_print(source):
    registry = source.registry
    printed = [e.dial_digits() for edition in source.editions.values() for e in source.printed_hotlines(edition)]
    for forbidden in ("8443264514", "7816229190"):
        assert not any(forbidden in digits for digits in printed)
    assert all(e.confidence in ("high", "medium") for ed in source.editions.values() for e in source.printed_hotlines(ed))
    unverified = [e for r in registry.regions.values() for e in r.entries if e.confidence == "UNVERIFIED"]
    assert unverified and not any(registry.is_printable(e) for e in unverified)


def test_a_do_not_print_number_is_caught_even_if_marked_high(project):
    # Someone pastes a seed page's commercial number over the poison line, confidence high.
    edit(project.source / "hotlines.yaml", 'number_published: "1-800-222-1222"\n        e164: "+18002221222"',
         'number_published: "(844) 326-4514"\n        e164: "+18443264514"')
    with pytest.raises(ContentError) as raised:
        read_source(project)
    assert any("en-US: the registry has no printable poison_centre line for US" in p.message for p in raised.value.problems)


def test_blocks_apply_only_where_true(source):
    us = plan_document(source, source.editions["en-US"], "flyer-letter").string_ids
    gb = plan_document(source, source.editions["en-GB"], "flyer-a4").string_ids
    assert "carry-naloxone" in us and "carry-naloxone" not in gb  # US-only prescription rule
    assert "free-confidential-help" in us and "free-confidential-help" not in gb  # FRANK is not free
    ph = plan_document(source, source.editions["tl-PH"], "flyer-a4").string_ids
    assert "free-confidential-help" not in ph  # no verified helpline to fill {helpline}


def test_us_numbers_print_in_us_style(source):
    numbers = [e.display_number() for e in source.printed_hotlines(source.editions["en-US"])]
    assert numbers[0] == "911"
    assert "1-800-222-1222" in numbers


def test_qr_url_must_be_allowlisted(project):
    edit(project.source / "editions.yaml", "qr: https://www.cdc.gov/stop-overdose/response/index.html", "qr: https://example.com/rehab-leads")
    with pytest.raises(ContentError) as raised:
        read_source(project)
    assert any("QR code URL https://example.com/rehab-leads is not in source/urls.yaml" in p.message for p in raised.value.problems)


def test_misspelled_key_is_named_with_a_suggestion(project):
    edit(project.source / "facts.yaml", "    text: \"If you can't tell", "    txt: \"If you can't tell")
    edit(project.source / "editions.yaml", "    region: MX\n", "    regoin: MX\n")
    with pytest.raises(ContentError) as raised:
        read_source(project)
    messages = [p.format(project.root) for p in raised.value.problems]
    assert any("if-unsure-act: unknown key 'txt'; did you mean 'text'?" in m for m in messages)
    assert any("es-MX: unknown key 'regoin'; did you mean 'region'?" in m for m in messages)


def test_regional_variant_prints_instead_of_its_base(source):
    assert source.for_region("give-naloxone", "GB") == "give-naloxone-gb"
    assert source.for_region("give-naloxone", "US") == "give-naloxone"
    assert not source.applies(source.strings["give-naloxone"], "GB")
    from pipeline.document import plan_document

    ids = plan_document(source, source.editions["en-GB"], "flyer-a4").string_ids
    assert "give-naloxone-gb" in ids and "give-naloxone" not in ids and "ui.subhead.gb" in ids


def test_variant_needs_a_base_and_regions(tmp_path):
    import shutil

    from conftest import REPO

    from pipeline.project import Project

    shutil.copytree(REPO / "source", tmp_path / "source")
    facts = tmp_path / "source" / "facts.yaml"
    text = facts.read_text(encoding="utf-8")
    facts.write_text(text.replace("variant_of: give-naloxone\n    regions: [GB]", "variant_of: no-such-block"), encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        read_source(Project(tmp_path))
    messages = [p.message for p in caught.value.problems]
    assert any("give-naloxone-gb: variant_of must name a fact string" in m for m in messages)
    facts.write_text(text.replace("variant_of: give-naloxone\n    regions: [GB]", "variant_of: give-naloxone"), encoding="utf-8")
    with pytest.raises(ContentError, match="give-naloxone-gb: a regional variant needs 'regions'"):
        read_source(Project(tmp_path))


def test_a_variant_is_held_to_its_bases_card_limit_even_where_no_card_prints_it(tmp_path):
    """A regional variant is written for its base's slots: a card block's variant gets the card limit."""
    import shutil

    from conftest import REPO

    from pipeline.checks import CARD_LENGTH_LIMIT, length_limit
    from pipeline.project import Project

    shutil.copytree(REPO / "source", tmp_path / "source")
    editions = tmp_path / "source" / "editions.yaml"
    text = editions.read_text(encoding="utf-8")
    editions.write_text(text.replace("formats: [flyer-a4, card, sheet-a4]\n    hotlines: [emergency, drug_alcohol_helpline, health_advice", "formats: [flyer-a4]\n    hotlines: [emergency, drug_alcohol_helpline, health_advice"), encoding="utf-8")
    source = read_source(Project(tmp_path))
    assert list(source.editions["en-GB"].formats) == ["flyer-a4"]
    assert length_limit(source, source.strings["give-naloxone-gb"]) == (CARD_LENGTH_LIMIT, "wallet card")
    assert length_limit(source, source.strings["naloxone-wears-off"])[1] == "flyer"  # quiet: a flyer-only block
