"""The release bundle: every current final PDF, a manifest, and a reproducible zip.

The manifest lists each file's sha256, edition, language, region and format,
the source revision, the hotline entries it prints (with their sources and the
registry's compile date) and the approvals behind its strings: ledger records
for translations, source reviews for English. Nothing is rendered: before
packing, each final's job is planned from the current inputs and its digest and
the file's SHA-256 are compared with the build state (`pipeline.state`), so an
out-of-date or hand-edited final cannot be released. The zip is reproducible:
members sorted, fixed dates and permissions.

The manifest is built by `manifest_entry` (one per file) and `build_manifest`
(the whole): extend those to record more.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import zipfile
import zlib
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from pipeline.approval import ENGLISH, StringState
from pipeline.build import Gate, final_path
from pipeline.content import Source
from pipeline.document import FORMATS, OUTPUT_CONDITION, PROFILE_NAME, DocumentPlan
from pipeline.errors import ContentError, Problem
from pipeline.fsutil import guard_path, make_staging, swap_in, withdraw, write_atomic
from pipeline.ledger import read_ledger
from pipeline.lock import holding_project_lock
from pipeline.state import read_state

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


def manifest_entry(source: Source, plan: DocumentPlan, name: str, data: bytes, states: dict[str, StringState]) -> dict[str, object]:
    """What the manifest says about one file: its hash, edition, the approvals and registry entries behind it."""
    return {
        "path": name,
        "sha256": sha256(data),
        "bytes": len(data),
        "edition": plan.edition_id,
        "language": plan.language,
        "region": plan.region,
        "format": plan.format.name,
        "approvals": _approvals(source, plan.language, list(plan.string_ids), states),
        "hotlines": [
            {
                "category": h.category,
                "number": h.number,
                "service": h.service,
                "confidence": h.confidence,
                "sources": list(h.sources),
                "registry_compiled": plan.registry_compiled,
            }
            for h in plan.hotlines
        ],
    }


def build_manifest(source: Source, files: list[dict[str, object]]) -> dict[str, object]:
    root = source.project.root
    return {
        "project": "outreach",
        "source_revision": source_revision(root),
        "content_sha256": content_digest(root),
        "registry_compiled": source.registry.compiled.isoformat(),
        "ledger_heads": ledger_heads(source),
        "files": files,
    }


@holding_project_lock("bundle")
def build_bundle(source: Source, gate: Gate) -> Bundle:
    """Pack every final the gate allows; refuse (and withdraw the old release) if one is missing or stale."""
    project = source.project
    release = project.output_path("release")
    files = []
    problems = []
    payload: dict[str, bytes] = {}
    pages: dict[str, int] = {}
    for edition in source.editions.values():
        for format_name in edition.formats:
            path = final_path(source, edition.id, format_name)
            if not gate.allows(edition, format_name):
                continue
            if not path.exists():
                problems.append(Problem(path, None, "missing final; run `outreach build` first"))
                continue
            data = path.read_bytes()
            job = gate.final_job(edition, format_name)
            state = read_state(project, "final", edition.id, format_name)
            if state is None or state.sha256 != sha256(data):
                problems.append(Problem(path, None, "altered or of unknown origin: its SHA-256 is not the one the build recorded; run `outreach build`"))
                continue
            if state.digest != job.digest():
                problems.append(Problem(path, None, "out of date: it was made from other inputs than the current approved text, registry, templates or fonts; run `outreach build`"))
                continue
            name = f"{edition.id}/{format_name}.pdf"
            payload[name] = data
            pages[name] = state.pages
            files.append(manifest_entry(source, job.plan, name, data, gate.states(edition.language)))
    if problems:
        # An old release no longer matches the content: take it away rather than leave it to be shipped.
        withdraw(guard_path(release, project.output))
        raise ContentError(problems)
    manifest_text = json.dumps(build_manifest(source, files), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    notes = print_shop_notes(files, pages)
    if _release_is_current(release, manifest_text, notes, payload):
        return Bundle(release / "manifest.json", release / "outreach-release.zip", len(files))  # nothing to write
    # Built complete beside the old release, then swapped in at once: a killed run leaves one or the other.
    staging = make_staging(guard_path(release, project.output))
    for name, data in payload.items():
        write_atomic(guard_path(staging / _member_name(name), staging), data)
    write_atomic(staging / "manifest.json", manifest_text)
    write_atomic(staging / "PRINT-SHOP.txt", notes)
    write_atomic(staging / "outreach-release.zip", _zip({**payload, "manifest.json": manifest_text.encode()}))
    swap_in(staging, release)
    return Bundle(release / "manifest.json", release / "outreach-release.zip", len(files))


def _release_is_current(release: Path, manifest_text: str, notes: str, payload: dict[str, bytes]) -> bool:
    """Whether the release on disk is the one these finals make: the same manifest and notes, the same
    files, and a zip holding exactly them (names and CRC-32s). Then a build with nothing changed writes nothing."""
    try:
        if any((release / name).read_text(encoding="utf-8") != text for name, text in (("manifest.json", manifest_text), ("PRINT-SHOP.txt", notes))):
            return False
        if any((release / _member_name(name)).read_bytes() != data for name, data in payload.items()):
            return False
        members = {**payload, "manifest.json": manifest_text.encode()}
        with zipfile.ZipFile(release / "outreach-release.zip") as archive:
            found = {info.filename: info.CRC for info in archive.infolist()}
    except (OSError, UnicodeDecodeError, zipfile.BadZipFile):
        return False
    return found == {name: zlib.crc32(data) for name, data in members.items()}


def ledger_heads(source: Source) -> dict[str, str]:
    """Each ledger's head hash by language: its newest record's hash, which chains every record before it."""
    folder = source.project.ledger_path(ENGLISH).parent
    return {path.stem: read_ledger(source.project, path.stem).head for path in sorted(folder.glob("*.jsonl"))}


def required_not_final(source: Source, gate: Gate) -> list[Problem]:
    """Each document of an edition marked required_for_release that may not print as final."""
    problems = []
    for edition in source.editions.values():
        if not edition.required_for_release:
            continue
        for format_name in edition.formats:
            if not gate.allows(edition, format_name) or not final_path(source, edition.id, format_name).exists():
                problems.append(Problem(source.project.source / "editions.yaml", edition.line,
                                        f"{edition.id} {format_name}: required for release but not final"))
    return problems


def print_shop_notes(files: list[dict[str, object]], pages: dict[str, int] | None = None) -> str:
    """PRINT-SHOP.txt: for each released file its trim, bleed, pages, duplex flip edge, colour profile and stock.

    `pages`: each file's page count (from the build state), else the format's fixed count.
    """

    def page_count(item: dict[str, object]) -> str:
        found = (pages or {}).get(str(item["path"]))
        return str(found or FORMATS[str(item["format"])].pages or "?")

    stock = {"flyer": "uncoated offset 100-120 g/m2 (long-edge duplex)", "card": "coated card 300-350 g/m2, or laminated", "sheet": "coated card 250-300 g/m2, cut on the crop marks"}
    lines = ["Print-shop notes: every PDF is PDF/X-4 with the output intent below; black text is 100% K.", ""]
    for item in sorted(files, key=lambda f: str(f["path"])):
        spec = FORMATS[str(item["format"])]
        width, height = spec.page_mm
        flip = "long edge" if spec.kind in ("flyer", "sheet") else "short edge (back page upright)"
        lines.append(
            f"{item['path']}: trim {width:g} x {height:g} mm; bleed {spec.bleed_mm:g} mm; pages {page_count(item)}; "
            f"duplex flip {flip}; colour profile {PROFILE_NAME} ({OUTPUT_CONDITION}); stock {stock[spec.kind]}"
        )
    return "\n".join(lines) + "\n"


def _approvals(source: Source, language: str, ids: list[str], states: dict[str, StringState]) -> list[dict[str, object]]:
    """The ledger record that approved each string (and, for English, its source review)."""
    records = []
    for string_id in ids:
        decision = states[string_id].decision
        if decision is None:  # cannot happen for a final: every string it prints is approved in the ledger
            raise ValueError(f"{string_id}: no ledger record approves it")
        record: dict[str, object] = {
            "string": string_id,
            "reviewer": decision.reviewer,
            "time": decision.time,
            "record": decision.hash,
            "english_sha256": decision.english_sha256,
            "translation_sha256": decision.translation_sha256,
        }
        if language == ENGLISH:
            review = source.strings[string_id].review
            if review is None:
                raise ValueError(f"{string_id}: English without a source review cannot be approved")
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
