"""Build state: what each generated document was made from, so unchanged documents are not made again.

Each document's state is one small JSON file, output/.state/<kind>/<edition>/<format>.json
(kind: final or proof), holding the digest of its print job and the SHA-256 of
the PDF written for it. One file per document, so the outputs of several CI
shards merge by copying folders. A document is up to date when its state
records the digest of the job it would be made from now and the file on disk
still has the recorded SHA-256; a hand-edited PDF or a changed input therefore
makes it out of date.

The job digest (`pipeline.document.PrintJob.digest`) includes the digest of the
render environment computed here once per run: every file under templates/
(templates, CSS, pictograms), the code that lays documents out
(pipeline/document.py, pipeline/render/ with its fill and prepress steps, and
pipeline/typography.py, which sets quotes and dates), the versions of
WeasyPrint, pydyf, fontTools, pikepdf, Babel and this package, the CMYK output
profile every PDF embeds, and the installed fonts (each file fontconfig lists,
with its size and modification time: a conservative superset of the fonts a
document embeds).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from pipeline.document import PROFILE_PATH
from pipeline.fsutil import write_atomic
from pipeline.project import Project

STATE_FOLDER = ".state"
LIBRARIES = ("weasyprint", "pydyf", "fonttools", "pikepdf", "babel", "outreach")
PACKAGE = Path(__file__).resolve().parent
LAYOUT_CODE = ("document.py", "render", "typography.py")


@dataclass(frozen=True, slots=True)
class DocumentState:
    kind: str  # "final" or "proof"
    edition: str
    format: str
    digest: str  # of the print job
    sha256: str  # of the PDF written
    pages: int  # its page count (for the print shop's notes)

    def to_json(self) -> str:
        return json.dumps(
            {"kind": self.kind, "edition": self.edition, "format": self.format, "digest": self.digest, "sha256": self.sha256,
             "pages": self.pages},
            indent=1, sort_keys=True,
        ) + "\n"


def state_path(project: Project, kind: str, edition_id: str, format_name: str) -> Path:
    return project.output / STATE_FOLDER / kind / edition_id / f"{format_name}.json"


def read_state(project: Project, kind: str, edition_id: str, format_name: str) -> DocumentState | None:
    """The recorded state of a document; None when there is none or it cannot be read."""
    try:
        data = json.loads(state_path(project, kind, edition_id, format_name).read_text(encoding="utf-8"))
        state = DocumentState(data["kind"], data["edition"], data["format"], data["digest"], data["sha256"], int(data["pages"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return state if (state.kind, state.edition, state.format) == (kind, edition_id, format_name) else None


def write_state(project: Project, state: DocumentState) -> None:
    write_atomic(state_path(project, state.kind, state.edition, state.format), state.to_json())


def remove_state(project: Project, kind: str, edition_id: str, format_name: str) -> None:
    path = state_path(project, kind, edition_id, format_name)
    path.unlink(missing_ok=True)
    try:
        path.parent.rmdir()
    except OSError:
        pass  # not empty, or already gone


def sha256_file(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def is_current(project: Project, kind: str, edition_id: str, format_name: str, digest: str, pdf: Path) -> bool:
    """The PDF on disk was made from a job with this digest and has not been touched since."""
    state = read_state(project, kind, edition_id, format_name)
    return state is not None and state.digest == digest and sha256_file(pdf) == state.sha256


# ---------------------------------------------------------------- the render environment


def _hash_tree(digest: hashlib._Hash, root: Path, label: str) -> None:
    paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    for path in paths:
        digest.update(f"{label}/{path.relative_to(root.parent)}\0".encode() + path.read_bytes() + b"\0")


def _versions() -> list[str]:
    found = []
    for name in LIBRARIES:
        try:
            found.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} missing")
    return found


def _list_fonts() -> subprocess.Popen[str] | None:
    """fc-list started (it runs while the caller hashes templates and code); None if it cannot run."""
    try:
        return subprocess.Popen(["fc-list", "--format", "%{file}\n"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    except OSError:
        return None


def _fonts(listing: subprocess.Popen[str] | None) -> list[str]:
    """Every font file fontconfig knows, with its size and modification time."""
    if listing is None:
        return ["fc-list unavailable"]
    try:
        output, _ = listing.communicate(timeout=60)
    except subprocess.SubprocessError:
        listing.kill()
        return ["fc-list unavailable"]
    if listing.returncode != 0:
        return ["fc-list unavailable"]
    found = []
    for name in sorted(set(output.splitlines())):
        try:
            info = Path(name).stat()
        except OSError:
            continue
        found.append(f"{name}\t{info.st_size}\t{info.st_mtime_ns}")
    return found


def render_environment(project: Project) -> str:
    """Digest of everything besides the job that decides a PDF's bytes (compute it once per run)."""
    listing = _list_fonts()
    digest = hashlib.sha256()
    try:
        if project.templates.is_dir():
            _hash_tree(digest, project.templates, "templates")
        for name in LAYOUT_CODE:
            _hash_tree(digest, PACKAGE / name, "pipeline")
    except BaseException:
        if listing is not None:  # not left running behind the error
            listing.kill()
            listing.wait()
        raise
    try:
        digest.update(b"profile\0" + PROFILE_PATH.read_bytes() + b"\0")
    except OSError:
        digest.update(b"profile missing\0")
    digest.update("\n".join([*_versions(), *_fonts(listing)]).encode())
    return digest.hexdigest()
