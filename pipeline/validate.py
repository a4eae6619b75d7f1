"""`outreach check`: run every check on the whole project and collect the findings.

Besides the checks' findings, `check` reports what would make `render` refuse a
final, so the two never disagree: errors are the same errors the gate reads,
and approval states that block a final are warnings (`approval-stale`,
`approval-missing`, `final-refused`), computed by approval's own state
classification.

`validate_cached` answers from output/.state/checks.json when nothing the checks
read has changed: the check code (every module of this package), source/,
translations/ (catalogs and ledgers), the date and the options. Heavier checks
added later benefit without doing anything.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

from pipeline import checks
from pipeline.anchor import check_ledgers_anchored
from pipeline.approval import (
    ENGLISH,
    State,
    StringState,
    blocking_strings,
    language_states,
)
from pipeline.catalog import catalog_languages, read_catalog
from pipeline.content import Source
from pipeline.document import plan_document
from pipeline.fsutil import write_atomic
from pipeline.ledger import read_ledger, text_hash
from pipeline.release_check import verify_release

PACKAGE = Path(__file__).resolve().parent


def validate_project(source: Source, today: dt.date, max_age_days: int, languages: list[str] | None = None, since: str = "HEAD") -> list[checks.Finding]:
    """Source, registry, every catalog's translations, every ledger's chain and signatures (English's
    too), in a git work tree that every ledger extends its version at `since`, and the release on disk."""
    return content_findings(source, today, max_age_days, languages) + disk_findings(source, since)


def content_findings(source: Source, today: dt.date, max_age_days: int, languages: list[str] | None = None) -> list[checks.Finding]:
    """Every finding that depends only on the project's files, the date and the options (cacheable)."""
    findings = checks.check_source(source) + checks.check_registry(source, today, max_age_days)
    for language in languages or catalog_languages(source):
        catalog = read_catalog(source.project, language)
        for entry in catalog.views().values():
            if entry.id not in source.strings or not entry.translation.strip():
                continue
            for finding in checks.check_translation(source, language, entry.id, entry.translation, entry.current_back_translation):
                findings.append(
                    checks.Finding(finding.check, finding.severity, finding.message, catalog.path, entry.line, entry.id, language)
                )
    for language in ["en", *(languages or catalog_languages(source))]:
        for problem in read_ledger(source.project, language).problems:
            findings.append(checks.Finding("ledger-chain", problem.severity, problem.message, problem.path, problem.line))
    return findings


def disk_findings(source: Source, since: str = "HEAD") -> list[checks.Finding]:
    """What depends on more than the project's content files, so is never cached: ledgers that do
    not extend their committed version at `since` (git), and a release on disk that does not match
    its manifest or whose swap was interrupted."""
    findings = [checks.Finding("ledger-chain", checks.ERROR, p.message, p.path, p.line) for p in check_ledgers_anchored(source.project, since)]
    findings += [checks.Finding("release", checks.ERROR, p.message, p.path, p.line) for p in verify_release(source.project.output)]
    return findings


def gate_findings(source: Source, languages: list[str] | None = None) -> list[checks.Finding]:
    """Warnings for every approval state that makes the gate refuse a final.

    approval-stale    the latest record approves other wording: the English or
                      the translation was edited after approval (or the PO still
                      marks it fuzzy)
    approval-missing  a PO entry that is not fuzzy, so translation tools show it
                      as done, but no ledger record approves it (fuzzy removed by hand?)
    final-refused     an edition whose finals cannot print yet, with why
    """
    chosen = [ENGLISH, *(languages or catalog_languages(source))]
    findings: list[checks.Finding] = []
    states = {language: language_states(source, language) for language in chosen}
    for language, by_id in states.items():
        po_path = None if language == ENGLISH else source.project.po_path(language)
        for item in by_id.values():
            finding = _state_finding(source, language, item, po_path)
            if finding is not None:
                findings.append(finding)
    editions_path = source.project.source / "editions.yaml"
    for edition in source.editions.values():
        if edition.language not in states:
            continue
        refused: dict[str, StringState] = {}
        formats = []
        for format_name in edition.formats:
            blocking = blocking_strings(plan_document(source, edition, format_name), states[edition.language])
            if blocking:
                formats.append(format_name)
                refused.update((item.id, item) for item in blocking)
        if refused:
            counts: dict[str, int] = {}
            for item in refused.values():
                counts[item.state.value] = counts.get(item.state.value, 0) + 1
            detail = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
            findings.append(checks.Finding(
                "final-refused", checks.WARNING,
                f"{edition.id}: no final of {', '.join(formats)} until the {len(refused)} strings they print between them "
                f"are approved ({detail}; `build` counts each document's own)",
                editions_path, edition.line,
            ))
    return findings


