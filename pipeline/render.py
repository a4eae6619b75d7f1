"""Print documents: flyers, wallet cards and 8-up card sheets, through Jinja2 and WeasyPrint.

One `Renderer` per run holds one Jinja2 environment, one WeasyPrint font
configuration, the parsed stylesheets of every format and an image cache, and
renders any number of editions with them:

    renderer = Renderer(source)
    document = renderer.render(edition, "card", texts, proof=False)

Templates (templates/*.html.j2) ask for text with `t(string_id)`; only the
edition's own strings (`Source.edition_string_ids`) can be asked for, and each
comes out escaped, its placeholders filled from the hotline registry, as one
element marked `data-string="id"`. A document is only returned when nothing
went wrong; everything WeasyPrint merely logs or silently does is turned into a
`RenderError` naming the edition, the format and what is wrong:

- a glyph no installed font can draw (WeasyPrint logs ".notdef glyph", draws tofu);
- any other warning or error WeasyPrint logs (bad CSS, an image it could not load);
- a resource outside templates/ (only files under that folder are ever read);
- a template asking for a string the edition does not print, a string missing
  from `texts`, or a template leaving out a string it should print;
- a string not laid out in full (cut off at a page edge, hidden by CSS);
- a wallet card whose text leaves its safe area (4 mm inside the trim), with
  how far and which strings, found by walking WeasyPrint's layout boxes;
- text smaller than the format allows (11 pt on flyers, 6 pt on cards).

Translated text is untrusted: it is HTML-escaped, and only the numbers filled in
for placeholders (and phone numbers already written in it) get markup, each in
`<bdi dir="ltr">` so that right-to-left text never reverses them. Finals and
proofs are written as PDF/UA-1 (tagged, with the document language); the same
inputs give the same bytes.
"""

from __future__ import annotations

import functools
import logging
import mimetypes
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import jinja2
import segno
import weasyprint
from markupsafe import Markup, escape
from weasyprint.formatting_structure import boxes
from weasyprint.layout.absolute import AbsolutePlaceholder
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse, path2url

from pipeline.content import Edition, Layout, Source
from pipeline.errors import FitError, RenderError  # noqa: F401 - RenderError is part of this module's API
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
CROP_MARK_MM = 0.2  # thickness of the crop marks drawn on sheets
PDF_VARIANT = "pdf/ua-1"
QR_QUIET_ZONE = 4  # modules of white around a QR code
OVERFLOW_TOLERANCE_MM = 0.05
PROOF_OVERLAY_CLASS = "proof-overlay"  # proof marks drawn over the content (templates)
HIGHLIGHT_CLASS = "proof-highlight"  # a proof's string outlined for the review desk (base.css)


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
    # A flyer is one sheet printed on both sides: exactly two pages.
    "flyer-letter": FormatSpec("flyer-letter", "flyer", "flyer.html.j2", ("base.css", "flyer.css"), LETTER_MM, pages=2, review_page_mm=LETTER_MM),
    "flyer-a4": FormatSpec("flyer-a4", "flyer", "flyer.html.j2", ("base.css", "flyer.css"), A4_MM, pages=2, review_page_mm=A4_MM),
    "flyer-letter-large": FormatSpec("flyer-letter-large", "flyer", "flyer.html.j2", ("base.css", "flyer.css", "large.css"), LETTER_MM, review_page_mm=LETTER_MM, min_text_pt=18.0),
    "flyer-a4-large": FormatSpec("flyer-a4-large", "flyer", "flyer.html.j2", ("base.css", "flyer.css", "large.css"), A4_MM, review_page_mm=A4_MM, min_text_pt=18.0),
    "card": FormatSpec("card", "card", "card.html.j2", ("base.css", "card.css"), CARD_MM, bleed_mm=CARD_BLEED_MM, pages=2, review_page_mm=A5_MM, min_text_pt=6.0),
    "sheet-letter": FormatSpec("sheet-letter", "sheet", "sheet.html.j2", ("base.css", "card.css", "sheet.css"), LETTER_MM, pages=2, review_page_mm=LETTER_MM, min_text_pt=6.0),
    "sheet-a4": FormatSpec("sheet-a4", "sheet", "sheet.html.j2", ("base.css", "card.css", "sheet.css"), A4_MM, pages=2, review_page_mm=A4_MM, min_text_pt=6.0),
}


