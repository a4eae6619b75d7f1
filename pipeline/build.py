"""Render editions to files: finals only through the gate, proofs on request, only what changed.

A final is written to output/final/<edition>/<format>.pdf only when the gate
lets it through: every string it prints is approved, and `outreach check` has
no error about anything it prints (its strings in its language, its hotline
entries, its language's ledger). Otherwise any old final is removed, so a stale
file can never be mistaken for a current one. Proofs go to
output/proof/<edition>/<format>.pdf whatever the state, listing what blocks them.

Every document is a print job (`pipeline.document.PrintJob`) whose digest
covers everything that decides its bytes. A document whose job digest and file
match its recorded state (`pipeline.state`) is left alone: a build with nothing
changed lays nothing out and never imports WeasyPrint. `force` renders anyway.

`select_shard` splits the documents of a build into N deterministic parts of
about equal expected cost, one per CI job; their outputs merge by copying.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline import checks
from pipeline.approval import ENGLISH, State, StringState, approved_texts, blocking_strings, language_states, proof_texts
from pipeline.content import Edition, Source
from pipeline.document import FORMATS, DocumentPlan, PrintJob, make_job, plan_document
from pipeline.errors import ContentError, Problem, RenderError
from pipeline.fsutil import write_atomic
from pipeline.lock import holding_project_lock
from pipeline.state import DocumentState, is_current, remove_state, render_environment, write_state

if TYPE_CHECKING:
    from pipeline.render import Renderer

Progress = Callable[[int, int, str], None]  # done, total, what was just made


@dataclass(frozen=True, slots=True)
class RenderOutcome:
    edition: str
    format: str
    kind: str  # final | proof | refused | failed
    path: Path | None
    blocking: tuple[StringState, ...]
    error: str = ""
    findings: tuple[checks.Finding, ...] = ()  # check errors about what this document prints
    rendered: bool = False  # laid out in this run (False: the file on disk was already current)


class Gate:
    """Decides whether a document may print as final: approvals, and no check error about it."""

    def __init__(
        self, source: Source, today: dt.date | None = None, max_age_days: int = checks.DEFAULT_MAX_AGE_DAYS,
        findings: list[checks.Finding] | None = None,
    ):
        """`findings`: the project's check findings when already worked out (see `open_gate`)."""
        self.source = source
        if findings is None:
            findings = gate_findings(source, today or dt.date.today(), max_age_days)
        self.findings = [f for f in findings if f.severity == checks.ERROR]
        self._states: dict[str, dict[str, StringState]] = {}
        self._plans: dict[tuple[str, str], DocumentPlan] = {}
        self._jobs: dict[tuple[str, str, bool], PrintJob] = {}
        self._ledgers: dict[str, Path] = {}  # one job (and one digest) per document and kind, per run
        self._environment: str | None = None

    @property
    def environment(self) -> str:
        """The render environment's digest, computed once for this gate (one run)."""
        if self._environment is None:
            self._environment = render_environment(self.source.project)
        return self._environment

    def states(self, language: str) -> dict[str, StringState]:
        if language not in self._states:
            self._states[language] = language_states(self.source, language)
        return self._states[language]

    def plan(self, edition: Edition, format_name: str) -> DocumentPlan:
        key = (edition.id, format_name)
        if key not in self._plans:
            self._plans[key] = plan_document(self.source, edition, format_name)
        return self._plans[key]

    def unapproved(self, edition: Edition, format_name: str) -> tuple[StringState, ...]:
        return tuple(blocking_strings(self.plan(edition, format_name), self.states(edition.language)))

    def errors(self, edition: Edition, format_name: str) -> tuple[checks.Finding, ...]:
        """Check errors about this document's strings (in its language), hotlines or ledger."""
        plan = self.plan(edition, format_name)
        ids = set(plan.string_ids)
        hotline_lines = {h.registry_line for h in plan.hotlines}
        registry = self.source.registry.path
        if edition.language not in self._ledgers:
            self._ledgers[edition.language] = self.source.project.ledger_path(edition.language)
        ledger = self._ledgers[edition.language]
        return tuple(
            f for f in self.findings
            if (f.string_id in ids and f.language in ("", edition.language))
            or (f.path == registry and f.line in hotline_lines)
            or (f.check == "ledger-chain" and f.path == ledger)
        )

    def allows(self, edition: Edition, format_name: str) -> bool:
        return not self.unapproved(edition, format_name) and not self.errors(edition, format_name)

    def final_job(self, edition: Edition, format_name: str) -> PrintJob:
        """The job of a final: approved texts, and the ledger records approving them."""
        key = (edition.id, format_name, False)
        if key not in self._jobs:
            self._jobs[key] = self._final_job(edition, format_name)
        return self._jobs[key]

    def proof_job(self, edition: Edition, format_name: str) -> PrintJob:
        """The job of a proof: texts as they stand, the unapproved strings and the check errors listed."""
        key = (edition.id, format_name, True)
        if key not in self._jobs:
            self._jobs[key] = self._proof_job(edition, format_name)
        return self._jobs[key]

    def _final_job(self, edition: Edition, format_name: str) -> PrintJob:
        plan = self.plan(edition, format_name)
        states = self.states(edition.language)
        decisions = [states[i].decision for i in plan.string_ids]
        approvals = tuple(d.hash if d is not None else "" for d in decisions)
        return make_job(plan, approved_texts(states), False, approvals, environment=self.environment)

    def _proof_job(self, edition: Edition, format_name: str) -> PrintJob:
        plan = self.plan(edition, format_name)
        states = self.states(edition.language)
        blocking = self.unapproved(edition, format_name)
        errors = self.errors(edition, format_name)
        problems: dict[str, list[str]] = {}
        for finding in errors:
            problems.setdefault(finding.string_id, []).append(f"{finding.message} [{finding.check}]")
        unapproved = tuple(
            (s.id, _state_label(s), s.translation or s.english, "; ".join(problems.get(s.id, ()))) for s in blocking
        )
        listed = {s.id for s in blocking}
        unlisted = tuple(f.format(self.source.project.root) for f in errors if f.string_id not in listed)
        in_english = () if edition.language == ENGLISH else tuple(i for i in plan.string_ids if not states[i].translation)
        return make_job(plan, proof_texts(states), True, (), unapproved, unlisted, self.environment, in_english)


