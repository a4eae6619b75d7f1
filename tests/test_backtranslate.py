"""Back-translation for reviewers: a genuine tiny es->en model, offline; stored beside the entry; shown and checked."""

from __future__ import annotations

import subprocess

import polib
import pytest
from click.testing import CliRunner
from conftest import NOW, hand_edit_po
from make_tiny_model import build_tiny_model
from test_review import Script, _signing_keys  # noqa: F401 - the autouse fixture: review scripts sign as the named test reviewer
from test_translate import CopyEngine, no_network  # noqa: F401 - a fixture

from pipeline import backtranslate, checks, models, similarity
from pipeline.approval import State, decide, language_states
from pipeline.catalog import (
    BackTranslation,
    read_catalog,
    sync_catalog,
    translation_fingerprint,
    write_catalog,
)
from pipeline.cli import main
from pipeline.review import read_review_item
from pipeline.validate import validate_project

CALL = "call-emergency"
CALL_ES = "Llama al {emergency} ahora, da la dirección y di que la persona no respira o no despierta."
NALOXONE = "give-naloxone"
NALOXONE_ES = "Da naloxona (Narcan) si la tienes, y da otra dosis si no hay cambio en 2 a 3 minutos."
ENGINE = "Argos Translate model translate-es_en-1_0 1.0 (es→en)"
# A faithful back-translation, reworded as machines do, and one that says something else.
CALL_BACK_GOOD = "Call {emergency} now, give the address and say that the person does not breathe or does not wake up."
CALL_BACK_WRONG = "Keep Narcan at home and tell your friends where it is."

pytestmark = pytest.mark.usefixtures("po_files_compile")



@pytest.fixture(scope="module")
def tiny_es_en(tmp_path_factory):
    path = build_tiny_model(tmp_path_factory.mktemp("models") / "es_en.argosmodel", "es", "en", seed=11)
    models.install_file(path)
    yield path
    models.remove("es", "en")


def write_drafts(project, source, drafts: dict[str, str]) -> None:
    hand_edit_po(source, "es", {string_id: {"msgstr": text, "fuzzy": True} for string_id, text in drafts.items()})


def store_back(project, string_id: str, text: str, of: str) -> None:
    catalog = read_catalog(project, "es")
    catalog.set_back_translation(string_id, BackTranslation(text, ENGINE, "2026-11-21", translation_fingerprint(of)))
    write_catalog(catalog, NOW)


def back_findings(source, language="es"):
    return [f for f in validate_project(source, NOW.date(), 180, [language]) if f.check == "back-translation"]


def test_real_reverse_model_back_translates_offline_and_stores_provenance(project, source, tiny_es_en, no_network):  # noqa: F811 - the fixture
    write_drafts(project, source, {CALL: CALL_ES, NALOXONE: NALOXONE_ES})
    before = {e.msgctxt: (e.msgstr, list(e.flags)) for e in polib.pofile(str(project.po_path("es"))) if e.msgctxt}
    report = backtranslate.backtranslate_language(source, "es", lambda: backtranslate.load_back_engine(source, "es"), NOW)
    assert report.translated == [CALL, NALOXONE] and report.engine == ENGINE and report.wrote
    po = polib.pofile(str(project.po_path("es")))
    # Translations and flags untouched; the back-translation is a comment line with its provenance.
    assert {e.msgctxt: (e.msgstr, list(e.flags)) for e in po if e.msgctxt} == before
    entry = po.find(CALL, by="msgctxt")
    line = next(line for line in entry.tcomment.splitlines() if "back-translation" in line)
    assert line.startswith(f"outreach: back-translation ({ENGINE}, 2026-11-21, of translation {translation_fingerprint(CALL_ES)}): ")
    view = read_catalog(project, "es").views()[CALL]
    assert view.back_translation.engine == ENGINE and view.current_back_translation
    # A rerun on the unchanged catalog loads no model.
    def must_not_load():
        raise AssertionError("model loaded although every back-translation is current")

    again = backtranslate.backtranslate_language(source, "es", must_not_load, NOW)
    assert again.translated == [] and again.current == [CALL, NALOXONE] and not again.wrote


