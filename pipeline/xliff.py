"""XLIFF 1.2 export and import, for translators who work in CAT tools.

`export_xliff` writes one language as one `<file>`: a `<trans-unit>` per
string with the English as `<source>`, the current translation as `<target>`
with a state mapped from the string's review state, and `<note>`s for the
notes from source/, the translator's own comments, where the text came from,
the old English of a stale string and the last review decision.

`import_xliff` writes changed targets back into the PO through the catalog. A
target equal to the current translation changes nothing, so approvals survive
a round trip; a changed target becomes a person's text awaiting review, which
withdraws any approval (an approval binds the exact text); one with error
findings stays fuzzy. Notes a translator adds in the CAT tool become translator
comments (none are ever removed). A unit whose English has changed since the
export, or whose id is unknown, is reported and left out. A file that is not
well-formed XLIFF 1.2 writes nothing. Files with a DOCTYPE are refused, so no
entity can expand or be fetched.

Approval is never imported: `approved="yes"` and `state="final"` are only a
display of the ledger for the translator.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from xml.parsers import expat

from pipeline import checks
from pipeline.approval import ENGLISH, State, StringState, string_states
from pipeline.catalog import Catalog, CatalogEntry, read_catalog, sync_catalog, write_catalog
from pipeline.content import Source
from pipeline.errors import ContentError, Problem
from pipeline.ledger import read_ledger
from pipeline.lock import holding_project_lock
from pipeline.review import person_text_errors

XLIFF_NS = "urn:oasis:names:tc:xliff:document:1.2"
XML_NS = "http://www.w3.org/XML/1998/namespace"
XML_SPACE = f"{{{XML_NS}}}space"

# Who a <note> is "from": the first two follow Translate Toolkit's po2xliff.
NOTE_SOURCE = "developer"  # notes from source/: kind of string, topic, note for translators
NOTE_TRANSLATOR = "po-translator"  # a translator's own comments in the PO
NOTE_PROVENANCE = "outreach"  # the entry's `outreach:` lines: where the text came from, check findings
NOTE_PREVIOUS = "previous-english"  # the English a stale translation was written for
NOTE_REVIEW = "outreach-review"  # the last approval or rejection, from the ledger
GENERATED_NOTES = (NOTE_SOURCE, NOTE_PROVENANCE, NOTE_PREVIOUS, NOTE_REVIEW)

# Target states that say a target is not a translation yet (a CAT tool may copy the source there).
UNTRANSLATED_STATES = ("new", "needs-translation")
# Inline elements that may wrap text without meaning anything for plain text.
TRANSPARENT_INLINE = ("mrk",)


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import did, by string id."""

    language: str
    path: Path
    changed: tuple[str, ...]  # new text written; awaits review
    unapproved: tuple[str, ...]  # changed strings that were approved before
    unchanged: tuple[str, ...]
    noted: tuple[str, ...]  # strings that got new translator comments
    skipped: tuple[Problem, ...]  # units not imported, with where and why
    findings: tuple[checks.Finding, ...]  # what the checks say about the imported texts
    wrote: bool


# ------------------------------------------------------------------ export


def export_xliff(source: Source, language: str) -> bytes:
    """One language's strings as an XLIFF 1.2 document, in source order; the same input gives the same bytes."""
    project = source.project
    if language == ENGLISH or language not in source.languages:
        raise ContentError([Problem(project.source / "languages.yaml", None, f"{language!r} is not a translated language")])
    catalog = _synced_catalog(source, language)
    states = string_states(source, catalog, read_ledger(project, language))
    _refuse_unwritable(catalog, states)

    root = ET.Element("xliff", {"version": "1.2", "xmlns": XLIFF_NS})
    original = Path(project.relative(project.po_path(language))).as_posix()
    file = ET.SubElement(
        root,
        "file",
        {"source-language": ENGLISH, "target-language": language, "datatype": "plaintext", "original": original},
    )
    header = ET.SubElement(file, "header")
    ET.SubElement(header, "tool", {"tool-id": "outreach", "tool-name": "outreach"})
    body = ET.SubElement(file, "body")
    for item in states.values():
        body.append(_trans_unit(catalog, item))
    ET.indent(root, space="  ")
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True)) + b"\n"


