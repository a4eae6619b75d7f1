"""Render editions to files: finals only through the gate, proofs on request.

A final is written to output/final/<edition>/<format>.pdf only when the gate
lets it through: every string it prints is approved, and `outreach check` has
no error about anything it prints (its strings in its language, its hotline
entries, its language's ledger). Otherwise any old final is removed, so a stale
file can never be mistaken for a current one. Proofs go to
output/proof/<edition>/<format>.pdf whatever the state, listing what blocks them.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from pipeline import checks
from pipeline.approval import StringState, approved_texts, blocking_strings, language_states, proof_texts
from pipeline.content import Edition, Source
from pipeline.errors import RenderError
from pipeline.fsutil import write_atomic
from pipeline.lock import holding_project_lock


@dataclass(frozen=True, slots=True)
class RenderOutcome:
    edition: str
    format: str
    kind: str  # final | proof | refused | failed
    path: Path | None
    blocking: tuple[StringState, ...]
    error: str = ""
    findings: tuple[checks.Finding, ...] = ()  # check errors about what this document prints


class Gate:
    """Decides whether a document may print as final: approvals, and no check error about it."""

    def __init__(self, source: Source, today: dt.date | None = None, max_age_days: int = checks.DEFAULT_MAX_AGE_DAYS):
        from pipeline.validate import validate_project

        self.source = source
        languages = sorted({e.language for e in source.editions.values()} - {"en"})
        self.findings = [f for f in validate_project(source, today or dt.date.today(), max_age_days, languages) if f.severity == checks.ERROR]
        self._states: dict[str, dict[str, StringState]] = {}

    def states(self, language: str) -> dict[str, StringState]:
        if language not in self._states:
            self._states[language] = language_states(self.source, language)
        return self._states[language]

    def unapproved(self, edition: Edition, format_name: str) -> tuple[StringState, ...]:
        return tuple(blocking_strings(self.source, edition, format_name, self.states(edition.language)))

    def errors(self, edition: Edition, format_name: str) -> tuple[checks.Finding, ...]:
        """Check errors about this document's strings (in its language), hotlines or ledger."""
        ids = set(self.source.edition_string_ids(edition, format_name))
        hotline_lines = {e.line for e in self.source.printed_hotlines(edition)}
        registry = self.source.registry.path
        ledger = self.source.project.ledger_path(edition.language)
        return tuple(
            f for f in self.findings
            if (f.string_id in ids and f.language in ("", edition.language))
            or (f.path == registry and f.line in hotline_lines)
            or (f.check == "ledger-chain" and f.path == ledger)
        )

    def allows(self, edition: Edition, format_name: str) -> bool:
        return not self.unapproved(edition, format_name) and not self.errors(edition, format_name)


def final_path(source: Source, edition_id: str, format_name: str) -> Path:
    return source.project.output_path("final", edition_id, f"{format_name}.pdf")


def proof_path(source: Source, edition_id: str, format_name: str) -> Path:
    return source.project.output_path("proof", edition_id, f"{format_name}.pdf")


def plan(source: Source, edition_ids: Iterable[str], formats: Iterable[str]) -> list[tuple[Edition, str]]:
    """The (edition, format) pairs to render: each edition's own formats, filtered."""
    wanted_formats = set(formats)
    pairs = []
    for edition_id in edition_ids:
        edition = source.editions[edition_id]
        for format_name in edition.formats:
            if not wanted_formats or format_name in wanted_formats:
                pairs.append((edition, format_name))
    return pairs


@dataclass(frozen=True, slots=True)
class RenderJob:
    edition: Edition
    format: str
    proof: bool
    texts: dict[str, str]
    unapproved: tuple[tuple[str, str, str, str], ...]  # id, state, text, check errors
    path: Path
    blocking: tuple[StringState, ...]
    document_errors: tuple[str, ...] = ()  # check errors not about one of its strings


