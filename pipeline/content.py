"""The English source: fact blocks, template strings, languages, editions, layouts.

Everything in source/ is loaded once into frozen objects and validated; every
problem is reported as `file:line: problem`, all of them, not just the first.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pipeline.document import FORMATS
from pipeline.errors import Collector, ContentError, Problem
from pipeline.hotlines import (
    CATEGORIES,
    OTHER_PLACEHOLDERS,
    PLACEHOLDER_CATEGORIES,
    Hotline,
    Registry,
    read_registry,
)
from pipeline.meaning import Lexicon, read_invariants, read_lexicons
from pipeline.project import Project
from pipeline.spans import find_placeholders
from pipeline.yamlfile import Node, each_mapping, read_yaml, unknown_keys

TOPICS = ("risk", "signs", "response", "naloxone", "help", "recovery")
SECTION_STYLES = ("list", "steps")
ID_RE = re.compile(r"^[a-z0-9]+(?:[-_.][a-z0-9]+)*$")
# Edition ids and language codes name files and folders: nothing that could climb out of one.
EDITION_ID_RE = re.compile(r"[A-Za-z0-9-]+")
# BCP 47-like: language, optional script, optional region (en, zh-Hans, pt-BR, es-419).
LANGUAGE_CODE_RE = re.compile(r"[a-z]{2,3}(?:-[A-Z][a-z]{3})?(?:-(?:[A-Z]{2}|[0-9]{3}))?")
FACT_KEYS = ("id", "topic", "text", "regions", "translator_note", "citations", "review", "invariants", "variant_of")
CITATION_KEYS = ("title", "url", "note")
REVIEW_KEYS = ("by", "date", "note")
STRING_KEYS = ("id", "text", "note", "based_on", "regions", "variant_of")
EDITION_KEYS = ("id", "language", "region", "formats", "hotlines", "qr", "required_for_release")
LAYOUT_KEYS = ("title", "subtitle", "sections", "help", "footer")
SECTION_KEYS = ("heading", "style", "blocks", "face")
FACES = ("front", "back")
LANGUAGE_KEYS = ("code", "name", "script", "direction", "argos")

T = TypeVar("T")


def _check_keys(path: Path, node: object, allowed: tuple[str, ...], problems: Collector, what: str) -> None:
    if isinstance(node, Node):
        for line, message in unknown_keys(node, allowed):
            problems.add(path, line, f"{what}: {message}")


@dataclass(frozen=True, slots=True)
class Citation:
    title: str
    url: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class SourceReview:
    """Who checked an English text against its citations, and when."""

    by: str
    date: dt.date
    note: str = ""


@dataclass(frozen=True, slots=True)
class SourceString:
    """One translatable English string: a fact block's text or a template string."""

    id: str
    text: str
    kind: str  # "fact" or "ui"
    note: str
    path: Path
    line: int
    topic: str = ""
    citations: tuple[Citation, ...] = ()
    review: SourceReview | None = None
    regions: frozenset[str] | None = None  # None: applies everywhere
    based_on: tuple[str, ...] = ()
    # What the instruction hinges on beyond what the English words show (facts.yaml `invariants:`).
    invariants: tuple[tuple[str, int], ...] = ()
    variant_of: str | None = None  # a regional variant: prints instead of that string in its `regions`

    @property
    def placeholders(self) -> list[str]:
        return find_placeholders(self.text)


@dataclass(frozen=True, slots=True)
class Language:
    code: str
    name: str
    script: str
    direction: str
    argos: str


@dataclass(frozen=True, slots=True)
class Section:
    heading: str
    style: str
    blocks: tuple[str, ...]
    line: int = 0
    face: str = ""  # flyers: "front" or "back" (the default); a card's face is its layout


@dataclass(frozen=True, slots=True)
class Layout:
    name: str
    title: str | None
    subtitle: str | None
    sections: tuple[Section, ...]
    help: str | None
    footer: str | None
    line: int = 0

    def string_ids(self) -> list[str]:
        ids = [i for i in (self.title, self.subtitle) if i]
        for section in self.sections:
            ids.append(section.heading)
            ids.extend(section.blocks)
        ids += [i for i in (self.help, self.footer) if i]
        return ids


@dataclass(frozen=True, slots=True)
class Edition:
    id: str
    language: str
    region: str
    formats: tuple[str, ...]
    hotlines: tuple[str, ...]
    line: int
    qr: str | None = None  # a URL from source/urls.yaml, printed as a QR code
    required_for_release: bool = False  # `make release` fails unless every format of it is final


