"""Render editions to files: finals only where every string is approved, proofs on request.

A final is written to output/final/<edition>/<format>.pdf only when the
edition's strings for that format are all approved; otherwise any old final
is removed, so a stale file can never be mistaken for a current one. Proofs go
to output/proof/<edition>/<format>.pdf whatever the approval state.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from pipeline.approval import StringState, approved_texts, blocking_strings, language_states, proof_texts
from pipeline.content import Edition, Source
from pipeline.errors import RenderError
from pipeline.fsutil import write_atomic


@dataclass(frozen=True, slots=True)
class RenderOutcome:
    edition: str
    format: str
    kind: str  # final | proof | refused | failed
    path: Path | None
    blocking: tuple[StringState, ...]
    error: str = ""


def final_path(source: Source, edition_id: str, format_name: str) -> Path:
    return source.project.output / "final" / edition_id / f"{format_name}.pdf"


def proof_path(source: Source, edition_id: str, format_name: str) -> Path:
    return source.project.output / "proof" / edition_id / f"{format_name}.pdf"


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
    unapproved: tuple[tuple[str, str, str], ...]
    path: Path
    blocking: tuple[StringState, ...]


def render_pairs(
    source: Source,
    pairs: list[tuple[Edition, str]],
    proof: bool,
    workers: int = 1,
    progress: Callable[[str], None] = lambda message: None,
) -> list[RenderOutcome]:
    """Render finals (or proofs) for each pair and write them atomically, in order.

    With `workers` > 1 the documents are laid out in that many processes, each
    with one Renderer (WeasyPrint is single-threaded; layout dominates).
    """
    outcomes: list[RenderOutcome | RenderJob] = []
    states_by_language: dict[str, dict[str, StringState]] = {}
    for edition, format_name in pairs:
        states = states_by_language.setdefault(edition.language, language_states(source, edition.language))
        blocking = tuple(blocking_strings(source, edition, format_name, states))
        if proof:
            unapproved = tuple((s.id, s.state.value, s.translation or s.english) for s in blocking)
            outcomes.append(RenderJob(edition, format_name, True, proof_texts(states), unapproved, proof_path(source, edition.id, format_name), blocking))
        elif blocking:
            final_path(source, edition.id, format_name).unlink(missing_ok=True)
            outcomes.append(RenderOutcome(edition.id, format_name, "refused", None, blocking))
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
            item.path.unlink(missing_ok=True)
            finished.append(RenderOutcome(item.edition.id, item.format, "failed", None, item.blocking, error))
        else:
            write_atomic(item.path, pdf)
            finished.append(RenderOutcome(item.edition.id, item.format, "proof" if item.proof else "final", item.path, item.blocking))
    return finished


_WORKER_RENDERER = None


def _start_worker(source: Source) -> None:
    global _WORKER_RENDERER
    from pipeline.render import Renderer

    _WORKER_RENDERER = Renderer(source)


def _render_job(job: RenderJob) -> tuple[bytes, str]:
    try:
        document = _WORKER_RENDERER.render(job.edition, job.format, job.texts, proof=job.proof, unapproved=job.unapproved)
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
