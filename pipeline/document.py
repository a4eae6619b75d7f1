"""What a printed document is: the one place that decides what each document prints.

`FORMATS` lists every kind of document (page size, bleed, template, stylesheets,
page count, smallest text). `plan_document(source, edition, format)` turns an
edition and a format into a `DocumentPlan`: the ordered string ids it prints,
its faces (front and back) with their sections as they print in the edition's
region (each block or heading the regional variant that prints there, see
`Source.for_region`), the hotline entries of its help box (with the area a local
line serves), the numbers its placeholders are filled with, its QR code and the
string that is the QR code's alternative text, the imprint of a flyer
(publisher, version code, distributor: source/publication.yaml) and, for
sheets, where each card sits. Approval, the
gate, the length check, build, bundle and the renderer all read this plan; the
templates only lay it out.

A `PrintJob` is a plan with its texts, the ledger records approving them and,
for a proof, the rows of its review page. Its `digest()` covers everything
that decides the bytes of the PDF, given the digest of the render environment
(templates, fonts, library versions): two jobs with the same digest print the
same bytes, so a build re-renders only the documents whose digest changed.

This module is light (no Jinja, no WeasyPrint): the command line imports it
for the format names.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.errors import RenderError
from pipeline.hotlines import PLACEHOLDER_CATEGORIES, Hotline
from pipeline.imprint import Imprint, read_imprints
from pipeline.spans import find_placeholders

if TYPE_CHECKING:
    from pipeline.content import Edition, Layout, Source

MM_PER_PX = 25.4 / 96  # WeasyPrint lays out in CSS pixels
LETTER_MM = (215.9, 279.4)
A4_MM = (210.0, 297.0)
A5_MM = (148.0, 210.0)
CARD_MM = (85.6, 54.0)  # ISO/IEC 7810 ID-1 (85.60 x 53.98 mm)
CARD_BLEED_MM = 3.0
CARD_SAFE_MM = 4.0  # text stays at least this far inside the trim
SHEET_COLUMNS, SHEET_ROWS = 2, 4
CROP_MARK_MM = 0.2  # thickness of the crop marks drawn on sheets
FRONT, BACK = "front", "back"
QR_ALT = "ui.qr.alt"  # the string that says what a flyer's QR code does (its alternative text)
# Print-shop output (pipeline/render/prepress.py): the output intent every PDF carries.
PROFILE_PATH = Path("/usr/share/color/icc/ghostscript/default_cmyk.icc")  # Debian: libgs-common (AGPL-3+)
PROFILE_NAME = "Artifex CMYK SWOP Profile"
OUTPUT_CONDITION = "CGATS TR 001 (SWOP), as characterised by the Artifex CMYK SWOP profile"


@dataclass(frozen=True, slots=True)
class FormatSpec:
    """One kind of printed document: its page, template and stylesheets."""

    name: str
    kind: str  # "flyer", "card" or "sheet"
    template: str  # file name under templates/
    stylesheets: tuple[str, ...]  # file names under templates/, in cascade order
    page_mm: tuple[float, float]  # width, height of the trimmed page
    bleed_mm: float = 0.0
    pages: int | None = None  # exact number of pages the content must take (before a proof's review page)
    review_page_mm: tuple[float, float] = A4_MM  # the proof's last page(s)
    min_text_pt: float = 11.0  # no printed string may be set smaller
    cost: float = 1.0  # relative render time, for balancing shards and workers (measured 2026-11-30: about
    # alike; a card often lays out twice, regular then compact, and a sheet once, in its card's style)

    @property
    def page_css(self) -> str:
        """The @page rules that depend on the format; the rest lives in the stylesheets."""
        width, height = self.page_mm
        bleed = f"bleed: {self.bleed_mm}mm; marks: crop cross;" if self.bleed_mm else "bleed: 0; marks: none;"
        review_w, review_h = self.review_page_mm
        return (
            f"@page {{ size: {width}mm {height}mm; {bleed} }}\n"
            f"@page review {{ size: {review_w}mm {review_h}mm; bleed: 0; marks: none; }}\n"
        )

    @property
    def layouts(self) -> tuple[str, ...]:
        """The layouts of source/layouts.yaml this format prints."""
        return ("flyer",) if self.kind == "flyer" else ("card-front", "card-back")


_FLYER = ("base.css", "flyer.css")
_CARD = ("base.css", "card.css")
FORMATS: dict[str, FormatSpec] = {
    spec.name: spec
    for spec in (
        # A flyer is one sheet printed on both sides: exactly two pages.
        FormatSpec("flyer-letter", "flyer", "flyer.html.j2", _FLYER, LETTER_MM, pages=2, review_page_mm=LETTER_MM, cost=1.0),
        FormatSpec("flyer-a4", "flyer", "flyer.html.j2", _FLYER, A4_MM, pages=2, review_page_mm=A4_MM, cost=1.0),
        FormatSpec("flyer-letter-large", "flyer", "flyer.html.j2", (*_FLYER, "large.css"), LETTER_MM,
                   review_page_mm=LETTER_MM, min_text_pt=18.0, cost=1.0),
        FormatSpec("flyer-a4-large", "flyer", "flyer.html.j2", (*_FLYER, "large.css"), A4_MM,
                   review_page_mm=A4_MM, min_text_pt=18.0, cost=1.0),
        FormatSpec("card", "card", "card.html.j2", _CARD, CARD_MM, bleed_mm=CARD_BLEED_MM, pages=2,
                   review_page_mm=A5_MM, min_text_pt=7.0, cost=1.0),
        FormatSpec("sheet-letter", "sheet", "sheet.html.j2", (*_CARD, "sheet.css"), LETTER_MM, pages=2,
                   review_page_mm=LETTER_MM, min_text_pt=7.0, cost=0.9),
        FormatSpec("sheet-a4", "sheet", "sheet.html.j2", (*_CARD, "sheet.css"), A4_MM, pages=2,
                   review_page_mm=A4_MM, min_text_pt=7.0, cost=0.9),
    )
}
FORMAT_NAMES = tuple(FORMATS)


# ---------------------------------------------------------------- sheet geometry


@dataclass(frozen=True, slots=True)
class CardPlacement:
    """Where one card, bleed included, sits on a sheet (mm from the page's top left)."""

    side: str  # "front" or "back"
    x: float
    y: float


@dataclass(frozen=True, slots=True)
class MarkLine:
    """A crop mark: a horizontal or vertical line, in mm from the page's top left."""

    x1: float
    y1: float
    x2: float
    y2: float


@dataclass(frozen=True, slots=True)
class SheetGeometry:
    width: float
    height: float
    card_width: float  # card with its bleed
    card_height: float
    fronts: tuple[CardPlacement, ...]
    backs: tuple[CardPlacement, ...]
    marks: tuple[MarkLine, ...]


def sheet_geometry(page_mm: tuple[float, float]) -> SheetGeometry:
    """8-up: 2 x 4 cards with their bleed, centred; backs mirrored for long-edge duplex."""
    width, height = page_mm
    cell_w = CARD_MM[0] + 2 * CARD_BLEED_MM
    cell_h = CARD_MM[1] + 2 * CARD_BLEED_MM
    x0 = (width - SHEET_COLUMNS * cell_w) / 2
    y0 = (height - SHEET_ROWS * cell_h) / 2
    fronts, backs = [], []
    for row in range(SHEET_ROWS):
        for column in range(SHEET_COLUMNS):
            y = y0 + row * cell_h
            fronts.append(CardPlacement(FRONT, x0 + column * cell_w, y))
            backs.append(CardPlacement(BACK, x0 + (SHEET_COLUMNS - 1 - column) * cell_w, y))
    # Crop marks in the margins, on the lines of every trim edge, stopping short of the bleed.
    gap = 1.5
    x_trims = [x0 + c * cell_w + CARD_BLEED_MM + d for c in range(SHEET_COLUMNS) for d in (0, CARD_MM[0])]
    y_trims = [y0 + r * cell_h + CARD_BLEED_MM + d for r in range(SHEET_ROWS) for d in (0, CARD_MM[1])]
    x_len = max(3.0, min(8.0, x0 - gap - 5.0))
    y_len = max(3.0, min(8.0, y0 - gap - 5.0))
    x1 = x0 + SHEET_COLUMNS * cell_w
    y1 = y0 + SHEET_ROWS * cell_h
    marks = []
    for x in x_trims:
        marks.append(MarkLine(x, y0 - gap - y_len, x, y0 - gap))
        marks.append(MarkLine(x, y1 + gap, x, y1 + gap + y_len))
    for y in y_trims:
        marks.append(MarkLine(x0 - gap - x_len, y, x0 - gap, y))
        marks.append(MarkLine(x1 + gap, y, x1 + gap + x_len, y))
    return SheetGeometry(width, height, cell_w, cell_h, tuple(fronts), tuple(backs), tuple(marks))


# ---------------------------------------------------------------- the plan


@dataclass(frozen=True, slots=True)
class SectionPlan:
    heading: str
    style: str  # "list" or "steps"
    blocks: tuple[str, ...]
    slots: tuple[str, ...]  # the layout's block each one prints for (a regional variant's base), for pictograms


@dataclass(frozen=True, slots=True)
class HotlinePlan:
    """One registry entry as the document prints it, with what the manifest says about it."""

    category: str
    label: str  # string id of the category's name
    number: str  # as printed
    tel: str  # tel: URI for the link
    open_24_7: bool
    free: bool
    service: str
    confidence: str
    sources: tuple[str, ...]
    registry_line: int
    area: str = ""  # the place a local line serves, printed after its label (e.g. Paris)


@dataclass(frozen=True, slots=True)
class FacePlan:
    """One side of the document: what it says, in order. Empty parts are None or ()."""

    name: str  # "front" or "back"
    title: str | None = None
    subtitle: str | None = None
    sections: tuple[SectionPlan, ...] = ()
    help: str | None = None  # heading of the help box, printed only above its lines
    lines: tuple[HotlinePlan, ...] = ()  # the help box's lines, the one to call first first
    call_line: HotlinePlan | None = None  # the number to call first, with "Call" before it
    footer: str | None = None
    qr: bool = False  # the edition's QR code prints on this face
    qr_alt: str | None = None  # the string id of the QR code's alternative text (not printed, read aloud)
    imprint: Imprint | None = None  # publisher, version code and distributor, in a flyer's footer


@dataclass(frozen=True, slots=True)
class DocumentPlan:
    """Everything one document prints, decided once."""

    edition_id: str
    language: str
    direction: str  # "ltr" or "rtl"
    script: str  # ISO 15924 (Latn, Arab...): Latin words inside Arabic script are tagged with their language
    region: str
    format: FormatSpec
    string_ids: tuple[str, ...]  # every string it prints, in order, once each
    front: FacePlan
    back: FacePlan
    hotlines: tuple[HotlinePlan, ...]  # every printed entry, in the edition's order
    fills: tuple[tuple[str, str], ...]  # placeholder name -> what fills it, for its strings
    forbidden_digits: tuple[str, ...]  # do-not-print numbers (never printed, even inside a text)
    qr: str | None
    sheet: SheetGeometry | None
    registry_compiled: str

    @property
    def where(self) -> str:
        return f"{self.edition_id} {self.format.name}"

    @property
    def title(self) -> str | None:
        """The string id of the document's title (its PDF title)."""
        return self.front.title or self.back.title

    def fill(self, name: str) -> str | None:
        return dict(self.fills).get(name)

    def to_json(self) -> dict[str, object]:
        """The plan as JSON-ready values (dataclasses.asdict's, without its deep copies: a no-change build
        works out every document's digest)."""
        plain = _plain(self)
        assert isinstance(plain, dict)
        return plain


@functools.lru_cache(maxsize=None)
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


def _plain(value: object) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {name: _plain(getattr(value, name)) for name in _field_names(type(value))}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _hotline_plan(entry: Hotline) -> HotlinePlan:
    tel = f"tel:{entry.e164}" if entry.e164 else f"tel:{entry.dial_digits()}"
    return HotlinePlan(
        entry.category, f"ui.category.{entry.category}", entry.display_number(), tel, entry.is_open_24_7, entry.is_free,
        entry.service, entry.confidence, tuple(entry.sources), entry.line, entry.area,
    )


def _sections(source: Source, layout: Layout, region: str, face: str | None) -> tuple[SectionPlan, ...]:
    """The sections of a layout that print in a region: a heading only above blocks that apply."""
    sections = []
    for section in layout.sections:
        if face is not None and (section.face or BACK) != face:
            continue
        # Each block as it prints here: its regional variant, else itself, else left out.
        printed = [(slot, block) for slot in section.blocks if (block := source.for_region(slot, region))]
        heading = source.for_region(section.heading, region)
        if printed and heading:
            sections.append(SectionPlan(heading, section.style, tuple(b for _, b in printed), tuple(s for s, _ in printed)))
    return tuple(sections)


def plan_document(source: Source, edition: Edition, format_name: str) -> DocumentPlan:
    """Decide what one document prints; RenderError when the edition cannot be planned in this format."""
    where = f"{edition.id} {format_name}"
    spec = FORMATS.get(format_name)
    if spec is None:
        raise RenderError(f"{where}: unknown format (known: {', '.join(FORMATS)})")
    language = source.languages.get(edition.language)
    if language is None:
        raise RenderError(f"{where}: language {edition.language!r} is not in languages.yaml")
    if edition.qr and not any(edition.qr.startswith(prefix) for prefix in source.url_allowlist):
        raise RenderError(f"{where}: QR code URL {edition.qr} is not in source/urls.yaml")

    def applies(string_id: str | None) -> str | None:
        """The string a slot prints in the edition's region: its regional variant, else itself, else none."""
        return source.for_region(string_id, edition.region) if string_id else None

    hotlines = tuple(_hotline_plan(e) for e in source.printed_hotlines(edition))
    call_line = next((h for h in hotlines if h.category == "emergency"), hotlines[0] if hotlines else None)
    others = tuple(h for h in hotlines if h != call_line)
    if spec.kind == "flyer":
        flyer = source.layouts["flyer"]
        front = FacePlan(
            FRONT,
            title=applies(flyer.title),
            subtitle=applies(flyer.subtitle),
            sections=_sections(source, flyer, edition.region, FRONT),
            help=applies(flyer.help) if hotlines else None,
            # The line to call first heads the box, whatever the edition's order.
            lines=((call_line,) if call_line else ()) + others,
            call_line=call_line,
        )
        back = FacePlan(
            BACK,
            sections=_sections(source, flyer, edition.region, BACK),
            footer=applies(flyer.footer),
            qr=bool(edition.qr),
            qr_alt=applies(QR_ALT) if edition.qr and QR_ALT in source.strings else None,
            imprint=edition_imprints(source).get(edition.id),
        )
    else:
        card_front, card_back = source.layouts["card-front"], source.layouts["card-back"]
        front = FacePlan(
            FRONT,
            title=applies(card_front.title),
            subtitle=applies(card_front.subtitle),
            sections=_sections(source, card_front, edition.region, None),
            call_line=call_line,
            lines=(call_line,) if call_line else (),
        )
        back = FacePlan(
            BACK,
            sections=_sections(source, card_back, edition.region, None),
            help=applies(card_back.help) if others else None,
            lines=others,
            footer=applies(card_back.footer),
        )

    ids: dict[str, None] = {}
    for face in (front, back):
        for string_id in (face.title, face.subtitle):
            if string_id:
                ids[string_id] = None
        for section in face.sections:
            ids[section.heading] = None
            ids.update(dict.fromkeys(section.blocks))
        if face.help:
            ids[face.help] = None
        for line in face.lines:
            ids[line.label] = None
        if face.footer:
            ids[face.footer] = None
        if face.qr_alt:
            ids[face.qr_alt] = None
    if call_line:
        ids["ui.label.call"] = None
    if any(h.open_24_7 for h in hotlines):
        ids["ui.label.open-24-7"] = None
    if any(h.free for h in hotlines):
        ids["ui.label.free"] = None

    fills = {}
    for string_id in ids:
        for name in find_placeholders(source.strings[string_id].text):
            category = PLACEHOLDER_CATEGORIES.get(name)
            entry = source.registry.first_printable(edition.region, category) if category else None
            if entry is not None:
                fills[name] = entry.display_number()
    return DocumentPlan(
        edition_id=edition.id,
        language=edition.language,
        direction=language.direction,
        script=language.script,
        region=edition.region,
        format=spec,
        string_ids=tuple(ids),
        front=front,
        back=back,
        hotlines=hotlines,
        fills=tuple(sorted(fills.items())),
        forbidden_digits=tuple(d.digits for d in source.registry.do_not_print if len(d.digits) >= 7),
        qr=edition.qr,
        sheet=sheet_geometry(spec.page_mm) if spec.kind == "sheet" else None,
        registry_compiled=source.registry.compiled.isoformat(),
    )


_IMPRINTS: dict[int, tuple[Source, dict[str, Imprint]]] = {}


def edition_imprints(source: Source) -> dict[str, Imprint]:
    """Every edition's imprint (read once per source); ContentError (file:line) when publication.yaml is wrong."""
    cached = _IMPRINTS.get(id(source))
    if cached is not None and cached[0] is source:
        return cached[1]
    imprints = read_imprints(source)
    _IMPRINTS.clear()
    _IMPRINTS[id(source)] = (source, imprints)
    return imprints


_PLACES: dict[int, tuple[Source, dict[str, set[str]]]] = {}


def print_places(source: Source) -> dict[str, set[str]]:
    """Where each string prints in any edition: "label" (a card title, a line's name, a tag), "card", "flyer"."""
    cached = _PLACES.get(id(source))
    if cached is not None and cached[0] is source:
        return cached[1]
    places: dict[str, set[str]] = {}
    for edition in source.editions.values():
        for format_name in edition.formats:
            try:
                plan = plan_document(source, edition, format_name)
            except RenderError:
                continue  # reported by `outreach check` as a content problem
            kind = "flyer" if plan.format.kind == "flyer" else "card"
            labels = {h.label for h in plan.hotlines} | {"ui.label.call", "ui.label.open-24-7", "ui.label.free"}
            if kind == "card":
                labels |= {i for i in (plan.front.title, plan.back.title) if i}
            for string_id in plan.string_ids:
                places.setdefault(string_id, set()).add("label" if string_id in labels else kind)
    _PLACES.clear()
    _PLACES[id(source)] = (source, places)
    return places


# ---------------------------------------------------------------- a job for the renderer

ProofRow = tuple[str, str, str, str]  # string id, state, text as it stands, its check errors


@dataclass(frozen=True)
class PrintJob:
    """A plan with its texts: everything the renderer needs, and nothing else."""

    plan: DocumentPlan
    texts: dict[str, str]  # string id -> text, for the plan's strings
    proof: bool
    approvals: tuple[str, ...] = ()  # hash of the ledger record approving each string, in plan order
    unapproved: tuple[ProofRow, ...] = ()  # a proof's review page
    document_errors: tuple[str, ...] = ()  # check errors not about one of its strings (proofs)
    environment: str = ""  # digest of the render environment: templates, fonts, library versions
    in_english: tuple[str, ...] = ()  # strings a translated proof prints in English: no translation yet

    @property
    def kind(self) -> str:
        return "proof" if self.proof else "final"

    def digest(self) -> str:
        """SHA-256 over everything that decides the bytes of this document (worked out once per job)."""
        cached: str | None = self.__dict__.get("_digest_cache")
        if cached is None:
            cached = self._compute_digest()
            object.__setattr__(self, "_digest_cache", cached)  # a cache beside the fields, not one of them
        return cached

    def _compute_digest(self) -> str:
        payload = {
            "plan": self.plan.to_json(),
            "texts": [[i, self.texts.get(i)] for i in self.plan.string_ids],
            "proof": self.proof,
            "approvals": list(self.approvals),
            "unapproved": [list(row) for row in self.unapproved],
            "document_errors": list(self.document_errors),
            "environment": self.environment,
            "in_english": list(self.in_english),
        }
        text = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def make_job(
    plan: DocumentPlan,
    texts: dict[str, str],
    proof: bool,
    approvals: tuple[str, ...] = (),
    unapproved: tuple[ProofRow, ...] = (),
    document_errors: tuple[str, ...] = (),
    environment: str = "",
    in_english: tuple[str, ...] = (),
) -> PrintJob:
    """A job keeping only the texts the plan prints."""
    kept = {i: texts[i] for i in plan.string_ids if i in texts}
    marked = tuple(i for i in plan.string_ids if i in set(in_english))
    return PrintJob(plan, kept, proof, approvals, unapproved, document_errors, environment, marked)