@dataclass(frozen=True, slots=True)
class Glossary:
    keep: tuple[str, ...]
    terms: dict[str, dict[str, str]]  # English term -> language -> approved word


@dataclass(frozen=True, slots=True)
class AvoidTerm:
    term: str
    instead: str
    line: int


@dataclass(frozen=True, slots=True)
class Source:
    """Everything in source/, validated."""

    project: Project
    strings: dict[str, SourceString]  # fact blocks first, then template strings, in file order
    languages: dict[str, Language]
    editions: dict[str, Edition]
    layouts: dict[str, Layout]
    glossary: Glossary
    avoid: dict[str, tuple[AvoidTerm, ...]]
    url_allowlist: tuple[str, ...]
    registry: Registry
    lexicons: dict[str, Lexicon] = field(default_factory=dict)  # source/lexicon/<lang>.yaml

    @property
    def facts(self) -> list[SourceString]:
        return [s for s in self.strings.values() if s.kind == "fact"]

    def english(self, string_id: str) -> str:
        return self.strings[string_id].text

    def applies(self, string: SourceString, region: str) -> bool:
        """Whether a string can print in a region: its region list, every placeholder fillable,
        and no regional variant of it printing there instead."""
        if not self._fits_region(string, region):
            return False
        return not any(v.variant_of == string.id and self._fits_region(v, region) for v in self.strings.values())

    def _fits_region(self, string: SourceString, region: str) -> bool:
        if string.regions is not None and region not in string.regions:
            return False
        for name in string.placeholders:
            category = PLACEHOLDER_CATEGORIES.get(name)
            if category and self.registry.first_printable(region, category) is None:
                return False
        return True

    def for_region(self, string_id: str, region: str) -> str | None:
        """The string a layout slot prints in a region: the regional variant that applies, else the string itself, else none."""
        for variant in self.strings.values():
            if variant.variant_of == string_id and self._fits_region(variant, region):
                return variant.id
        return string_id if self.applies(self.strings[string_id], region) else None

    def printed_hotlines(self, edition: Edition) -> list[Hotline]:
        """The registry entries an edition's help box prints, in the edition's order."""
        entries = []
        for category in edition.hotlines:
            entries.extend(self.registry.printable(edition.region, category))
        return entries


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _string(path: Path, node: Node, key: str, what: str, problems: Collector) -> str:
    """A scalar value as text; a list or mapping where text belongs is reported."""
    value = node.get(key)
    if isinstance(value, (list, dict)):
        problems.add(path, node.line_of(key), f"{what}: {key} must be a string")
        return ""
    return _text(value)


def _list(path: Path, node: Node, key: str, what: str, problems: Collector) -> list[object]:
    """A list value ([] when absent); anything else is reported."""
    value = node.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        problems.add(path, node.line_of(key), f"{what}: {key} must be a list")
        return []
    return value


def _read_id(path: Path, raw: Node, kind: str, rule: str, problems: Collector, prefix: str = "") -> str | None:
    """The id of a fact block or template string: lower-case words starting with `prefix`;
    any other is reported as `KIND id 'ID' RULE` and gives None (the entry is skipped)."""
    value = _text(raw.get("id"))
    if ID_RE.match(value) and value.startswith(prefix):
        return value
    problems.add(path, raw.line_of("id"), f"{kind} id {value!r} {rule}")
    return None


def _read_text(path: Path, raw: Node, what: str, problems: Collector) -> str:
    """The `text` of a fact block or template string; text that is missing or empty is reported."""
    text = _string(path, raw, "text", what, problems)
    if not text and not isinstance(raw.get("text"), (list, dict)):  # a list or mapping is reported by _string
        problems.add(path, raw.line_of("text"), f"{what}: text is empty")
    return text


def _read_regions(path: Path, raw: Node, what: str, problems: Collector) -> frozenset[str] | None:
    """The regions a fact block or string is limited to (None: every region); anything but a list of codes is reported."""
    regions = raw.get("regions")
    if regions is None:
        return None
    if not (isinstance(regions, list) and all(isinstance(r, str) for r in regions)):
        problems.add(path, raw.line_of("regions"), f"{what}: regions must be a list of region codes")
        return None
    return frozenset(regions)


