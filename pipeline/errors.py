"""Problems found in the project's files, reported as `file:line: what is wrong`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


def relative_path(path: Path, root: Path | None) -> Path:
    """`path` relative to `root` when it lies below it (as messages show it); otherwise as it is."""
    if root is not None:
        try:
            return path.relative_to(root)
        except ValueError:
            pass
    return path


def format_location(path: Path, line: int | None, root: Path | None = None) -> str:
    """`path:line`, or `path` when the line is not known; the path relative to `root` when it lies below it."""
    path = relative_path(path, root)
    return f"{path}:{line}" if line else str(path)


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input file, located as precisely as we can."""

    path: Path
    line: int | None
    message: str
    severity: str = "error"  # "error" or "warning"

    def location(self, root: Path | None = None) -> str:
        return format_location(self.path, self.line, root)

    def format(self, root: Path | None = None) -> str:
        return f"{self.location(root)}: {self.message}"


class ContentError(Exception):
    """Input that cannot be used. Carries every problem found, not just the first.

    `unusable` marks input that could not even be read (syntax errors, missing
    files): the command line exits 2 for those and 1 for content problems.
    """

    def __init__(self, problems: list[Problem], unusable: bool = False):
        self.problems = list(problems)
        self.unusable = unusable
        super().__init__("\n".join(p.format() for p in self.problems))


class Collector:
    """Gathers problems while loading so that all of them can be reported at once."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, path: Path, line: int | None, message: str, severity: str = "error") -> None:
        self.problems.append(Problem(path, line, message, severity))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    def raise_if_errors(self) -> None:
        if self.errors:
            raise ContentError(self.errors)


class RenderError(Exception):
    """A document that must not be printed; the message says which one and why."""


class FitError(RenderError):
    """Text that does not fit its space: refused for a final, reported on a proof's review page."""


class ModelError(Exception):
    """A model could not be installed, found or removed; the message says why."""
