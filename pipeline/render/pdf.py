"""Print jobs to PDF through WeasyPrint: fetching, logs, stylesheets, layout, fit, the PDF bytes.

One `Renderer` per run (or per worker process) holds one WeasyPrint font
configuration, the parsed stylesheets of every format, an image cache and one
template environment, and renders any number of jobs with them:

    renderer = Renderer(source)
    document = renderer.render_job(job)      # job: pipeline.document.PrintJob

A document is only returned when nothing went wrong; everything WeasyPrint
merely logs or silently does is turned into a `RenderError` naming the edition,
the format and what is wrong: a glyph no installed font can draw (WeasyPrint
logs ".notdef glyph" and draws tofu), any other warning or error it logs (bad
CSS, an image it could not load), a resource outside templates/ (only files
under that folder are ever read), and whatever `fit.check_layout` finds.
Once a document fits, its lists are spread over each page's or card face's
empty foot (`fill.spread_document` moves the laid-out boxes: no second
layout; a spread that would push a line past a foot is dropped). Finals and proofs
are written as PDF/UA-1 (tagged, with the document language), then made PDF/X-4
for the press (`prepress.prepare_for_press`); the same job gives the same bytes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import mimetypes
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import weasyprint
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse, path2url

from pipeline.content import Edition, Source
from pipeline.document import FORMATS, FormatSpec, PrintJob, ProofRow, make_job, plan_document
from pipeline.errors import FitError, RenderError
from pipeline.render.compose import Composer
from pipeline.render.fill import SpreadError, spread_document
from pipeline.render.fit import check_layout
from pipeline.render.prepress import prepare_for_press
from pipeline.render.sheet import SheetError, repeat_cards

LOGGER = logging.getLogger(__name__)
PDF_VARIANT = "pdf/ua-1"
_NOTDEF_RE = re.compile(r'\.notdef glyph rendered for Unicode string unsupported by fonts: "(.*)"', re.S)


@dataclass(frozen=True, slots=True)
class RenderedDocument:
    edition_id: str
    format_name: str
    proof: bool
    pdf: bytes
    page_count: int
    fit_problems: tuple[str, ...] = ()  # a proof laid out although its text does not fit


# ---------------------------------------------------------------- fetching


class TemplateFetcher(URLFetcher):  # type: ignore[misc]  # WeasyPrint ships no type hints
    """Serves files under the templates folder and refuses every other URL.

    Refusals raise `RenderError`; WeasyPrint stops the render (fail_on_errors)
    and `Renderer.render_job` reports the URL with the edition and format.
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

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
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


def describe_log(messages: list[str], texts: dict[str, str], used: frozenset[str]) -> str:
    """WeasyPrint's log as problems; a missing glyph names its characters and the strings holding them."""
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


# ---------------------------------------------------------------- renderer