def _trans_unit(catalog: Catalog, item: StringState) -> ET.Element:
    entry = catalog.view(item.id)
    unit = ET.Element("trans-unit", {"id": item.id, "resname": item.id})
    if item.state is State.APPROVED:
        unit.set("approved", "yes")
    unit.set(XML_SPACE, "preserve")
    ET.SubElement(unit, "source").text = item.english
    if item.state is not State.MISSING:
        target = ET.SubElement(unit, "target", _target_attributes(item.state))
        target.text = item.translation
    for kind, text in _notes(entry, item):
        ET.SubElement(unit, "note", {"from": kind}).text = text
    for path, line in entry.occurrences:
        group = ET.SubElement(unit, "context-group", {"purpose": "location"})
        ET.SubElement(group, "context", {"context-type": "sourcefile"}).text = path
        ET.SubElement(group, "context", {"context-type": "linenumber"}).text = line
    return unit


def _target_attributes(state: State) -> dict[str, str]:
    if state is State.APPROVED:
        return {"state": "final"}
    if state is State.MACHINE:
        return {"state": "needs-review-translation", "state-qualifier": "mt-suggestion"}
    if state is State.REJECTED:
        return {"state": "needs-translation"}
    return {"state": "needs-review-translation"}  # needs review, draft, stale


def _notes(entry: CatalogEntry, item: StringState) -> list[tuple[str, str]]:
    notes = [(NOTE_SOURCE, line) for line in entry.source_notes]
    notes += [(NOTE_TRANSLATOR, line) for line in entry.translator_notes]
    notes += [(NOTE_PROVENANCE, line) for line in entry.provenance_lines]
    if item.state is State.STALE:
        stale = item.entry
        previous = item.english if stale is None else stale.previous_english if stale.previous_english is not None else stale.english
        notes.append((NOTE_PREVIOUS, previous))
    decision = item.decision
    if item.state is State.APPROVED and decision is not None:
        notes.append((NOTE_REVIEW, f"approved by {decision.reviewer}, {decision.time}"))
    if item.state is State.REJECTED and decision is not None:
        notes.append((NOTE_REVIEW, f"rejected by {decision.reviewer}, {decision.time}: {decision.reason}"))
    return notes


def _refuse_unwritable(catalog: Catalog, states: dict[str, StringState]) -> None:
    """XML 1.0 cannot hold most control characters; a carriage return would not survive parsing."""
    problems = []
    for item in states.values():
        entry = catalog.view(item.id)
        texts = [item.english, item.translation, *entry.source_notes, *entry.translator_notes, *entry.provenance_lines, entry.previous_english or ""]
        bad = sorted({ch for text in texts for ch in text if not _xml_char(ch) or ch == "\r"})
        if bad:
            names = ", ".join(f"U+{ord(ch):04X}" for ch in bad)
            problems.append(Problem(catalog.path, entry.line or None, f"{item.id}: {names} cannot be written to XLIFF; remove it"))
    if problems:
        raise ContentError(problems)


def _xml_char(ch: str) -> bool:
    code = ord(ch)
    return code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or code >= 0x10000


# ------------------------------------------------------------------ import


@dataclass(frozen=True, slots=True)
class XliffUnit:
    """One trans-unit as read from a file."""

    id: str
    line: int | None
    source: str | None
    target: str | None  # None: no <target>
    target_state: str
    notes: tuple[tuple[str, str], ...]  # (from, text)
    problem: str = ""  # why the unit cannot be imported, if it cannot


