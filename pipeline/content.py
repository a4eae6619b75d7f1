"""The English source: fact blocks, template strings, languages, editions, layouts.

Everything in source/ is loaded once into frozen objects and validated; every
problem is reported as `file:line: problem`, all of them, not just the first.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import Collector, ContentError
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
from pipeline.yamlfile import Node, read_yaml, unknown_keys

TOPICS = ("risk", "signs", "response", "naloxone", "help", "recovery")
FORMATS = ("flyer-letter", "flyer-a4", "flyer-letter-large", "flyer-a4-large", "card", "sheet-letter", "sheet-a4")
SECTION_STYLES = ("list", "steps")
ID_RE = re.compile(r"^[a-z0-9]+(?:[-_.][a-z0-9]+)*$")
# Edition ids and language codes name files and folders: nothing that could climb out of one.
EDITION_ID_RE = re.compile(r"[A-Za-z0-9-]+")
# BCP 47-like: language, optional script, optional region (en, zh-Hans, pt-BR, es-419).
LANGUAGE_CODE_RE = re.compile(r"[a-z]{2,3}(?:-[A-Z][a-z]{3})?(?:-(?:[A-Z]{2}|[0-9]{3}))?")
FACT_KEYS = ("id", "topic", "text", "regions", "translator_note", "citations", "review", "invariants")
CITATION_KEYS = ("title", "url", "note")
REVIEW_KEYS = ("by", "date", "note")
STRING_KEYS = ("id", "text", "note", "based_on")
EDITION_KEYS = ("id", "language", "region", "formats", "hotlines", "qr")
LAYOUT_KEYS = ("title", "subtitle", "sections", "help", "footer")
SECTION_KEYS = ("heading", "style", "blocks")
LANGUAGE_KEYS = ("code", "name", "script", "direction", "argos")


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
    strings_review: SourceReview | None
    lexicons: dict[str, Lexicon] = field(default_factory=dict)  # source/lexicon/<lang>.yaml

    @property
    def facts(self) -> list[SourceString]:
        return [s for s in self.strings.values() if s.kind == "fact"]

    def english(self, string_id: str) -> str:
        return self.strings[string_id].text

    def layouts_for(self, format_name: str) -> list[Layout]:
        names = ["flyer"] if format_name.startswith("flyer") else ["card-front", "card-back"]
        return [self.layouts[n] for n in names]

    def applies(self, string: SourceString, region: str) -> bool:
        """Whether a string can print in a region: its region list, and every placeholder fillable."""
        if string.regions is not None and region not in string.regions:
            return False
        for name in string.placeholders:
            category = PLACEHOLDER_CATEGORIES.get(name)
            if category and self.registry.first_printable(region, category) is None:
                return False
        return True

    def printed_hotlines(self, edition: Edition) -> list[Hotline]:
        """The registry entries an edition's help box prints, in the edition's order."""
        entries = []
        for category in edition.hotlines:
            entries.extend(self.registry.printable(edition.region, category))
        return entries

    def edition_string_ids(self, edition: Edition, format_name: str) -> list[str]:
        """Every string a document needs: layout strings that apply, labels of its hotlines."""
        ids: list[str] = []

        def add(string_id: str | None) -> None:
            if string_id and string_id not in ids and self.applies(self.strings[string_id], edition.region):
                ids.append(string_id)

        for layout in self.layouts_for(format_name):
            add(layout.title)
            add(layout.subtitle)
            for section in layout.sections:
                blocks = [b for b in section.blocks if self.applies(self.strings[b], edition.region)]
                if blocks:  # a heading prints only above something
                    add(section.heading)
                    for block in blocks:
                        add(block)
            add(layout.help)
            add(layout.footer)
        hotlines = self.printed_hotlines(edition)
        if hotlines:
            ids.append("ui.label.call")
        for entry in hotlines:
            label = f"ui.category.{entry.category}"
            if label not in ids:
                ids.append(label)
        if any(e.is_open_24_7 for e in hotlines):
            ids.append("ui.label.open-24-7")
        if any(e.is_free for e in hotlines):
            ids.append("ui.label.free")
        return ids


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _string(path: Path, node: Node, key: str, what: str, problems: Collector) -> str:
    """A scalar value as text; a list or mapping where text belongs is reported."""
    value = node.get(key)
    if isinstance(value, (list, dict)):
        problems.add(path, node.line_of(key), f"{what}: {key} must be a string")
        return ""
    return _text(value)


def _list(path: Path, node: Node, key: str, what: str, problems: Collector) -> list:
    """A list value ([] when absent); anything else is reported."""
    value = node.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        problems.add(path, node.line_of(key), f"{what}: {key} must be a list")
        return []
    return value


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
    for raw in raw_facts:
        if not isinstance(raw, Node):
            problems.add(path, data.line_of("facts"), "each fact block must be a mapping")
            continue
        block_id = _text(raw.get("id"))
        if not ID_RE.match(block_id):
            problems.add(path, raw.line_of("id"), f"fact block id {block_id!r} must be lower-case words joined by '-'")
            continue
        _check_keys(path, raw, FACT_KEYS, problems, block_id)
        _check_keys(path, raw.get("review"), REVIEW_KEYS, problems, f"{block_id} review")
        topic = _text(raw.get("topic"))
        if topic not in TOPICS:
            problems.add(path, raw.line_of("topic"), f"{block_id}: topic must be one of {', '.join(TOPICS)}")
        text = _string(path, raw, "text", block_id, problems)
        if not text and not isinstance(raw.get("text"), (list, dict)):
            problems.add(path, raw.line_of("text"), f"{block_id}: text is empty")
        citations = []
        for raw_citation in _list(path, raw, "citations", block_id, problems):
            if not isinstance(raw_citation, Node) or not _text(raw_citation.get("title")) or not _text(raw_citation.get("url")):
                problems.add(path, getattr(raw_citation, "line", raw.line_of("citations")), f"{block_id}: each citation needs a title and a url")
                continue
            _check_keys(path, raw_citation, CITATION_KEYS, problems, f"{block_id} citation")
            citations.append(Citation(_text(raw_citation["title"]), _text(raw_citation["url"]), _text(raw_citation.get("note"))))
        regions = raw.get("regions")
        if regions is not None and not (isinstance(regions, list) and all(isinstance(r, str) for r in regions)):
            problems.add(path, raw.line_of("regions"), f"{block_id}: regions must be a list of region codes")
            regions = None
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
                regions=frozenset(regions) if regions is not None else None,
                invariants=read_invariants(path, raw.get("invariants"), raw.line_of("invariants"), problems),
            )
        )
    return facts


def _read_ui_strings(path: Path, problems: Collector) -> tuple[list[SourceString], SourceReview | None]:
    data = read_yaml(path)
    if not isinstance(data, Node) or not isinstance(data.get("strings"), list):
        problems.add(path, 1, "expected a 'strings' list")
        return [], None
    review = _read_review(path, data.get("review"), problems, data.line_of("review"))
    strings = []
    for raw in data["strings"]:
        if not isinstance(raw, Node):
            problems.add(path, data.line_of("strings"), "each string must be a mapping")
            continue
        string_id = _text(raw.get("id"))
        if not ID_RE.match(string_id) or not string_id.startswith("ui."):
            problems.add(path, raw.line_of("id"), f"string id {string_id!r} must start with 'ui.' and use lower-case words")
            continue
        _check_keys(path, raw, STRING_KEYS, problems, string_id)
        text = _string(path, raw, "text", string_id, problems)
        if not text and not isinstance(raw.get("text"), (list, dict)):
            problems.add(path, raw.line_of("text"), f"{string_id}: text is empty")
        based_on = _list(path, raw, "based_on", string_id, problems)
        if not all(isinstance(item, str) for item in based_on):
            problems.add(path, raw.line_of("based_on"), f"{string_id}: based_on must be a list of fact block ids")
            based_on = []
        strings.append(
            SourceString(
                id=string_id,
                text=text,
                kind="ui",
                note=_text(raw.get("note")),
                path=path,
                line=raw.line_of("text"),
                review=review,
                based_on=tuple(based_on),
            )
        )
    return strings, review


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
        for raw_section in _list(path, raw, "sections", what, problems):
            if not isinstance(raw_section, Node):
                problems.add(path, raw.line_of("sections"), f"{what}: each section must be a mapping with heading, style and blocks")
                continue
            _check_keys(path, raw_section, SECTION_KEYS, problems, f"{what} section")
            style = _string(path, raw_section, "style", what, problems) or "list"
            if style not in SECTION_STYLES:
                problems.add(path, raw_section.line_of("style"), f"section style must be one of {', '.join(SECTION_STYLES)}")
            blocks = _list(path, raw_section, "blocks", what, problems)
            if not all(isinstance(block, str) for block in blocks):
                problems.add(path, raw_section.line_of("blocks"), f"{what}: blocks must be a list of fact block ids")
                blocks = []
            heading = _string(path, raw_section, "heading", what, problems)
            sections.append(Section(heading, style, tuple(blocks), raw_section.line))
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
    for raw in raw_editions:
        if not isinstance(raw, Node):
            problems.add(path, data.line_of("editions"), "each edition must be a mapping")
            continue
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
        editions[edition_id] = Edition(
            edition_id, _text(raw.get("language")), _text(raw.get("region")), formats, hotlines, raw.line, _text(raw.get("qr")) or None
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
    unusable: list = []

    def guarded(reader, name, *args):
        try:
            return reader(folder / name, *args)
        except ContentError as exc:
            unusable.extend(exc.problems)
            return None

    facts = guarded(_read_facts, "facts.yaml", problems) or []
    ui_result = guarded(_read_ui_strings, "strings.yaml", problems) or ([], None)
    languages = guarded(_read_languages, "languages.yaml", problems) or {}
    layouts = guarded(_read_layouts, "layouts.yaml", problems) or {}
    editions = guarded(_read_editions, "editions.yaml", problems) or {}
    glossary = guarded(_read_glossary, "glossary.yaml", problems) or Glossary((), {})
    avoid = guarded(_read_avoid, "wording.yaml", problems) or {}
    urls = guarded(_read_urls, "urls.yaml", problems) or ()
    registry = guarded(read_registry, "hotlines.yaml", problems)
    lexicons = guarded(read_lexicons, "lexicon", problems) or {}
    if unusable:
        raise ContentError(unusable, unusable=True)

    ui_strings, strings_review = ui_result
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
    return Source(project, strings, languages, editions, layouts, glossary, avoid, urls, registry, strings_review, lexicons)