class Renderer:
    """Renders print jobs to PDF; build one per run (or worker) and reuse it."""

    def __init__(self, source: Source):
        self.source = source
        self.templates = source.project.templates
        if not self.templates.is_dir():
            raise RenderError(f"no templates folder at {self.templates}")
        self.base_url = path2url(self.templates)
        self.fetcher = TemplateFetcher(self.templates)
        self.composer = Composer(self.templates, lambda path: self.fetcher.local_path(path2url(path)))
        self.font_config = FontConfiguration()
        self.image_cache: dict[str, Any] = {}
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
        self._card_verdicts: dict[str, bool] = {}
        self._unbounded_pages = weasyprint.CSS(string="@page { size: 5000mm 5000mm; bleed: 0; marks: none; }")

    def _parse_css(self, name: str) -> weasyprint.CSS:
        path = self.fetcher.local_path(path2url(self.templates / name))  # refused outside templates/
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise RenderError(f"cannot read stylesheet {path}: {exc.strerror}") from None
        return weasyprint.CSS(string=text, base_url=path2url(path), url_fetcher=self.fetcher, font_config=self.font_config)

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
        """Plan and render one edition in one format (a convenience over `render_job`)."""
        rows: tuple[ProofRow, ...] = tuple((r[0], r[1], r[2], r[3] if len(r) > 3 else "") for r in unapproved)
        job = make_job(plan_document(self.source, edition, format_name), texts, proof, unapproved=rows, document_errors=tuple(document_errors))
        return self.render_job(job, highlight)

    def render_job(self, job: PrintJob, highlight: str = "") -> RenderedDocument:
        """Render one job; RenderError if anything would print wrong.

        `highlight` outlines one string (see Composer.compose): such a proof is the review
        desk's screen preview, so it is left in RGB instead of being converted for the press.
        """
        plan = job.plan
        spec = plan.format
        where = plan.where
        if not job.proof:
            pending = sorted({row[0] for row in job.unapproved} & set(plan.string_ids))
            if pending:
                raise RenderError(f"{where}: a final document cannot print unapproved strings: {', '.join(pending)}")
        # Cards have a fixed size: when the text does not fit, try once more with the compact
        # style (tighter lines and spacing, never under the format's minimum text size). A sheet
        # lays out one card per side and repeats it (sheet.repeat_cards), so it is tried the same
        # way, unless the card of the same edition and texts already found its style.
        misfit: FitError | None = None
        fit_problems: tuple[str, ...] = ()
        printed = dt.date.fromisoformat(plan.registry_compiled)  # the PDF's creation date
        styles: tuple[bool, ...] = (False,)
        if spec.kind in ("card", "sheet"):
            verdict = self._card_verdicts.get(self._card_key(job))
            styles = (False, True) if verdict is None else (not verdict,)
        for compact in styles:
            composed = self.composer.compose(job, compact=compact, highlight=highlight)
            try:
                last = compact == styles[-1]
                document = self._lay_out(composed.html, spec, where, job.texts, composed.used, check=True, diagnose=last)
                document = self._fill_pages(composed.html, spec, where, job.texts, composed.used, document)
                self._repeat_cards(document, job)
                pdf = self._write_pdf(document, spec, printed, where, job.texts, composed.used, press=not highlight)
                if spec.kind in ("card", "sheet"):  # the card and the sheet of the same edition and texts take the same style
                    self._card_verdicts[self._card_key(job)] = not compact
                break
            except FitError as exc:
                misfit = exc
        else:
            if not job.proof or misfit is None:
                raise misfit or RenderError(f"{where}: nothing was laid out")
            # A proof still shows the reviewer what would print, with the fit problem on its review page.
            fit_problems = (str(misfit).split(": ", 1)[-1],)
            composed = self.composer.compose(job, compact=True, fit_problems=fit_problems, highlight=highlight)
            document = self._lay_out(composed.html, spec, where, job.texts, composed.used, check=False)
            self._repeat_cards(document, job)
            pdf = self._write_pdf(document, spec, printed, where, job.texts, composed.used, press=not highlight)
        LOGGER.debug("rendered %s (%d pages, %d bytes)", where, len(document.pages), len(pdf))
        return RenderedDocument(plan.edition_id, spec.name, job.proof, pdf, len(document.pages), fit_problems)

    @staticmethod
    def _card_key(job: PrintJob) -> str:
        """The card a card or sheet job prints, as a digest: a sheet prints the card of the same job."""
        return dataclasses.replace(job, plan=dataclasses.replace(job.plan, format=FORMATS["card"], sheet=None)).digest()

    def _repeat_cards(self, document: weasyprint.Document, job: PrintJob) -> None:
        """On a sheet, the card laid out on each side is repeated at the side's other places."""
        sheet = job.plan.sheet
        if sheet is None:
            return
        sides = tuple(tuple((p.x, p.y) for p in side) for side in (sheet.fronts, sheet.backs))
        try:
            repeat_cards(document, sides, self._loaded_image)
        except SheetError as exc:
            raise RenderError(f"{job.plan.where}: {exc}") from None

    def _fill_pages(
        self, html_text: str, spec: FormatSpec, where: str, texts: dict[str, str], used: frozenset[str], document: weasyprint.Document,
    ) -> weasyprint.Document:
        """Spread the lists over each page's or card face's empty foot (fill.py), in place; should the spread
        push a line past a foot (it is meant never to happen), lay the document out afresh, unspread."""
        kind = "large" if spec.kind == "flyer" and spec.pages is None else spec.kind
        try:
            spread_document(document, kind, self._loaded_image)
        except SpreadError as exc:
            LOGGER.warning("%s: %s; printed unspread", where, exc)
            return self._lay_out(html_text, spec, where, texts, used, check=True)
        return document

    def _loaded_image(self, url: str, **_: Any) -> Any:
        """An image the layout already loaded (fill.py places backgrounds again with it)."""
        return self.image_cache[url]

    def _lay_out(
        self, html_text: str, spec: FormatSpec, where: str, texts: dict[str, str], used: frozenset[str], check: bool,
        diagnose: bool = True,
    ) -> weasyprint.Document:
        """Lay out; with `check`, FitError when it does not fit (saying by how much if `diagnose`)."""
        stylesheets = self.stylesheets[spec.name]
        with _weasyprint_logs() as messages:
            try:
                html = weasyprint.HTML(string=html_text, base_url=self.base_url, url_fetcher=self.fetcher)
                document: weasyprint.Document = html.render(
                    font_config=self.font_config,
                    stylesheets=stylesheets,
                    pdf_variant=PDF_VARIANT,
                    cache=self.image_cache,
                )
                if check:
                    again = (lambda html: self._lay_out_unbounded(html, spec)) if diagnose else None
                    check_layout(html, document, spec, where, again)
            except FatalURLFetchingError as exc:
                raise RenderError(f"{where}: {exc.__cause__ or exc}") from None
        if messages:
            raise RenderError(f"{where}: {describe_log(messages, texts, used)}")
        return document

    @staticmethod
    def _write_pdf(
        document: weasyprint.Document, spec: FormatSpec, printed: dt.date, where: str, texts: dict[str, str], used: frozenset[str],
        press: bool = True,
    ) -> bytes:
        """The PDF/UA-1 bytes WeasyPrint writes, made PDF/X-4 for the press (unless `press` is False:
        a screen preview keeps its RGB); RenderError if WeasyPrint logs anything."""
        with _weasyprint_logs() as messages:
            pdf: bytes = document.write_pdf(pdf_variant=PDF_VARIANT)
        if messages:
            raise RenderError(f"{where}: {describe_log(messages, texts, used)}")
        return prepare_for_press(pdf, spec.bleed_mm, printed) if press else pdf

    def _lay_out_unbounded(self, html: weasyprint.HTML, spec: FormatSpec) -> weasyprint.Document:
        stylesheets = [*self.stylesheets[spec.name], self._unbounded_pages]
        return html.render(font_config=self.font_config, stylesheets=stylesheets, cache=self.image_cache)
