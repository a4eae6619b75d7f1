"""The approval ledger: who approved or rejected which wording, against which English, when.

One JSON Lines file per language under translations/ledger/. Records are only
ever added. Each binds the reviewer, the time, the exact English and the exact
translation (with their SHA-256), and for an approval the warnings the reviewer
acknowledged, and carries the hash of the record before it, so any edit,
removal or reordering of past records breaks the chain.

Every record is also signed with its reviewer's SSH Ed25519 key (see
pipeline.signing) over all its fields but the signature, and counts only while
that key is listed for its language in source/reviewers.yaml. An unsigned,
altered or forged record breaks the ledger from that record on; a record whose
key is no longer listed is kept but approves nothing (it is revoked).
Records removed from the end are caught by pipeline.anchor against git.

New records are signed in OpenSSH's SSHSIG format; `export_signatures` writes
each one's signed bytes, its signature and the listed reviewers as files that
`ssh-keygen -Y verify` checks on its own (docs/ledger-signatures.md).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shlex
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import ContentError, Problem
from pipeline.fsutil import read_text_file, write_atomic
from pipeline.project import Project
from pipeline.reviewers import Reviewers, read_reviewers
from pipeline.signing import NAMESPACE, SigningKey, armor, fingerprint, is_sshsig, signature_problem, verify

GENESIS = "0" * 64
ACTIONS = ("approve", "reject")


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """A warning the reviewer named when approving: the check's id and the message they saw."""

    check: str
    message: str


@dataclass(frozen=True, slots=True)
class Decision:
    """One reviewer decision on one string of one language."""

    language: str
    string_id: str
    action: str  # approve | reject
    reviewer: str
    time: str  # ISO 8601, UTC
    english: str
    translation: str
    english_sha256: str
    translation_sha256: str
    reason: str
    previous: str  # hash of the record before, GENESIS for the first
    hash: str  # sha256 of every field but the hash and the signature
    key: str = ""  # the signer's public key, "ssh-ed25519 AAAA..."
    signature: str = ""  # base64 signature of signed_message(): SSHSIG, or raw Ed25519 in older records (pipeline.signing)
    # Warnings the reviewer acknowledged when approving. Hashed and signed when present;
    # records with none hash as they always did.
    acknowledged: tuple[Acknowledgement, ...] = ()

    def matches(self, english: str, translation: str) -> bool:
        """Whether this decision was made on exactly these texts."""
        return self.english_sha256 == text_hash(english) and self.translation_sha256 == text_hash(translation)


def _record_hash(fields: Mapping[str, object]) -> str:
    # An unsigned record (written before records were signed) hashes as it was written: without a key.
    body = {k: v for k, v in record_fields(fields).items() if k not in ("hash", "signature") and not (k == "key" and not v)}
    return hashlib.sha256(json.dumps(body, ensure_ascii=False, sort_keys=True).encode("utf-8")).hexdigest()


def signed_message(fields: Mapping[str, object]) -> bytes:
    """The canonical bytes a record's signature covers: every field but the signature."""
    body = {k: v for k, v in record_fields(fields).items() if k != "signature"}
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def make_decision(
    previous: str,
    language: str,
    string_id: str,
    action: str,
    reviewer: str,
    english: str,
    translation: str,
    now: dt.datetime,
    reason: str = "",
    key: SigningKey | None = None,
    time: str | None = None,
    acknowledged: tuple[Acknowledgement, ...] = (),
) -> Decision:
    """A new record, signed with `key` (an unsigned one only for tests of the guard against them)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    fields: dict[str, Any] = {
        "language": language,
        "string_id": string_id,
        "action": action,
        "reviewer": reviewer,
        "time": time or now.astimezone(dt.timezone.utc).isoformat(timespec="seconds"),
        "english": english,
        "translation": translation,
        "english_sha256": text_hash(english),
        "translation_sha256": text_hash(translation),
        "reason": reason,
        "previous": previous,
    }
    if acknowledged:
        fields["acknowledged"] = tuple(acknowledged)
    if key is not None:
        fields["key"] = key.public_line
    fields["hash"] = _record_hash(fields)
    if key is not None:
        fields["signature"] = key.sign(signed_message(fields))
    return Decision(**fields)


def record_fields(fields: Mapping[str, object]) -> dict[str, object]:
    """A record's fields as written to the ledger: acknowledgements as objects, left out when there are none."""
    acknowledged = fields.get("acknowledged")
    rest = {k: v for k, v in fields.items() if k != "acknowledged"}
    if not isinstance(acknowledged, (list, tuple)) or not acknowledged:
        return rest
    return {**rest, "acknowledged": [a if isinstance(a, dict) else {"check": a.check, "message": a.message} for a in acknowledged]}


