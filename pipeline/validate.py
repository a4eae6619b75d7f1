"""`outreach check`: run every check on the whole project and collect the findings.

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
from pipeline.catalog import catalog_languages, read_catalog
from pipeline.content import Source
from pipeline.fsutil import write_atomic
from pipeline.ledger import read_ledger

PACKAGE = Path(__file__).resolve().parent


def validate_project(source: Source, today: dt.date, max_age_days: int, languages: list[str] | None = None) -> list[checks.Finding]:
    """Source, registry, every catalog's translations and every ledger's chain (English's too)."""
    findings = checks.check_source(source) + checks.check_registry(source, today, max_age_days)
    for language in languages or catalog_languages(source):
        catalog = read_catalog(source.project, language)
        for entry in catalog.views().values():
            if entry.id not in source.strings or not entry.translation.strip():
                continue
            for finding in checks.check_translation(source, language, entry.id, entry.translation):
                findings.append(
                    checks.Finding(finding.check, finding.severity, finding.message, catalog.path, entry.line, entry.id, language)
                )
    for language in ["en", *(languages or catalog_languages(source))]:
        for problem in read_ledger(source.project, language).problems:
            findings.append(checks.Finding("ledger-chain", checks.ERROR, problem.message, problem.path, problem.line))
    return findings


def _inputs_digest(source: Source, today: dt.date, max_age_days: int, languages: list[str] | None) -> str:
    digest = hashlib.sha256(json.dumps([today.isoformat(), max_age_days, languages]).encode())
    project = source.project
    for label, folder, pattern in (("code", PACKAGE, "**/*.py"), ("source", project.source, "**/*"), ("translations", project.translations, "**/*")):
        for path in sorted(folder.glob(pattern)):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(f"{label}/{path.relative_to(folder)}\0".encode() + path.read_bytes() + b"\0")
    return digest.hexdigest()


def validate_cached(source: Source, today: dt.date, max_age_days: int, languages: list[str] | None = None) -> list[checks.Finding]:
    """`validate_project`, answered from the cache in output/.state/ when none of its inputs changed."""
    root = source.project.root
    cache = source.project.output / ".state" / "checks.json"
    key = _inputs_digest(source, today, max_age_days, languages)
    try:
        data = json.loads(cache.read_text(encoding="utf-8"))
        if data.get("key") == key:
            return [
                checks.Finding(f["check"], f["severity"], f["message"], root / f["path"] if f["path"] is not None else None,
                               f["line"], f["string_id"], f["language"])
                for f in data["findings"]
            ]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    findings = validate_project(source, today, max_age_days, languages)
    rows = [
        {"check": f.check, "severity": f.severity, "message": f.message,
         "path": None if f.path is None else str(Path(f.path).relative_to(root)) if Path(f.path).is_relative_to(root) else None,
         "line": f.line, "string_id": f.string_id, "language": f.language}
        for f in findings
    ]
    if all(r["path"] is not None or f.path is None for r, f in zip(rows, findings)):  # only what round-trips is cached
        write_atomic(cache, json.dumps({"key": key, "findings": rows}, ensure_ascii=False, indent=1) + "\n")
    return findings