def _date(value: object) -> dt.date | None:
    try:
        return dt.date.fromisoformat(_text(value))
    except ValueError:
        return None


def _read_review(path: Path, node: object, problems: Collector, line: int | None = None) -> SourceReview | None:
    if node is None:
        return None
    if not isinstance(node, Node) or not _text(node.get("by")):
        problems.add(path, getattr(node, "line", line), "review needs 'by' (who checked it) and 'date'")
        return None
    date = _date(node.get("date"))
    if date is None:
        problems.add(path, node.line_of("date"), "review date must be written YYYY-MM-DD")
        return None
    return SourceReview(_text(node["by"]), date, _text(node.get("note")))


def _read_facts(path: Path, problems: Collector) -> list[SourceString]:
    data = read_yaml(path)
    raw_facts = data.get("facts") if isinstance(data, Node) else None
    if not isinstance(raw_facts, list):
        problems.add(path, 1, "expected a 'facts' list")
        return []
    facts = []
    for raw in each_mapping(path, raw_facts, data.line_of("facts"), "each fact block must be a mapping", problems):
        block_id = _read_id(path, raw, "fact block", "must be lower-case words joined by '-'", problems)
        if block_id is None:
            continue
        _check_keys(path, raw, FACT_KEYS, problems, block_id)
        _check_keys(path, raw.get("review"), REVIEW_KEYS, problems, f"{block_id} review")
        topic = _text(raw.get("topic"))
        if topic not in TOPICS:
            problems.add(path, raw.line_of("topic"), f"{block_id}: topic must be one of {', '.join(TOPICS)}")
        text = _read_text(path, raw, block_id, problems)
        citations = []
        for raw_citation in _list(path, raw, "citations", block_id, problems):
            if not isinstance(raw_citation, Node) or not _text(raw_citation.get("title")) or not _text(raw_citation.get("url")):
                problems.add(path, getattr(raw_citation, "line", raw.line_of("citations")), f"{block_id}: each citation needs a title and a url")
                continue
            _check_keys(path, raw_citation, CITATION_KEYS, problems, f"{block_id} citation")
            citations.append(Citation(_text(raw_citation["title"]), _text(raw_citation["url"]), _text(raw_citation.get("note"))))
        regions = _read_regions(path, raw, block_id, problems)
        facts.append(
            SourceString(
                id=block_id,
                text=text,
                kind="fact",
                note=_text(raw.get("translator_note")),
                path=path,
                line=raw.line_of("text"),
                topic=topic,
                citations=tuple(citations),
                review=_read_review(path, raw.get("review"), problems, raw.line_of("review")),
                regions=regions,
                invariants=read_invariants(path, raw.get("invariants"), raw.line_of("invariants"), problems),
                variant_of=_text(raw.get("variant_of")) or None,
            )
        )
    return facts


def _read_ui_strings(path: Path, problems: Collector) -> list[SourceString]:
    data = read_yaml(path)
    if not isinstance(data, Node) or not isinstance(data.get("strings"), list):
        problems.add(path, 1, "expected a 'strings' list")
        return []
    review = _read_review(path, data.get("review"), problems, data.line_of("review"))
    strings = []
    for raw in each_mapping(path, data["strings"], data.line_of("strings"), "each string must be a mapping", problems):
        string_id = _read_id(path, raw, "string", "must start with 'ui.' and use lower-case words", problems, prefix="ui.")
        if string_id is None:
            continue
        _check_keys(path, raw, STRING_KEYS, problems, string_id)
        text = _read_text(path, raw, string_id, problems)
        based_on = _list(path, raw, "based_on", string_id, problems)
        if not all(isinstance(item, str) for item in based_on):
            problems.add(path, raw.line_of("based_on"), f"{string_id}: based_on must be a list of fact block ids")
            based_on = []
        regions = _read_regions(path, raw, string_id, problems)
        strings.append(
            SourceString(
                id=string_id,
                text=text,
                kind="ui",
                note=_text(raw.get("note")),
                path=path,
                line=raw.line_of("text"),
                review=review,
                based_on=tuple(str(item) for item in based_on),
                regions=regions,
                variant_of=_text(raw.get("variant_of")) or None,
            )
        )
    return strings


