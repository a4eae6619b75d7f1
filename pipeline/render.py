"""Print documents: flyers, wallet cards and 8-up card sheets, through Jinja2 and WeasyPrint.

One `Renderer` per run holds one Jinja2 environment, one WeasyPrint font
configuration, the parsed stylesheets of every format and an image cache, and
renders any number of editions with them. A document is only returned when
nothing went wrong; everything WeasyPrint merely logs is turned into a
`RenderError` naming the edition, the format and what is wrong:

- a glyph no installed font can draw (WeasyPrint logs ".notdef glyph", draws tofu);
- any other warning or error WeasyPrint logs (bad CSS, an image it could not load);
- a resource outside `templates/` (only files under that folder are ever read);
- a template asking for a string the edition does not print, or a string
  missing from `texts`, or a template leaving out a string it should print;
- a wallet card whose text does not fit inside its safe area (4 mm inside the
  trim), found by walking WeasyPrint's layout boxes.

Translated text is untrusted: it is HTML-escaped, and only the numbers filled in
for placeholders (and phone numbers already written in it) get markup, each in
`<bdi dir="ltr">` so that right-to-left text never reverses them.
"""

from __future__ import annotations

import logging
import mimetypes
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import jinja2
import weasyprint
from markupsafe import Markup, escape
from weasyprint.formatting_structure import boxes
from weasyprint.layout.absolute import AbsolutePlaceholder
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse, path2url

from pipeline.content import Edition, Layout, Source
from pipeline.hotlines import PLACEHOLDER_CATEGORIES, Hotline
from pipeline.spans import PHONE_RE, PLACEHOLDER_RE, digits_of

LOGGER = logging.getLogger(__name__)

MM_PER_PX = 25.4 / 96  # WeasyPrint lays out in CSS pixels
LETTER_MM = (215.9, 279.4)
A4_MM = (210.0, 297.0)
A5_MM = (148.0, 210.0)
CARD_MM = (85.6, 54.0)  # ISO/IEC 7810 ID-1 (85.60 x 53.98 mm)
CARD_BLEED_MM = 3.0
CARD_SAFE_MM = 4.0  # text stays at least this far inside the trim
SHEET_COLUMNS, SHEET_ROWS = 2, 4
PDF_VARIANT = "pdf/ua-1"
OVERFLOW_TOLERANCE_MM = 0.05


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


FORMATS: dict[str, FormatSpec] = {
    "flyer-letter": FormatSpec("flyer-letter", "flyer", "flyer.html.j2", ("base.css", "flyer.css"), LETTER_MM, review_page_mm=LETTER_MM),
    "flyer-a4": FormatSpec("flyer-a4", "flyer", "flyer.html.j2", ("base.css", "flyer.css"), A4_MM, review_page_mm=A4_MM),
    "card": FormatSpec("card", "card", "card.html.j2", ("base.css", "card.css"), CARD_MM, bleed_mm=CARD_BLEED_MM, pages=2, review_page_mm=A5_MM),
    "sheet-letter": FormatSpec("sheet-letter", "sheet", "sheet.html.j2", ("base.css", "card.css", "sheet.css"), LETTER_MM, pages=2, review_page_mm=LETTER_MM),
    "sheet-a4": FormatSpec("sheet-a4", "sheet", "sheet.html.j2", ("base.css", "card.css", "sheet.css"), A4_MM, pages=2, review_page_mm=A4_MM),
}


@dataclass(frozen=True, slots=True)
class RenderedDocument:
    edition_id: str
    format_name: str
    proof: bool
    pdf: bytes
    page_count: int


class RenderError(Exception):
    """A document that must not be printed; the message says which one and why."""


# ---------------------------------------------------------------- what templates see


@dataclass(frozen=True, slots=True)
class SectionView:
    heading: str
    style: str  # "list" or "steps"
    blocks: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LayoutView:
    """A layout with only the strings that apply to the edition's region."""

    name: str
    title: str | None
    subtitle: str | None
    sections: tuple[SectionView, ...]
    help: str | None
    footer: str | None


