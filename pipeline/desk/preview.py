"""Live print previews for the review desk: the proof page(s) a string prints on, as PNG.

One warm renderer lives in the server process and draws one document at a
time (WeasyPrint is not thread-safe); results are cached by their inputs, so
typing back to an earlier text, or a second look, costs nothing. The proof is
drawn with the string's box outlined in a colour no document prints
(`PREVIEW_OUTLINE_RGB`, see templates/base.css), which is also how the pages
that carry the string are found. PDF pages become PNG through PyMuPDF, in
memory: nothing is written to output/.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass

import pymupdf

from pipeline.desk import actions

PREVIEW_OUTLINE_RGB = (0xE6 / 255, 0x00 / 255, 0x7E / 255)  # .proof-highlight in templates/base.css
PREVIEW_WIDTH_PX = 760  # pages are drawn this wide (a card at about 210 dpi, a flyer at about 90)
CACHE_SIZE = 48


@dataclass(frozen=True, slots=True)
class PreviewPage:
    number: int  # 1-based page number in the document
    png: bytes
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class Preview:
    key: str
    pages: tuple[PreviewPage, ...]  # the pages that print the string (the first page if none is found)
    outlined: bool  # whether the string's box was found on a page
    fit_problems: tuple[str, ...]
    errors: tuple[str, ...]  # the document could not be drawn at all


def preview_key(*parts: str) -> str:
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode("utf-8")).hexdigest()[:32]


class PreviewService:
    """One warm renderer and a small cache of drawn previews."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._renderer = None
        self._renderer_source = None
        self._cache: OrderedDict[str, Preview] = OrderedDict()

    def preview(self, source, language: str, edition_id: str, format_name: str, string_id: str, text: str, stamp: str) -> Preview:
        """The document with `text` in place of the string; `stamp` changes whenever saved texts do."""
        key = preview_key(stamp, language, edition_id, format_name, string_id, text)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
            renderer = self._renderer_for(source)
            try:
                document = actions.render_preview(renderer, source, language, edition_id, format_name, string_id, text)
            except actions.ActionError as exc:
                result = Preview(key, (), False, (), tuple(exc.messages))
            else:
                pages, outlined = rasterise(document.pdf)
                result = Preview(key, pages, outlined, document.fit_problems, ())
            self._cache[key] = result
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
            return result

    def warm(self, source) -> None:
        """Build the renderer now (fonts, stylesheets), so the first preview does not wait for it."""
        with self._lock:
            self._renderer_for(source)

    def page(self, key: str, number: int) -> PreviewPage | None:
        with self._lock:
            cached = self._cache.get(key)
        if cached is None:
            return None
        return next((p for p in cached.pages if p.number == number), None)

    def _renderer_for(self, source):
        if self._renderer is None or self._renderer_source is not source:
            self._renderer = actions.new_renderer(source)
            self._renderer_source = source
            self._cache.clear()
        return self._renderer


def rasterise(pdf: bytes) -> tuple[tuple[PreviewPage, ...], bool]:
    """PNGs of the pages that carry the outlined string; the first page when none does."""
    with pymupdf.open(stream=pdf, filetype="pdf") as document:
        marked = [number for number, page in enumerate(document) if _has_outline(page)]
        chosen = marked or [0]
        pages = []
        for number in chosen:
            page = document[number]
            zoom = PREVIEW_WIDTH_PX / page.rect.width
            pixmap = page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), alpha=False)
            pages.append(PreviewPage(number + 1, pixmap.tobytes("png"), pixmap.width, pixmap.height))
    return tuple(pages), bool(marked)


def _has_outline(page) -> bool:
    for drawing in page.get_drawings():
        for colour in (drawing.get("fill"), drawing.get("color")):
            if colour and len(colour) == 3 and all(abs(a - b) < 0.01 for a, b in zip(colour, PREVIEW_OUTLINE_RGB)):
                return True
    return False
