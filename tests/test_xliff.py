"""XLIFF 1.2 export and import: lossless round trips, approvals kept, unsafe or stale input refused."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET

import polib
import pytest

from conftest import NOW, REPO, edit, hand_edit_po
from pipeline import checks
from pipeline.approval import State, decide, language_states
from pipeline.catalog import read_catalog, sync_catalog, write_catalog
from pipeline.content import read_source
from pipeline.errors import ContentError
from pipeline.xliff import export_xliff, import_xliff

NS = {"x": "urn:oasis:names:tc:xliff:document:1.2"}
CALL = "call-emergency"


pytestmark = pytest.mark.usefixtures("po_files_compile")


@pytest.fixture
def drafts(project, source):
    """The shipped Spanish contributor drafts (every string a fuzzy draft)."""
    shutil.copy(REPO / "translations" / "es.po", project.po_path("es"))
    catalog = read_catalog(project, "es")
    sync_catalog(source, catalog)
    write_catalog(catalog, NOW)
    return project.po_path("es")


def clean_ids(source, count, exclude=()):
    """The first `count` strings whose draft has no error finding (so they can be approved)."""
    states = language_states(source, "es")
    ids = [
        i for i, s in states.items()
        if i not in exclude and s.translation and not checks.errors_of(checks.check_translation(source, "es", i, s.translation))
    ]
    return ids[:count]


@pytest.fixture
def mixed(keys, project, source, drafts):
    """One string in each state; returns (the source after the English changed, {state: id})."""
    approved, machine, review, rejected, missing, draft = clean_ids(source, 6, exclude=[CALL])
    decide(source, "es", [approved, CALL], keys["Ana Reviewer"], "approve", NOW)
    decide(source, "es", [rejected], keys["Ana Reviewer"], "reject", NOW, reason="use 'sobredosis'")
    hand_edit_po(source, "es", {
        machine: {"provenance": ["machine draft: Argos Translate test model, 2026-11-20"]},
        review: {"fuzzy": False},
        missing: {"msgstr": ""},
        draft: {"add_comment": "Ana: ask the Miami team about the regional word"},
    })
    edit(project.source / "facts.yaml", "give the address, and say", "give the street address, and say")
    ids = {
        State.APPROVED: approved, State.MACHINE: machine, State.NEEDS_REVIEW: review, State.REJECTED: rejected,
        State.MISSING: missing, State.DRAFT: draft, State.STALE: CALL,
    }
    changed = read_source(project)
    assert {s: language_states(changed, "es")[i].state for s, i in ids.items()} == {s: s for s in ids}
    return changed, ids


def units_of(data: bytes) -> dict[str, dict]:
    """Each trans-unit as plain data: attributes, source, target (with its attributes) and notes."""
    root = ET.fromstring(data)
    result = {}
    for unit in root.iterfind(".//x:trans-unit", NS):
        target = unit.find("x:target", NS)
        result[unit.get("id")] = {
            "attributes": dict(unit.attrib),
            "source": unit.find("x:source", NS).text,
            "target": None if target is None else (target.text, dict(target.attrib)),
            "notes": [(n.get("from"), n.text) for n in unit.iterfind("x:note", NS)],
        }
    return result


def set_target(data: bytes, string_id: str, text: str) -> bytes:
    """What a translator does in a CAT tool: change one target, keep the rest."""
    ET.register_namespace("", NS["x"])
    root = ET.fromstring(data)
    unit = root.find(f".//x:trans-unit[@id='{string_id}']", NS)
    target = unit.find("x:target", NS)
    if target is None:
        target = ET.SubElement(unit, f"{{{NS['x']}}}target")
    target.text = text
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def write_file(tmp_path, data, name="es.xlf"):
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


# ------------------------------------------------------------------ export


def test_export_maps_every_state(mixed):
    source, ids = mixed
    units = units_of(export_xliff(source, "es"))
    assert list(units) == list(source.strings)  # every string, in source order
    approved = units[ids[State.APPROVED]]
    assert approved["attributes"]["approved"] == "yes" and approved["target"][1] == {"state": "final"}
    assert ("outreach-review", "approved by Ana Reviewer, 2026-11-21T12:00:00+00:00") in approved["notes"]
    assert units[ids[State.NEEDS_REVIEW]]["target"][1] == {"state": "needs-review-translation"}
    assert units[ids[State.DRAFT]]["target"][1] == {"state": "needs-review-translation"}
    assert units[ids[State.MACHINE]]["target"][1] == {"state": "needs-review-translation", "state-qualifier": "mt-suggestion"}
    assert ("outreach", "machine draft: Argos Translate test model, 2026-11-20") in units[ids[State.MACHINE]]["notes"]
    stale = units[CALL]
    assert stale["target"][1] == {"state": "needs-review-translation"} and "approved" not in stale["attributes"]
    assert stale["source"] == source.english(CALL)
    assert ("previous-english", "Call {emergency} now, give the address, and say the person is not breathing or won't wake.") in stale["notes"]
    rejected = units[ids[State.REJECTED]]
    assert rejected["target"][1] == {"state": "needs-translation"}
    assert ("outreach-review", "rejected by Ana Reviewer, 2026-11-21T12:00:00+00:00: use 'sobredosis'") in rejected["notes"]
    assert units[ids[State.MISSING]]["target"] is None
    assert ("po-translator", "Ana: ask the Miami team about the regional word") in units[ids[State.DRAFT]]["notes"]
    assert ("developer", "fact block, topic risk") in units["both-slow-breathing"]["notes"]


def test_export_is_deterministic_and_escapes_text(project, source, drafts):
    hand_edit_po(source, "es", {"both-slow-breathing": {"msgstr": "Benzos & opioides <juntos> \"matan\" ]]> a veces."}})
    data = export_xliff(source, "es")
    assert data == export_xliff(source, "es")
    assert data.startswith(b"<?xml version='1.0' encoding='utf-8'?>\n<xliff version=\"1.2\" xmlns=\"urn:oasis:names:tc:xliff:document:1.2\">")
    assert b'<file source-language="en" target-language="es" datatype="plaintext" original="translations/es.po">' in data
    assert "Benzos &amp; opioides &lt;juntos&gt;".encode() in data
    assert units_of(data)["both-slow-breathing"]["target"][0] == "Benzos & opioides <juntos> \"matan\" ]]> a veces."


def test_export_refuses_english_and_unknown_languages(source):
    for language in ("en", "xx"):
        with pytest.raises(ContentError, match="not a translated language"):
            export_xliff(source, language)


# ------------------------------------------------------------------ round trips


def test_round_trip_without_changes_leaves_the_po_byte_identical(mixed, project, tmp_path):
    source, ids = mixed
    catalog = read_catalog(project, "es")
    sync_catalog(source, catalog)  # as `outreach check` or `translate` would after the English changed
    write_catalog(catalog, NOW)
    before = project.po_path("es").read_bytes()
    states = language_states(source, "es")
    report = import_xliff(source, write_file(tmp_path, export_xliff(source, "es")), NOW)
    assert report.changed == () and report.skipped == () and not report.wrote
    assert len(report.unchanged) == len(source.strings)
    assert project.po_path("es").read_bytes() == before
    assert language_states(source, "es") == states


def test_export_import_export_is_lossless(mixed, tmp_path):
    source, ids = mixed
    first = export_xliff(source, "es")
    import_xliff(source, write_file(tmp_path, first), NOW)
    assert export_xliff(source, "es") == first


def test_changed_target_unapproves_only_that_string(keys, mixed, project, tmp_path):
    source, ids = mixed
    approved = ids[State.APPROVED]
    first = export_xliff(source, "es")
    new_text = units_of(first)[approved]["target"][0] + " Siempre."
    report = import_xliff(source, write_file(tmp_path, set_target(first, approved, new_text)), NOW)
    assert report.changed == (approved,) and report.unapproved == (approved,) and report.wrote
    states = language_states(source, "es")
    assert states[approved].state is State.NEEDS_REVIEW and states[approved].translation == new_text
    entry = polib.pofile(str(project.po_path("es"))).find(approved, by="msgctxt")
    assert "fuzzy" not in entry.flags and "outreach: imported from XLIFF es.xlf, 2026-11-21" in entry.tcomment

    second = units_of(export_xliff(source, "es"))
    before = units_of(first)
    for string_id, unit in second.items():
        if string_id != approved:
            assert unit == before[string_id], string_id  # ids, texts, notes and states all survive
    assert second[approved]["target"] == (new_text, {"state": "needs-review-translation"})
    assert "approved" not in second[approved]["attributes"]
    assert ("outreach", "imported from XLIFF es.xlf, 2026-11-21") in second[approved]["notes"]
    decide(source, "es", [approved], keys["Ben Reviewer"], "approve", NOW)
    assert language_states(source, "es")[approved].state is State.APPROVED


def test_new_translation_for_a_missing_string_and_a_translator_note(mixed, project, tmp_path):
    source, ids = mixed
    missing = ids[State.MISSING]
    data = set_target(export_xliff(source, "es"), missing, "Texto nuevo de la traductora.")
    data = data.replace(b"</trans-unit>", b'<note from="Marta">check with Ana</note></trans-unit>', 1)
    report = import_xliff(source, write_file(tmp_path, data), NOW)
    assert report.changed == (missing,) and report.noted == (list(source.strings)[0],)
    assert language_states(source, "es")[missing].state is State.NEEDS_REVIEW
    assert "Marta: check with Ana" in read_catalog(project, "es").view(list(source.strings)[0]).translator_notes
    again = import_xliff(source, write_file(tmp_path, data), NOW)  # importing twice adds nothing twice
    assert again.noted == () and again.changed == ()


def test_imported_text_with_an_error_is_kept_as_a_draft_with_the_finding(mixed, project, tmp_path):
    source, ids = mixed
    draft = ids[State.DRAFT]
    report = import_xliff(source, write_file(tmp_path, set_target(export_xliff(source, "es"), draft, "Llama al 555-123-4567.")), NOW)
    assert report.changed == (draft,)
    assert "phone-registry" in {f.check for f in report.findings}
    entry = read_catalog(project, "es").view(draft)
    assert entry.fuzzy and any(line.startswith("check: phone number") for line in entry.provenance_lines)


def test_stale_source_is_refused_for_that_unit(keys, project, source, drafts, tmp_path):
    decide(source, "es", [CALL], keys["Ana Reviewer"], "approve", NOW)
    other = clean_ids(source, 1, exclude=[CALL])[0]
    data = export_xliff(source, "es")  # exported against the old English
    data = set_target(set_target(data, CALL, "Llama al {emergency} ya."), other, "Otro texto.")
    edit(project.source / "facts.yaml", "give the address, and say", "give the street address, and say")
    changed = read_source(project)
    report = import_xliff(changed, write_file(tmp_path, data), NOW)
    assert report.changed == (other,)
    [problem] = report.skipped
    assert problem.line is not None and CALL in problem.message and "English has changed" in problem.message
    assert language_states(changed, "es")[CALL].translation != "Llama al {emergency} ya."


def test_unknown_ids_inline_markup_and_copied_english_are_reported(project, source, drafts, tmp_path):
    first, second, third = list(source.strings)[:3]
    data = set_target(export_xliff(source, "es"), first, "INLINE")
    data = set_target(data, second, source.english(second))
    data = set_target(data, third, "Tercero.")
    data = (
        data.decode()
        .replace("INLINE", 'Uno <g id="1">dos</g>')
        .replace("<body>", '<body><trans-unit id="no-such-string"><source>x</source><target>y</target></trans-unit>', 1)
        .replace(f'id="{third}" resname="{third}"', f'id="u3" resname="{third}"', 1)  # a CAT tool renumbered it
    )
    target = f'<target state="needs-review-translation">{source.english(second)}'.replace("'", "&apos;")
    assert target in data
    data = data.replace(target, target.replace("needs-review-translation", "new"), 1)
    report = import_xliff(source, write_file(tmp_path, data), NOW)
    messages = [p.message for p in report.skipped]
    assert messages == [
        "no-such-string: no such string in source/; not imported",
        f"{first}: inline markup <g> cannot be imported as plain text; not imported",
        f"{second}: the target is a copy of the English in a unit marked 'new'; not imported",
    ]
    assert report.changed == (third,)


def test_mrk_segments_are_read_as_plain_text(project, source, drafts, tmp_path):
    first = list(source.strings)[0]
    data = set_target(export_xliff(source, "es"), first, "PLACEHOLDER").replace(
        b"PLACEHOLDER", b'<mrk mtype="seg" mid="1">Uno.</mrk> <mrk mtype="seg" mid="2">Dos.</mrk>'
    )
    report = import_xliff(source, write_file(tmp_path, data), NOW)
    assert report.changed == (first,)
    assert language_states(source, "es")[first].translation == "Uno. Dos."


# ------------------------------------------------------------------ refused files


def test_malformed_xml_is_refused_with_its_line(project, source, drafts, tmp_path):
    before = drafts.read_bytes()
    lines = export_xliff(source, "es").decode().splitlines()
    number = next(n for n, line in enumerate(lines, start=1) if "</source>" in line)
    lines[number - 1] = lines[number - 1].replace("</source>", "</sauce>")
    with pytest.raises(ContentError) as raised:
        import_xliff(source, write_file(tmp_path, "\n".join(lines)), NOW)
    [problem] = raised.value.problems
    column = lines[number - 1].index("sauce>") + 1  # expat points at the tag name
    assert raised.value.unusable and problem.line == number
    assert problem.format() == f"{tmp_path / 'es.xlf'}:{number}: not well-formed XML: mismatched tag (column {column})"
    assert drafts.read_bytes() == before


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE xliff [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<xliff version="1.2" xmlns="urn:oasis:names:tc:xliff:document:1.2"><file source-language="en" target-language="es"><body>
<trans-unit id="both-slow-breathing"><source>&lol3;</source><target>&lol3;</target></trans-unit></body></file></xliff>
"""
EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE xliff SYSTEM "file:///etc/passwd">
<xliff version="1.2"><file source-language="en" target-language="es"><body/></file></xliff>
"""


@pytest.mark.parametrize("text", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["entities", "external"])
def test_doctype_and_entities_are_refused(project, source, drafts, tmp_path, text):
    before = drafts.read_bytes()
    with pytest.raises(ContentError, match="DOCTYPE is not allowed") as raised:
        import_xliff(source, write_file(tmp_path, text), NOW)
    assert raised.value.problems[0].line == 2
    assert drafts.read_bytes() == before


@pytest.mark.parametrize(
    "text, message",
    [
        ('<xliff version="2.0" xmlns="urn:oasis:names:tc:xliff:document:2.0"/>', "XLIFF 2 is not supported"),
        ("<html/>", "the root element is <html>"),
        ('<xliff version="1.2"/>', "no <file> element"),
        ('<xliff version="1.2"><file source-language="en" target-language="klingon"/></xliff>', "'klingon' is not a translated language"),
        ('<xliff version="1.2"><file source-language="en" target-language="es"><body>'
         '<trans-unit id="a"><source>x</source></trans-unit><trans-unit id="a"><source>x</source></trans-unit></body></file></xliff>',
         "a appears twice (first at line 1)"),
    ],
)
def test_files_that_are_not_our_xliff_are_refused(source, tmp_path, text, message):
    with pytest.raises(ContentError, match=re.escape(message)):
        import_xliff(source, write_file(tmp_path, text), NOW)


def test_language_codes_from_cat_tools_are_matched(project, source, drafts, tmp_path):
    data = export_xliff(source, "zh-Hans").replace(b'target-language="zh-Hans"', b'target-language="zh_hans"')
    assert import_xliff(source, write_file(tmp_path, data), NOW).language == "zh-Hans"


# ------------------------------------------------------------------ PO edited in Poedit


def test_po_edited_in_poedit_keeps_approvals_of_unchanged_texts(keys, project, source, drafts):
    approved = clean_ids(source, 3)
    decide(source, "es", approved, keys["Ana Reviewer"], "approve", NOW)
    edited, untouched = approved[0], approved[1:]
    unfuzzied = clean_ids(source, 1, exclude=approved)[0]
    before = language_states(source, "es")

    # Poedit re-wraps long lines, stamps its own header and keeps everything else.
    po = polib.pofile(str(drafts))
    po.find(edited, by="msgctxt").msgstr += " ¡Ojo!"
    po.find(unfuzzied, by="msgctxt").flags.remove("fuzzy")
    po.metadata["X-Generator"] = "Poedit 3.4.2"
    po.save(str(drafts))

    states = language_states(source, "es")
    assert all(states[i].state is State.APPROVED for i in untouched)
    assert states[edited].state is State.NEEDS_REVIEW
    assert states[unfuzzied].state is State.NEEDS_REVIEW
    others = set(source.strings) - set(approved) - {unfuzzied}
    assert all(states[i].state is before[i].state for i in others)  # drafts stay drafts, stale stays stale

    # Our next write keeps Poedit's work: still the same states, and msgfmt accepts it.
    decide(source, "es", [unfuzzied], keys["Ana Reviewer"], "approve", NOW)
    states = language_states(source, "es")
    assert all(states[i].state is State.APPROVED for i in [*untouched, unfuzzied])
    assert states[edited].state is State.NEEDS_REVIEW
