"""The approval ledger: who approved or rejected which wording, against which English, when.

One JSON Lines file per language under translations/ledger/. Records are only
ever added. Each binds the reviewer, the time, the exact English and the exact
translation (with their SHA-256) and carries the hash of the record before it,
so any edit, removal or reordering of past records breaks the chain.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from pipeline.errors import ContentError, Problem
from pipeline.fsutil import write_atomic
from pipeline.project import Project

GENESIS = "0" * 64
ACTIONS = ("approve", "reject")


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


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
    hash: str

    def matches(self, english: str, translation: str) -> bool:
        """Whether this decision was made on exactly these texts."""
        return self.english_sha256 == text_hash(english) and self.translation_sha256 == text_hash(translation)


def _record_hash(fields: Mapping[str, object]) -> str:
    body = {k: v for k, v in fields.items() if k != "hash"}
    return hashlib.sha256(json.dumps(body, ensure_ascii=False, sort_keys=True).encode("utf-8")).hexdigest()


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
) -> Decision:
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    fields = {
        "language": language,
        "string_id": string_id,
        "action": action,
        "reviewer": reviewer,
        "time": now.astimezone(dt.timezone.utc).isoformat(timespec="seconds"),
        "english": english,
        "translation": translation,
        "english_sha256": text_hash(english),
        "translation_sha256": text_hash(translation),
        "reason": reason,
        "previous": previous,
    }
    return Decision(**fields, hash=_record_hash(fields))


@dataclass(frozen=True, slots=True)
class Ledger:
    language: str
    path: Path
    decisions: tuple[Decision, ...]
    problems: tuple[Problem, ...]  # a broken chain or altered record; reported by `outreach check`

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


def read_ledger(project: Project, language: str) -> Ledger:
    """Read and verify a language's ledger. Chain breaks are kept as problems, not raised:
    a tampered ledger approves nothing from the first bad record on."""
    path = project.ledger_path(language)
    if not path.exists():
        return Ledger(language, path, (), ())
    decisions: list[Decision] = []
    problems: list[Problem] = []
    previous = GENESIS
    broken = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            fields = json.loads(line)
            decision = Decision(**fields)
        except (json.JSONDecodeError, TypeError) as exc:
            raise ContentError([Problem(path, number, f"not a ledger record: {exc}")], unusable=True) from None
        if broken:
            continue
        if decision.previous != previous:
            problems.append(Problem(path, number, "ledger chain broken: this record does not follow the one before it (records removed, reordered or inserted)"))
            broken = True
            continue
        if _record_hash(asdict(decision)) != decision.hash or decision.english_sha256 != text_hash(decision.english) or decision.translation_sha256 != text_hash(decision.translation):
            problems.append(Problem(path, number, "ledger record altered: its hash does not match its contents"))
            broken = True
            continue
        if decision.language != language:
            problems.append(Problem(path, number, f"record is for language {decision.language!r}, not {language!r}"))
            broken = True
            continue
        decisions.append(decision)
        previous = decision.hash
    return Ledger(language, path, tuple(decisions), tuple(problems))


def append_decisions(ledger: Ledger, new: list[Decision]) -> Ledger:
    """Write the ledger with `new` added at the end, atomically; return the new ledger."""
    if ledger.problems:
        raise ContentError(list(ledger.problems))
    existing = ledger.path.read_text(encoding="utf-8") if ledger.path.exists() else ""
    if existing and not existing.endswith("\n"):
        existing += "\n"
    lines = [json.dumps(asdict(d), ensure_ascii=False, sort_keys=True) for d in new]
    write_atomic(ledger.path, existing + "".join(line + "\n" for line in lines))
    return Ledger(ledger.language, ledger.path, ledger.decisions + tuple(new), ())