@dataclass(frozen=True, slots=True)
class Ledger:
    language: str
    path: Path
    decisions: tuple[Decision, ...]
    problems: tuple[Problem, ...]  # a broken chain, altered, unsigned or forged record; reported by `outreach check`
    revoked: tuple[tuple[str, str], ...] = ()  # (record hash, why it no longer counts): key not listed now

    def revocation(self, decision: Decision) -> str:
        """Why a record no longer counts ("" if it does)."""
        return dict(self.revoked).get(decision.hash, "")

    @property
    def head(self) -> str:
        return self.decisions[-1].hash if self.decisions else GENESIS

    def latest(self) -> dict[str, Decision]:
        """The most recent decision for each string id."""
        result: dict[str, Decision] = {}
        for decision in self.decisions:
            result[decision.string_id] = decision
        return result

    def history(self, string_id: str | None = None) -> list[Decision]:
        return [d for d in self.decisions if string_id is None or d.string_id == string_id]


def read_ledger(project: Project, language: str, reviewers: Reviewers | None = None) -> Ledger:
    """Read and verify a language's ledger. Chain breaks, unsigned and forged records are kept
    as problems, not raised: a tampered ledger approves nothing from the first bad record on.
    Records signed by a key not listed now for the language are kept but revoked."""
    path = project.ledger_path(language)
    if not path.exists():
        return Ledger(language, path, (), ())
    if reviewers is None:
        reviewers = read_reviewers(project)
    decisions: list[Decision] = []
    problems: list[Problem] = []
    revoked: list[tuple[str, str]] = []
    previous = GENESIS
    broken = False
    for number, line in enumerate(read_text_file(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            fields = json.loads(line)
            if "acknowledged" in fields:
                fields["acknowledged"] = tuple(Acknowledgement(**item) for item in fields["acknowledged"])
            decision = Decision(**fields)
        except (json.JSONDecodeError, TypeError, AttributeError) as exc:
            raise ContentError([Problem(path, number, f"not a ledger record: {exc}")], unusable=True) from None
        texts = [(name, getattr(decision, name)) for name in Decision.__dataclass_fields__ if name != "acknowledged"]
        texts += [(f"acknowledged.{name}", getattr(item, name)) for item in decision.acknowledged for name in ("check", "message")]
        wrong = [name for name, value in texts if not isinstance(value, str)]
        if wrong:
            raise ContentError([Problem(path, number, f"not a ledger record: {', '.join(wrong)} must be text")], unusable=True)
        if broken:
            continue
        problem = _integrity_problem(decision, previous, language)
        if problem:
            problems.append(Problem(path, number, problem))
            broken = True
            continue
        reviewer = reviewers.by_key(decision.key)
        message = ""
        if reviewer is None or not reviewer.may_review(language):
            why = "not listed in source/reviewers.yaml" if reviewer is None else f"listed for {', '.join(reviewer.languages)} only"
            message = f"{decision.action} of {decision.string_id} by {decision.reviewer} no longer valid: key {fingerprint(decision.key)} {why}, not for {language}"
        elif reviewer.name != decision.reviewer:
            message = f"{decision.action} of {decision.string_id} by {decision.reviewer} not valid: it is signed with the key of {reviewer.name}"
        if message:
            revoked.append((decision.hash, message))
            problems.append(Problem(path, number, message, "warning"))
        decisions.append(decision)
        previous = decision.hash
    return Ledger(language, path, tuple(decisions), tuple(problems), tuple(revoked))


def _integrity_problem(decision: Decision, previous: str, language: str) -> str:
    """Why a record cannot be trusted ("" when its chain link, hashes and signature hold)."""
    if decision.previous != previous:
        return "ledger chain broken: this record does not follow the one before it (records removed, reordered or inserted)"
    fields = asdict(decision)
    if _record_hash(fields) != decision.hash or decision.english_sha256 != text_hash(decision.english) or decision.translation_sha256 != text_hash(decision.translation):
        return "ledger record altered: its hash does not match its contents"
    if decision.language != language:
        return f"record is for language {decision.language!r}, not {language!r}"
    if not decision.key or not decision.signature:
        return "unsigned ledger record: every record must be signed with its reviewer's key (see README, 'Setting up reviewers')"
    if not verify(decision.key, signed_message(fields), decision.signature):
        why = signature_problem(decision.key, signed_message(fields), decision.signature)
        return f"ledger record forged or altered: its signature does not verify with the key it names ({fingerprint(decision.key)}): {why}"
    return ""


def append_decisions(ledger: Ledger, new: list[Decision]) -> Ledger:
    """Write the ledger with `new` added at the end, atomically; return the new ledger."""
    errors = [p for p in ledger.problems if p.severity == "error"]
    if errors:
        raise ContentError(errors)
    existing = read_text_file(ledger.path) if ledger.path.exists() else ""
    if existing and not existing.endswith("\n"):
        existing += "\n"
    lines = [json.dumps(record_fields(asdict(d)), ensure_ascii=False, sort_keys=True) for d in new]
    write_atomic(ledger.path, existing + "".join(line + "\n" for line in lines))
    return Ledger(ledger.language, ledger.path, ledger.decisions + tuple(new), ledger.problems, ledger.revoked)


@dataclass(frozen=True, slots=True)
class ExportedRecord:
    """One record written out for `ssh-keygen -Y verify`: its signed bytes and its signature."""

    decision: Decision
    message: Path  # exactly the bytes the signature covers (signed_message)
    signature: Path  # the armored SSHSIG signature, as `ssh-keygen -Y sign` writes it


@dataclass(frozen=True, slots=True)
class SignatureExport:
    """What `export_signatures` wrote, and the records it left out with why."""

    folder: Path
    allowed_signers: Path
    script: Path
    exported: tuple[ExportedRecord, ...]
    skipped: tuple[tuple[Decision, str], ...]

    @property
    def skipped_summary(self) -> list[str]:
        return summarise_skipped(self.skipped)


def summarise_skipped(skipped: tuple[tuple[Decision, str], ...] | list[tuple[Decision, str]]) -> list[str]:
    """One line per reason a record was left out: the record itself if it alone, else how many."""
    by_reason: dict[str, list[Decision]] = {}
    for decision, why in skipped:
        by_reason.setdefault(why, []).append(decision)
    return [
        f"{d[0].action} of {d[0].string_id} by {d[0].reviewer} [{d[0].hash[:12]}]: {why}" if len(d) == 1 else f"{len(d)} records: {why}"
        for why, d in by_reason.items()
    ]


def export_signatures(ledger: Ledger, reviewers: Reviewers, folder: Path, string_id: str | None = None) -> SignatureExport:
    """Write each valid SSHSIG-signed record of `ledger` (of one string, if given) to `folder` for OpenSSH.

    Per record HASH12.msg (the signed bytes) and HASH12.sig (armored); one
    allowed_signers file listing the reviewers source/reviewers.yaml lists for
    the language now; verify.sh, one `ssh-keygen -Y verify` line per record.
    Records signed in the older format, revoked ones and those whose reviewer's
    name cannot be an OpenSSH principal are skipped. Nothing is written if the
    ledger has errors or no record can be exported.
    """
    errors = [p for p in ledger.problems if p.severity == "error"]
    if errors:
        raise ContentError(errors)
    signers = [r for r in reviewers.entries if r.may_review(ledger.language)]
    chosen: list[Decision] = []
    skipped: list[tuple[Decision, str]] = []
    for decision in ledger.history(string_id):
        signer = reviewers.by_key(decision.key)
        if ledger.revocation(decision):
            skipped.append((decision, ledger.revocation(decision)))
        elif not is_sshsig(decision.signature):
            skipped.append((decision, "signed in the older raw Ed25519 format, which only `outreach check` verifies"))
        elif signer is not None and signer.principal_problem:
            skipped.append((decision, f"{signer.name!r} cannot be named to ssh-keygen: {signer.principal_problem}"))
        else:
            chosen.append(decision)
    if not chosen:
        raise ContentError([Problem(ledger.path, None, "; ".join(["no record to export", *summarise_skipped(skipped)]))])
    if folder.exists() and not folder.is_dir():
        raise ContentError([Problem(folder, None, "not a folder")], unusable=True)
    lines = [f"# Who may sign {ledger.language} ledger records: source/reviewers.yaml now, for `ssh-keygen -Y verify -f`."]
    lines += [r.allowed_signers_line() for r in signers if not r.principal_problem]
    script = ["#!/bin/sh", "# Checks each exported ledger record with OpenSSH alone; stops at the first that fails.", "set -e", 'cd "$(dirname "$0")"']
    exported = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for decision in chosen:
            name = decision.hash[:12]
            message, signature = folder / f"{name}.msg", folder / f"{name}.sig"
            write_atomic(message, signed_message(asdict(decision)))
            write_atomic(signature, armor(decision.signature))
            exported.append(ExportedRecord(decision, message, signature))
            script.append(
                f"ssh-keygen -Y verify -f allowed_signers -I {shlex.quote(decision.reviewer)} -n {NAMESPACE} -s {name}.sig < {name}.msg"
            )
        write_atomic(folder / "allowed_signers", "\n".join(lines) + "\n")
        write_atomic(folder / "verify.sh", "\n".join(script) + "\n")
    except OSError as exc:
        raise ContentError([Problem(folder, None, f"cannot write the export: {exc.strerror or exc}")], unusable=True) from None
    return SignatureExport(folder, folder / "allowed_signers", folder / "verify.sh", tuple(exported), tuple(skipped))