def test_glossary_words_numbers_and_placeholders_come_back_exactly(project, source):
    write_drafts(project, source, {NALOXONE: NALOXONE_ES, CALL: CALL_ES})
    engine = CopyEngine()
    backtranslate.backtranslate_language(source, "es", lambda: engine, NOW)
    sent = [s for call in engine.calls for s in call]
    assert not any("naloxona" in s or "Narcan" in s or "{emergency}" in s for s in sent)  # all protected as tokens
    views = read_catalog(project, "es").views()
    assert views[NALOXONE].current_back_translation.startswith("DA naloxone (Narcan)")
    assert "2 A 3 MINUTOS" in views[NALOXONE].current_back_translation
    assert "{emergency}" in views[CALL].current_back_translation


def test_missing_reverse_model_says_how_to_install_and_exits_1(project_dir, project, source):
    hand_edit_po(source, "tl", {CALL: {"msgstr": "Tumawag sa {emergency} ngayon."}})
    before = project.po_path("tl").read_bytes()
    result = CliRunner().invoke(main, ["--project", str(project_dir), "backtranslate", "tl"])
    assert result.exit_code == 1
    assert "No Argos model translates tl to en" in result.output and "outreach models install --from-index tl en" in result.output
    assert project.po_path("tl").read_bytes() == before


def test_stored_back_translation_round_trips_through_the_po(project, source):
    write_drafts(project, source, {CALL: CALL_ES})
    hand_edit_po(source, "es", {CALL: {"add_comment": "A translator's own note."}})
    catalog = read_catalog(project, "es")
    awkward = 'Say "not breathing" \\ # 5 minutes): of translation 0123456789abcdef): ¿qué? ' + "x" * 300
    back = BackTranslation(awkward, ENGINE, "2026-11-21", translation_fingerprint(CALL_ES))
    catalog.set_back_translation(CALL, back)
    write_catalog(catalog, NOW)
    first = project.po_path("es").read_text()
    subprocess.run(["msgfmt", "--check", "-o", "/dev/null", str(project.po_path("es"))], check=True)
    reread = read_catalog(project, "es")
    view = reread.views()[CALL]
    assert view.back_translation == back and view.translation == CALL_ES
    assert view.provenance is None  # never mistaken for where the translation came from
    sync_catalog(source, reread)
    write_catalog(reread, NOW)
    assert project.po_path("es").read_text() == first
    # Replacing it keeps one line, and the translator's note.
    newer = BackTranslation("Call {emergency} now.", ENGINE, "2026-11-22", translation_fingerprint(CALL_ES))
    reread.set_back_translation(CALL, newer)
    write_catalog(reread, NOW)
    entry = polib.pofile(str(project.po_path("es"))).find(CALL, by="msgctxt")
    assert entry.tcomment.count("back-translation") == 1 and "A translator's own note." in entry.tcomment
    assert read_catalog(project, "es").views()[CALL].back_translation == newer


def test_line_breaks_in_a_back_translation_stay_on_one_comment_line(project, source):
    write_drafts(project, source, {CALL: CALL_ES})
    store_back(project, CALL, "Call now.\nGive the address.\u2028Stay.", CALL_ES)
    view = read_catalog(project, "es").views()[CALL]
    assert view.current_back_translation == "Call now. Give the address. Stay."
    entry = polib.pofile(str(project.po_path("es"))).find(CALL, by="msgctxt")
    assert all(line.startswith("outreach:") for line in entry.tcomment.splitlines())