@holding_project_lock("import-xliff")
def import_xliff(source: Source, path: Path, now: dt.datetime) -> ImportReport:
    """Write the changed targets of an XLIFF 1.2 file into its language's PO."""
    language, units = read_xliff(source, path)
    catalog = _synced_catalog(source, language)
    states = string_states(source, catalog, read_ledger(source.project, language))
    day = now.astimezone(dt.timezone.utc).date().isoformat()
    origin = f"imported from XLIFF {path.name}, {day}"
    changed, unapproved, unchanged, noted, skipped, findings = [], [], [], [], [], []

    for unit in units:
        def skip(message: str) -> None:
            skipped.append(Problem(path, unit.line, f"{unit.id}: {message}; not imported", "warning"))  # noqa: B023 - called within this iteration

        if unit.id not in source.strings:
            skip("no such string in source/")
            continue
        english = source.english(unit.id)
        if unit.problem:
            skip(unit.problem)
            continue
        if unit.source is None:
            skip("the unit has no <source>")
            continue
        if unit.source != english:
            skip("the English has changed since this file was exported; export again and carry the translation over")
            continue
        if _add_translator_notes(catalog, unit.id, unit.notes):
            noted.append(unit.id)
        current = catalog.translation(unit.id)
        text = unit.target
        if text is None or text == current or (not text.strip() and not current.strip()):
            unchanged.append(unit.id)
            continue
        if not text.strip():
            skip("the target is empty; the current translation is kept")
            continue
        if text == english and unit.target_state in UNTRANSLATED_STATES:
            skip(f"the target is a copy of the English in a unit marked {unit.target_state!r}")
            continue
        found = checks.check_translation(source, language, unit.id, text)
        catalog.set_person_text(unit.id, text, origin, person_text_errors(found))
        findings.extend(found)
        changed.append(unit.id)
        if states[unit.id].state is State.APPROVED:
            unapproved.append(unit.id)

    wrote = bool(changed or noted)
    if wrote:
        write_catalog(catalog, now)
    return ImportReport(
        language=language,
        path=path,
        changed=tuple(changed),
        unapproved=tuple(unapproved),
        unchanged=tuple(unchanged),
        noted=tuple(noted),
        skipped=tuple(skipped),
        findings=tuple(findings),
        wrote=wrote,
    )


def _add_translator_notes(catalog: Catalog, string_id: str, notes: tuple[tuple[str, str], ...]) -> bool:
    """Add a CAT tool's or translator's notes to the entry's translator comments; never remove any."""
    lines = []
    for author, text in notes:
        if author in GENERATED_NOTES:
            continue
        prefix = "" if author in ("", "translator", NOTE_TRANSLATOR) else f"{author}: "
        lines += [prefix + line for line in text.splitlines()]
    return catalog.add_translator_notes(string_id, lines)


def read_xliff(source: Source, path: Path) -> tuple[str, list[XliffUnit]]:
    """Parse and check an XLIFF 1.2 file: its language and its units, or ContentError listing every problem."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ContentError([Problem(path, None, f"cannot read: {exc.strerror or exc}")], unusable=True) from None
    root, lines = _parse_xml(data, path)
    problems: list[Problem] = []
    if root.tag != "xliff":  # XLIFF 1.2 names are kept without their namespace, others with it
        version = " (XLIFF 2 is not supported; export XLIFF 1.2)" if "xliff:document:2" in root.tag else ""
        raise ContentError([Problem(path, lines.get(root), f"not an XLIFF 1.2 file: the root element is <{_local(root.tag)}>{version}")])
    if root.get("version", "1.2") != "1.2":
        raise ContentError([Problem(path, lines.get(root), f"XLIFF version {root.get('version')} is not supported; export XLIFF 1.2")])
    files = _children(root, "file")
    if not files:
        raise ContentError([Problem(path, lines.get(root), "no <file> element")])

    languages = set()
    units: list[XliffUnit] = []
    seen: dict[str, int | None] = {}
    for file in files:
        if not file.get("source-language", "").lower().startswith(ENGLISH):
            problems.append(Problem(path, lines.get(file), f"source-language is {file.get('source-language', '')!r}; expected English ({ENGLISH})"))
        target_language = file.get("target-language", "")
        language = _match_language(source, target_language)
        if language is None:
            known = ", ".join(code for code in source.languages if code != ENGLISH)
            problems.append(Problem(path, lines.get(file), f"target-language {target_language!r} is not a translated language (known: {known})"))
        else:
            languages.add(language)
        for unit in file.iter("trans-unit"):
            string_id = unit.get("resname") or unit.get("id") or ""
            if not string_id:
                problems.append(Problem(path, lines.get(unit), "trans-unit has no id"))
                continue
            if string_id in seen:
                problems.append(Problem(path, lines.get(unit), f"{string_id} appears twice (first at line {seen[string_id]})"))
                continue
            seen[string_id] = lines.get(unit)
            units.append(_read_unit(unit, string_id, lines.get(unit)))
    if len(languages) > 1:
        problems.append(Problem(path, None, f"the file mixes target languages ({', '.join(sorted(languages))}); import one language at a time"))
    if problems:
        raise ContentError(problems)
    return languages.pop(), units


def _read_unit(unit: ET.Element, string_id: str, line: int | None) -> XliffUnit:
    sources = _children(unit, "source")
    targets = _children(unit, "target")
    if len(sources) > 1 or len(targets) > 1:
        return XliffUnit(string_id, line, None, None, "", (), "more than one <source> or <target>")
    source_text, source_inline = _plain_text(sources[0]) if sources else (None, "")
    target_text, target_inline = _plain_text(targets[0]) if targets else (None, "")
    inline = source_inline or target_inline
    problem = f"inline markup <{inline}> cannot be imported as plain text" if inline else ""
    notes = tuple((note.get("from", ""), "".join(note.itertext())) for note in _children(unit, "note"))
    target_state = targets[0].get("state", "") if targets else ""
    return XliffUnit(string_id, line, source_text, target_text, target_state, notes, problem)


def _plain_text(element: ET.Element) -> tuple[str, str]:
    """The element's text, and the name of the first inline element that is not plain text ("" if none)."""
    for child in element.iter():
        if child is not element and _local(child.tag) not in TRANSPARENT_INLINE:
            return "", _local(child.tag)
    return "".join(element.itertext()), ""