@dataclass(frozen=True, slots=True)
class RenderedDocument:
    edition_id: str
    format_name: str
    proof: bool
    pdf: bytes
    page_count: int
    fit_problems: tuple[str, ...] = ()  # a proof laid out although its text does not fit




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


_STRING_TAGS = frozenset({"span", "p", "li", "h1", "h2", "h3", "div"})
_INDENTATION_RE = re.compile(r"\n[ \t]+")
_NOTDEF_RE = re.compile(r'\.notdef glyph rendered for Unicode string unsupported by fonts: "(.*)"', re.S)


# ---------------------------------------------------------------- text


class _Texts:
    """The `t()` of one render: gives templates the approved strings, filled and escaped.

    Only ids of the edition's own set can be asked for; every call is recorded so
    the renderer can check that the template printed all of them.
    """

    def __init__(self, renderer: Renderer, edition: Edition, format_name: str, texts: dict[str, str], allowed: list[str], highlight: str = ""):
        self.renderer = renderer
        self.highlight = highlight
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

    def __call__(self, string_id: str, css_class: str = "", tag: str = "span") -> Markup:
        """The string as `<tag class="s css_class" data-string="id">`, filled and escaped.

        Every printed string is one element marked with its id: the renderer
        checks the layout against these (all text laid out, cards in bounds).
        """
        if tag not in _STRING_TAGS:
            raise self.fail(f"template asks for string {string_id!r} as <{tag}>; use one of {', '.join(sorted(_STRING_TAGS))}")
        text = self.text(string_id)
        self.used.add(string_id)
        body = self.renderer.fill(text, self.edition, string_id, self.fail)
        classes = f"s {css_class}".strip()
        if string_id == self.highlight:
            classes += f" {HIGHLIGHT_CLASS}"
        return Markup('<{0} class="{1}" data-string="{2}">{3}</{0}>').format(Markup(tag), classes, string_id, body)

    def plain(self, string_id: str) -> str:
        """The text with placeholders filled, for metadata such as the PDF title."""
        text = self.text(string_id)
        return str(self.renderer.fill(text, self.edition, string_id, self.fail).striptags())


