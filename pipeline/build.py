"""Render editions to files: finals only where every string is approved, proofs on request.

A final is written to output/final/<edition>/<format>.pdf only when the
edition's strings for that format are all approved; otherwise any old final
is removed, so a stale file can never be mistaken for a current one. Proofs go
to output/proof/<edition>/<format>.pdf whatever the approval state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from pipeline.approval import StringState, approved_texts, blocking_strings, language_states, proof_texts
from pipeline.content import Edition, Source
from pipeline.fsutil import write_atomic


@dataclass(frozen=True, slots=True)
class RenderOutcome:
    edition: str
    format: str
    kind: str  # final | proof | refused
    path: Path | None
    blocking: tuple[StringState, ...]


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


def render_pairs(
    source: Source,
    pairs: list[tuple[Edition, str]],
    proof: bool,
    renderer,
    progress: Callable[[str], None] = lambda message: None,
) -> list[RenderOutcome]:
    """Render finals (or proofs) for each pair and write them atomically."""
    outcomes = []
    states_by_language: dict[str, dict[str, StringState]] = {}
    for edition, format_name in pairs:
        states = states_by_language.setdefault(edition.language, language_states(source, edition.language))
        blocking = tuple(blocking_strings(source, edition, format_name, states))
        if proof:
            progress(f"proof {edition.id} {format_name}")
            unapproved = [(s.id, s.state.value, s.translation or s.english) for s in blocking]
            document = renderer.render(edition, format_name, proof_texts(states), proof=True, unapproved=unapproved)
            path = proof_path(source, edition.id, format_name)
            write_atomic(path, document.pdf)
            outcomes.append(RenderOutcome(edition.id, format_name, "proof", path, blocking))
            continue
        path = final_path(source, edition.id, format_name)
        if blocking:
            path.unlink(missing_ok=True)
            outcomes.append(RenderOutcome(edition.id, format_name, "refused", None, blocking))
            continue
        progress(f"final {edition.id} {format_name}")
        document = renderer.render(edition, format_name, approved_texts(states), proof=False)
        write_atomic(path, document.pdf)
        outcomes.append(RenderOutcome(edition.id, format_name, "final", path, ()))
    return outcomes