@holding_project_lock("render")
def render_pairs(
    source: Source,
    pairs: list[tuple[Edition, str]],
    proof: bool,
    workers: int = 1,
    progress: Callable[[str], None] = lambda message: None,
    gate: Gate | None = None,
) -> list[RenderOutcome]:
    """Render finals (or proofs) for each pair and write them atomically, in order.

    With `workers` > 1 the documents are laid out in that many processes, each
    with one Renderer (WeasyPrint is single-threaded; layout dominates).
    """
    outcomes: list[RenderOutcome | RenderJob] = []
    gate = gate or Gate(source)
    for edition, format_name in pairs:
        states = gate.states(edition.language)
        blocking = gate.unapproved(edition, format_name)
        errors = gate.errors(edition, format_name)
        if proof:
            problems = {}
            for finding in errors:
                problems.setdefault(finding.string_id, []).append(f"{finding.message} [{finding.check}]")
            unapproved = tuple(
                (s.id, s.state.value, s.translation or s.english, "; ".join(problems.get(s.id, ())))
                for s in blocking
            )
            unlisted = tuple(f.format(source.project.root) for f in errors if f.string_id not in {s.id for s in blocking})
            outcomes.append(RenderJob(
                edition, format_name, True, proof_texts(states), unapproved, proof_path(source, edition.id, format_name), blocking, unlisted
            ))
        elif blocking or errors:
            _remove(final_path(source, edition.id, format_name))
            outcomes.append(RenderOutcome(edition.id, format_name, "refused", None, blocking, findings=errors))
        else:
            outcomes.append(RenderJob(edition, format_name, False, approved_texts(states), (), final_path(source, edition.id, format_name), ()))
    jobs = [o for o in outcomes if isinstance(o, RenderJob)]
    results = dict(zip(map(id, jobs), _run(source, jobs, workers, progress)))
    finished = []
    for item in outcomes:
        if isinstance(item, RenderOutcome):
            finished.append(item)
            continue
        pdf, error = results[id(item)]
        if error:
            _remove(item.path)
            finished.append(RenderOutcome(item.edition.id, item.format, "failed", None, item.blocking, error))
        else:
            write_atomic(item.path, pdf)
            if not item.proof:  # an older proof no longer shows what prints
                _remove(proof_path(source, item.edition.id, item.format))
            finished.append(RenderOutcome(item.edition.id, item.format, "proof" if item.proof else "final", item.path, item.blocking))
    return finished


def _remove(path: Path) -> None:
    """Delete a generated file and its edition folder once empty."""
    path.unlink(missing_ok=True)  # paths come from final_path / proof_path, guarded inside output/
    try:
        path.parent.rmdir()
    except OSError:
        pass  # not empty, or already gone


_WORKER_RENDERER = None


def _start_worker(source: Source) -> None:
    global _WORKER_RENDERER
    from pipeline.render import Renderer

    _WORKER_RENDERER = Renderer(source)


def _render_job(job: RenderJob) -> tuple[bytes, str]:
    try:
        document = _WORKER_RENDERER.render(
            job.edition, job.format, job.texts, proof=job.proof, unapproved=job.unapproved, document_errors=job.document_errors
        )
    except RenderError as exc:
        return b"", str(exc)
    return document.pdf, ""


def _run(source: Source, jobs: list[RenderJob], workers: int, progress: Callable[[str], None]) -> Iterator[tuple[bytes, str]]:
    label = lambda job: f"{'proof' if job.proof else 'final'} {job.edition.id} {job.format}"  # noqa: E731
    if workers <= 1 or len(jobs) < 2:
        _start_worker(source)
        for job in jobs:
            yield _render_job(job)
            progress(label(job))
        return
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_start_worker, initargs=(source,)) as pool:
        for job, result in zip(jobs, pool.map(_render_job, jobs)):
            progress(label(job))
            yield result


def default_workers() -> int:
    return max(1, min(2, os.cpu_count() or 1))