@functools.lru_cache(maxsize=64)
def _qr_svg(url: str) -> Markup:
    code = segno.make(url, error="q", micro=False, boost_error=False)
    # svg_inline escapes the title; the title is the figure's alternative text in the tagged PDF.
    return Markup(code.svg_inline(border=QR_QUIET_ZONE, dark="#111111", light="#ffffff", omitsize=True, title=url))


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
            loader=jinja2.FunctionLoader(self._load_template),
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
        self._unbounded_pages = weasyprint.CSS(string="@page { size: 5000mm 5000mm; bleed: 0; marks: none; }")

    def _load_template(self, name: str) -> tuple[str, str, Callable[[], bool]]:
        """Jinja's loader: a template file whose real path (symlinks resolved) is under templates/."""
        path = self.fetcher.local_path(path2url(self.templates / name))
        return path.read_text(encoding="utf-8"), str(path), lambda: True

    def _parse_css(self, name: str) -> weasyprint.CSS:
        path = self.fetcher.local_path(path2url(self.templates / name))  # refused outside templates/
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

    def _qr(self, edition: Edition, where: str) -> Markup:
        """The edition's QR code as inline SVG: error correction Q, a quiet zone of 4 modules."""
        url = edition.qr or ""
        if not any(url.startswith(prefix) for prefix in self.source.url_allowlist):
            raise RenderError(f"{where}: QR code URL {url} is not in source/urls.yaml")
        return _qr_svg(url)

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
        unapproved: Sequence[tuple[str, ...]] = (),
        document_errors: Sequence[str] = (),
        highlight: str = "",
    ) -> RenderedDocument:
        """Render one edition in one format; RenderError if anything would print wrong.

        `highlight` (proofs only) outlines one string's box, for the review desk's preview.
        """
        spec = FORMATS.get(format_name)
        where = f"{edition.id} {format_name}"
        if spec is None:
            raise RenderError(f"{where}: unknown format (known: {', '.join(FORMATS)})")
        language = self.source.languages.get(edition.language)
        if language is None:
            raise RenderError(f"{where}: language {edition.language!r} is not in languages.yaml")

        allowed = self.source.edition_string_ids(edition, format_name)
        if highlight and not proof:
            raise RenderError(f"{where}: only a proof can outline a string")
        if not proof:
            pending = sorted({item[0] for item in unapproved} & set(allowed))
            if pending:
                raise RenderError(f"{where}: a final document cannot print unapproved strings: {', '.join(pending)}")
        t = _Texts(self, edition, format_name, texts, allowed, highlight)
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
            "edition": edition.id,
            "lang": language.code,
            "dir": language.direction,
            "title": t.plain(title_id) if title_id else edition.id,
            "fmt": spec,
            "layouts": {view.name: view for view in layouts},
            "hotlines": hotlines,
            "emergency": emergency,
            "proof": proof,
            # (id, state, text, check errors): the errors part is optional.
            "unapproved": [(*item[:3], item[3] if len(item) > 3 else "") for item in unapproved],
            "sheet": sheet_geometry(spec.page_mm) if spec.kind == "sheet" else None,
            "crop_mark_mm": CROP_MARK_MM,
            "qr_url": edition.qr,
            "qr": self._qr(edition, where) if edition.qr else None,
            "fit_problems": [],
            "document_errors": list(document_errors),  # check errors not tied to one string (proofs)
            "compact": False,
        }
        html_text = self._html(spec, context, where)
        missing = sorted(expected - t.used)
        if missing:
            raise RenderError(f"{where}: template {spec.template} did not print {', '.join(missing)}")
        # Cards have a fixed size: when the text does not fit, try once more with the compact
        # style (tighter lines and spacing, never under the format's minimum text size).
        for compact in (False, True) if spec.kind in ("card", "sheet") else (False,):
            if compact:
                context["compact"] = True
                html_text = self._html(spec, context, where)
            try:
                # Only the last attempt's fit problems are reported, so only it measures them.
                document, pdf = self._lay_out(html_text, spec, where, texts, t.used, check=True, measure=compact)
                break
            except FitError as exc:
                misfit = exc
        else:
            if not proof:
                raise misfit
            # A proof still shows the reviewer what would print, with the fit problem on its review page.
            context["fit_problems"] = [str(misfit).split(": ", 1)[-1]]
            document, pdf = self._lay_out(self._html(spec, context, where), spec, where, texts, t.used, check=False)
        LOGGER.debug("rendered %s (%d pages, %d bytes)", where, len(document.pages), len(pdf))
        return RenderedDocument(edition.id, format_name, proof, pdf, len(document.pages), tuple(context["fit_problems"]))

    def _html(self, spec: FormatSpec, context: dict, where: str) -> str:
        try:
            html_text = self.env.get_template(spec.template).render(context)
        except jinja2.TemplateError as exc:
            raise RenderError(f"{where}: template {spec.template}: {exc}") from None
        # Indentation means nothing in HTML (no element keeps white space) but costs parsing time.
        return _INDENTATION_RE.sub("\n", html_text)

    def _lay_out(self, html_text: str, spec: FormatSpec, where: str, texts: dict[str, str], used: set[str], check: bool, measure: bool = True):
        with _weasyprint_logs() as messages:
            try:
                html = weasyprint.HTML(string=html_text, base_url=self.base_url, url_fetcher=self.fetcher)
                document = html.render(
                    font_config=self.font_config,
                    stylesheets=self.stylesheets[spec.name],
                    pdf_variant=PDF_VARIANT,
                    cache=self.image_cache,
                )
                if check:
                    self._check_layout(html, document, spec, where, measure)
                pdf = document.write_pdf(pdf_variant=PDF_VARIANT)
            except FatalURLFetchingError as exc:
                raise RenderError(f"{where}: {exc.__cause__ or exc}") from None
        if messages:
            raise RenderError(f"{where}: {self._describe_log(messages, texts, used)}")
        return document, pdf

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
            in_strings = f" in {', '.join(holders)}" if holders else ""
            problems.append(f"missing glyph: no installed font can draw {missing!r} ({codes}){in_strings}")
        return "; ".join(dict.fromkeys(problems))

    # -- fit ------------------------------------------------------------

    def _check_layout(self, html: weasyprint.HTML, document: weasyprint.Document, spec: FormatSpec, where: str, measure: bool = True) -> None:
        """Everything printed in full, cards inside their safe area, the right number of pages.

        WeasyPrint never says when text does not fit: a card's text may run past
        its safe area, or be split onto the next page, or be dropped (a box of
        fixed height "forgets" children that cross the page bottom). So: every
        character of every string must be in the layout, each card must be one
        box, and every line of a card must lie inside its safe area. When one
        fails, the same HTML is laid out on huge pages to say by how much.
        """
        content_pages = [page for page in document.pages if not _has_class(page._page_box, "review")]
        page_boxes = [page._page_box for page in content_pages]
        problems = []
        expected_cards = sum(1 for element in html.etree_element.iter() if "card" in (element.get("class") or "").split())
        cards = [card for box in page_boxes for card in _boxes_with_class(box, "card")]
        if len(cards) != expected_cards:
            problems.append(f"{len(cards) - expected_cards} card(s) broken across pages")
        # The stylesheet must keep the bleed and the safe margin that the checks below rely on.
        box_problems = [p for card in cards[:2] for p in _card_box_problems(card)] if len(cards) == expected_cards else []
        if any(_card_fit(card).overflow_mm > OVERFLOW_TOLERANCE_MM for card in cards):
            problems.append("a card's text leaves its safe area")
        printed, sizes = _laid_out_strings(page_boxes)
        for string_id, chars in _dom_chars(html.etree_element).items():
            if printed.get(string_id, Counter()) != chars:
                problems.append(f"string {string_id!r} is not printed in full (text cut off or hidden)")
        for string_id, size_pt in sizes.items():
            if size_pt < spec.min_text_pt - 0.01:
                box_problems.append(f"string {string_id!r} is set in {size_pt:.1f} pt; {spec.name} needs at least {spec.min_text_pt:g} pt")
        if spec.pages is not None and len(content_pages) != spec.pages:
            problems.append(f"content takes {len(content_pages)} pages instead of {spec.pages}")
        if problems and expected_cards and measure:
            # Say by how much and where, measured where nothing can be cut off.
            problems = self._measure_cards(html, spec) or problems
        problems = box_problems + problems
        if problems:
            raise FitError(f"{where}: " + "; ".join(dict.fromkeys(problems)))

    def _measure_cards(self, html: weasyprint.HTML, spec: FormatSpec) -> list[str]:
        """Lay the document out on unbounded pages and report each card that leaves its safe area."""
        stylesheets = [*self.stylesheets[spec.name], self._unbounded_pages]
        document = html.render(font_config=self.font_config, stylesheets=stylesheets, cache=self.image_cache)
        problems = []
        for page in document.pages:
            for card in _boxes_with_class(page._page_box, "card"):
                fit = _card_fit(card)
                if fit.overflow_mm > OVERFLOW_TOLERANCE_MM:
                    outside = ", ".join(repr(i) for i in fit.strings_outside) or "its text"
                    problems.append(
                        f"the card {fit.side} overflows its safe area ({CARD_SAFE_MM:g} mm inside the trim) "
                        f"by {fit.overflow_mm:.1f} mm; text outside it: {outside}"
                    )
        return problems