class _Refused(Exception):
    def __init__(self, message: str):
        self.message = message


def _parse_xml(data: bytes, path: Path) -> tuple[ET.Element, dict[ET.Element, int]]:
    """Parse with expat, keeping each element's line; refuse DOCTYPE (and so every entity declaration)."""
    builder = ET.TreeBuilder()
    lines: dict[ET.Element, int] = {}
    parser = expat.ParserCreate(namespace_separator="}")

    def start(name: str, attributes: dict[str, str]) -> None:
        element = builder.start(_qualified(name), {_qualified(k): v for k, v in attributes.items()})
        lines[element] = parser.CurrentLineNumber

    def refuse_doctype(*_: object) -> None:
        raise _Refused("a DOCTYPE is not allowed in XLIFF files (entities could expand or fetch files)")

    def refuse_entity(*_: object) -> None:
        raise _Refused("entity declarations are not allowed")

    parser.buffer_text = True
    parser.StartElementHandler = start
    parser.EndElementHandler = lambda name: builder.end(_qualified(name))
    parser.CharacterDataHandler = builder.data
    parser.StartDoctypeDeclHandler = refuse_doctype
    parser.EntityDeclHandler = refuse_entity
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        message = expat.ErrorString(exc.code)
        raise ContentError([Problem(path, exc.lineno, f"not well-formed XML: {message} (column {exc.offset + 1})")], unusable=True) from None
    except _Refused as exc:
        raise ContentError([Problem(path, parser.CurrentLineNumber, exc.message)], unusable=True) from None
    return builder.close(), lines


def _qualified(name: str) -> str:
    """expat's "namespace}local" as ElementTree's "{namespace}local"; XLIFF 1.2 names as plain local names."""
    if "}" not in name:
        return name
    namespace, local = name.split("}", 1)
    return local if namespace == XLIFF_NS else f"{{{namespace}}}{local}"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(element: ET.Element, local: str) -> list[ET.Element]:
    return [child for child in element if child.tag == local]


# ------------------------------------------------------------------ shared


def _match_language(source: Source, code: str) -> str | None:
    """The project's language for an XLIFF language code: exact, else ignoring case and _ versus -."""
    if code in source.languages and code != ENGLISH:
        return code
    wanted = code.replace("_", "-").casefold()
    matches = [c for c in source.languages if c != ENGLISH and c.casefold() == wanted]
    return matches[0] if matches else None


def _synced_catalog(source: Source, language: str) -> Catalog:
    catalog = read_catalog(source.project, language)
    sync_catalog(source, catalog)
    return catalog
