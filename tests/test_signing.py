"""Signed ledger records, who may sign (source/reviewers.yaml), revocation, and git-anchored ledgers."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from click.testing import CliRunner
from conftest import NOW, REPO, write_test_key

from pipeline import ledger as ledger_module
from pipeline.approval import State, decide, language_states
from pipeline.build import Gate
from pipeline.cli import main
from pipeline.content import read_source
from pipeline.errors import ContentError
from pipeline.ledger import make_decision, read_ledger, text_hash
from pipeline.project import Project
from pipeline.reviewers import read_reviewers
from pipeline.signing import fingerprint, load_signing_key

CALL = "call-emergency"
FORGED = "No llames al {emergency}; espera a que despierte."


@pytest.fixture
def es_source(project_dir, project):
    shutil.copy(REPO / "translations" / "es.po", project_dir / "translations" / "es.po")
    return read_source(project)


def run(project_dir, *args, env=None, input=None):
    return CliRunner().invoke(main, ["--project", str(project_dir), *args], env=env, input=input)


def ledger_lines(project_dir, language="es"):
    path = project_dir / "translations" / "ledger" / f"{language}.jsonl"
    return path.read_text().splitlines() if path.exists() else []


def write_ledger_lines(project_dir, lines, language="es"):
    (project_dir / "translations" / "ledger" / f"{language}.jsonl").write_text("".join(line + "\n" for line in lines))


def set_translation(project, string_id, text):
    """A hand edit of the PO: new text, `fuzzy` removed (what a forger would do)."""
    import polib

    po = polib.pofile(str(project.po_path("es")), wrapwidth=0)
    entry = po.find(string_id, by="msgctxt")
    entry.msgstr = text
    if "fuzzy" in entry.flags:
        entry.flags.remove("fuzzy")
    po.save()


def es_edition(source):
    return next(e for e in source.editions.values() if e.language == "es")


# ------------------------------------------------------------------ signing


def test_every_record_is_signed_by_the_reviewers_listed_key(es_source, project, keys):
    decide(es_source, "es", [CALL], keys["Ana Reviewer"], "approve", NOW)
    decide(es_source, "es", ["ui.label.call"], keys["Ana Reviewer"], "reject", NOW, reason="say 'Llame'")
    ledger = read_ledger(project, "es")
    assert ledger.problems == () and len(ledger.decisions) == 2
    for record in ledger.decisions:
        assert record.reviewer == "Ana Reviewer" and record.key == keys["Ana Reviewer"].public_line and record.signature
    assert language_states(es_source, "es")[CALL].state is State.APPROVED
    # The shipped English is signed too, by the (test) maintainers' key listed for en.
    english = read_ledger(project, "en")
    assert english.problems == () and {d.key for d in english.decisions} == {keys["project maintainers"].public_line}


def test_fingerprint_is_what_ssh_keygen_prints(tmp_path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "x", "-f", str(tmp_path / "k")], check=True)
    printed = subprocess.run(["ssh-keygen", "-l", "-f", str(tmp_path / "k.pub")], capture_output=True, text=True, check=True).stdout.split()[1]
    assert load_signing_key(tmp_path / "k").fingerprint == printed == fingerprint((tmp_path / "k.pub").read_text())


def test_a_forged_and_rehashed_newest_record_is_caught_and_refused(es_source, project, project_dir, keys, monkeypatch):
    decide(es_source, "es", [CALL], keys["Ana Reviewer"], "approve", NOW)
    lines = ledger_lines(project_dir)
    record = json.loads(lines[-1])
    # The newest record's translation replaced and every hash recomputed: the chain alone cannot tell.
    record["translation"] = FORGED
    record["translation_sha256"] = text_hash(FORGED)
    record["hash"] = ledger_module._record_hash(record)
    write_ledger_lines(project_dir, [*lines[:-1], json.dumps(record, ensure_ascii=False, sort_keys=True)])
    set_translation(project, CALL, FORGED)

    result = run(project_dir, "check", "--language", "es")
    assert result.exit_code == 1
    assert f"translations/ledger/es.jsonl:{len(lines)}: error: ledger record forged or altered: its signature does not verify" in result.output
    source = read_source(project)
    assert language_states(source, "es")[CALL].state is not State.APPROVED
    assert not Gate(source).allows(es_edition(source), "card")
    assert "error" in run(project_dir, "history", "es").output

    # Without the signature check the forgery would count as Ana's approval.
    monkeypatch.setattr(ledger_module, "verify", lambda *args: True)
    assert read_ledger(project, "es").problems == ()
    assert language_states(source, "es")[CALL].state is State.APPROVED


def test_a_record_re_signed_with_an_unlisted_key_approves_nothing(es_source, project, project_dir, keys, tmp_path):
    decide(es_source, "es", [CALL], keys["Ana Reviewer"], "approve", NOW)
    lines = ledger_lines(project_dir)
    forger = load_signing_key(write_test_key(tmp_path / "forger", "forger"))
    previous = json.loads(lines[-1])["previous"]
    forged = make_decision(previous, "es", CALL, "approve", "Ana Reviewer", es_source.english(CALL), FORGED, NOW, key=forger)
    write_ledger_lines(project_dir, [*lines[:-1], json.dumps(ledger_module.asdict(forged), ensure_ascii=False, sort_keys=True)])
    set_translation(project, CALL, FORGED)
    source = read_source(project)
    item = language_states(source, "es")[CALL]
    assert item.state is State.NEEDS_REVIEW and "not listed in source/reviewers.yaml" in item.note
    assert not Gate(source).allows(es_edition(source), "card")


def test_a_listed_key_cannot_sign_in_someone_elses_name(es_source, project, project_dir, keys, monkeypatch):
    head = read_ledger(project, "es").head
    impostor = make_decision(head, "es", CALL, "approve", "Esme Spanish", es_source.english(CALL), es_source.english(CALL), NOW, key=keys["Ben Reviewer"])
    write_ledger_lines(project_dir, [json.dumps(ledger_module.asdict(impostor), ensure_ascii=False, sort_keys=True)])
    set_translation(project, CALL, es_source.english(CALL))
    item = language_states(read_source(project), "es")[CALL]
    assert item.state is not State.APPROVED and "signed with the key of Ben Reviewer" in item.note


def test_an_unsigned_record_is_an_error_at_its_line(es_source, project, project_dir, keys):
    decide(es_source, "es", ["ui.label.call"], keys["Ana Reviewer"], "approve", NOW)
    head = read_ledger(project, "es").head
    unsigned = make_decision(head, "es", CALL, "approve", "Ana Reviewer", es_source.english(CALL), es_source.english(CALL), NOW)
    lines = ledger_lines(project_dir)
    write_ledger_lines(project_dir, [*lines, json.dumps(ledger_module.asdict(unsigned), ensure_ascii=False, sort_keys=True)])
    result = run(project_dir, "check", "--language", "es")
    assert result.exit_code == 1
    assert "translations/ledger/es.jsonl:2: error: unsigned ledger record" in result.output
    # Its chain link and hashes are right: only the missing signature gives it away.
    assert [p.message.split(":")[0] for p in read_ledger(project, "es").problems] == ["unsigned ledger record"]
    source = read_source(project)
    assert not Gate(source).allows(es_edition(source), "card")
    with pytest.raises(ContentError, match="unsigned ledger record"):
        decide(read_source(project), "es", ["ui.label.free"], keys["Ana Reviewer"], "approve", NOW)


def test_english_signed_by_a_key_not_listed_here_approves_nothing_until_re_signed(project_dir, key_files):
    from resign_english import main as resign

    shutil.copy(REPO / "translations" / "ledger" / "en.jsonl", project_dir / "translations" / "ledger" / "en.jsonl")
    assert run(project_dir, "check").exit_code == 0  # the shipped ledger is signed: by the real maintainers' key, not listed here
    result = run(project_dir, "status", "en")
    assert "no longer valid: key SHA256:" in result.output and "not listed in source/reviewers.yaml" in result.output
    assert resign(["--key", str(key_files["project maintainers"]), "--project", str(project_dir)]) == 0
    result = run(project_dir, "status", "en")
    assert "no longer valid" not in result.output and result.output.splitlines()[1].split()[1] != "0"
    assert resign(["--key", str(key_files["Esme Spanish"]), "--project", str(project_dir)]) == 2  # not listed for en


# ------------------------------------------------------------------ who may sign


def test_a_reviewer_cannot_approve_a_language_not_theirs(es_source, project_dir, key_files):
    before = (project_dir / "translations" / "es.po").read_bytes()
    result = run(project_dir, "approve", "es", CALL, "--key", str(key_files["project maintainers"]))
    assert result.exit_code == 1
    assert "source/reviewers.yaml:" in result.output and "project maintainers may review en only, not es" in result.output
    assert ledger_lines(project_dir) == [] and (project_dir / "translations" / "es.po").read_bytes() == before
    result = run(project_dir, "reject", "es", CALL, "--reason", "no", "--key", str(key_files["project maintainers"]))
    assert result.exit_code == 1 and ledger_lines(project_dir) == []
    # Without the language check the maintainers' key would have approved Spanish.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("pipeline.reviewers.Reviewer.may_review", lambda self, language: True)
        assert run(project_dir, "approve", "es", CALL, "--key", str(key_files["project maintainers"])).exit_code == 0
    write_ledger_lines(project_dir, [])
    (project_dir / "translations" / "es.po").write_bytes(before)
    # Quiet: a reviewer listed for es may.
    result = run(project_dir, "approve", "es", CALL, "--key", str(key_files["Esme Spanish"]))
    assert result.exit_code == 0 and f"es: {CALL} approved by Esme Spanish" in result.output


def test_a_key_not_listed_cannot_approve(es_source, project_dir, tmp_path):
    stranger = write_test_key(tmp_path / "stranger", "stranger")
    result = run(project_dir, "approve", "es", CALL, "--key", str(stranger))
    assert result.exit_code == 1 and "is not listed: only a listed reviewer can approve or reject" in result.output
    assert ledger_lines(project_dir) == []


def test_signing_with_the_public_half_says_which_file_to_pass(es_source, project_dir, tmp_path):
    key = write_test_key(tmp_path / "mine", "mine")
    result = run(project_dir, "approve", "es", CALL, "--key", str(key) + ".pub")
    assert result.exit_code == 2 and f"this is a public key; sign with its private half ({key})" in result.output
    assert ledger_lines(project_dir) == []


def test_reviewer_name_must_match_the_key(es_source, project_dir, key_files):
    result = run(project_dir, "approve", "es", CALL, "--reviewer", "Ben Reviewer", "--key", str(key_files["Ana Reviewer"]))
    assert result.exit_code == 1 and "--reviewer 'Ben Reviewer' does not match the key's owner 'Ana Reviewer'" in result.output
    assert ledger_lines(project_dir) == []
    result = run(project_dir, "approve", "es", CALL, "--reviewer", "Ana Reviewer", "--key", str(key_files["Ana Reviewer"]))
    assert result.exit_code == 0, result.output


def test_key_from_environment_and_passphrase(es_source, project_dir, tmp_path):
    locked = write_test_key(tmp_path / "locked", "carla@example.org", passphrase="correct horse")
    assert run(project_dir, "reviewers", "add", "Carla", "--languages", "es", "--key-file", f"{locked}.pub").exit_code == 0
    env = {"OUTREACH_SIGNING_KEY": str(locked), "OUTREACH_KEY_PASSPHRASE": "wrong"}
    result = run(project_dir, "approve", "es", CALL, env=env)
    assert result.exit_code == 2 and "wrong passphrase" in result.output and ledger_lines(project_dir) == []
    env["OUTREACH_KEY_PASSPHRASE"] = "correct horse"
    result = run(project_dir, "approve", "es", CALL, env=env)
    assert result.exit_code == 0 and f"{CALL} approved by Carla" in result.output
    # Asked for, hidden, when the environment has none.
    result = run(project_dir, "approve", "es", "ui.label.call", "--key", str(locked), env={"OUTREACH_KEY_PASSPHRASE": None}, input="correct horse\n")
    assert result.exit_code == 0 and "Passphrase for" in result.output and "correct horse" not in result.output


def test_a_missing_or_wrong_kind_of_key_is_a_clear_error(es_source, project_dir, tmp_path):
    result = run(project_dir, "approve", "es", CALL, "--key", str(tmp_path / "none"))
    assert result.exit_code == 2 and "no such key file" in result.output and "Traceback" not in result.output
    subprocess.run(["ssh-keygen", "-q", "-t", "ecdsa", "-N", "", "-f", str(tmp_path / "ec")], check=True)
    result = run(project_dir, "approve", "es", CALL, "--key", str(tmp_path / "ec"))
    assert result.exit_code == 2 and "Ed25519" in result.output


# ------------------------------------------------------------------ revocation


def test_removing_a_reviewer_revokes_their_approvals(es_source, project, project_dir, keys):
    decide(es_source, "es", [CALL], keys["Ana Reviewer"], "approve", NOW)
    source = read_source(project)
    assert language_states(source, "es")[CALL].state is State.APPROVED
    reviewers = project_dir / "source" / "reviewers.yaml"
    listed = reviewers.read_text()
    start = listed.index("  - name: Ana Reviewer")
    end = listed.index("  - name:", start + 1)
    reviewers.write_text(listed[:start] + listed[end:])

    source = read_source(project)
    item = language_states(source, "es")[CALL]
    assert item.state is State.NEEDS_REVIEW
    assert item.note.startswith(f"approve of {CALL} by Ana Reviewer no longer valid: key SHA256:") and "not for es" in item.note
    assert not Gate(source).allows(es_edition(source), "card")
    status = run(project_dir, "status", "es")
    assert f"es: {CALL} (needs review): approve of {CALL} by Ana Reviewer no longer valid" in status.output
    assert "NOT VALID" in run(project_dir, "history", "es").output
    check = run(project_dir, "check", "--language", "es")
    assert check.exit_code == 0 and "warning: approve of call-emergency by Ana Reviewer no longer valid" in check.output
    # A revoked reviewer cannot sign any more; someone listed re-approves it.
    with pytest.raises(ContentError, match="is not listed"):
        decide(source, "es", [CALL], keys["Ana Reviewer"], "approve", NOW)
    decide(source, "es", [CALL], keys["Esme Spanish"], "approve", NOW)
    assert language_states(read_source(project), "es")[CALL].state is State.APPROVED


def test_narrowing_a_reviewers_languages_revokes_only_those(es_source, project, project_dir, keys):
    decide(es_source, "es", [CALL], keys["Ben Reviewer"], "approve", NOW)
    reviewers = project_dir / "source" / "reviewers.yaml"
    text = reviewers.read_text()
    start = text.index("  - name: Ben Reviewer")
    reviewers.write_text(text[:start] + text[start:].replace("languages: [all]", "languages: [fr]", 1))
    item = language_states(read_source(project), "es")[CALL]
    assert item.state is State.NEEDS_REVIEW and "listed for fr only, not for es" in item.note


def test_a_revoked_rejection_does_not_revive_an_older_approval(es_source, project, project_dir, keys):
    decide(es_source, "es", [CALL], keys["Esme Spanish"], "approve", NOW)
    decide(read_source(project), "es", [CALL], keys["Ben Reviewer"], "reject", NOW, reason="wrong")
    reviewers = project_dir / "source" / "reviewers.yaml"
    text = reviewers.read_text()
    start = text.index("  - name: Ben Reviewer")
    end = text.index("  - name:", start + 1)
    reviewers.write_text(text[:start] + text[end:])
    assert language_states(read_source(project), "es")[CALL].state is not State.APPROVED


# ------------------------------------------------------------------ reviewers.yaml


def test_reviewers_add_keeps_comments_and_lists(project_dir, tmp_path):
    reviewers = project_dir / "source" / "reviewers.yaml"
    before = reviewers.read_text()
    comments = [line for line in before.splitlines() if line.lstrip().startswith("#")]
    assert comments
    key = write_test_key(tmp_path / "ana", "ana@example.org")
    result = run(project_dir, "reviewers", "add", "Ana Ruiz", "--languages", "es,fr", "--key-file", f"{key}.pub")
    assert result.exit_code == 0, result.output
    after = reviewers.read_text()
    assert after.startswith(before) and all(line in after.splitlines() for line in comments)
    entry = read_reviewers(Project(project_dir)).entries[-1]
    assert entry.name == "Ana Ruiz" and entry.languages == ("es", "fr") and entry.fingerprint == load_signing_key(key).fingerprint
    listing = run(project_dir, "reviewers", "list").output
    assert f"Ana Ruiz  [es, fr]  {entry.fingerprint}" in listing
    # The same key twice, a private key, an unknown language: refused, nothing written.
    assert run(project_dir, "reviewers", "add", "Other", "--languages", "es", "--key-file", f"{key}.pub").exit_code == 1
    assert run(project_dir, "reviewers", "add", "Other", "--languages", "es", "--key-file", str(key)).exit_code == 2
    assert run(project_dir, "reviewers", "add", "Other", "--languages", "xx", "--key-file", f"{key}.pub").exit_code == 2
    assert reviewers.read_text() == after


def test_reviewers_add_to_an_empty_list(project_dir, tmp_path):
    reviewers = project_dir / "source" / "reviewers.yaml"
    reviewers.write_text("# nobody yet\nreviewers: []\n")
    key = write_test_key(tmp_path / "k", "k")
    assert run(project_dir, "reviewers", "add", "First", "--languages", "all", "--key-file", f"{key}.pub").exit_code == 0
    assert reviewers.read_text().startswith("# nobody yet\nreviewers:\n  - name: \"First\"")


@pytest.mark.parametrize(
    "entry, line, message",
    [
        ("  - name: X\n    languages: es\n    key: ssh-ed25519 AAAA x\n", 9, "languages must be a list"),
        ("  - name: X\n    languages: [es]\n    key: ssh-rsa AAAAB3NzaC1yc2E x\n", 10, "reviewers sign with Ed25519 keys"),
        ("  - name: X\n    languages: [es]\n    key: ssh-ed25519 AAAAnotakey x\n", 10, "not a valid ssh-ed25519 public key"),
        ("  - name: X\n    languages: [es]\n", 8, "reviewer entry lacks key"),
        ("  - name: X\n    langauges: [es]\n    key: k\n", 9, "did you mean 'languages'"),
    ],
)
def test_bad_reviewers_file_is_reported_with_its_line(project_dir, entry, line, message):
    (project_dir / "source" / "reviewers.yaml").write_text("# c\n# c\n# c\n# c\n# c\n# c\nreviewers:\n" + entry)
    result = run(project_dir, "check")
    assert result.exit_code == 1 and f"source/reviewers.yaml:{line}: " in result.output and message in result.output
    assert "Traceback" not in result.output


# ------------------------------------------------------------------ anchored in git


def git(root, *args):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false", *args],
                   cwd=root, check=True, capture_output=True)


@pytest.fixture
def git_project(es_source, project, project_dir, keys):
    """A project committed to git with two es records: an approval, then a rejection."""
    decide(es_source, "es", [CALL], keys["Ana Reviewer"], "approve", NOW)
    decide(read_source(project), "es", [CALL], keys["Ana Reviewer"], "reject", NOW, reason="say 'calle y número'")
    git(project_dir, "init", "-q")
    git(project_dir, "add", "-A")
    git(project_dir, "commit", "-q", "-m", "content")
    return project_dir


def test_deleting_the_newest_record_is_caught_against_head(git_project, project):
    lines = ledger_lines(git_project)
    write_ledger_lines(git_project, lines[:-1])  # the rejection undone
    set_translation(project, CALL, read_ledger(project, "es").decisions[-1].translation)  # and `fuzzy` removed by hand
    result = run(git_project, "check", "--language", "es")
    assert result.exit_code == 1
    assert "translations/ledger/es.jsonl:2: error: record deleted: line 2 of the ledger at HEAD is gone" in result.output
    source = read_source(project)
    assert not Gate(source).allows(es_edition(source), "card")

    # Without git there is nothing to compare with: the shortened ledger itself is valid.
    shutil.rmtree(git_project / ".git")
    assert run(git_project, "check", "--language", "es").exit_code == 0
    assert language_states(read_source(project), "es")[CALL].state is State.APPROVED


def test_a_rewritten_record_is_named_and_since_checks_a_tag(git_project, project, keys):
    git(git_project, "tag", "v1")
    decide(read_source(project), "es", ["ui.label.call"], keys["Ana Reviewer"], "approve", NOW)
    assert run(git_project, "check", "--language", "es").exit_code == 0  # appending is how a ledger grows
    git(git_project, "commit", "-q", "-am", "more")
    lines = ledger_lines(git_project)
    # The whole ledger rebuilt from the first record, validly chained and signed, without the rejection.
    write_ledger_lines(git_project, lines[:1])
    decide(read_source(project), "es", ["ui.label.call"], keys["Ana Reviewer"], "approve", NOW)
    assert read_ledger(project, "es").problems == ()
    result = run(git_project, "check", "--since", "v1", "--language", "es")
    assert result.exit_code == 1 and "es.jsonl:2: error: record rewritten: line 2 differs from the ledger at v1" in result.output
    assert run(git_project, "check", "--since", "no-such-tag").exit_code == 2


def test_a_deleted_ledger_is_caught(git_project):
    (git_project / "translations" / "ledger" / "es.jsonl").unlink()
    result = run(git_project, "check", "--language", "es")
    assert result.exit_code == 1 and "ledger deleted" in result.output


def test_a_project_in_a_subfolder_of_a_repository(es_source, project, project_dir, keys, tmp_path):
    decide(es_source, "es", [CALL], keys["Ana Reviewer"], "approve", NOW)
    git(project_dir.parent, "init", "-q")
    git(project_dir.parent, "add", "-A")
    git(project_dir.parent, "commit", "-q", "-m", "content")
    assert run(project_dir, "check", "--language", "es").exit_code == 0
    write_ledger_lines(project_dir, [])
    assert "es.jsonl:1: error: record deleted" in run(project_dir, "check", "--language", "es").output