# ---------------------------------------------------------------- layout boxes


@dataclass(frozen=True, slots=True)
class _CardFit:
    side: str
    overflow_mm: float  # how far the text reaches outside the safe area (0 if inside)
    strings_outside: tuple[str, ...]  # strings with text outside it, in document order


def _children(box: object) -> list:
    children = getattr(box, "children", None) or []
    return [child._box if isinstance(child, AbsolutePlaceholder) else child for child in children]


def _classes(box: object) -> list[str]:
    element = getattr(box, "element", None)
    if element is None or "::" in (getattr(box, "element_tag", None) or ""):
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


def _card_box_problems(card: boxes.Box) -> list[str]:
    """A card box must be the card plus its bleed, padded to the safe area."""
    problems = []
    size = (card.border_width() * MM_PER_PX, card.border_height() * MM_PER_PX)
    expected = (CARD_MM[0] + 2 * CARD_BLEED_MM, CARD_MM[1] + 2 * CARD_BLEED_MM)
    if any(abs(a - b) > OVERFLOW_TOLERANCE_MM for a, b in zip(size, expected)):
        problems.append(f"a card box is {size[0]:.1f} x {size[1]:.1f} mm, not {expected[0]:.1f} x {expected[1]:.1f} mm (card and bleed)")
    padding = min(card.padding_top, card.padding_right, card.padding_bottom, card.padding_left) * MM_PER_PX
    if padding < CARD_BLEED_MM + CARD_SAFE_MM - OVERFLOW_TOLERANCE_MM:
        problems.append(f"a card's padding is {padding:.1f} mm; it must be {CARD_BLEED_MM + CARD_SAFE_MM:g} mm ({CARD_BLEED_MM:g} mm bleed and {CARD_SAFE_MM:g} mm safe margin)")
    return problems


