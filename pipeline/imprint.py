"""What a document says about itself: publisher, version code and distributor (source/publication.yaml).

`source/publication.yaml` (optional: without it no publisher prints) names the publisher and, per edition, the local
organisation that hands the document out (its name, where to get naloxone, and
a phone number that must be one of the hotline registry's printable numbers for
the edition's region). Where no distributor is named, templates print an empty
box for the organisation's stamp.

The version code is `v<7 hex>-<YYYYMMDD>`: a digest of source/ (the printed
content) and the latest English review date, so the same content always gives
the same code and the PDFs stay byte-identical run to run. Files that never
print (NOT_PRINTED: who may approve, the checks' wording lists and lexicons, the
translators' glossary) are left out, so adding a reviewer re-renders nothing.

`pipeline.document.plan_document` puts an edition's imprint into its plan (the
flyer's back face), so the job digest covers it; the templates only lay it out.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.errors import Collector
from pipeline.spans import digits_of
from pipeline.yamlfile import Node, read_yaml, unknown_keys

if TYPE_CHECKING:
    from pipeline.content import Edition, Source

PUBLICATION_FILE = "publication.yaml"
NOT_PRINTED = ("reviewers.yaml", "wording.yaml", "glossary.yaml", "lexicon/")  # under source/: read by checks, approval, translation
DISTRIBUTOR_KEYS = ("name", "naloxone", "phone")


@dataclass(frozen=True, slots=True)
class Distributor:
    """The organisation that hands an edition out, as written in source/publication.yaml."""

    name: str
    naloxone: str  # where to get naloxone locally, in the edition's language
    number: str  # as the registry prints it
    tel: str


@dataclass(frozen=True, slots=True)
class Imprint:
    publisher: str
    version: str
    distributor: Distributor | None


def source_version(source: Source) -> str:
    """`v<digest>-<date>`: a digest of the files in source/ that can change what prints, and the latest English review date."""
    digest = hashlib.sha256()
    folder = source.project.source
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if path.is_file() and not path.name.startswith(".") and not name.startswith(NOT_PRINTED):
            digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    dates = [s.review.date for s in source.strings.values() if s.review is not None]
    latest = max(dates, default=source.registry.compiled)
    return f"v{digest.hexdigest()[:7]}-{latest:%Y%m%d}"


def read_imprints(source: Source) -> dict[str, Imprint]:
    """The imprint of every edition; ContentError (file:line) for a distributor that cannot print."""
    path = source.project.source / PUBLICATION_FILE
    problems = Collector()
    version = source_version(source)
    data = read_yaml(path) if path.exists() else None
    publisher = ""
    raw_distributors: object = None
    if isinstance(data, Node):
        for line, message in unknown_keys(data, ("publisher", "distributors")):
            problems.add(path, line, message)
        publisher = str(data.get("publisher") or "").strip()
        raw_distributors = data.get("distributors")
    if data is not None and not publisher:
        problems.add(path, getattr(data, "line", 1), "publication.yaml needs 'publisher' (printed in every footer)")
    distributors: dict[str, Distributor] = {}
    if isinstance(raw_distributors, Node):
        for edition_id in raw_distributors:
            raw = raw_distributors[edition_id]
            line = raw_distributors.line_of(edition_id)
            edition = source.editions.get(edition_id)
            if edition is None:
                problems.add(path, line, f"distributor for unknown edition {edition_id!r}")
                continue
            found = _read_distributor(path, line, edition, raw, source, problems)
            if found:
                distributors[edition_id] = found
    problems.raise_if_errors()
    return {e: Imprint(publisher, version, distributors.get(e)) for e in source.editions}


def _read_distributor(path: Path, line: int, edition: Edition, raw: object, source: Source, problems: Collector) -> Distributor | None:
    if not isinstance(raw, Node):
        problems.add(path, line, f"{edition.id}: a distributor is a mapping with {', '.join(DISTRIBUTOR_KEYS)}")
        return None
    for key_line, message in unknown_keys(raw, DISTRIBUTOR_KEYS):
        problems.add(path, key_line, f"{edition.id} distributor: {message}")
    name = str(raw.get("name") or "").strip()
    if not name:
        problems.add(path, line, f"{edition.id}: a distributor needs a name")
        return None
    phone = str(raw.get("phone") or "").strip()
    number = tel = ""
    if phone:
        wanted = digits_of(phone)
        entries = [e for region in (source.registry.regions.get(edition.region),) if region for e in region.entries]
        match = next((e for e in entries if e.confidence in ("high", "medium") and wanted in (digits_of(e.display_number()), e.dial_digits())), None)
        if match is None:
            problems.add(path, raw.line_of("phone"), f"{edition.id}: distributor phone {phone!r} is not a printable registry number for {edition.region}")
            return None
        number = match.display_number()
        tel = f"tel:{match.e164}" if match.e164 else f"tel:{match.dial_digits()}"
    return Distributor(name, str(raw.get("naloxone") or "").strip(), number, tel)