def _state_label(item: StringState) -> str:
    """A string's state as a proof's review page shows it: a rejection with the reviewer's reason."""
    decision = item.decision
    if item.state is State.REJECTED and decision is not None and decision.reason:
        return f"rejected by {decision.reviewer}: {decision.reason}"
    return item.state.value


def gate_findings(source: Source, today: dt.date, max_age_days: int = checks.DEFAULT_MAX_AGE_DAYS) -> list[checks.Finding]:
    """What the checks find in the project, for the languages its editions print (cached by their inputs)."""
    from pipeline.validate import validate_cached

    return validate_cached(source, today, max_age_days, _translated_languages(source))


def _translated_languages(source: Source) -> list[str]:
    return sorted({e.language for e in source.editions.values()} - {ENGLISH})


def open_gate(source: Source) -> Gate:
    """The gate of a build. When the checks must run afresh (an input changed since their results were
    cached), they run in a forked process while this one gets the renderer ready (WeasyPrint's import,
    fonts, stylesheets), so the two take the time of the longer; with the checks cached, neither waits
    and WeasyPrint is imported only if something is laid out."""
    from pipeline.validate import validate_if_cached

    today = dt.date.today()
    cached = validate_if_cached(source, today, checks.DEFAULT_MAX_AGE_DAYS, _translated_languages(source))
    if cached is not None:
        return Gate(source, today, findings=cached)
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork")) as pool:
        checking = pool.submit(_findings_or_problems, source, today)
        _start_worker(source)
        found, problems, unusable = checking.result()
    if problems:
        raise ContentError(problems, unusable)
    return Gate(source, today, findings=found)