def _string_of(box: object, inherited: str | None) -> str | None:
    """The string a box prints: its element's data-string, else its parent's. Generated content has none."""
    if "::" in (getattr(box, "element_tag", None) or ""):
        return None
    element = getattr(box, "element", None)
    if element is None:
        return inherited
    return element.get("data-string") or inherited


def _card_fit(card: boxes.Box) -> _CardFit:
    """Where the card's lines and pictures lie against its safe area (its content box)."""
    left = card.content_box_x()
    top = card.content_box_y()
    right = left + card.width
    bottom = top + card.height
    worst = 0.0
    outside: dict[str, None] = {}

    def visit(box: object, string_id: str | None) -> None:
        nonlocal worst
        if PROOF_OVERLAY_CLASS in _classes(box):
            return  # a proof's mark floats over the card; it is not the card's content
        string_id = _string_of(box, string_id)
        report = string_id
        extents = []
        if isinstance(box, boxes.LineBox):
            extents.append((top - box.position_y, box.position_y + box.height - bottom))
            report = string_id or _first_string(box)
        if isinstance(box, (boxes.TextBox, boxes.AtomicInlineLevelBox, boxes.BlockReplacedBox)):
            x = box.border_box_x()
            extents.append((left - x, x + box.border_width() - right))
        if isinstance(box, (boxes.AtomicInlineLevelBox, boxes.BlockReplacedBox)):
            y = box.border_box_y()
            extents.append((top - y, y + box.border_height() - bottom))
        amount = max((max(before, after) * MM_PER_PX for before, after in extents), default=0.0)
        if amount > OVERFLOW_TOLERANCE_MM:
            worst = max(worst, amount)
            if report:
                outside[report] = None
        for child in _children(box):
            visit(child, string_id)

    visit(card, None)
    side = "back" if "back" in _classes(card) else "front"
    return _CardFit(side, worst, tuple(outside))


def _first_string(box: object) -> str | None:
    found = _string_of(box, None)
    if found:
        return found
    for child in _children(box):
        found = _first_string(child)
        if found:
            return found
    return None


def _normalise(text: str) -> str:
    """Text as compared between the HTML and the layout: no spaces, no soft hyphens, upper case."""
    return "".join(text.split()).replace("\u00ad", "").replace("\u2010", "").upper()


def _laid_out_strings(page_boxes: Sequence[boxes.Box]) -> tuple[dict[str, Counter], dict[str, float]]:
    """The characters of each string as laid out on the given pages, and its smallest size in pt."""
    found: dict[str, Counter] = {}
    sizes: dict[str, float] = {}

    def visit(box: object, string_id: str | None) -> None:
        string_id = _string_of(box, string_id)
        if isinstance(box, boxes.TextBox) and string_id:
            found.setdefault(string_id, Counter()).update(_normalise(box.text))
            size_pt = box.style["font_size"] * 0.75  # CSS px to pt
            sizes[string_id] = min(size_pt, sizes.get(string_id, size_pt))
        for child in _children(box):
            visit(child, string_id)

    for page_box in page_boxes:
        visit(page_box, None)
    return found, sizes


def _dom_chars(root: object) -> dict[str, Counter]:
    """The characters of each string, as written in the HTML."""
    found: dict[str, Counter] = {}
    for element in root.iter():
        string_id = element.get("data-string")
        if string_id:
            found.setdefault(string_id, Counter()).update(_normalise("".join(element.itertext())))
    return found
