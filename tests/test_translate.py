"""Machine drafts: a genuine tiny Argos model, offline, batched, touching only what needs it."""

from __future__ import annotations

import socket

import polib
import pytest

from conftest import NOW, edit, hand_edit_po
from make_tiny_model import build_tiny_model
from pipeline import models, translate
from pipeline.approval import State, decide, language_states
from pipeline.content import read_source


pytestmark = pytest.mark.usefixtures("po_files_compile")


@pytest.fixture(scope="session")
def tiny_es(tmp_path_factory):
    path = build_tiny_model(tmp_path_factory.mktemp("models") / "en_es.argosmodel", "en", "es", seed=0)
    models.install_file(path)
    return path


@pytest.fixture
def no_network(monkeypatch):
    """Forbid every socket connection: translation must not need one."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args[1:] if len(args) > 1 else args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


class CopyEngine:
    """Stands in at the translator boundary: returns its input upper-cased, so protected tokens survive."""

    description = "copy engine (test)"

    def __init__(self):
        self.calls = []

    def translate(self, sentences):
        self.calls.append(list(sentences))
        return [s.upper() for s in sentences]


class DroppingEngine(CopyEngine):
    """Loses every protected token, as a bad model would."""

    def translate(self, sentences):
        self.calls.append(list(sentences))
        import re

        return [re.sub(r"\[\d+\]", "", s) for s in sentences]


def test_real_model_drafts_offline_in_one_load(source, tiny_es, no_network, monkeypatch):
    loads = []
    real = translate.ArgosEngine.__init__

    def counting_init(self, *args, **kwargs):
        loads.append(args)
        real(self, *args, **kwargs)

    monkeypatch.setattr(translate.ArgosEngine, "__init__", counting_init)
    report = translate.draft_language(source, "es", lambda: translate.load_engine(source, "en", "es"), NOW)
    assert len(loads) == 1
    assert len(report.drafted) == len(source.strings)
    po = polib.pofile(str(source.project.po_path("es")))
    entry = po.find("call-emergency", by="msgctxt")
    assert entry.msgstr and "fuzzy" in entry.flags
    assert "machine draft: Argos Translate model translate-en_es-1_0 1.0 (en→es), 2026-11-21" in entry.tcomment
    states = language_states(source, "es")
    assert all(s.state is State.MACHINE for s in states.values())
    # The tiny model's gibberish is caught for the reviewer, not silently accepted.
    assert report.flagged


def test_rerun_on_unchanged_project_does_no_model_work(source, tiny_es):
    translate.draft_language(source, "es", lambda: CopyEngine(), NOW)
    before = source.project.po_path("es").read_bytes()

    def must_not_load():
        raise AssertionError("model loaded although nothing changed")

    report = translate.draft_language(source, "es", must_not_load, NOW)
    assert report.drafted == [] and not report.wrote
    assert source.project.po_path("es").read_bytes() == before


def test_one_english_change_redrafts_exactly_that_string(project, source):
    translate.draft_language(source, "es", lambda: CopyEngine(), NOW)
    edit(project.source / "facts.yaml", "tilt the head back", "tilt their head back")
    changed = read_source(project)
    engine = CopyEngine()
    report = translate.draft_language(changed, "es", lambda: engine, NOW)
    assert report.drafted == ["rescue-breathing"]
    assert engine.calls == [[translate.protect(changed.english("rescue-breathing"), changed, "es").text]]


def test_a_persons_text_is_never_overwritten(project, source):
    hand_edit_po(source, "es", {"rescue-breathing": {"msgstr": "Texto de una traductora."}})
    edit(project.source / "facts.yaml", "tilt the head back", "tilt their head back")
    changed = read_source(project)
    report = translate.draft_language(changed, "es", lambda: CopyEngine(), NOW)
    assert "rescue-breathing" not in report.drafted
    assert report.kept_stale == ["rescue-breathing"]
    entry = polib.pofile(str(project.po_path("es"))).find("rescue-breathing", by="msgctxt")
    assert entry.msgstr == "Texto de una traductora."
    assert "fuzzy" in entry.flags and "tilt the head back" in entry.previous_msgid


def test_translation_memory_reuses_approved_text_without_a_model(keys, project, source):
    hand_edit_po(source, "es", {"ui.section.signs": {"msgstr": "Señales de sobredosis"}})
    decide(source, "es", ["ui.section.signs"], keys["Ana Reviewer"], "approve", NOW)
    # A new template string with identical English appears.
    with open(project.source / "strings.yaml", "a") as handle:
        handle.write("\n  - id: ui.card.signs\n    text: Signs of an overdose\n    note: Card heading.\n")
    changed = read_source(project)
    engine = CopyEngine()
    report = translate.draft_language(changed, "es", lambda: engine, NOW)
    assert "ui.card.signs" in report.from_memory
    assert all("Signs of an overdose" not in s for call in engine.calls for s in call)
    entry = polib.pofile(str(project.po_path("es"))).find("ui.card.signs", by="msgctxt")
    assert entry.msgstr == "Señales de sobredosis" and "fuzzy" in entry.flags
    assert "translation memory" in entry.tcomment


@pytest.mark.parametrize(
    "text,kind",
    [
        ("Call {emergency} now.", "placeholder"),
        ("Give another dose in 2 to 3 minutes.", "number"),
        ("Call 1-800-662-4357 today.", "phone"),
        ("See https://www.cdc.gov/stop-overdose/ for more.", "url"),
        ("Give Narcan if you have it.", "keep"),
        ("Give naloxone if you have it.", "term"),
    ],
)
def test_each_kind_of_protected_span_survives_and_loss_is_caught(source, text, kind):
    protected = translate.protect(text, source, "es")
    assert [s.kind for s in protected.spans if s.kind == kind]
    assert "[1]" in protected.text
    restored, lost = translate.restore(protected.text.upper(), protected)
    assert lost == []
    for replacement in protected.replacements:
        assert replacement in restored
    dropped, lost = translate.restore(protected.text.replace("[1]", ""), protected)
    assert lost and lost[0].kind == protected.spans[0].kind


def test_glossary_term_is_written_in_the_target_language(source):
    protected = translate.protect("Give naloxone now.", source, "es")
    restored, _ = translate.restore(protected.text, protected)
    assert restored == "Give naloxona now."


def test_a_model_that_drops_spans_is_flagged_but_saved(source):
    report = translate.draft_language(source, "es", lambda: DroppingEngine(), NOW)
    assert "call-emergency" in report.flagged
    entry = polib.pofile(str(source.project.po_path("es"))).find("call-emergency", by="msgctxt")
    assert "did not survive translation" in entry.tcomment
    assert entry.msgstr and "fuzzy" in entry.flags


def test_batches_go_to_ctranslate2_together(source, tiny_es, monkeypatch):
    engine = translate.load_engine(source, "en", "es")
    calls = []

    class Spy:
        def __init__(self, real):
            self.real = real

        def translate_batch(self, batch, **kwargs):
            calls.append(len(batch))
            return self.real.translate_batch(batch, **kwargs)

    engine.translator = Spy(engine.translator)
    translate.draft_language(source, "es", lambda: engine, NOW)
    sentences = sum(len(translate.split_sentences(s.text)) for s in source.strings.values())
    assert sum(calls) == sentences and len(calls) == -(-sentences // translate.BATCH_SIZE)


def test_missing_model_says_how_to_get_one(source):
    with pytest.raises(models.ModelError) as raised:
        translate.load_engine(source, "en", "fa")
    assert "outreach models install" in str(raised.value)


def test_pivot_through_english_is_recorded(source, tmp_path):
    fr_en = build_tiny_model(tmp_path / "fr_en.argosmodel", "fr", "en", seed=3)
    en_pt = build_tiny_model(tmp_path / "en_pt.argosmodel", "en", "pt", seed=4)
    models.install_file(fr_en)
    models.install_file(en_pt)
    try:
        engine = translate.load_engine(source, "fr", "pt")
        assert isinstance(engine, translate.PivotEngine)
        assert "pivot through English" in engine.description
        assert len(engine.translate(["Call now."])) == 1
    finally:
        models.remove("fr", "en")
        models.remove("en", "pt")