@dataclass(frozen=True, slots=True)
class HotlineView:
    category: str
    label: str  # string id of the category's name
    number: str  # as printed
    tel: str  # tel: URI for the link
    open_24_7: bool
    free: bool


@dataclass(frozen=True, slots=True)
class CardPlacement:
    """Where one card, bleed included, sits on a sheet (mm from the page's top left)."""

    side: str  # "front" or "back"
    x: float
    y: float


@dataclass(frozen=True, slots=True)
class MarkLine:
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
            fronts.append(CardPlacement("front", x0 + column * cell_w, y))
            backs.append(CardPlacement("back", x0 + (SHEET_COLUMNS - 1 - column) * cell_w, y))
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


# ---------------------------------------------------------------- fetching


class TemplateFetcher(URLFetcher):
    """Serves files under the templates folder and refuses every other URL.

    Refusals raise `RenderError`; WeasyPrint stops the render (fail_on_errors)
    and `Renderer.render` reports the URL with the edition and format.
    """

    def __init__(self, root: Path):
        super().__init__(fail_on_errors=True, allowed_protocols=("file",))
        self.root = root.resolve()

    def local_path(self, url: str) -> Path:
        """The file a URL names, if it is a file under the templates folder; RenderError otherwise."""
        parts = urlsplit(url)
        if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
            raise RenderError(f"refused to fetch {url!r}: only files under {self.root} may be used")
        path = Path(url2pathname(unquote(parts.path))).resolve()
        if not path.is_relative_to(self.root):
            raise RenderError(f"refused to fetch {url!r}: it is outside {self.root}")
        if not path.is_file():
            raise RenderError(f"cannot fetch {url!r}: no such file under {self.root}")
        return path

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        path = self.local_path(url)
        mime_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": mime_type})


# ---------------------------------------------------------------- logs


