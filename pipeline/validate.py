"""`outreach check`: run every check on the whole project and collect the findings."""

from __future__ import annotations

import datetime as dt

from pipeline import checks
from pipeline.anchor import check_ledgers_anchored
from pipeline.catalog import catalog_languages, read_catalog
from pipeline.content import Source
from pipeline.ledger import read_ledger


def validate_project(source: Source, today: dt.date, max_age_days: int, languages: list[str] | None = None, since: str = "HEAD") -> list[checks.Finding]:
    """Source, registry, every catalog's translations, every ledger's chain and signatures (English's
    too), and, in a git work tree, that every ledger extends its version at `since`."""
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
    for problem in check_ledgers_anchored(source.project, since):
        findings.append(checks.Finding("ledger-chain", checks.ERROR, problem.message, problem.path, problem.line))
    return findings
