"""Translation catalogs: translations/<lang>.po, read and written through polib.

One entry per source string: msgctxt is the string id, msgid the English,
msgstr the translation. Machine and contributor drafts carry the gettext
`fuzzy` flag and a translator comment starting with "outreach:" that says where
the text came from; other translator comments belong to translators and are kept.
When the English changes, the translation stays as a fuzzy draft with the
previous English kept as `#| msgid`. Nothing here ever discards a translation.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import polib

from pipeline.content import Source, SourceString
from pipeline.errors import ContentError, Problem
from pipeline.fsutil import write_atomic
from pipeline.project import Project

PoEntry = polib.POEntry  # for type hints elsewhere: only this module touches polib

MARK = "outreach:"
FUZZY = "fuzzy"
BRACE_FORMAT = "python-brace-format"


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """The typed view of one PO entry that the other stages use."""

    id: str
    english: str
    translation: str
    fuzzy: bool
    previous_english: str | None
    provenance: str | None  # e.g. "machine draft: Argos Translate ...", or None for a person's text
    line: int

    @property
    def is_machine(self) -> bool:
        return bool(self.provenance and self.provenance.startswith("machine draft"))


def provenance_lines(entry: polib.POEntry) -> list[str]:
    return [line[len(MARK):].strip() for line in entry.tcomment.splitlines() if line.startswith(MARK)]


def set_provenance(entry: polib.POEntry, lines: list[str]) -> None:
    """Replace this project's comment lines, keeping every line a translator wrote."""
    human = [line for line in entry.tcomment.splitlines() if not line.startswith(MARK)]
    entry.tcomment = "\n".join([f"{MARK} {line}" for line in lines] + human)


def entry_view(entry: polib.POEntry) -> CatalogEntry:
    lines = provenance_lines(entry)
    origin = next((line for line in lines if not line.startswith(("check", "rejected by"))), None)
    return CatalogEntry(
        id=entry.msgctxt or "",
        english=entry.msgid,
        translation=entry.msgstr,
        fuzzy=FUZZY in entry.flags,
        previous_english=entry.previous_msgid,
        provenance=origin,
        line=entry.linenum,
    )


class Catalog:
    """A language's PO file, indexed by string id."""

    def __init__(self, language: str, path: Path, po: polib.POFile):
        self.language = language
        self.path = path
        self.po = po

    def find(self, string_id: str) -> polib.POEntry | None:
        """The live entry of a string, or None."""
        for entry in self.po:
            if entry.msgctxt == string_id and not entry.obsolete:
                return entry
        return None

    def entry(self, string_id: str) -> polib.POEntry:
        """The live entry of a string the catalog is known to hold (KeyError otherwise)."""
        found = self.find(string_id)
        if found is None:
            raise KeyError(string_id)
        return found

    def views(self) -> dict[str, CatalogEntry]:
        return {e.msgctxt: entry_view(e) for e in self.po if e.msgctxt and not e.obsolete}

    def to_text(self) -> str:
        return str(self.po.__unicode__())


HEADER_COMMENT = (
    "outreach: {language} translations of the fact blocks and template strings.\n"
    "Open in Poedit, Weblate or Lokalize. A string prints only after `outreach approve`;\n"
    "editing an approved string sends it back to review."
)
REQUIRED_METADATA = {
    "Project-Id-Version": "outreach",
    "Last-Translator": "see each entry's comments and translations/ledger/",
    "Language-Team": "none",
    "MIME-Version": "1.0",
    "Content-Type": "text/plain; charset=UTF-8",
    "Content-Transfer-Encoding": "8bit",
    "Plural-Forms": "nplurals=2; plural=(n != 1);",
    "X-Generator": "outreach",
}


def new_po(language: str) -> polib.POFile:
    po = polib.POFile(wrapwidth=0)
    po.header = HEADER_COMMENT.format(language=language)
    po.metadata = {"Language": language.replace("-", "_"), **REQUIRED_METADATA}
    return po


_PO_LINE = re.compile(r'^(?:(?:msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?)\s+)?"(?:[^"\\]|\\.)*"\s*$')


def _malformed_lines(path: Path) -> list[Problem]:
    """Lines polib would silently misread (it drops an unterminated string's text)."""
    problems = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#") and not _PO_LINE.match(stripped):
            problems.append(Problem(path, number, f"cannot read PO file: malformed line {stripped[:40]!r} (unterminated string?)"))
    return problems


