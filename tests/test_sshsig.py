"""Ledger signatures in OpenSSH's SSHSIG format: checked by the real `ssh-keygen -Y verify` and by ours, both ways.

Keys here are made by `ssh-keygen -t ed25519 -N ''` itself. Every refusal is
shown on both verifiers; the older raw Ed25519 records (the shipped English
sign-offs) keep verifying.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import NOW, REPO

from pipeline import ledger as ledger_module
from pipeline.approval import decide
from pipeline.cli import main
from pipeline.content import read_source
from pipeline.ledger import read_ledger, signed_message, text_hash
from pipeline.project import Project
from pipeline.reviewers import Reviewer, read_reviewers
from pipeline.signing import NAMESPACE, is_sshsig, load_signing_key, signature_problem, verify

pytestmark = pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="needs OpenSSH's ssh-keygen")

CALL = "call-emergency"
CARLA = "Carla Núñez"  # a space and accents: a principal written in quotes


def ssh_keygen(*args: str, input: bytes | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["ssh-keygen", *args], input=input, capture_output=True, cwd=cwd)


@pytest.fixture(scope="module")
def ssh_keys(tmp_path_factory) -> dict[str, Path]:
    """Private key files made by `ssh-keygen -t ed25519 -N ''`: Carla's, and another person's."""
    folder = tmp_path_factory.mktemp("ssh")
    for name in ("carla", "other"):
        ssh_keygen("-q", "-t", "ed25519", "-N", "", "-C", f"{name}@example.org", "-f", str(folder / name))
    return {name: folder / name for name in ("carla", "other")}


def public_line(key: Path) -> str:
    return " ".join(key.with_name(key.name + ".pub").read_text().split()[:2])


def run(project_dir, *args):
    return CliRunner().invoke(main, ["--project", str(project_dir), *args])


@pytest.fixture
def carla_approved(project_dir, project, ssh_keys):
    """A project where Carla (listed for es with her ssh-keygen key) has approved call-emergency."""
    shutil.copy(REPO / "translations" / "es.po", project_dir / "translations" / "es.po")
    assert run(project_dir, "reviewers", "add", CARLA, "--languages", "es", "--key-file", f"{ssh_keys['carla']}.pub").exit_code == 0
    decide(read_source(project), "es", [CALL], load_signing_key(ssh_keys["carla"]), "approve", NOW)
    return read_ledger(project, "es").decisions[-1]


def allowed_signers(tmp_path: Path, name: str, key: Path) -> Path:
    path = tmp_path / "allowed_signers"
    path.write_text(f'"{name}" namespaces="{NAMESPACE}" {public_line(key)}\n')
    return path


def openssh_accepts(allowed: Path, name: str, message: bytes, armored: str, namespace: str = NAMESPACE) -> bool:
    signature = allowed.with_name("check.sig")
    signature.write_text(armored)
    result = ssh_keygen("-Y", "verify", "-f", str(allowed), "-I", name, "-n", namespace, "-s", str(signature), input=message)
    return result.returncode == 0


def armored(blob: bytes) -> str:
    body = base64.b64encode(blob).decode()
    return "-----BEGIN SSH SIGNATURE-----\n" + "\n".join(body[i:i + 70] for i in range(0, len(body), 70)) + "\n-----END SSH SIGNATURE-----\n"


def dearmored(text: str) -> str:
    """The base64 body of an armored signature: what a ledger record stores."""
    return "".join(text.strip().splitlines()[1:-1])


# ------------------------------------------------------------------ interoperability


def test_a_record_exported_verifies_with_ssh_keygen_alone(carla_approved, project, project_dir, ssh_keys, tmp_path):
    record = carla_approved
    assert is_sshsig(record.signature) and record.signature.startswith("U1NIU0lH")  # base64 of "SSHSIG"
    assert read_ledger(project, "es").problems == ()

    audit = tmp_path / "audit"
    result = run(project_dir, "history", "es", "--export-signatures", str(audit))
    assert result.exit_code == 0, result.output
    name = record.hash[:12]
    assert (audit / f"{name}.msg").read_bytes() == signed_message(ledger_module.asdict(record))
    assert json.loads((audit / f"{name}.msg").read_bytes())["translation"] == record.translation  # readable as it is
    # The README's command, exactly: OpenSSH alone says who signed.
    check = subprocess.run(
        f'ssh-keygen -Y verify -f allowed_signers -I "{CARLA}" -n {NAMESPACE} -s {name}.sig < {name}.msg',
        shell=True, cwd=audit, capture_output=True, text=True,
    )
    assert check.returncode == 0, check.stderr
    assert f'Good "{NAMESPACE}" signature for {CARLA} with ED25519 key' in check.stdout
    script = subprocess.run(["sh", str(audit / "verify.sh")], capture_output=True, text=True)
    assert script.returncode == 0 and script.stdout.count("Good ") == 1, script.stderr
    # Only the reviewers listed for es can sign for es, under their listed names.
    listed = (audit / "allowed_signers").read_text().splitlines()
    assert f'"{CARLA}" namespaces="{NAMESPACE}" {public_line(ssh_keys["carla"])}' in listed
    assert not any("project maintainers" in line for line in listed)  # listed for en only
    # Ours agrees on the same files.
    assert verify(record.key, (audit / f"{name}.msg").read_bytes(), dearmored((audit / f"{name}.sig").read_text()))


def test_ssh_keygen_signs_what_we_sign_and_we_accept_its_signatures(carla_approved, project, project_dir, ssh_keys):
    record = carla_approved
    message = signed_message(ledger_module.asdict(record))
    made = ssh_keygen("-Y", "sign", "-f", str(ssh_keys["carla"]), "-n", NAMESPACE, input=message)
    assert made.returncode == 0, made.stderr
    # Ed25519 is deterministic: OpenSSH's signature is byte for byte the one in the ledger.
    assert dearmored(made.stdout.decode()) == record.signature
    # A different but valid one (SHA-256 inside, which OpenSSH also writes) is accepted too, in the ledger itself.
    made = ssh_keygen("-Y", "sign", "-f", str(ssh_keys["carla"]), "-n", NAMESPACE, "-O", "hashalg=sha256", input=message)
    other = dearmored(made.stdout.decode())
    assert other != record.signature and verify(record.key, message, other)
    path = project.ledger_path("es")
    line = json.loads(path.read_text())
    path.write_text(json.dumps({**line, "signature": other}, ensure_ascii=False, sort_keys=True) + "\n")
    assert read_ledger(project, "es").problems == ()


# ------------------------------------------------------------------ refusals, by both verifiers


def ssh_string(value: bytes) -> bytes:
    return len(value).to_bytes(4, "big") + value


def key_blob(key: Path) -> bytes:
    return base64.b64decode(public_line(key).split()[1])


def sshsig(signer: Path, message: bytes, *, namespace=NAMESPACE, hash_name="sha512", version=1, embedded: Path | None = None,
           reserved=b"", kind=b"ssh-ed25519", trailing=b"") -> tuple[bytes, bytes, bytes]:
    """An SSHSIG blob built by hand (PROTOCOL.sshsig): the blob, the raw Ed25519 signature and the bytes it signs."""
    digest = hashlib.new(hash_name, message).digest()
    signed = b"SSHSIG" + ssh_string(namespace.encode()) + ssh_string(b"") + ssh_string(hash_name.encode()) + ssh_string(digest)
    raw = load_signing_key(signer).private.sign(signed)
    blob = (
        b"SSHSIG" + version.to_bytes(4, "big") + ssh_string(key_blob(embedded or signer)) + ssh_string(namespace.encode())
        + ssh_string(reserved) + ssh_string(hash_name.encode()) + ssh_string(ssh_string(kind) + ssh_string(raw))
    )
    return blob + trailing, raw, signed


MESSAGE = json.dumps({"action": "approve", "reviewer": CARLA, "translation": "Llame al 911."}, ensure_ascii=False).encode()

# name: (how the blob is made from Carla's key, what ours says). In each the Ed25519 signature inside is
# itself valid for Carla's key: only the guard named stands between it and acceptance.
REFUSED = {
    "another namespace": (dict(namespace="file"), "SSHSIG namespace 'file'"),
    "key inside swapped": (dict(embedded="other"), "carries another key than the record names"),
    "bytes appended": (dict(trailing=b"\0"), "bytes after the end of the SSHSIG signature"),
    "version 2": (dict(version=2), "SSHSIG version 2, not 1"),
    "hash OpenSSH refuses": (dict(hash_name="sha1"), "SSHSIG hash 'sha1'"),
    "not an Ed25519 signature inside": (dict(kind=b"ssh-rsa"), "not an ssh-ed25519 signature inside"),
}


@pytest.mark.parametrize("case", REFUSED, ids=list(REFUSED))
def test_each_guard_refuses_what_openssh_refuses(case, ssh_keys, tmp_path):
    options, reason = REFUSED[case]
    if "embedded" in options:
        options = {**options, "embedded": ssh_keys[options["embedded"]]}
    blob, raw, signed = sshsig(ssh_keys["carla"], MESSAGE, **options)
    carla = public_line(ssh_keys["carla"])
    allowed = allowed_signers(tmp_path, CARLA, ssh_keys["carla"])
    assert not openssh_accepts(allowed, CARLA, MESSAGE, armored(blob))
    assert reason in signature_problem(carla, MESSAGE, base64.b64encode(blob).decode())
    # The signature itself is good: the guard is what refuses it.
    load_signing_key(ssh_keys["carla"]).private.public_key().verify(raw, signed)


def test_a_tampered_message_another_key_or_namespace_is_refused_by_both(ssh_keys, tmp_path):
    carla = public_line(ssh_keys["carla"])
    allowed = allowed_signers(tmp_path, CARLA, ssh_keys["carla"])
    message = tmp_path / "record.msg"
    message.write_bytes(MESSAGE)
    good = ssh_keygen("-Y", "sign", "-f", str(ssh_keys["carla"]), "-n", NAMESPACE, input=MESSAGE).stdout.decode()
    assert openssh_accepts(allowed, CARLA, MESSAGE, good) and verify(carla, MESSAGE, dearmored(good))  # quiet
    tampered = MESSAGE.replace(b"911", b"112")
    assert not openssh_accepts(allowed, CARLA, tampered, good)
    assert signature_problem(carla, tampered, dearmored(good)) == "the SSHSIG signature does not match"
    by_other = ssh_keygen("-Y", "sign", "-f", str(ssh_keys["other"]), "-n", NAMESPACE, input=MESSAGE).stdout.decode()
    assert not openssh_accepts(allowed, CARLA, MESSAGE, by_other) and not verify(carla, MESSAGE, dearmored(by_other))
    as_file = ssh_keygen("-Y", "sign", "-f", str(ssh_keys["carla"]), "-n", "file", input=MESSAGE).stdout.decode()
    assert not openssh_accepts(allowed, CARLA, MESSAGE, as_file) and not verify(carla, MESSAGE, dearmored(as_file))
    # A git commit signature by the same key is no ledger signature either.
    as_git = ssh_keygen("-Y", "sign", "-f", str(ssh_keys["carla"]), "-n", "git", input=MESSAGE).stdout.decode()
    assert "namespace 'git'" in signature_problem(carla, MESSAGE, dearmored(as_git))


def test_what_openssh_ignores_we_ignore(ssh_keys, tmp_path):
    # PROTOCOL.sshsig: the reserved field is for future use; OpenSSH does not sign or check it.
    blob, _, _ = sshsig(ssh_keys["carla"], MESSAGE, reserved=b"future")
    allowed = allowed_signers(tmp_path, CARLA, ssh_keys["carla"])
    assert openssh_accepts(allowed, CARLA, MESSAGE, armored(blob))
    assert verify(public_line(ssh_keys["carla"]), MESSAGE, base64.b64encode(blob).decode())


def test_malformed_signatures_are_refused_not_raised(ssh_keys):
    carla = public_line(ssh_keys["carla"])
    blob, _, _ = sshsig(ssh_keys["carla"], MESSAGE)
    for signature, reason in [
        (base64.b64encode(blob[:40]).decode(), "a truncated SSHSIG signature"),
        (base64.b64encode(blob[:8]).decode(), "a truncated SSHSIG signature"),
        (armored(blob), "not base64"),  # a record stores the body, not the armored text
        (base64.b64encode(b"\0" * 65).decode(), "neither an SSHSIG signature nor a 64-byte Ed25519 one"),
    ]:
        assert reason in signature_problem(carla, MESSAGE, signature)


# ------------------------------------------------------------------ the older format

# The first English sign-offs as shipped, signed by the maintainers' key in the raw Ed25519 format
# (kept here, so these tests hold after the shipped ledger is re-signed as SSHSIG).
OLDER = Path(__file__).parent / "data" / "ledger-raw-ed25519.jsonl"


def with_older_english(project_dir: Path) -> list[dict]:
    """The test project with OLDER as its English ledger and the key that signed it listed for en."""
    records = [json.loads(line) for line in OLDER.read_text().splitlines()]
    shutil.copy(OLDER, project_dir / "translations" / "ledger" / "en.jsonl")
    reviewers = project_dir / "source" / "reviewers.yaml"
    listed = read_reviewers(Project(project_dir)).entries
    maintainers = next(r for r in listed if r.name == records[0]["reviewer"])
    reviewers.write_text(reviewers.read_text().replace(maintainers.key.split()[1], records[0]["key"].split()[1]))
    return records


def test_older_format_records_still_verify():
    records = [json.loads(line) for line in OLDER.read_text().splitlines()]
    assert records and not any(is_sshsig(r["signature"]) for r in records)
    for record in records:
        assert verify(record["key"], signed_message(record), record["signature"])
    forged = {**records[0], "translation": "Benzos are safe with opioids."}
    assert signature_problem(records[0]["key"], signed_message(forged), records[0]["signature"]) == "the Ed25519 signature does not match"
    # And the shipped ledger, whichever format its records are in.
    assert read_ledger(Project(REPO), "en").problems == ()


def test_an_altered_older_format_record_breaks_the_ledger(project_dir):
    records = with_older_english(project_dir)
    assert run(project_dir, "check").exit_code == 0  # quiet
    record = records[0]
    record["translation"] = record["english"] = "Benzos are safe with opioids."
    record["english_sha256"] = record["translation_sha256"] = text_hash(record["translation"])
    record["hash"] = ledger_module._record_hash(record)
    (project_dir / "translations" / "ledger" / "en.jsonl").write_text(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
    result = run(project_dir, "check")
    assert result.exit_code == 1
    assert "en.jsonl:1: error: ledger record forged or altered" in result.output and "the Ed25519 signature does not match" in result.output


# ------------------------------------------------------------------ what the export leaves out


def test_the_export_skips_older_format_records_and_says_so(project_dir, tmp_path):
    # Quiet first: the test project's English sign-offs, re-signed by the test maintainers' key, are SSHSIG.
    result = run(project_dir, "history", "en", "--export-signatures", str(tmp_path / "audit"))
    assert result.exit_code == 0 and "skipped" not in result.output
    check = subprocess.run(["sh", str(tmp_path / "audit" / "verify.sh")], capture_output=True, text=True)
    assert check.returncode == 0 and check.stdout.count("Good ") == len(read_ledger(Project(project_dir), "en").decisions) > 10

    records = with_older_english(project_dir)
    assert read_ledger(Project(project_dir), "en").problems == ()  # valid, counted: only OpenSSH cannot check them
    result = run(project_dir, "history", "en", "--export-signatures", str(tmp_path / "older"))
    assert result.exit_code == 1 and "no record to export" in result.output
    assert f"{len(records)} records: signed in the older raw Ed25519 format, which only `outreach check` verifies" in result.output
    assert not (tmp_path / "older").exists()


def test_the_export_refuses_a_ledger_with_errors_and_skips_revoked_records(carla_approved, project, project_dir, keys, tmp_path):
    decide(read_source(project), "es", ["ui.label.call"], keys["Ben Reviewer"], "approve", NOW)
    reviewers = project_dir / "source" / "reviewers.yaml"
    text = reviewers.read_text()
    start = text.index("  - name: Ben Reviewer")
    end = text.index("  - name:", start + 1)
    reviewers.write_text(text[:start] + text[end:])
    result = run(project_dir, "history", "es", "--export-signatures", str(tmp_path / "audit"))
    assert result.exit_code == 0, result.output
    assert "skipped approve of ui.label.call by Ben Reviewer" in result.output and "no longer valid" in result.output
    assert sorted(p.name for p in (tmp_path / "audit").iterdir()) == sorted(
        ["allowed_signers", "verify.sh", f"{carla_approved.hash[:12]}.msg", f"{carla_approved.hash[:12]}.sig"])

    path = project.ledger_path("es")
    lines = path.read_text().splitlines()
    record = json.loads(lines[0])
    record["reason"] = "edited afterwards"
    path.write_text("\n".join([json.dumps(record, ensure_ascii=False, sort_keys=True), *lines[1:]]) + "\n")
    result = run(project_dir, "history", "es", "--export-signatures", str(tmp_path / "again"))
    assert result.exit_code == 1 and "ledger record altered" in result.output and not (tmp_path / "again").exists()
    # Not a folder: unusable, exit 2.
    (tmp_path / "file").write_text("")
    path.write_text("\n".join(lines) + "\n")
    assert run(project_dir, "history", "es", "--export-signatures", str(tmp_path / "file")).exit_code == 2


@pytest.mark.parametrize("name, reason", [
    ("A*", "a '*' wildcard"), ("An?", "a '?' wildcard"), ("Ruiz, Ana", "a comma"), ('Ana "the" R', "a double quote"),
    ("!Ana", "a negation"), ("Ana\tR", "a control character"),
])
def test_names_openssh_would_read_as_patterns_are_caught(name, reason):
    assert reason in Reviewer(name, ("es",), "ssh-ed25519 AAAA", 1).principal_problem
    with pytest.raises(ValueError, match="cannot be an OpenSSH principal"):
        Reviewer(name, ("es",), "ssh-ed25519 AAAA", 1).allowed_signers_line()


def test_a_wildcard_name_cannot_vouch_for_another_reviewer(carla_approved, project, project_dir, ssh_keys, tmp_path, monkeypatch):
    """A key listed as "C*" would make `ssh-keygen -I 'Carla Núñez'` accept its signatures as Carla's."""
    assert run(project_dir, "reviewers", "add", "C*", "--languages", "es", "--key-file", f"{ssh_keys['other']}.pub").exit_code == 0
    decide(read_source(project), "es", ["ui.label.call"], load_signing_key(ssh_keys["other"]), "approve", NOW)
    # A record in Carla's name, signed with the other key (the ledger itself calls it invalid; an auditor sees only files).
    forged = signed_message({**ledger_module.asdict(carla_approved), "translation": "No llame."})
    signature = ssh_keygen("-Y", "sign", "-f", str(ssh_keys["other"]), "-n", NAMESPACE, input=forged).stdout.decode()

    result = run(project_dir, "history", "es", "--export-signatures", str(tmp_path / "audit"))
    assert result.exit_code == 0, result.output
    assert "skipped approve of ui.label.call by C* [" in result.output and "the name holds a '*' wildcard" in result.output
    assert "C*" not in (tmp_path / "audit" / "allowed_signers").read_text()
    assert not openssh_accepts(tmp_path / "audit" / "allowed_signers", CARLA, forged, signature)
    assert subprocess.run(["sh", str(tmp_path / "audit" / "verify.sh")], capture_output=True).returncode == 0  # quiet

    # Without the guard, OpenSSH takes the forgery for Carla's signature.
    monkeypatch.setattr(Reviewer, "principal_problem", property(lambda self: ""))
    assert run(project_dir, "history", "es", "--export-signatures", str(tmp_path / "unguarded")).exit_code == 0
    assert openssh_accepts(tmp_path / "unguarded" / "allowed_signers", CARLA, forged, signature)
