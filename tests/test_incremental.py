"""Incremental, sharded builds and a bundle that renders nothing: only what changed is laid out again."""

from __future__ import annotations

import os
import io
import re
import shutil
import subprocess
import sys
import zipfile

import polib
import pytest
from click.testing import CliRunner

from conftest import REPO
from pipeline.cli import main
from pipeline.content import read_source
from pipeline.project import Project

EDITIONS = """editions:
  - id: en-US
    language: en
    region: US
    formats: [card]
    hotlines: [emergency, drug_alcohol_helpline, poison_centre]
    required_for_release: true
  - id: es-US
    language: es
    region: US
    formats: [card]
    hotlines: [emergency, drug_alcohol_helpline, poison_centre]
"""


def make_cards(root):
    """Two wallet cards: en-US (final) and es-US (a proof, from the shipped Spanish drafts)."""
    for folder in ("source", "templates"):
        shutil.copytree(REPO / folder, root / folder)
    (root / "translations" / "ledger").mkdir(parents=True)
    shutil.copy(REPO / "translations" / "ledger" / "en.jsonl", root / "translations" / "ledger" / "en.jsonl")
    shutil.copy(REPO / "translations" / "es.po", root / "translations" / "es.po")
    (root / "source" / "editions.yaml").write_text(EDITIONS)
    return root


@pytest.fixture
def cards(tmp_path):
    return make_cards(tmp_path / "cards")


def run(project_dir, *args):
    return CliRunner().invoke(main, ["--project", str(project_dir), *args], catch_exceptions=False)


def rendered(result) -> set[str]:
    """The documents a build laid out, from its progress lines ("[1/2] final en-US card")."""
    return set(re.findall(r"^\[\d+/\d+\] (\w+ \S+ \S+)$", result.output, re.M))


@pytest.fixture(scope="module")
def built_once(tmp_path_factory):
    root = make_cards(tmp_path_factory.mktemp("built") / "cards")
    result = run(root, "build")
    assert result.exit_code == 0, result.output
    assert rendered(result) == {"final en-US card", "proof es-US card"}
    return root


@pytest.fixture
def built(built_once, tmp_path):
    """A fresh copy of a built project (output/ and its state included): state holds no absolute paths."""
    return shutil.copytree(built_once, tmp_path / "built")


