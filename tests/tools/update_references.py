"""Regenerate the visual test's reference images (`make update-references`).

Run this only after looking at the new pages and agreeing they are right:
the images it writes into tests/visual/ become what every later render is
compared with. Review the PNGs in the diff before committing them.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from visual_samples import REFERENCES, REPO, render_samples  # noqa: E402

from pipeline.content import read_source  # noqa: E402
from pipeline.project import Project  # noqa: E402
from pipeline.render import Renderer  # noqa: E402


def main() -> int:
    source = read_source(Project(REPO))
    REFERENCES.mkdir(parents=True, exist_ok=True)
    for path in render_samples(source, Renderer(source), REFERENCES).values():
        print(f"wrote {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
