"""Render, gate and bundle: finals only from approved text; the manifest matches the files."""

from __future__ import annotations

import hashlib
import json
import zipfile

import polib
from pypdf import PdfReader
import pytest
from click.testing import CliRunner

from conftest import NOW, REPO, hand_edit_po
from pipeline.approval import decide
from pipeline.bundle import source_revision
from pipeline.cli import main
from pipeline.content import read_source
from pipeline.project import Project

EDITIONS = """editions:
  - id: en-US
    language: en
    region: US
    formats: [card, flyer-letter]
    hotlines: [emergency, drug_alcohol_helpline, poison_centre]
  - id: es-US
    language: es
    region: US
    formats: [card]
    hotlines: [emergency, drug_alcohol_helpline, poison_centre]
"""


@pytest.fixture
def small_project(project_dir):
    (project_dir / "source" / "editions.yaml").write_text(EDITIONS)
    return project_dir


def run(project_dir, *args):
    return CliRunner().invoke(main, ["--project", str(project_dir), *args], catch_exceptions=False)


def test_build_renders_finals_and_proofs_and_bundles(small_project):
    result = run(small_project, "build")
    assert result.exit_code == 0, result.output
    rows = {tuple(line.split()[:3]) for line in result.output.splitlines()}
    assert ("en-US", "card", "final") in rows and ("en-US", "flyer-letter", "final") in rows
    assert ("es-US", "card", "proof") in rows and "16 strings await review (16 missing)" in result.output
    final = small_project / "output" / "final"
    assert (final / "en-US" / "card.pdf").exists() and not (final / "es-US").exists()
    assert (small_project / "output" / "proof" / "es-US" / "card.pdf").exists()

    release = small_project / "output" / "release"
    manifest = json.loads((release / "manifest.json").read_text())
    assert {f["path"] for f in manifest["files"]} == {"en-US/card.pdf", "en-US/flyer-letter.pdf"}
    with zipfile.ZipFile(release / "outreach-release.zip") as archive:
        assert sorted(archive.namelist()) == ["en-US/card.pdf", "en-US/flyer-letter.pdf", "manifest.json"]
        for item in manifest["files"]:
            data = archive.read(item["path"])
            assert hashlib.sha256(data).hexdigest() == item["sha256"] == hashlib.sha256((release / item["path"]).read_bytes()).hexdigest()
            assert item["language"] == "en" and item["region"] == "US"
    card = next(f for f in manifest["files"] if f["format"] == "card")
    assert card["approvals"] and all(a["reviewer"] == "project maintainers" and a["source_review"]["by"] for a in card["approvals"])
    assert any(h["number"] == "911" and h["sources"] for h in card["hotlines"])
    assert manifest["registry_compiled"] == "2026-11-21"
    assert manifest["source_revision"] == source_revision(small_project) == "unknown (not a git checkout)"
    last_english = json.loads((small_project / "translations" / "ledger" / "en.jsonl").read_text().splitlines()[-1])
    assert manifest["ledger_heads"] == {"en": last_english["hash"]}

    # Same inputs, same bytes.
    first = (release / "outreach-release.zip").read_bytes()
    assert run(small_project, "bundle").exit_code == 0
    assert (release / "outreach-release.zip").read_bytes() == first


def test_render_refuses_unapproved_edition_listing_strings(small_project):
    result = run(small_project, "render", "--edition", "es-US")
    assert result.exit_code == 1
    assert "refused es-US card:" in result.output and "call-emergency (missing)" in result.output


def test_approved_translation_prints_and_a_later_edit_withdraws_the_final(keys, small_project):
    source = read_source(Project(small_project))
    shipped = polib.pofile(str(REPO / "translations" / "es.po"))
    ids = source.edition_string_ids(source.editions["es-US"], "card")
    hand_edit_po(source, "es", {string_id: {"msgstr": shipped.find(string_id, by="msgctxt").msgstr} for string_id in ids})
    decide(source, "es", ids, keys["Ana Reviewer"], "approve", NOW)
    assert run(small_project, "render").exit_code == 0  # every edition is approved now
    final = small_project / "output" / "final" / "es-US" / "card.pdf"
    assert final.exists()
    assert run(small_project, "bundle").exit_code == 0
    manifest = json.loads((small_project / "output" / "release" / "manifest.json").read_text())
    es_card = next(f for f in manifest["files"] if f["edition"] == "es-US")
    assert {a["reviewer"] for a in es_card["approvals"]} == {"Ana Reviewer"}

    # A translator edits an approved string: the final is withdrawn and not bundled.
    path = source.project.po_path("es")
    po = polib.pofile(str(path))
    po.find("call-emergency", by="msgctxt").msgstr += " Ya."
    po.save()
    assert run(small_project, "render", "--edition", "es-US").exit_code == 1
    assert not final.exists()
    assert run(small_project, "bundle").exit_code == 0
    manifest = json.loads((small_project / "output" / "release" / "manifest.json").read_text())
    assert all(f["edition"] != "es-US" for f in manifest["files"])
    assert not (small_project / "output" / "release" / "es-US" / "card.pdf").exists()


