"""Write one section of docs/benchmarks.md, keeping the others (each benchmark owns a section)."""

from __future__ import annotations

from pathlib import Path


def write_section(path: Path, heading: str, text: str) -> None:
    """Replace the section starting with `heading` (a "## ..." line) by `text`, or add it at the end."""
    current = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    head, *sections = current.split("\n## ")
    sections = ["## " + s.rstrip("\n") + "\n" for s in sections]
    replaced = [text if s.startswith(heading) else s for s in sections]
    if not any(s.startswith(heading) for s in sections):
        replaced.append(text)
    path.write_text(head.rstrip("\n") + "\n\n" + "\n".join(r.rstrip("\n") + "\n" for r in replaced), encoding="utf-8")