def _read_languages(path: Path, problems: Collector) -> dict[str, Language]:
    data = read_yaml(path)
    languages: dict[str, Language] = {}
    raw_languages = (data.get("languages") if isinstance(data, Node) else None) or []
    if not isinstance(raw_languages, list):
        problems.add(path, data.line_of("languages"), "languages must be a list of {code: ..., name: ...} entries")
        raw_languages = []
    for raw in raw_languages:
        code = _text(raw.get("code")) if isinstance(raw, Node) else ""
        if not code:
            problems.add(path, getattr(raw, "line", 1), "each language needs a code")
            continue
        if not LANGUAGE_CODE_RE.fullmatch(code):
            problems.add(path, raw.line_of("code"), f"language code {code!r} must be a BCP 47 tag such as es, pt-BR or zh-Hans")
            continue
        if code in languages:
            problems.add(path, raw.line_of("code"), f"language {code} is listed twice")
            continue
        _check_keys(path, raw, LANGUAGE_KEYS, problems, code)
        direction = _text(raw.get("direction")) or "ltr"
        if direction not in ("ltr", "rtl"):
            problems.add(path, raw.line_of("direction"), f"{code}: direction must be ltr or rtl")
        languages[code] = Language(code, _text(raw.get("name")), _text(raw.get("script")), direction, _text(raw.get("argos")) or code)
    if not languages:
        problems.add(path, 1, "expected a 'languages' list")
    return languages


def _read_layouts(path: Path, problems: Collector) -> dict[str, Layout]:
    data = read_yaml(path)
    raw_layouts = data.get("layouts") if isinstance(data, Node) else None
    if not isinstance(raw_layouts, Node):
        problems.add(path, 1, "expected a 'layouts' mapping")
        return {}
    layouts = {}
    for name in ("flyer", "card-front", "card-back"):
        raw = raw_layouts.get(name)
        if not isinstance(raw, Node):
            problems.add(path, raw_layouts.line, f"missing layout {name!r}")
            continue
        what = f"layout {name}"
        _check_keys(path, raw, LAYOUT_KEYS, problems, what)
        sections = []
        raw_sections = _list(path, raw, "sections", what, problems)
        not_mapping = f"{what}: each section must be a mapping with heading, style and blocks"
        for raw_section in each_mapping(path, raw_sections, raw.line_of("sections"), not_mapping, problems):
            _check_keys(path, raw_section, SECTION_KEYS, problems, f"{what} section")
            style = _string(path, raw_section, "style", what, problems) or "list"
            if style not in SECTION_STYLES:
                problems.add(path, raw_section.line_of("style"), f"section style must be one of {', '.join(SECTION_STYLES)}")
            blocks = _list(path, raw_section, "blocks", what, problems)
            if not all(isinstance(block, str) for block in blocks):
                problems.add(path, raw_section.line_of("blocks"), f"{what}: blocks must be a list of fact block ids")
                blocks = []
            heading = _string(path, raw_section, "heading", what, problems)
            face = _text(raw_section.get("face"))
            if face and face not in FACES:
                problems.add(path, raw_section.line_of("face"), f"section face must be one of {', '.join(FACES)}")
            sections.append(Section(heading, style, tuple(str(block) for block in blocks), raw_section.line, face))
        ids = {}
        for key in ("title", "subtitle", "help", "footer"):
            value = raw.get(key)
            if value is not None and not isinstance(value, str):
                problems.add(path, raw.line_of(key), f"{what}: {key} must be a string id")
                value = None
            ids[key] = _text(value) or None
        layouts[name] = Layout(name, ids["title"], ids["subtitle"], tuple(sections), ids["help"], ids["footer"], raw.line)
    return layouts


def _read_editions(path: Path, problems: Collector) -> dict[str, Edition]:
    data = read_yaml(path)
    editions: dict[str, Edition] = {}
    raw_editions = data.get("editions") if isinstance(data, Node) else None
    if not isinstance(raw_editions, list):
        problems.add(path, 1, "expected an 'editions' list")
        return editions
    for raw in each_mapping(path, raw_editions, data.line_of("editions"), "each edition must be a mapping", problems):
        edition_id = _text(raw.get("id"))
        if not edition_id:
            problems.add(path, raw.line, "edition needs an id")
            continue
        if not EDITION_ID_RE.fullmatch(edition_id):
            problems.add(path, raw.line_of("id"), f"edition id {edition_id!r} may only hold letters, digits and '-'")
            continue
        if edition_id in editions:
            problems.add(path, raw.line_of("id"), f"edition {edition_id} is listed twice")
            continue
        _check_keys(path, raw, EDITION_KEYS, problems, edition_id)
        formats = _name_list(path, raw, "formats", edition_id, problems)
        for name in formats:
            if name not in FORMATS:
                problems.add(path, raw.line_of("formats"), f"{edition_id}: unknown format {name!r} (known: {', '.join(FORMATS)})")
        hotlines = _name_list(path, raw, "hotlines", edition_id, problems)
        for category in hotlines:
            if category not in CATEGORIES:
                problems.add(path, raw.line_of("hotlines"), f"{edition_id}: unknown kind of line {category!r}")
        required = raw.get("required_for_release", False)
        if not isinstance(required, bool):
            problems.add(path, raw.line_of("required_for_release"), f"{edition_id}: required_for_release must be true or false")
            required = False
        editions[edition_id] = Edition(
            edition_id, _text(raw.get("language")), _text(raw.get("region")), formats, hotlines, raw.line,
            _text(raw.get("qr")) or None, required,
        )
    return editions


