"""Where a project's content lives: source/, translations/, templates/, output/."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import relative_path
from pipeline.fsutil import guard_path


@dataclass(frozen=True, slots=True)
class Project:
    """The content folders of one project; `root` is the folder holding them."""

    root: Path

    @property
    def source(self) -> Path:
        return self.root / "source"

    @property
    def translations(self) -> Path:
        return self.root / "translations"

    @property
    def templates(self) -> Path:
        return self.root / "templates"

    @property
    def output(self) -> Path:
        return self.root / "output"

    def po_path(self, language: str) -> Path:
        return guard_path(self.translations / f"{language}.po", self.translations)

    def ledger_path(self, language: str) -> Path:
        return guard_path(self.translations / "ledger" / f"{language}.jsonl", self.translations / "ledger")

    def output_path(self, *parts: str) -> Path:
        """A file under output/; refused (ContentError) if it would resolve outside it."""
        return guard_path(self.output.joinpath(*parts), self.output)

    def relative(self, path: Path) -> str:
        return str(relative_path(path, self.root))
