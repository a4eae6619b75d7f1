"""Does output/release/ hold one complete release? Its manifest must match its PDFs and its zip.

`outreach check` reports a release whose files no longer match its manifest
(altered by hand, or left half-written by a tool that does not swap it in
whole), and a release swap that a killed run interrupted.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

from pipeline.errors import Problem

MANIFEST = "manifest.json"
ZIP_NAME = "outreach-release.zip"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def verify_release(output: Path) -> list[Problem]:
    """Every way output/release/ differs from its manifest.json; empty when it is whole (or absent)."""
    release = output / "release"
    problems: list[Problem] = []
    interrupted = output / ".release.old"
    if interrupted.is_dir() and not release.exists():
        problems.append(Problem(interrupted, None, "a release swap was interrupted: the next outreach command that writes (e.g. `outreach bundle`) puts the old release back"))
    if not release.is_dir():
        return problems
    manifest_path = release / MANIFEST
    pdfs = sorted(str(p.relative_to(release)) for p in release.rglob("*.pdf"))
    if not manifest_path.is_file():
        if pdfs or (release / ZIP_NAME).exists():
            problems.append(Problem(manifest_path, None, "the release has files but no manifest; run `outreach bundle`"))
        return problems
    try:
        manifest_bytes = manifest_path.read_bytes()
        listed = {item["path"]: item["sha256"] for item in json.loads(manifest_bytes)["files"]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return [*problems, Problem(manifest_path, None, f"unreadable release manifest ({exc}); run `outreach bundle`")]
    for name, digest in sorted(listed.items()):
        path = release / name
        if not path.resolve().is_relative_to(release.resolve()):
            problems.append(Problem(manifest_path, None, f"{name!r} lies outside the release"))
        elif not path.is_file():
            problems.append(Problem(path, None, "listed in the release manifest but missing; run `outreach bundle`"))
        elif _sha256(path.read_bytes()) != digest:
            problems.append(Problem(path, None, "does not match the release manifest (sha256 differs); run `outreach bundle`"))
    for name in pdfs:
        if name not in listed:
            problems.append(Problem(release / name, None, "not listed in the release manifest; run `outreach bundle`"))
    problems.extend(_verify_zip(release / ZIP_NAME, listed, manifest_bytes))
    return problems


def _verify_zip(path: Path, listed: dict[str, str], manifest_bytes: bytes) -> list[Problem]:
    if not path.is_file():
        return [Problem(path, None, "the release zip is missing; run `outreach bundle`")]
    try:
        with zipfile.ZipFile(path) as archive:
            members = {name: archive.read(name) for name in archive.namelist()}
    except (OSError, zipfile.BadZipFile, ValueError) as exc:
        return [Problem(path, None, f"unreadable release zip ({exc}); run `outreach bundle`")]
    wanted = {**listed, MANIFEST: _sha256(manifest_bytes)}
    if set(members) != set(wanted) or any(_sha256(members[n]) != wanted[n] for n in wanted):
        return [Problem(path, None, "the release zip does not hold exactly the manifest and the files it lists; run `outreach bundle`")]
    return []
