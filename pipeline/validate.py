"""`outreach check`: run every check on the whole project and collect the findings."""

from __future__ import annotations

import datetime as dt

from pipeline import checks
from pipeline.catalog import catalog_languages, read_catalog
from pipeline.content import Source
from pipeline.ledger import read_ledger
from pipeline.release_check import verify_release


def validate_project(source: Source, today: dt.date, max_age_days: int, languages: list[str] | None = None) -> list[checks.Finding]:
    """Source, registry, every catalog's translations, every ledger's chain (English's too) and the release on disk."""
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
    for problem in verify_release(source.project.output):
        findings.append(checks.Finding("release", checks.ERROR, problem.message, problem.path, problem.line))
    return findings
