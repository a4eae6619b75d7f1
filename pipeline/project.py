"""Where a project's content lives: source/, translations/, templates/, output/."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


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
        return self.translations / f"{language}.po"

    def ledger_path(self, language: str) -> Path:
        return self.translations / "ledger" / f"{language}.jsonl"

    def relative(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)