def test_a_build_with_nothing_changed_lays_out_nothing_and_never_imports_weasyprint(built):
    code = (
        "import sys\n"
        "from pipeline.cli import main\n"
        f"main(['--project', {str(built)!r}, 'build'], standalone_mode=False)\n"
        "print('WEASYPRINT' if 'weasyprint' in sys.modules else 'NO WEASYPRINT')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert "NO WEASYPRINT" in result.stdout and "(0 rendered" in result.stdout
    assert not re.search(r"^\[\d+/\d+\]", result.stderr, re.M)


def test_a_changed_spanish_string_renders_only_the_spanish_document(built):
    po_path = built / "translations" / "es.po"
    po = polib.pofile(str(po_path))
    po.find("give-naloxone", by="msgctxt").msgstr += " Ya."
    po.save()
    assert rendered(run(built, "build")) == {"proof es-US card"}


def test_a_changed_template_renders_everything_and_force_renders_anyway(built):
    assert rendered(run(built, "build", "--force")) == {"final en-US card", "proof es-US card"}
    css = built / "templates" / "card.css"
    css.write_text(css.read_text() + "\n/* a change */\n")
    assert rendered(run(built, "build")) == {"final en-US card", "proof es-US card"}


def test_a_hand_edited_pdf_is_rendered_again(built):
    final = built / "output" / "final" / "en-US" / "card.pdf"
    final.write_bytes(final.read_bytes() + b"\n% edited\n")
    assert rendered(run(built, "build")) == {"final en-US card"}


def test_bundle_refuses_a_final_made_from_other_inputs(built):
    css = built / "templates" / "card.css"
    css.write_text(css.read_text() + "\n/* a change */\n")
    result = run(built, "bundle")
    assert result.exit_code == 1
    assert "output/final/en-US/card.pdf: out of date" in result.output


def test_bundle_packs_current_finals_without_rendering(built, monkeypatch):
    import pipeline.render.pdf

    def refuse(*args, **kwargs):
        raise AssertionError("bundle rendered a document")

    monkeypatch.setattr(pipeline.render.pdf.Renderer, "render_job", refuse)
    result = run(built, "bundle")
    assert result.exit_code == 0 and "1 files" in result.output


def test_print_shop_notes_come_and_go_with_the_release(built):
    notes = built / "output" / "release" / "PRINT-SHOP.txt"
    assert run(built, "bundle").exit_code == 0
    assert "en-US/card.pdf: trim 85.6 x 54 mm; bleed 3 mm; pages 2;" in notes.read_text()
    final = built / "output" / "final" / "en-US" / "card.pdf"
    final.write_bytes(final.read_bytes() + b"\n% edited\n")
    assert run(built, "bundle").exit_code == 1
    assert not notes.exists()  # withdrawn with the rest of the release


def test_a_current_release_is_left_alone_and_a_tampered_one_made_again(built):
    """A build with nothing changed writes no release file; one whose zip or notes were touched is made anew."""
    release = built / "output" / "release"
    files = sorted(p for p in release.rglob("*") if p.is_file())
    before = {p: (p.stat().st_mtime_ns, p.stat().st_ino) for p in files}
    assert run(built, "build").exit_code == 0
    assert {p: (p.stat().st_mtime_ns, p.stat().st_ino) for p in files} == before
    archive = release / "outreach-release.zip"
    good = archive.read_bytes()
    for touched, text in ((archive, None), (archive, "damaged"), (release / "PRINT-SHOP.txt", "pages 9")):
        if text is None:  # a sound zip whose manifest says something else
            with zipfile.ZipFile(io.BytesIO(good)) as old, zipfile.ZipFile(touched, "w") as new:
                for info in old.infolist():
                    data = old.read(info)
                    new.writestr(info, data.replace(b"outreach", b"0utreach") if info.filename == "manifest.json" else data)
        elif text == "damaged":
            touched.write_bytes(good[:-40] + bytes(40))
        else:
            touched.write_text(touched.read_text().replace("pages 2", text))
        assert run(built, "build").exit_code == 0
        assert archive.read_bytes() == good and "pages 9" not in (release / "PRINT-SHOP.txt").read_text()


def test_release_fails_while_a_required_edition_is_not_final(built):
    assert run(built, "bundle", "--release").exit_code == 0  # en-US is required, and final
    editions = built / "source" / "editions.yaml"
    editions.write_text(editions.read_text() + "    required_for_release: true\n")  # es-US too: only a proof
    result = run(built, "bundle", "--release")
    assert result.exit_code == 1
    assert "es-US card: required for release but not final" in result.output


def test_two_shards_merged_give_the_same_zip_as_one_machine(built_once, cards, tmp_path):
    machines = {"one": built_once}
    for name in ("shard1", "shard2", "merged"):
        machines[name] = tmp_path / name
        shutil.copytree(cards, machines[name])
    first = run(machines["shard1"], "build", "--shard", "1/2")
    second = run(machines["shard2"], "build", "--shard", "2/2")
    assert first.exit_code == 0 and second.exit_code == 0
    assert rendered(first) and rendered(second) and not rendered(first) & rendered(second)
    for shard in ("shard1", "shard2"):
        shutil.copytree(machines[shard] / "output", machines["merged"] / "output", dirs_exist_ok=True)
    assert run(machines["merged"], "bundle").exit_code == 0
    zips = [(machines[m] / "output" / "release" / "outreach-release.zip").read_bytes() for m in ("one", "merged")]
    assert zips[0] == zips[1]


def test_shards_cover_every_document_once_balanced_by_cost(project):
    from pipeline.build import expected_cost, plan, select_shard

    source = read_source(project)
    pairs = plan(source, list(source.editions), ())
    parts = [select_shard(source, pairs, k, 3) for k in (1, 2, 3)]
    keys = [(e.id, f) for part in parts for e, f in part]
    assert sorted(keys) == sorted((e.id, f) for e, f in pairs)  # each once
    loads = [sum(expected_cost(source, *p) for p in part) for part in parts]
    assert max(loads) - min(loads) <= max(expected_cost(source, *p) for p in pairs)
    assert parts == [select_shard(source, pairs, k, 3) for k in (1, 2, 3)]  # the same split every time


def test_bad_shard_is_a_usage_error(cards):
    result = run(cards, "build", "--shard", "3/2")
    assert result.exit_code == 2 and "K/N" in result.output


def test_check_cache_answers_only_for_unchanged_inputs(project_dir):
    import datetime as dt

    from pipeline.validate import validate_cached, validate_project

    today = dt.date(2026, 11, 21)
    source = read_source(Project(project_dir))
    assert validate_cached(source, today, 180, []) == validate_project(source, today, 180, [])  # fills the cache
    assert validate_cached(source, today, 180, []) == validate_project(source, today, 180, [])  # answers from it
    facts = project_dir / "source" / "facts.yaml"
    facts.write_text(facts.read_text().replace("give the address, and say", "give the address of the addict, and say", 1))
    changed = read_source(Project(project_dir))
    fresh = validate_project(changed, today, 180, [])
    assert fresh and validate_cached(changed, today, 180, []) == fresh


def test_required_for_release_must_be_true_or_false(cards):
    from pipeline.errors import ContentError

    editions = cards / "source" / "editions.yaml"
    editions.write_text(editions.read_text().replace("required_for_release: true", "required_for_release: yes please"))
    with pytest.raises(ContentError) as raised:
        read_source(Project(cards))
    assert any("en-US: required_for_release must be true or false" in p.message for p in raised.value.problems)


@pytest.mark.parametrize("changed", ["typography.py", "render/prepress.py", "render/fill.py", "render/compose.py", "document.py"])
def test_the_render_environment_covers_the_code_that_decides_bytes(tmp_path, monkeypatch, changed):
    """Quotes and dates (typography), spreading lists (fill) and PDF/X-4 (prepress) decide a PDF's bytes too."""
    from pipeline import state

    package = tmp_path / "pipeline"
    shutil.copytree(state.PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(state, "PACKAGE", package)
    monkeypatch.setattr(state, "_list_fonts", lambda: None)
    monkeypatch.setattr(state, "_fonts", lambda listing: ["fonts"])
    project = Project(tmp_path / "project")
    before = state.render_environment(project)
    assert state.render_environment(project) == before  # quiet: nothing changed, same digest
    with (package / changed).open("a", encoding="utf-8") as code:
        code.write("\n# changed\n")
    assert state.render_environment(project) != before, changed


def test_the_render_environment_covers_the_output_profile(tmp_path, monkeypatch):
    from pipeline import state

    monkeypatch.setattr(state, "_list_fonts", lambda: None)
    monkeypatch.setattr(state, "_fonts", lambda listing: ["fonts"])
    project = Project(tmp_path)
    profile = tmp_path / "profile.icc"
    profile.write_bytes(b"one")
    monkeypatch.setattr(state, "PROFILE_PATH", profile)
    before = state.render_environment(project)
    profile.write_bytes(b"two")
    assert state.render_environment(project) != before


def test_the_version_code_changes_with_what_prints_and_only_with_that(cards):
    """A new reviewer, wording list, lexicon entry or glossary word prints nothing: no new version, no re-render."""
    from pipeline.imprint import source_version

    def version() -> str:
        return source_version(read_source(Project(cards)))

    before = version()
    for name in ("reviewers.yaml", "wording.yaml", "glossary.yaml", *(f"lexicon/{p.name}" for p in (cards / "source" / "lexicon").glob("*.yaml"))):
        path = cards / "source" / name
        path.write_text(path.read_text(encoding="utf-8") + "\n# a note\n", encoding="utf-8")
    assert version() == before
    facts = cards / "source" / "facts.yaml"
    facts.write_text(facts.read_text(encoding="utf-8") + "\n# a note\n", encoding="utf-8")
    assert version() != before


def test_checks_run_beside_the_renderer_warm_up_and_agree_with_the_gate(cards, monkeypatch):
    """With nothing cached the build's checks run in a forked process: same findings, same errors reported."""
    import pipeline.build
    from pipeline.build import Gate, open_gate

    source = read_source(Project(cards))
    monkeypatch.setattr(pipeline.build, "_WORKER_RENDERER", None)
    assert open_gate(source).findings == []  # nothing cached: checked in a forked process, the renderer warmed here
    assert pipeline.build._WORKER_RENDERER is not None
    assert open_gate(source).findings == [] and (cards / "output" / ".state" / "checks.json").exists()  # the fork's cache
    po_path = cards / "translations" / "es.po"
    po = polib.pofile(str(po_path))
    entry = po.find("give-naloxone", by="msgctxt")
    entry.msgstr = entry.msgstr.replace("2 a 3", "5 a 6")  # a number the English does not have: an error
    po.save()
    source = read_source(Project(cards))
    forked = open_gate(source).findings  # errors are never cached: each gate checks afresh
    assert [f.string_id for f in forked] == ["give-naloxone"] and forked == Gate(source).findings
    po = cards / "translations" / "es.po"
    po.write_text(po.read_text(encoding="utf-8") + 'msgid "x\n', encoding="utf-8")
    result = run(cards, "build")
    assert result.exit_code == 2 and "translations/es.po:" in result.output and "cannot read PO file" in result.output
    assert not (cards / "output" / "final").exists()
