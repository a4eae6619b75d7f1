"""Translation catalogs: translations/<lang>.po, read and written through polib.

One entry per source string: msgctxt is the string id, msgid the English,
msgstr the translation. Machine and contributor drafts carry the gettext
`fuzzy` flag and a translator comment starting with "outreach:" that says where
the text came from; other translator comments belong to translators and are kept.
When the English changes, the translation stays as a fuzzy draft with the
previous English kept as `#| msgid`. Nothing here ever discards a translation.

A machine back-translation into English, for reviewers, is kept as one more
`outreach:` comment line ("back-translation (ENGINE, DATE, of translation
HASH): TEXT"): a comment, so no tool can take it for the translation, and tied
to the exact translation it was made from, so an edited translation's old
back-translation reads as stale.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import polib

from pipeline.content import Source, SourceString
from pipeline.errors import ContentError, Problem
from pipeline.fsutil import read_text_file, write_atomic
from pipeline.project import Project

MARK = "outreach:"
FUZZY = "fuzzy"
BRACE_FORMAT = "python-brace-format"


BACK_TRANSLATION = "back-translation"
_BACK_LINE = re.compile(
    rf"^{BACK_TRANSLATION} \((?P<engine>.+?), (?P<date>\d{{4}}-\d{{2}}-\d{{2}}), of translation (?P<of>[0-9a-f]{{16}})\):(?: (?P<text>.*))?$"
)


def translation_fingerprint(translation: str) -> str:
    """The first 16 hex digits of the translation's SHA-256: what a back-translation was made from."""
    return hashlib.sha256(translation.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class BackTranslation:
    """A machine translation of a translation back into English, with where it came from."""

    text: str
    engine: str  # engine, package and version, e.g. "Argos Translate model translate-es_en-1_0 1.0 (es→en)"
    date: str  # YYYY-MM-DD
    of: str  # translation_fingerprint() of the translation it was made from

    def is_current(self, translation: str) -> bool:
        """Whether it was made from exactly this translation (a stale one is not shown as current)."""
        return self.of == translation_fingerprint(translation)


def _back_translation_line(back: BackTranslation) -> str:
    text = " ".join(back.text.split())  # one comment line: a line break would become a translator's comment
    engine = " ".join(back.engine.split())
    return f"{BACK_TRANSLATION} ({engine}, {back.date}, of translation {back.of}): {text}"


def _read_back_translation(lines: list[str]) -> BackTranslation | None:
    for line in lines:
        match = _BACK_LINE.match(line)
        if match:
            return BackTranslation(match["text"] or "", match["engine"], match["date"], match["of"])
    return None


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
    provenance_lines: tuple[str, ...] = ()  # every `outreach:` comment line: origin, check findings, rejection
    translator_notes: tuple[str, ...] = ()  # translator comments a person wrote
    source_notes: tuple[str, ...] = ()  # extracted comments: kind of string, note for translators
    occurrences: tuple[tuple[str, str], ...] = ()  # (source file, line)
    back_translation: BackTranslation | None = None  # current or stale: see current_back_translation

    @property
    def is_machine(self) -> bool:
        return bool(self.provenance and self.provenance.startswith("machine draft"))

    @property
    def current_back_translation(self) -> str:
        """The stored back-translation's text if it was made from the current translation, else ""."""
        back = self.back_translation
        return back.text if back is not None and back.is_current(self.translation) else ""


def _provenance_lines(entry: polib.POEntry) -> list[str]:
    return [line[len(MARK):].strip() for line in entry.tcomment.splitlines() if line.startswith(MARK)]


def _set_provenance(entry: polib.POEntry, lines: list[str]) -> None:
    """Replace this project's comment lines, keeping every line a translator wrote."""
    human = [line for line in entry.tcomment.splitlines() if not line.startswith(MARK)]
    entry.tcomment = "\n".join([f"{MARK} {line}" for line in lines] + human)


def _entry_view(entry: polib.POEntry) -> CatalogEntry:
    lines = _provenance_lines(entry)
    origin = next((line for line in lines if not line.startswith(("check", "rejected by", BACK_TRANSLATION))), None)
    return CatalogEntry(
        id=entry.msgctxt or "",
        english=entry.msgid,
        translation=entry.msgstr,
        fuzzy=FUZZY in entry.flags,
        previous_english=entry.previous_msgid,
        provenance=origin,
        line=entry.linenum,
        provenance_lines=tuple(lines),
        translator_notes=tuple(line for line in entry.tcomment.splitlines() if line.strip() and not line.startswith(MARK)),
        source_notes=tuple(line for line in entry.comment.splitlines() if line.strip()),
        occurrences=tuple((str(path), str(line)) for path, line in entry.occurrences),
        back_translation=_read_back_translation(lines),
    )


_DECISION_LINES = ("check", "rejected by")


class Catalog:
    """A language's PO file, indexed by string id.

    The only owner of PO entries: other stages read `views()` and change entries
    through the intent methods below (approve, reject, set_machine_draft,
    set_person_text, add_translator_notes), never through polib.
    """

    def __init__(self, language: str, path: Path, po: polib.POFile):
        self.language = language
        self.path = path
        self.po = po

    def _entry(self, string_id: str) -> polib.POEntry:
        for entry in self.po:
            if entry.msgctxt == string_id and not entry.obsolete:
                return entry
        raise ContentError([Problem(self.path, None, f"{string_id}: no such string in the catalog")])

    def has(self, string_id: str) -> bool:
        return any(e.msgctxt == string_id and not e.obsolete for e in self.po)

    def views(self) -> dict[str, CatalogEntry]:
        return {e.msgctxt: _entry_view(e) for e in self.po if e.msgctxt and not e.obsolete}

    def view(self, string_id: str) -> CatalogEntry:
        return _entry_view(self._entry(string_id))

    def translation(self, string_id: str) -> str:
        return self._entry(string_id).msgstr

    def approve(self, string_id: str) -> None:
        """Record in the PO that the current text is approved: not fuzzy, answers the current English."""
        entry = self._entry(string_id)
        if FUZZY in entry.flags:
            entry.flags.remove(FUZZY)
        entry.previous_msgid = None
        _set_provenance(entry, [line for line in _provenance_lines(entry) if not line.startswith(_DECISION_LINES)])

    def reject(self, string_id: str, note: str) -> None:
        """Send the text back to its translator: fuzzy, with the rejection written next to it."""
        entry = self._entry(string_id)
        if FUZZY not in entry.flags:
            entry.flags.insert(0, FUZZY)
        kept = [line for line in _provenance_lines(entry) if not line.startswith(_DECISION_LINES)]
        _set_provenance(entry, [*kept, note])

    def set_machine_draft(self, string_id: str, text: str, provenance: list[str]) -> None:
        """A draft (machine or translation memory): fuzzy, answering the current English, saying where it came from."""
        entry = self._entry(string_id)
        entry.msgstr = text
        entry.previous_msgid = None
        if FUZZY not in entry.flags:
            entry.flags.insert(0, FUZZY)
        _set_provenance(entry, provenance)

    def set_person_text(self, string_id: str, text: str, origin: str, errors: list[str]) -> None:
        """Make `text` a person's translation awaiting approval.

        It is no longer a draft (not fuzzy) and answers the current English. A
        text with error findings (`errors`, one line each) stays fuzzy: it cannot
        be approved anyway, and msgfmt and Poedit would refuse, for example, a
        non-fuzzy translation that lacks a placeholder.
        """
        entry = self._entry(string_id)
        entry.msgstr = text
        entry.previous_msgid = None
        if errors and FUZZY not in entry.flags:
            entry.flags.insert(0, FUZZY)
        if not errors and FUZZY in entry.flags:
            entry.flags.remove(FUZZY)
        _set_provenance(entry, [origin, *errors])

    def add_translator_notes(self, string_id: str, lines: list[str]) -> bool:
        """Add translator comment lines not already there; never remove any. True if any was added."""
        entry = self._entry(string_id)
        existing = entry.tcomment.splitlines()
        added = []
        for line in lines:
            line = line.strip()
            if line and not line.startswith(MARK) and line not in existing and line not in added:
                added.append(line)
        if added:
            entry.tcomment = "\n".join(existing + added)
        return bool(added)

    def needs_draft(self) -> list[str]:
        """Ids with no translation, or whose machine draft no longer matches its English."""
        wanted = []
        for entry in self.po:
            if entry.obsolete or not entry.msgctxt:
                continue
            outdated_machine_draft = entry.previous_msgid is not None and FUZZY in entry.flags and any(
                line.startswith("machine draft") for line in _provenance_lines(entry)
            )
            if not entry.msgstr.strip() or outdated_machine_draft:
                wanted.append(entry.msgctxt)
        return wanted

    def to_text(self) -> str:
        return self.po.__unicode__()

    def set_back_translation(self, string_id: str, back: BackTranslation) -> None:
        """Store a back-translation beside a string's translation, replacing any older one.

        It goes after this project's other comment lines and never touches the
        translation, its flags or a translator's comments.
        """
        entry = self._entry(string_id)
        kept = [line for line in _provenance_lines(entry) if not line.startswith(BACK_TRANSLATION)]
        _set_provenance(entry, [*kept, _back_translation_line(back)])


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


def _malformed_lines(path: Path, text: str) -> list[Problem]:
    """Lines polib would silently misread (it drops an unterminated string's text)."""
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#") and not _PO_LINE.match(stripped):
            problems.append(Problem(path, number, f"cannot read PO file: malformed line {stripped[:40]!r} (unterminated string?)"))
    return problems


def _charset_problem(path: Path, text: str, po: polib.POFile) -> Problem | None:
    """PO files here are UTF-8; a header declaring another charset would be misread."""
    match = re.search(r"charset=([A-Za-z0-9_.:-]+)", po.metadata.get("Content-Type", ""))
    if match and match.group(1).replace("_", "-").lower() not in ("utf-8", "utf8"):
        line = next((n for n, l in enumerate(text.splitlines(), start=1) if "Content-Type:" in l), None)
        return Problem(path, line, f"cannot read PO file: charset {match.group(1)} declared; save it as UTF-8 and declare charset=UTF-8")
    return None


def read_catalog(project: Project, language: str) -> Catalog:
    """Read translations/<language>.po; a missing file is an empty catalog."""
    path = project.po_path(language)
    if not path.exists() and not path.is_symlink():
        return Catalog(language, path, new_po(language))
    text = read_text_file(path).removeprefix("\ufeff")  # editors on Windows save a byte-order mark
    try:
        malformed = _malformed_lines(path, text)
        if malformed:
            raise ContentError(malformed, unusable=True)
        po = polib.pofile(text, wrapwidth=0, encoding="utf-8")
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        match = re.search(r"line (\d+)", str(exc))
        line = int(match.group(1)) if match else None
        message = re.sub(r"\s*\(line \d+\)", "", str(exc)).strip() or "unreadable PO file"
        raise ContentError([Problem(path, line, f"cannot read PO file: {message}")], unusable=True) from None
    problems = [p for p in [_charset_problem(path, text, po)] if p]
    seen: dict[str, int] = {}
    for entry in po:
        if entry.obsolete:
            continue
        if entry.msgid_plural:
            problems.append(Problem(path, entry.linenum, f"{entry.msgctxt or 'entry'}: plural forms (msgid_plural) are not used here; give one msgstr"))
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