def _findings_or_problems(source: Source, today: dt.date) -> tuple[list[checks.Finding], list[Problem], bool]:
    """`gate_findings` in a worker: a ContentError comes back as its problems (it does not pickle whole)."""
    try:
        return gate_findings(source, today), [], False
    except ContentError as exc:
        return [], exc.problems, exc.unusable


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


def expected_cost(source: Source, edition: Edition, format_name: str) -> float:
    """Relative layout time of a document: its format's weight, more for scripts with large fonts."""
    script = source.languages[edition.language].script if edition.language in source.languages else ""
    return FORMATS[format_name].cost * (1.5 if script in ("Hans", "Hant", "Jpan", "Kore") else 1.0)


def select_shard(source: Source, pairs: list[tuple[Edition, str]], shard: int, shards: int) -> list[tuple[Edition, str]]:
    """The pairs of shard `shard` (1-based) of `shards`: greedy by cost, the same split on every machine."""
    if not 1 <= shard <= shards:
        raise ValueError(f"shard {shard} is not between 1 and {shards}")
    # Heaviest first, each to the lightest shard so far (ties: the lowest shard); names break cost ties.
    ordered = sorted(pairs, key=lambda p: (-expected_cost(source, *p), p[0].id, p[1]))
    loads = [0.0] * shards
    chosen = set()
    for edition, format_name in ordered:
        target = min(range(shards), key=lambda i: (round(loads[i], 6), i))
        loads[target] += expected_cost(source, edition, format_name)
        if target == shard - 1:
            chosen.add((edition.id, format_name))
    return [p for p in pairs if (p[0].id, p[1]) in chosen]


@dataclass(frozen=True, slots=True)
class RenderJob:
    job: PrintJob
    path: Path
    blocking: tuple[StringState, ...]
    findings: tuple[checks.Finding, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.job.kind} {self.job.plan.edition_id} {self.job.plan.format.name}"


@holding_project_lock("render")
def render_pairs(
    source: Source,
    pairs: list[tuple[Edition, str]],
    proof: bool | None,
    workers: int = 1,
    progress: Progress = lambda done, total, label: None,
    gate: Gate | None = None,
    force: bool = False,
) -> list[RenderOutcome]:
    """Make finals (`proof` False), proofs (True), or each as final where the gate allows it and else
    as a proof (None: what `build` does, all in one run), for each pair that is not already current;
    written atomically, in order.

    With `workers` > 1 the documents are laid out in that many processes, each
    with one Renderer (WeasyPrint is single-threaded; layout dominates).
    """
    project = source.project
    outcomes: list[RenderOutcome | RenderJob] = []
    gate = gate or Gate(source)
    for edition, format_name in pairs:
        blocking = gate.unapproved(edition, format_name)
        errors = gate.errors(edition, format_name)
        refused = bool(blocking or errors)
        if refused and proof is not True:
            _remove(final_path(source, edition.id, format_name))  # a final that may no longer print goes
            remove_state(project, "final", edition.id, format_name)
            if proof is False:
                outcomes.append(RenderOutcome(edition.id, format_name, "refused", None, blocking, findings=errors))
                continue
        if proof or refused:
            path = proof_path(source, edition.id, format_name)
            job = gate.proof_job(edition, format_name)
        else:
            path = final_path(source, edition.id, format_name)
            job = gate.final_job(edition, format_name)
        if not force and is_current(project, job.kind, edition.id, format_name, job.digest(), path):
            if not job.proof:
                _remove_proof(source, edition.id, format_name)
            outcomes.append(RenderOutcome(edition.id, format_name, job.kind, path, blocking, findings=errors))
        else:
            outcomes.append(RenderJob(job, path, blocking, errors))
    jobs = [o for o in outcomes if isinstance(o, RenderJob)]
    results = dict(zip(map(id, jobs), _run(source, jobs, workers, progress)))
    finished = []
    for item in outcomes:
        if isinstance(item, RenderOutcome):
            finished.append(item)
            continue
        plan_ = item.job.plan
        edition_id, format_name, kind = plan_.edition_id, plan_.format.name, item.job.kind
        pdf, error, pages = results[id(item)]
        if error:
            _remove(item.path)
            remove_state(project, kind, edition_id, format_name)
            finished.append(RenderOutcome(edition_id, format_name, "failed", None, item.blocking, error, item.findings))
            continue
        write_atomic(item.path, pdf)
        write_state(project, DocumentState(kind, edition_id, format_name, item.job.digest(), hashlib.sha256(pdf).hexdigest(), pages))
        if not item.job.proof:  # an older proof no longer shows what prints
            _remove_proof(source, edition_id, format_name)
        finished.append(RenderOutcome(edition_id, format_name, kind, item.path, item.blocking, findings=item.findings, rendered=True))
    return finished