def _name_list(path: Path, raw: Node, key: str, what: str, problems: Collector) -> tuple[str, ...]:
    """A list of names such as `formats: [card, flyer-a4]`; anything else is reported."""
    value = raw.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        problems.add(path, raw.line_of(key), f"{what}: {key} must be a list of names, e.g. {key}: [{'card' if key == 'formats' else 'emergency'}]")
        return ()
    return tuple(value)


def _read_glossary(path: Path, problems: Collector) -> Glossary:
    data = read_yaml(path)
    if not isinstance(data, Node):
        problems.add(path, 1, "expected 'keep' and 'terms'")
        return Glossary((), {})
    terms = {}
    raw_terms = data.get("terms") or {}
    if not isinstance(raw_terms, Node):
        problems.add(path, data.line_of("terms"), "terms must be a mapping of English term to {language: word}")
        raw_terms = {}
    keep = data.get("keep") or []
    if not isinstance(keep, list) or not all(isinstance(k, str) for k in keep):
        problems.add(path, data.line_of("keep"), "keep must be a list of names, e.g. keep: [Narcan, Xanax]")
        keep = []
    for term, per_language in raw_terms.items():
        if not isinstance(per_language, dict):
            problems.add(path, data["terms"].line_of(term), f"term {term!r} needs a mapping of language to word")
            continue
        terms[str(term)] = {str(k): str(v) for k, v in per_language.items()}
    return Glossary(tuple(keep), terms)


def _read_avoid(path: Path, problems: Collector) -> dict[str, tuple[AvoidTerm, ...]]:
    data = read_yaml(path)
    avoid = data.get("avoid") if isinstance(data, Node) else None
    if not isinstance(avoid, Node):
        problems.add(path, 1, "expected an 'avoid' mapping of language to terms")
        return {}
    result = {}
    for language, entries in avoid.items():
        items = []
        if entries is not None and not isinstance(entries, list):
            problems.add(path, avoid.line_of(language), f"{language}: entries must be a list of {{term: ..., instead: ...}}")
            entries = []
        for raw in entries or []:
            if not isinstance(raw, Node) or not _text(raw.get("term")):
                problems.add(path, avoid.line_of(language), f"{language}: each entry needs a 'term'")
                continue
            items.append(AvoidTerm(_text(raw["term"]), _text(raw.get("instead")), raw.line))
        result[str(language)] = tuple(items)
    return result


def _read_urls(path: Path, problems: Collector) -> tuple[str, ...]:
    data = read_yaml(path)
    allowed = data.get("allowed") if isinstance(data, Node) else None
    if not isinstance(allowed, list):
        problems.add(path, data.line_of("allowed") if isinstance(data, Node) else 1, "expected an 'allowed' list of URL prefixes")
        return ()
    if not all(isinstance(u, str) for u in allowed):
        problems.add(path, data.line_of("allowed"), "each allowed URL must be a string")
        return ()
    return tuple(allowed)