def test_bundle_refuses_an_altered_final(small_project):
    assert run(small_project, "render", "--edition", "en-US").exit_code == 0
    final = small_project / "output" / "final" / "en-US" / "card.pdf"
    final.write_bytes(final.read_bytes() + b"\n% edited by hand\n")
    result = run(small_project, "bundle")
    assert result.exit_code == 1
    assert "output/final/en-US/card.pdf: out of date or altered" in result.output


def test_a_check_error_on_a_printed_number_blocks_the_final(small_project):
    assert run(small_project, "render", "--edition", "en-US").exit_code == 0
    assert run(small_project, "bundle").exit_code == 0
    # One digit lost from the poison line: `outreach check` sees it, so nothing may print it.
    hotlines = small_project / "source" / "hotlines.yaml"
    hotlines.write_text(hotlines.read_text().replace('number_published: "1-800-222-1222"', 'number_published: "1-800-222-122"', 1))
    result = run(small_project, "render", "--edition", "en-US")
    assert result.exit_code == 1
    assert "refused en-US card: 1 check error" in result.output
    assert "source/hotlines.yaml:" in result.output and "does not match e164" in result.output
    assert not (small_project / "output" / "final" / "en-US" / "card.pdf").exists()
    # The proof shows what is wrong; the bundle no longer carries the edition.
    assert run(small_project, "render", "--proof", "--edition", "en-US").exit_code == 0
    proof = small_project / "output" / "proof" / "en-US" / "card.pdf"
    review_page = PdfReader(str(proof)).pages[-1].extract_text()
    assert "Check errors: a final would be refused" in review_page and "does not match e164" in review_page
    assert run(small_project, "bundle").exit_code == 0
    manifest = json.loads((small_project / "output" / "release" / "manifest.json").read_text())
    assert manifest["files"] == []


def test_bundle_refusal_withdraws_the_old_release(small_project):
    assert run(small_project, "render", "--edition", "en-US").exit_code == 0
    assert run(small_project, "bundle").exit_code == 0
    final = small_project / "output" / "final" / "en-US" / "card.pdf"
    final.write_bytes(final.read_bytes() + b"\n% edited by hand\n")
    assert run(small_project, "bundle").exit_code == 1
    release = small_project / "output" / "release"
    assert not (release / "manifest.json").exists() and not (release / "outreach-release.zip").exists()


def test_format_no_edition_prints_is_a_usage_error(small_project):
    result = run(small_project, "render", "--edition", "es-US", "--format", "flyer-a4")
    assert result.exit_code == 2 and "none of the chosen editions is printed as flyer-a4" in result.output


def test_a_new_final_removes_the_old_proof(small_project):
    assert run(small_project, "render", "--proof", "--edition", "en-US", "--format", "card").exit_code == 0
    proof = small_project / "output" / "proof" / "en-US" / "card.pdf"
    assert proof.exists()
    assert run(small_project, "render", "--edition", "en-US", "--format", "card").exit_code == 0
    assert not proof.exists() and not proof.parent.exists()


def test_edited_english_needs_a_new_sign_off_before_it_prints(small_project, key_files):
    facts = small_project / "source" / "facts.yaml"
    facts.write_text(facts.read_text().replace("give the address, and say", "give the street address, and say", 1))
    result = run(small_project, "render", "--edition", "en-US", "--format", "card")
    assert result.exit_code == 1
    assert "call-emergency (stale)" in result.output
    signed = run(small_project, "approve", "en", "call-emergency", "--key", str(key_files["project maintainers"]))
    assert signed.exit_code == 0 and "en: call-emergency approved by project maintainers" in signed.output
    assert run(small_project, "render", "--edition", "en-US", "--format", "card").exit_code == 0
    assert run(small_project, "history", "en", "call-emergency").output.count("approve") == 2


def test_source_revision_names_the_commit_and_marks_uncommitted_content(tmp_path):
    import subprocess

    root = tmp_path / "content"
    (root / "source").mkdir(parents=True)
    (root / "source" / "facts.yaml").write_text("facts: []\n")
    assert source_revision(root) == "unknown (not a git checkout)"
    git = ["git", "-c", "user.name=Test", "-c", "user.email=test@example.org", "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "init", "-q"], cwd=root, check=True)
    subprocess.run([*git, "add", "."], cwd=root, check=True)
    subprocess.run([*git, "commit", "-qm", "content"], cwd=root, check=True)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True).stdout.strip()
    assert len(head) == 40 and source_revision(root) == head
    (root / "output").mkdir()
    (root / "output" / "x.pdf").write_text("generated")  # output/ is not content
    assert source_revision(root) == head
    (root / "source" / "facts.yaml").write_text("facts: [changed]\n")
    assert source_revision(root) == head + "+modified"