def _remove_proof(source: Source, edition_id: str, format_name: str) -> None:
    _remove(proof_path(source, edition_id, format_name))
    remove_state(source.project, "proof", edition_id, format_name)


def _remove(path: Path) -> None:
    """Delete a generated file and its edition folder once empty."""
    path.unlink(missing_ok=True)  # paths come from final_path / proof_path, guarded inside output/
    try:
        path.parent.rmdir()
    except OSError:
        pass  # not empty, or already gone


_WORKER_RENDERER: Renderer | None = None


def _start_worker(source: Source) -> None:
    """The renderer of this process (and of the workers it forks) for `source`, made once."""
    global _WORKER_RENDERER
    from pipeline.render import Renderer

    if _WORKER_RENDERER is None or _WORKER_RENDERER.source is not source:
        _WORKER_RENDERER = Renderer(source)


Rendered = tuple[bytes, str, int]  # the PDF, or an error; its page count


def _render_job(job: PrintJob) -> Rendered:
    assert _WORKER_RENDERER is not None
    try:
        document = _WORKER_RENDERER.render_job(job)
    except RenderError as exc:
        return b"", str(exc), 0
    return document.pdf, "", document.page_count


def _render_group(jobs: list[PrintJob]) -> list[Rendered]:
    return [_render_job(job) for job in jobs]


def _run(source: Source, jobs: list[RenderJob], workers: int, progress: Progress) -> Iterator[Rendered]:
    """Render the jobs, yielding results in their order.

    One Renderer (fonts, parsed stylesheets) is made here and inherited by the
    forked workers. A worker takes an edition's card and sheet together, card
    first (the sheet then takes the card's style), and every other document on
    its own, heaviest first.
    """
    if not jobs:
        return
    total = len(jobs)
    _start_worker(source)
    if workers <= 1 or total < 2:
        for done, job in enumerate(jobs, 1):
            result = _render_job(job.job)
            progress(done, total, job.label)
            yield result
        return
    # An edition's card and sheet go to one worker, card first (the sheet takes the style the card
    # found); every other document is a batch of its own, so the workers end close together.
    groups: dict[tuple[str, str], list[RenderJob]] = {}
    for job in jobs:
        plan = job.job.plan
        groups.setdefault((plan.edition_id, "cards" if plan.format.kind in ("card", "sheet") else plan.format.name), []).append(job)
    batches = sorted(
        (sorted(group, key=lambda j: j.job.plan.format.kind != "card") for group in groups.values()),
        key=lambda group: (-sum(j.job.plan.format.cost for j in group), group[0].label),
    )
    results: dict[int, Rendered] = {}
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=min(workers, len(batches)), mp_context=context) as pool:
        futures = {pool.submit(_render_group, [j.job for j in batch]): batch for batch in batches}
        done = 0
        for future in as_completed(futures):
            for job, result in zip(futures[future], future.result()):
                results[id(job)] = result
                done += 1
                progress(done, total, job.label)
    for job in jobs:
        yield results[id(job)]


def default_workers() -> int:
    """One process per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)