def test_low_similarity_is_a_warning_in_check(project_dir, project, source):
    write_drafts(project, source, {CALL: CALL_ES})
    store_back(project, CALL, CALL_BACK_WRONG, CALL_ES)
    found = back_findings(source)
    assert [(f.string_id, f.severity) for f in found] == [(CALL, checks.WARNING)]
    assert "Keep Narcan at home" in found[0].message and "chrF" in found[0].message
    result = CliRunner().invoke(main, ["--project", str(project_dir), "check", "--language", "es"])
    assert "warning: es: call-emergency: the back-translation says 'Keep Narcan at home" in result.output


def test_a_faithful_back_translation_raises_nothing(project, source):
    write_drafts(project, source, {CALL: CALL_ES})
    store_back(project, CALL, CALL_BACK_GOOD, CALL_ES)
    assert back_findings(source) == []


@pytest.mark.parametrize("back,fires", [(CALL_BACK_WRONG, True), (CALL_BACK_GOOD, False), ("", False)])
def test_back_translation_check_fires_only_when_far_from_the_english(source, back, fires):
    found = [f for f in checks.check_translation(source, "es", CALL, CALL_ES, back) if f.check == "back-translation"]
    assert bool(found) is fires


def test_short_labels_are_not_scored(project, source):
    # "Call" back-translated as "Phone" is right and scores 0: too short for chrF to mean anything.
    assert similarity.score_similarity("Call", "Phone") < similarity.LOW_SIMILARITY
    write_drafts(project, source, {"ui.label.call": "Llamar"})
    store_back(project, "ui.label.call", "Phone", "Llamar")
    assert back_findings(source) == []


def test_a_stale_back_translation_is_neither_checked_nor_shown_as_current(project, source):
    write_drafts(project, source, {CALL: CALL_ES})
    store_back(project, CALL, CALL_BACK_WRONG, CALL_ES)
    edited = CALL_ES.replace("ahora", "ya")
    hand_edit_po(source, "es", {CALL: {"msgstr": edited}})  # a translator edits the text in Poedit; the old comment stays
    assert back_findings(source) == []
    item = read_review_item(source, "es", CALL)
    script = Script("s")
    script.run(source)
    assert item.current_back_translation is None
    assert "out of date: made from an earlier translation" in script.text and CALL_BACK_WRONG not in script.text
    assert backtranslate.strings_to_backtranslate(source, read_catalog(project, "es")) == [CALL]


def test_review_shows_the_back_translation_with_diff_and_score(project, source):
    write_drafts(project, source, {CALL: CALL_ES})
    store_back(project, CALL, CALL_BACK_GOOD, CALL_ES)
    script = Script("s")
    script.run(source)
    text = script.text
    assert f"back:     {CALL_BACK_GOOD}" in text
    assert f"(machine back-translation into English: {ENGINE}, 2026-11-21)" in text
    assert "diff:     Call {emergency} now, give the [-address,-] {+address+} and say {+that+} the person" in text
    assert "[-won't wake.-] {+does not wake up.+}" in text
    score = similarity.score_similarity(source.english(CALL), CALL_BACK_GOOD)
    assert f"chrF:     {score:.0f} (0-100, higher is closer)" in text
    assert "[back-translation]" not in text


def test_review_approval_of_a_low_scoring_string_needs_its_acknowledgement(project, source, keys):
    write_drafts(project, source, {CALL: CALL_ES})
    store_back(project, CALL, CALL_BACK_WRONG, CALL_ES)
    script = Script("aq")
    script.run(source)
    assert "LOW, below 35" in script.text and "press y to acknowledge" in script.text
    assert language_states(source, "es")[CALL].state is not State.APPROVED
    decide(source, "es", [CALL], keys["Ana Reviewer"], "approve", NOW, acknowledge=["back-translation"])
    assert language_states(source, "es")[CALL].state is State.APPROVED
    # Approval keeps the back-translation beside the entry.
    assert read_catalog(project, "es").views()[CALL].current_back_translation == CALL_BACK_WRONG