def read_catalog(project: Project, language: str) -> Catalog:
    """Read translations/<language>.po; a missing file is an empty catalog."""
    path = project.po_path(language)
    if not path.exists():
        return Catalog(language, path, new_po(language))
    try:
        malformed = _malformed_lines(path)
        if malformed:
            raise ContentError(malformed, unusable=True)
        po = polib.pofile(str(path), wrapwidth=0, encoding="utf-8")
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        match = re.search(r"line (\d+)", str(exc))
        line = int(match.group(1)) if match else None
        message = re.sub(r"\s*\(line \d+\)", "", str(exc)).strip() or "unreadable PO file"
        raise ContentError([Problem(path, line, f"cannot read PO file: {message}")], unusable=True) from None
    seen: dict[str, int] = {}
    problems = []
    for entry in po:
        if entry.obsolete:
            continue
        if not entry.msgctxt:
            problems.append(Problem(path, entry.linenum, "entry has no msgctxt (the string id)"))
        elif entry.msgctxt in seen:
            problems.append(Problem(path, entry.linenum, f"{entry.msgctxt} appears twice (first at line {seen[entry.msgctxt]})"))
        else:
            seen[entry.msgctxt] = entry.linenum
    if problems:
        raise ContentError(problems, unusable=True)
    return Catalog(language, path, po)


def write_catalog(catalog: Catalog, now: dt.datetime | None = None) -> None:
    """Write atomically, stamping PO-Revision-Date as gettext tools do."""
    for key, value in REQUIRED_METADATA.items():
        catalog.po.metadata.setdefault(key, value)
    stamp = (now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc)
    catalog.po.metadata["PO-Revision-Date"] = stamp.strftime("%Y-%m-%d %H:%M+0000")
    write_atomic(catalog.path, catalog.to_text())


def _update_source_fields(entry: polib.POEntry, string: SourceString, project: Project) -> None:
    notes = [f"{string.kind} block, topic {string.topic}" if string.kind == "fact" else "template string"]
    if string.note:
        notes.append(string.note)
    entry.comment = "\n".join(notes)
    entry.occurrences = [(project.relative(string.path), str(string.line))]
    if string.placeholders and BRACE_FORMAT not in entry.flags:
        entry.flags.append(BRACE_FORMAT)
    if not string.placeholders and BRACE_FORMAT in entry.flags:
        entry.flags.remove(BRACE_FORMAT)


def sync_catalog(source: Source, catalog: Catalog) -> list[str]:
    """Bring a catalog in line with the English; return the ids whose English changed.

    New strings get empty entries; a changed English keeps the old translation as
    a fuzzy draft with the previous English; strings gone from the source become
    obsolete entries (#~), kept for reference.
    """
    changed = []
    by_id = {e.msgctxt: e for e in catalog.po if e.msgctxt and not e.obsolete}
    retired = {e.msgctxt: e for e in catalog.po if e.msgctxt and e.obsolete}
    ordered = []
    for string in source.strings.values():
        entry = by_id.pop(string.id, None)
        if entry is None and string.id in retired:
            entry = retired.pop(string.id)
            entry.obsolete = False
        if entry is None:
            entry = polib.POEntry(msgctxt=string.id, msgid=string.text, msgstr="")
        elif entry.msgid != string.text and entry.previous_msgid == string.text:
            # The English went back to what the translation was written for: no longer stale.
            entry.msgid = string.text
            entry.previous_msgid = None
        elif entry.msgid != string.text:
            changed.append(string.id)
            if entry.msgstr:
                if entry.previous_msgid is None:
                    entry.previous_msgid = entry.msgid
                if FUZZY not in entry.flags:
                    entry.flags.insert(0, FUZZY)
            entry.msgid = string.text
        _update_source_fields(entry, string, source.project)
        ordered.append(entry)
    for entry in by_id.values():
        entry.obsolete = True
    kept = sorted([*by_id.values(), *retired.values()], key=lambda e: e.msgctxt or "")
    catalog.po[:] = ordered + kept
    return changed


def catalog_languages(source: Source) -> list[str]:
    """Languages that have a catalog: every edition language except English."""
    return sorted({e.language for e in source.editions.values() if e.language != "en"})
