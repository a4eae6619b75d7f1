"""`outreach approve` of a stale translation (the English changed after it was written).

Refused, nothing written, with the old and the new English and a word diff,
until the reviewer passes --english-changed-ok; the record then binds the new
English. The shipped es.po holds two such strings.
"""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest
from click.testing import CliRunner

from conftest import REPO
from pipeline.approval import State, language_states
from pipeline.cli import main
from pipeline.content import read_source
from pipeline.project import Project

FOOTER = "ui.footer.checked"  # stale in the shipped es.po: the Spanish still says the numbers were "verified"
OLD = "Facts from public health agencies. Phone numbers checked {date}."
NEW = "Facts from public health agencies. Phone numbers as each service publishes them, compiled {date}."
MIXES = "naloxone-still-give-for-mixes"  # stale in the shipped es.po too
DRAFT = "both-slow-breathing"  # a contributor draft: not stale


@pytest.fixture
def shipped_es(project_dir):
    """The project copy with the shipped Spanish catalog (drafts and stale drafts, nothing approved)."""
    shutil.copy(REPO / "translations" / "es.po", project_dir / "translations" / "es.po")
    return project_dir


def approve(root, key, *args):
    return CliRunner().invoke(main, ["--project", str(root), "approve", "es", *args, "--key", str(key)])


def translation_files(root):
    """The bytes of every file under translations/, by path: what an approval would write."""
    return {p.relative_to(root): p.read_bytes() for p in sorted((root / "translations").rglob("*")) if p.is_file()}


def states(root):
    return language_states(read_source(Project(root)), "es")


def test_approving_a_stale_translation_is_refused_showing_the_old_and_new_english(shipped_es, key_files):
    before = translation_files(shipped_es)
    assert states(shipped_es)[FOOTER].state is State.STALE
    result = approve(shipped_es, key_files["Ana Reviewer"], FOOTER, MIXES)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.output.splitlines()
    refusals = [line for line in lines if line.startswith("error: translations/es.po:") and "the English changed after this translation was written" in line]
    assert [line.split(": ")[2] for line in refusals] == [FOOTER, MIXES]  # one per id, in the order given
    assert f"    was:     {OLD}" in lines and f"    now:     {NEW}" in lines
    assert "    changes: Facts from public health agencies. Phone numbers [-checked-] {+as each service publishes them, compiled+} {date}." in lines
    assert "--english-changed-ok" in result.output
    assert translation_files(shipped_es) == before  # nothing written: no ledger, the PO as it was
    assert states(shipped_es)[FOOTER].state is State.STALE


def test_english_changed_ok_approves_and_the_record_binds_the_new_english(shipped_es, key_files):
    old_spanish = states(shipped_es)[FOOTER].translation
    result = approve(shipped_es, key_files["Ana Reviewer"], FOOTER, "--english-changed-ok")
    assert result.exit_code == 0, result.output
    assert f"es: {FOOTER} approved by Ana Reviewer" in result.output
    assert f"    against the changed English: {NEW}" in result.output
    [record] = [json.loads(line) for line in (shipped_es / "translations" / "ledger" / "es.jsonl").read_text().splitlines()]
    assert (record["string_id"], record["action"], record["translation"]) == (FOOTER, "approve", old_spanish)
    assert record["english"] == NEW and record["english_sha256"] == hashlib.sha256(NEW.encode()).hexdigest()
    item = states(shipped_es)[FOOTER]
    assert item.state is State.APPROVED and item.entry is not None and item.entry.previous_english is None  # `#| msgid` gone
    again = approve(shipped_es, key_files["Ana Reviewer"], FOOTER)  # no longer stale: no flag needed, nothing new recorded
    assert again.exit_code == 0 and "was already approved" in again.output


def test_approving_a_string_whose_english_did_not_change_needs_no_flag(shipped_es, key_files):
    assert states(shipped_es)[DRAFT].state is State.DRAFT
    result = approve(shipped_es, key_files["Ana Reviewer"], DRAFT)
    assert result.exit_code == 0, result.output
    assert "English changed" not in result.output and "against the changed English" not in result.output
    assert states(shipped_es)[DRAFT].state is State.APPROVED


def test_one_stale_id_refuses_the_whole_approval(shipped_es, key_files):
    before = translation_files(shipped_es)
    result = approve(shipped_es, key_files["Ana Reviewer"], DRAFT, FOOTER)
    assert result.exit_code == 1
    assert f"{FOOTER}: cannot approve: the English changed" in result.output and f"{DRAFT}: cannot approve" not in result.output
    assert translation_files(shipped_es) == before


def test_approve_help_names_the_flag(project_dir):
    result = CliRunner().invoke(main, ["--project", str(project_dir), "approve", "--help"])
    assert "--english-changed-ok" in result.output and "stale" in result.output


def test_a_rejected_stale_translation_counts_as_rejected(shipped_es, key_files):
    """Rejected against the English as it is now: the reviewer's verdict is what status and proofs show."""
    result = CliRunner().invoke(main, ["--project", str(shipped_es), "reject", "es", FOOTER, "--reason", "says the numbers were verified",
                                       "--key", str(key_files["Ana Reviewer"])])
    assert result.exit_code == 0, result.output
    assert states(shipped_es)[FOOTER].state is State.REJECTED
    assert states(shipped_es)[MIXES].state is State.STALE  # quiet: a stale string nobody rejected stays stale


def test_a_proof_shows_why_a_string_was_rejected(shipped_es, key_files):
    """The translator reading the proof sees the reviewer's reason beside the rejected string."""
    from pipeline.build import Gate

    result = CliRunner().invoke(main, ["--project", str(shipped_es), "reject", "es", DRAFT, "--reason", "say <breathing> plainly",
                                       "--key", str(key_files["Ana Reviewer"])])
    assert result.exit_code == 0, result.output
    source = read_source(Project(shipped_es))
    job = Gate(source).proof_job(source.editions["es-US"], "flyer-letter")
    rows = {row[0]: row[1] for row in job.unapproved}
    assert rows[DRAFT] == "rejected by Ana Reviewer: say <breathing> plainly"
    assert rows[FOOTER] == "stale"  # quiet: other states as they were
