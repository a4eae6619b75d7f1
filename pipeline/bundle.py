"""The release bundle: every current final PDF, a manifest, and a reproducible zip.

The manifest lists each file's sha256, edition, language, region and format,
the source revision, the hotline entries it prints (with their sources and the
registry's compile date) and the approvals behind its strings: ledger records
for translations, source reviews for English. Before packing, every final is
rendered again in memory and compared byte for byte with the file on disk, so
an out-of-date or hand-edited final cannot be released.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import zipfile
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from pipeline.approval import ENGLISH, approved_texts
from pipeline.build import Gate, final_path
from pipeline.content import Source
from pipeline.errors import ContentError, Problem
from pipeline.fsutil import guard_path, make_staging, swap_in, withdraw, write_atomic
from pipeline.ledger import read_ledger
from pipeline.lock import holding_project_lock

ZIP_DATE = (1980, 1, 1, 0, 0, 0)
CONTENT_FOLDERS = ("source", "translations", "templates")


@dataclass(frozen=True, slots=True)
class Bundle:
    manifest_path: Path
    zip_path: Path
    files: int


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def source_revision(root: Path) -> str:
    """The git commit of the project's content, marked '+modified' when it has uncommitted changes."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", *CONTENT_FOLDERS], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return commit + ("+modified" if dirty else "")


def content_digest(root: Path) -> str:
    """One sha256 over every file of source/, translations/ and templates/ (names and bytes)."""
    digest = hashlib.sha256()
    for folder in CONTENT_FOLDERS:
        for path in sorted((root / folder).rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


@holding_project_lock("bundle")
def build_bundle(source: Source, renderer, gate: Gate) -> Bundle:
    """Pack every final the gate allows; refuse (and withdraw the old release) if one is missing or stale."""
    root = source.project.root
    release = source.project.output_path("release")
    files = []
    problems = []
    payload: dict[str, bytes] = {}
    for edition in source.editions.values():
        states = gate.states(edition.language)
        for format_name in edition.formats:
            path = final_path(source, edition.id, format_name)
            if not gate.allows(edition, format_name):
                continue
            if not path.exists():
                problems.append(Problem(path, None, "missing final; run `outreach render` first"))
                continue
            data = path.read_bytes()
            expected = renderer.render(edition, format_name, approved_texts(states), proof=False).pdf
            if data != expected:
                problems.append(Problem(path, None, "out of date or altered: it differs from a fresh render of the approved text; run `outreach render`"))
                continue
            name = f"{edition.id}/{format_name}.pdf"
            payload[name] = data
            ids = source.edition_string_ids(edition, format_name)
            files.append(
                {
                    "path": name,
                    "sha256": sha256(data),
                    "bytes": len(data),
                    "edition": edition.id,
                    "language": edition.language,
                    "region": edition.region,
                    "format": format_name,
                    "approvals": _approvals(source, edition.language, ids, states),
                    "hotlines": [
                        {
                            "category": e.category,
                            "number": e.display_number(),
                            "service": e.service,
                            "confidence": e.confidence,
                            "sources": list(e.sources),
                            "registry_compiled": source.registry.compiled.isoformat(),
                        }
                        for e in source.printed_hotlines(edition)
                    ],
                }
            )
    if problems:
        # An old release no longer matches the content: take it away rather than leave it to be shipped.
        withdraw(guard_path(release, source.project.output))
        raise ContentError(problems)
    manifest = {
        "project": "outreach",
        "source_revision": source_revision(root),
        "content_sha256": content_digest(root),
        "registry_compiled": source.registry.compiled.isoformat(),
        "ledger_heads": ledger_heads(source),
        "files": files,
    }
    manifest_text = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    # Built complete beside the old release, then swapped in at once: a killed run leaves one or the other.
    staging = make_staging(guard_path(release, source.project.output))
    for name, data in payload.items():
        write_atomic(guard_path(staging / _member_name(name), staging), data)
    write_atomic(staging / "manifest.json", manifest_text)
    write_atomic(staging / "outreach-release.zip", _zip({**payload, "manifest.json": manifest_text.encode()}))
    swap_in(staging, release)
    return Bundle(release / "manifest.json", release / "outreach-release.zip", len(files))


def ledger_heads(source: Source) -> dict[str, str]:
    """Each ledger's head hash by language: its newest record's hash, which chains every record before it."""
    folder = source.project.ledger_path(ENGLISH).parent
    return {path.stem: read_ledger(source.project, path.stem).head for path in sorted(folder.glob("*.jsonl"))}


def _approvals(source: Source, language: str, ids: list[str], states) -> list[dict]:
    """The ledger record that approved each string (and, for English, its source review)."""
    records = []
    for string_id in ids:
        decision = states[string_id].decision
        record = {
            "string": string_id,
            "reviewer": decision.reviewer,
            "time": decision.time,
            "record": decision.hash,
            "english_sha256": decision.english_sha256,
            "translation_sha256": decision.translation_sha256,
        }
        if language == ENGLISH:
            review = source.strings[string_id].review
            record["source_review"] = {"by": review.by, "date": review.date.isoformat()}
        records.append(record)
    return records


_MEMBER_NAME = re.compile(r"[A-Za-z0-9-]+/[A-Za-z0-9-]+\.pdf|manifest\.json")


def _member_name(name: str) -> str:
    """A release member name: `<edition>/<format>.pdf` or `manifest.json`, never a path that climbs out."""
    if not _MEMBER_NAME.fullmatch(name):
        raise ContentError([Problem(Path(name), None, "refused as a release member name (expected EDITION/FORMAT.pdf)")], unusable=True)
    return name


def _zip(members: dict[str, bytes]) -> bytes:
    """A zip whose bytes depend only on the members: sorted, fixed dates and permissions."""
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(map(_member_name, members)):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, members[name])
    return buffer.getvalue()