class _LogCapture(logging.Handler):
    """Collects WeasyPrint warnings and errors emitted by this thread."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.thread = threading.get_ident()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.messages.append(record.getMessage())


@contextmanager
def _weasyprint_logs() -> Iterator[list[str]]:
    logger = logging.getLogger("weasyprint")
    handler = _LogCapture()
    old_level = logger.level
    if logger.getEffectiveLevel() > logging.WARNING:
        logger.setLevel(logging.WARNING)
    logger.addHandler(handler)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


_NOTDEF_RE = re.compile(r'\.notdef glyph rendered for Unicode string unsupported by fonts: "(.*)"', re.S)


# ---------------------------------------------------------------- text


class _Texts:
    """The `t()` of one render: gives templates the approved strings, filled and escaped.

    Only ids of the edition's own set can be asked for; every call is recorded so
    the renderer can check that the template printed all of them.
    """

    def __init__(self, renderer: Renderer, edition: Edition, format_name: str, texts: dict[str, str], allowed: list[str]):
        self.renderer = renderer
        self.edition = edition
        self.format_name = format_name
        self.texts = texts
        self.allowed = set(allowed)
        self.used: set[str] = set()

    def fail(self, problem: str) -> RenderError:
        return RenderError(f"{self.edition.id} {self.format_name}: {problem}")

    def text(self, string_id: str) -> str:
        if string_id not in self.allowed:
            raise self.fail(f"template asks for string {string_id!r}, which this edition does not print")
        text = self.texts.get(string_id)
        if text is None or not text.strip():
            raise self.fail(f"no text for string {string_id!r} in {self.edition.language}")
        return text

    def __call__(self, string_id: str) -> Markup:
        text = self.text(string_id)
        self.used.add(string_id)
        body = self.renderer.fill(text, self.edition, string_id, self.fail)
        return Markup('<span class="s" data-string="{}">{}</span>').format(string_id, body)

    def plain(self, string_id: str) -> str:
        """The text with placeholders filled, for metadata such as the PDF title."""
        text = self.text(string_id)
        return str(self.renderer.fill(text, self.edition, string_id, self.fail).striptags())


def _number_markup(number: str) -> Markup:
    return Markup('<bdi dir="ltr" class="tel">{}</bdi>').format(number)


# ---------------------------------------------------------------- renderer


class Renderer:
    """Renders editions to PDF; build one per run and reuse it."""

    def __init__(self, source: Source):
        self.source = source
        self.templates = source.project.templates
        if not self.templates.is_dir():
            raise RenderError(f"no templates folder at {self.templates}")
        self.base_url = path2url(self.templates)
        self.fetcher = TemplateFetcher(self.templates)
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(self.templates),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.font_config = FontConfiguration()
        self.image_cache: dict = {}
        self._forbidden = [d.digits for d in source.registry.do_not_print if len(d.digits) >= 7]
        self.stylesheets: dict[str, list[weasyprint.CSS]] = {}
        parsed: dict[str, weasyprint.CSS] = {}
        with _weasyprint_logs() as messages:
            try:
                for spec in FORMATS.values():
                    sheets = [weasyprint.CSS(string=spec.page_css, font_config=self.font_config)]
                    for name in spec.stylesheets:
                        if name not in parsed:
                            parsed[name] = self._parse_css(name)
                        sheets.append(parsed[name])
                    self.stylesheets[spec.name] = sheets
            except FatalURLFetchingError as exc:
                raise RenderError(f"stylesheets: {exc.__cause__ or exc}") from None
        if messages:
            raise RenderError("stylesheets: " + "; ".join(messages))

    def _parse_css(self, name: str) -> weasyprint.CSS:
        path = self.templates / name
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise RenderError(f"cannot read stylesheet {path}: {exc.strerror}") from None
        return weasyprint.CSS(string=text, base_url=path2url(path), url_fetcher=self.fetcher, font_config=self.font_config)

    # -- text -----------------------------------------------------------

    def fill(self, text: str, edition: Edition, string_id: str, fail: Callable[[str], RenderError]) -> Markup:
        """Escape a text and fill its placeholders; numbers come out as `<bdi dir="ltr">`."""
        registry = self.source.registry
        pieces: list[Markup] = []
        position = 0
        for match in PLACEHOLDER_RE.finditer(text):
            pieces.append(self._escape_plain(text[position:match.start()], string_id, fail))
            position = match.end()
            name = match.group(1)
            if name == "date":
                pieces.append(_number_markup(registry.compiled.isoformat()))
                continue
            category = PLACEHOLDER_CATEGORIES.get(name)
            if category is None:
                raise fail(f"string {string_id!r} has unknown placeholder {{{name}}}")
            entry = registry.first_printable(edition.region, category)
            if entry is None:
                raise fail(f"string {string_id!r} needs {{{name}}}, but {edition.region} has no printable {category} line")
            pieces.append(_number_markup(entry.display_number()))
        pieces.append(self._escape_plain(text[position:], string_id, fail))
        return Markup("").join(pieces)

    def _escape_plain(self, text: str, string_id: str, fail: Callable[[str], RenderError]) -> Markup:
        """Escape text, isolating any phone number written in it; refuse do-not-print numbers."""
        pieces: list[Markup] = []
        position = 0
        for match in PHONE_RE.finditer(text):
            digits = digits_of(match.group(0))
            if len(digits) < 7:
                continue
            if any(forbidden in digits for forbidden in self._forbidden):
                raise fail(f"string {string_id!r} contains {match.group(0).strip()!r}, a number on the do-not-print list")
            pieces.append(escape(text[position:match.start()]))
            pieces.append(_number_markup(match.group(0)))
            position = match.end()
        pieces.append(escape(text[position:]))
        return Markup("").join(pieces)

    # -- view model -----------------------------------------------------

    def _layout_view(self, layout: Layout, region: str) -> LayoutView:
        strings = self.source.strings

        def applies(string_id: str | None) -> str | None:
            return string_id if string_id and self.source.applies(strings[string_id], region) else None

        sections = []
        for section in layout.sections:
            blocks = tuple(b for b in section.blocks if applies(b))
            if blocks and applies(section.heading):
                sections.append(SectionView(section.heading, section.style, blocks))
        return LayoutView(layout.name, applies(layout.title), applies(layout.subtitle), tuple(sections), applies(layout.help), applies(layout.footer))

    @staticmethod
    def _hotline_view(entry: Hotline) -> HotlineView:
        tel = f"tel:{entry.e164}" if entry.e164 else f"tel:{entry.dial_digits()}"
        return HotlineView(entry.category, f"ui.category.{entry.category}", entry.display_number(), tel, entry.is_open_24_7, entry.is_free)

    @staticmethod
    def _view_ids(layouts: Sequence[LayoutView]) -> set[str]:
        ids: set[str] = set()
        for view in layouts:
            ids.update(i for i in (view.title, view.subtitle, view.help, view.footer) if i)
            for section in view.sections:
                ids.add(section.heading)
                ids.update(section.blocks)
        return ids

    # -- rendering ------------------------------------------------------

    def render(
        self,
        edition: Edition,
        format_name: str,
        texts: dict[str, str],
        proof: bool,
        unapproved: Sequence[tuple[str, str, str]] = (),
    ) -> RenderedDocument:
        """Render one edition in one format; RenderError if anything would print wrong."""
        spec = FORMATS.get(format_name)
        where = f"{edition.id} {format_name}"
        if spec is None:
            raise RenderError(f"{where}: unknown format (known: {', '.join(FORMATS)})")
        language = self.source.languages.get(edition.language)
        if language is None:
            raise RenderError(f"{where}: language {edition.language!r} is not in languages.yaml")

        allowed = self.source.edition_string_ids(edition, format_name)
        t = _Texts(self, edition, format_name, texts, allowed)
        layouts = [self._layout_view(layout, edition.region) for layout in self.source.layouts_for(format_name)]
        hotlines = [self._hotline_view(e) for e in self.source.printed_hotlines(edition)]
        emergency = next((h for h in hotlines if h.category == "emergency"), None)
        title_id = next((view.title for view in layouts if view.title), None)
        expected = self._view_ids(layouts)
        if hotlines:
            expected.add("ui.label.call")
            expected.update(h.label for h in hotlines)
        if any(h.open_24_7 for h in hotlines):
            expected.add("ui.label.open-24-7")
        if any(h.free for h in hotlines):
            expected.add("ui.label.free")

        context = {
            "t": t,
            "lang": language.code,
            "dir": language.direction,
            "title": t.plain(title_id) if title_id else edition.id,
            "fmt": spec,
            "layouts": {view.name: view for view in layouts},
            "hotlines": hotlines,
            "emergency": emergency,
            "proof": proof,
            "unapproved": [tuple(item) for item in unapproved],
            "sheet": sheet_geometry(spec.page_mm) if spec.kind == "sheet" else None,
            "card_mm": CARD_MM,
            "bleed_mm": CARD_BLEED_MM,
        }
        try:
            html_text = self.env.get_template(spec.template).render(context)
        except jinja2.TemplateError as exc:
            raise RenderError(f"{where}: template {spec.template}: {exc}") from None
        missing = sorted(expected - t.used)
        if missing:
            raise RenderError(f"{where}: template {spec.template} did not print {', '.join(missing)}")

        with _weasyprint_logs() as messages:
            try:
                html = weasyprint.HTML(string=html_text, base_url=self.base_url, url_fetcher=self.fetcher)
                document = html.render(
                    font_config=self.font_config,
                    stylesheets=self.stylesheets[format_name],
                    pdf_variant=PDF_VARIANT,
                    cache=self.image_cache,
                )
                self._check_layout(document, spec, where)
                pdf = document.write_pdf(pdf_variant=PDF_VARIANT)
            except FatalURLFetchingError as exc:
                raise RenderError(f"{where}: {exc.__cause__ or exc}") from None
        if messages:
            raise RenderError(f"{where}: {self._describe_log(messages, texts, t.used)}")
        LOGGER.debug("rendered %s (%d pages, %d bytes)", where, len(document.pages), len(pdf))
        return RenderedDocument(edition.id, format_name, proof, pdf, len(document.pages))

    @staticmethod
    def _describe_log(messages: list[str], texts: dict[str, str], used: set[str]) -> str:
        problems = []
        for message in messages:
            match = _NOTDEF_RE.search(message)
            if not match:
                problems.append(f"WeasyPrint reported: {message}")
                continue
            missing = match.group(1)
            codes = " ".join(f"U+{ord(ch):04X}" for ch in missing)
            holders = sorted(i for i in used if any(ch in texts.get(i, "") for ch in missing))
            where = f" in {', '.join(holders)}" if holders else ""
            problems.append(f"missing glyph: no installed font can draw {missing!r} ({codes}){where}")
        return "; ".join(dict.fromkeys(problems))

    # -- fit ------------------------------------------------------------

    def _check_layout(self, document: weasyprint.Document, spec: FormatSpec, where: str) -> None:
        """Cards must fit their safe area; cards and sheets must take exactly their pages."""
        content_pages = [page for page in document.pages if not _has_class(page._page_box, "review")]
        problems = []
        for number, page in enumerate(content_pages, start=1):
            for card in _boxes_with_class(page._page_box, "card"):
                overflow = _card_overflow(card)
                if overflow is not None:
                    amount, string_id, side = overflow
                    about = f"string {string_id!r}" if string_id else "its text"
                    problems.append(f"the card {side} on page {number} overflows its safe area ({CARD_SAFE_MM:g} mm inside the trim) by {amount:.1f} mm at {about}")
        if spec.pages is not None and len(content_pages) != spec.pages:
            extra = _extra_content_mm(content_pages[spec.pages:]) if len(content_pages) > spec.pages else 0.0
            problems.append(f"content takes {len(content_pages)} pages instead of {spec.pages} (about {extra:.1f} mm too much)")
        if problems:
            raise RenderError(f"{where}: " + "; ".join(dict.fromkeys(problems)))


def _children(box: object) -> list:
    children = getattr(box, "children", None) or []
    return [child._box if isinstance(child, AbsolutePlaceholder) else child for child in children]


def _classes(box: object) -> list[str]:
    element = getattr(box, "element", None)
    if element is None or getattr(box, "element_tag", "").count("::"):
        return []
    return (element.get("class") or "").split()


def _has_class(box: object, name: str) -> bool:
    return name in _classes(box) or any(_has_class(child, name) for child in _children(box))


def _boxes_with_class(box: object, name: str) -> Iterator[boxes.Box]:
    if name in _classes(box):
        yield box
        return
    for child in _children(box):
        yield from _boxes_with_class(child, name)


def _card_overflow(card: boxes.Box) -> tuple[float, str | None, str] | None:
    """How far (mm) the card's text reaches outside its safe area, and in which string."""
    left = card.content_box_x()
    top = card.content_box_y()
    right = left + card.width
    bottom = top + card.height
    side = "back" if "back" in _classes(card) else "front"
    worst: tuple[float, str | None] = (0.0, None)

    def visit(box: object, string_id: str | None) -> None:
        nonlocal worst
        element = getattr(box, "element", None)
        if element is not None:
            string_id = element.get("data-string") or string_id
        extents = []
        if isinstance(box, boxes.LineBox):
            extents.append((top - box.position_y, box.position_y + box.height - bottom))
        if isinstance(box, (boxes.TextBox, boxes.InlineReplacedBox, boxes.InlineBlockBox, boxes.BlockReplacedBox)):
            x = box.border_box_x()
            extents.append((left - x, x + box.border_width() - right))
        if isinstance(box, (boxes.InlineReplacedBox, boxes.BlockReplacedBox)):
            y = box.border_box_y()
            extents.append((top - y, y + box.border_height() - bottom))
        for before, after in extents:
            amount = max(before, after) * MM_PER_PX
            if amount > worst[0]:
                worst = (amount, string_id)
        for child in _children(box):
            visit(child, string_id)

    visit(card, None)
    if worst[0] > OVERFLOW_TOLERANCE_MM:
        return worst[0], worst[1], side
    return None


def _extra_content_mm(pages: Sequence[weasyprint.Page]) -> float:
    """Height of the content on pages beyond the expected count."""
    total = 0.0
    for page in pages:
        lines = [box for box in page._page_box.descendants() if isinstance(box, boxes.LineBox)]
        if lines:
            total += (max(b.position_y + b.height for b in lines) - min(b.position_y for b in lines)) * MM_PER_PX
    return total