def read_source(project: Project) -> Source:
    """Load and cross-check everything in source/; raise ContentError listing every problem."""
    problems = Collector()
    folder = project.source
    unusable: list[Problem] = []

    def guarded(reader: Callable[..., T], name: str, *args: Any) -> T | None:
        try:
            return reader(folder / name, *args)
        except ContentError as exc:
            unusable.extend(exc.problems)
            return None

    facts = guarded(_read_facts, "facts.yaml", problems) or []
    ui_result = guarded(_read_ui_strings, "strings.yaml", problems) or []
    languages = guarded(_read_languages, "languages.yaml", problems) or {}
    layouts = guarded(_read_layouts, "layouts.yaml", problems) or {}
    editions = guarded(_read_editions, "editions.yaml", problems) or {}
    glossary = guarded(_read_glossary, "glossary.yaml", problems) or Glossary((), {})
    avoid = guarded(_read_avoid, "wording.yaml", problems) or {}
    urls = guarded(_read_urls, "urls.yaml", problems) or ()
    registry = guarded(read_registry, "hotlines.yaml", problems)
    lexicons = guarded(read_lexicons, "lexicon", problems) or {}
    if unusable or registry is None:
        raise ContentError(unusable, unusable=True)

    ui_strings = ui_result
    strings: dict[str, SourceString] = {}
    for string in [*facts, *ui_strings]:
        if string.id in strings:
            problems.add(string.path, string.line, f"id {string.id} is used twice")
            continue
        strings[string.id] = string

    placeholder_names = set(PLACEHOLDER_CATEGORIES) | set(OTHER_PLACEHOLDERS)
    known = ", ".join("{" + n + "}" for n in sorted(placeholder_names))
    for string in strings.values():
        # Every brace pair must be a known placeholder: {Emergency} or { emergency } would print literally.
        for name in re.findall(r"\{([^{}]*)\}", string.text):
            if name not in placeholder_names:
                problems.add(string.path, string.line, f"{string.id}: unknown placeholder {{{name}}} (known: {known})")
        if re.search(r"[{}]", re.sub(r"\{[^{}]*\}", "", string.text)):
            problems.add(string.path, string.line, f"{string.id}: a brace without its partner; placeholders are written {{emergency}}")
        for region in sorted(string.regions or ()):
            if region not in registry.regions:
                problems.add(string.path, string.line, f"{string.id}: region {region} is not in the hotline registry")
        if string.variant_of is not None:
            base = strings.get(string.variant_of)
            if base is None or base.kind != string.kind or base.variant_of is not None:
                problems.add(string.path, string.line, f"{string.id}: variant_of must name a {string.kind} string that is not itself a variant")
            elif not string.regions:
                problems.add(string.path, string.line, f"{string.id}: a regional variant needs 'regions' (where it prints instead of {base.id})")
        for fact_id in string.based_on:
            if fact_id not in strings or strings[fact_id].kind != "fact":
                problems.add(string.path, string.line, f"{string.id}: based_on names unknown fact block {fact_id!r}")

    layouts_path = folder / "layouts.yaml"
    for layout in layouts.values():
        lines = {i: layout.line for i in (layout.title, layout.subtitle, layout.help, layout.footer) if i}
        for section in layout.sections:
            lines.update((i, section.line) for i in (section.heading, *section.blocks) if i not in lines)
        for string_id in layout.string_ids():
            if string_id not in strings:
                problems.add(layouts_path, lines.get(string_id) or layout.line, f"layout {layout.name} uses unknown string {string_id!r}")

    editions_path = folder / "editions.yaml"
    for edition in editions.values():
        if edition.language not in languages:
            problems.add(editions_path, edition.line, f"{edition.id}: language {edition.language!r} is not in languages.yaml")
        if edition.region not in registry.regions:
            problems.add(editions_path, edition.line, f"{edition.id}: region {edition.region!r} is not in the hotline registry")
            continue
        for category in edition.hotlines:
            if not registry.printable(edition.region, category):
                problems.add(editions_path, edition.line, f"{edition.id}: the registry has no printable {category} line for {edition.region} (only high or medium confidence entries print)")
        if edition.qr and not any(edition.qr.startswith(prefix) for prefix in urls):
            problems.add(editions_path, edition.line, f"{edition.id}: QR code URL {edition.qr} is not in source/urls.yaml")
        if not registry.first_printable(edition.region, "emergency"):
            problems.add(editions_path, edition.line, f"{edition.id}: no printable emergency number for {edition.region}")

    for string in strings.values():
        for key, _ in string.invariants:
            if lexicons and key not in ("negation", "negation-max") and key not in lexicons["en"].concepts:
                problems.add(string.path, string.line, f"{string.id}: invariants: unknown concept {key!r} (see source/lexicon/en.yaml)")

    problems.raise_if_errors()
    return Source(project, strings, languages, editions, layouts, glossary, avoid, urls, registry, lexicons)