def _state_finding(source: Source, language: str, item: StringState, po_path: Path | None) -> checks.Finding | None:
    if item.state is State.APPROVED:
        return None
    string = source.strings[item.id]
    path: Path | None
    line: int | None
    if language == ENGLISH:
        path, line = string.path, string.line
    else:
        path, line = po_path, (item.entry.line if item.entry else None)
    decision = item.decision
    if decision is not None and decision.action == "approve":
        if not decision.matches(item.english, item.translation):
            what = "the English" if decision.english_sha256 != text_hash(item.english) else "the text"
            fix = f"outreach approve {language} {item.id}"
            message = f"approved by {decision.reviewer} on {decision.time[:10]}, but {what} changed since; review and `{fix}`"
        else:
            message = f"approved in the ledger but the PO marks it fuzzy; approve it again (`outreach approve {language} {item.id}`)"
        return checks.Finding("approval-stale", checks.WARNING, message, path, line, item.id, language)
    if language != ENGLISH and item.entry is not None and not item.entry.fuzzy and item.translation.strip():
        return checks.Finding(
            "approval-missing", checks.WARNING,
            "not marked fuzzy, but no ledger record approves this text (was `fuzzy` removed by hand?); it will not print until approved",
            path, line, item.id, language,
        )
    return None



def _inputs_digest(source: Source, today: dt.date, max_age_days: int, languages: list[str] | None) -> str:
    digest = hashlib.sha256(json.dumps([today.isoformat(), max_age_days, languages]).encode())
    project = source.project
    for label, folder, pattern in (("code", PACKAGE, "**/*.py"), ("source", project.source, "**/*"), ("translations", project.translations, "**/*")):
        for path in sorted(folder.glob(pattern)):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(f"{label}/{path.relative_to(folder)}\0".encode() + path.read_bytes() + b"\0")
    return digest.hexdigest()


def validate_cached(
    source: Source, today: dt.date, max_age_days: int, languages: list[str] | None = None, since: str = "HEAD"
) -> list[checks.Finding]:
    """`validate_project`: the content findings answered from the cache in output/.state/ when none
    of their inputs changed; what `disk_findings` checks, every time."""
    return _content_findings_cached(source, today, max_age_days, languages) + disk_findings(source, since)


def validate_if_cached(
    source: Source, today: dt.date, max_age_days: int, languages: list[str] | None = None, since: str = "HEAD"
) -> list[checks.Finding] | None:
    """`validate_cached`'s answer when the content findings are in the cache; None (nothing checked) when not."""
    cached = _cached_findings(source, _inputs_digest(source, today, max_age_days, languages))
    return None if cached is None else cached + disk_findings(source, since)


def _cached_findings(source: Source, key: str) -> list[checks.Finding] | None:
    root = source.project.root
    try:
        data = json.loads(_cache_path(source).read_text(encoding="utf-8"))
        if data.get("key") == key:
            return [
                checks.Finding(f["check"], f["severity"], f["message"], root / f["path"] if f["path"] is not None else None,
                               f["line"], f["string_id"], f["language"])
                for f in data["findings"]
            ]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


def _cache_path(source: Source) -> Path:
    return source.project.output / ".state" / "checks.json"


def _content_findings_cached(source: Source, today: dt.date, max_age_days: int, languages: list[str] | None) -> list[checks.Finding]:
    root = source.project.root
    cache = _cache_path(source)
    key = _inputs_digest(source, today, max_age_days, languages)
    cached = _cached_findings(source, key)
    if cached is not None:
        return cached
    findings = content_findings(source, today, max_age_days, languages)
    rows = [
        {"check": f.check, "severity": f.severity, "message": f.message,
         "path": None if f.path is None else str(Path(f.path).relative_to(root)) if Path(f.path).is_relative_to(root) else None,
         "line": f.line, "string_id": f.string_id, "language": f.language}
        for f in findings
    ]
    # Only what round-trips is cached, and only a clean result: a run refused for bad input writes nothing.
    clean = not any(f.severity == checks.ERROR for f in findings)
    if clean and all(r["path"] is not None or f.path is None for r, f in zip(rows, findings)):
        write_atomic(cache, json.dumps({"key": key, "findings": rows}, ensure_ascii=False, indent=1) + "\n")
    return findings
