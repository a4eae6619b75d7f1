"""HTML for one print job: Jinja2 templates laid over a document plan, texts filled and escaped.

Templates (templates/*.html.j2) read the plan (`plan.front`, `plan.back`, their
sections, lines and QR code) and ask for text with `t(string_id)`; only the
plan's own strings can be asked for, and each comes out escaped, its
placeholders filled with the numbers the plan gives, as one element marked
`data-string="id"`. Translated text is untrusted: it is HTML-escaped, and only
the numbers filled in for placeholders (and phone numbers already written in
it) get markup, each in `<bdi dir="ltr">` so that right-to-left text never
reverses them. A number on the registry's do-not-print list is refused even
when a translator wrote it into a text.

Every text is set with its language's quotes and apostrophes
(`pipeline.typography.typeset`) before it is escaped; `{date}` is the registry's
compile date written the edition's way (Babel); in Arabic-script languages each
run of Latin words is tagged with its language. The QR code's alternative text
is the plan's `qr_alt` string.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import segno
from markupsafe import Markup, escape

from pipeline.document import CROP_MARK_MM, PrintJob
from pipeline.errors import RenderError
from pipeline.hotlines import PLACEHOLDER_CATEGORIES
from pipeline.spans import PHONE_RE, PLACEHOLDER_RE, digits_of
from pipeline.typography import WORD_JOINER, format_local_date, tag_foreign_words, typeset

QR_QUIET_ZONE = 4  # modules of white around a QR code
IN_ENGLISH_CLASS = "in-english"  # a proof's string with no translation yet, printed in English (base.css outlines it)
HIGHLIGHT_CLASS = "proof-highlight"  # a proof's string outlined for the review desk (base.css)
STRING_TAGS = frozenset({"span", "p", "li", "h1", "h2", "h3", "div"})
_INDENTATION_RE = re.compile(r"\n[ \t]+")
FOREIGN_WORDS_LANGUAGE = "en"  # the language Latin words in Arabic-script text are tagged with
SOURCE_LANGUAGE = "en"  # the fact blocks' language: what a proof prints where a translation is missing
FOREIGN_WORDS_SCRIPTS = frozenset({"Arab"})  # scripts whose Latin words are tagged


@dataclass(frozen=True, slots=True)
class ComposedHtml:
    html: str
    used: frozenset[str]  # the string ids the template printed


class _Texts:
    """The `t()` of one composition: the job's strings, filled and escaped; every call recorded."""

    def __init__(self, job: PrintJob, highlight: str = ""):
        self.job = job
        self.highlight = highlight
        self.plan = job.plan
        self.allowed = set(job.plan.string_ids)
        self.used: set[str] = set()

    def fail(self, problem: str) -> RenderError:
        return RenderError(f"{self.plan.where}: {problem}")

    def text(self, string_id: str) -> str:
        if string_id not in self.allowed:
            raise self.fail(f"template asks for string {string_id!r}, which this edition does not print")
        text = self.job.texts.get(string_id)
        if text is None or not text.strip():
            raise self.fail(f"no text for string {string_id!r} in {self.plan.language}")
        return typeset(text, SOURCE_LANGUAGE if self._in_english(string_id) else self.plan.language)

    def _in_english(self, string_id: str) -> bool:
        """A proof's string with no translation yet: its text is the English."""
        return self.job.proof and string_id in self.job.in_english

    def __call__(self, string_id: str, css_class: str = "", tag: str = "span") -> Markup:
        """The string as `<tag class="s css_class" data-string="id">`, filled and escaped.

        Every printed string is one element marked with its id: the renderer
        checks the layout against these (all text laid out, cards in bounds).
        """
        if tag not in STRING_TAGS:
            raise self.fail(f"template asks for string {string_id!r} as <{tag}>; use one of {', '.join(sorted(STRING_TAGS))}")
        text = self.text(string_id)
        self.used.add(string_id)
        body = self.fill(text, string_id)
        in_english = self._in_english(string_id)
        if self.plan.script in FOREIGN_WORDS_SCRIPTS and not in_english:
            body = Markup(tag_foreign_words(str(body), FOREIGN_WORDS_LANGUAGE))
        classes = f"s {css_class}".strip()
        if string_id == self.highlight:
            classes += f" {HIGHLIGHT_CLASS}"
        # English in a document of another language says so: its language for the tags and screen
        # readers, and its direction, so that a full stop does not jump to the left in Arabic.
        language = Markup(f' lang="{SOURCE_LANGUAGE}" dir="ltr"') if in_english else Markup("")
        if in_english:
            classes += f" {IN_ENGLISH_CLASS}"
        return Markup('<{0} class="{1}" data-string="{2}"{4}>{3}</{0}>').format(Markup(tag), classes, string_id, body, language)

    def plain(self, string_id: str) -> str:
        """The text with placeholders filled, for metadata such as the PDF title: without the word joiners
        typesetting puts in to keep a line's last characters together (they mean nothing off the page)."""
        return str(self.fill(self.text(string_id), string_id).striptags()).replace(WORD_JOINER, "")

    def alt(self, string_id: str) -> str:
        """A string printed as alternative text (read aloud, not drawn): plain, and counted as printed."""
        text = self.plain(string_id)
        self.used.add(string_id)
        return text

    def fill(self, text: str, string_id: str) -> Markup:
        """Escape a text and fill its placeholders; numbers come out as `<bdi dir="ltr">`."""
        pieces: list[Markup] = []
        position = 0
        for match in PLACEHOLDER_RE.finditer(text):
            pieces.append(self._escape_plain(text[position:match.start()], string_id))
            position = match.end()
            name = match.group(1)
            if name == "date":  # the registry's compile date, written the edition's way
                written = format_local_date(dt.date.fromisoformat(self.plan.registry_compiled), self.plan.language, self.plan.region)
                pieces.append(Markup("<bdi>{}</bdi>").format(written))
                continue
            category = PLACEHOLDER_CATEGORIES.get(name)
            if category is None:
                raise self.fail(f"string {string_id!r} has unknown placeholder {{{name}}}")
            number = self.plan.fill(name)
            if number is None:
                raise self.fail(f"string {string_id!r} needs {{{name}}}, but {self.plan.region} has no printable {category} line")
            pieces.append(number_markup(number))
        pieces.append(self._escape_plain(text[position:], string_id))
        return Markup("").join(pieces)

    def _escape_plain(self, text: str, string_id: str) -> Markup:
        """Escape text, isolating any phone number written in it; refuse do-not-print numbers."""
        pieces: list[Markup] = []
        position = 0
        for match in PHONE_RE.finditer(text):
            digits = digits_of(match.group(0))
            if len(digits) < 7:
                continue
            if any(forbidden in digits for forbidden in self.plan.forbidden_digits):
                raise self.fail(f"string {string_id!r} contains {match.group(0).strip()!r}, a number on the do-not-print list")
            pieces.append(escape(text[position:match.start()]))
            pieces.append(number_markup(match.group(0)))
            position = match.end()
        pieces.append(escape(text[position:]))
        return Markup("").join(pieces)


@functools.lru_cache(maxsize=64)
def qr_svg(url: str, title: str) -> Markup:
    """A QR code as inline SVG: error correction Q, a quiet zone of 4 modules."""
    code = segno.make(url, error="q", micro=False, boost_error=False)
    # svg_inline escapes the title; the title is the figure's alternative text in the tagged PDF.
    return Markup(code.svg_inline(border=QR_QUIET_ZONE, dark="#000000", light="#ffffff", omitsize=True, title=title))


def number_markup(number: str) -> Markup:
    return Markup('<bdi dir="ltr" class="tel">{}</bdi>').format(number)


class Composer:
    """One Jinja2 environment over a templates folder; composes any number of jobs."""

    def __init__(self, templates: Path, resolve: Callable[[Path], Path] | None = None):
        """`resolve` maps a template's path to the file to read, refusing one outside the folder."""
        self.templates = templates
        self._resolve = resolve or (lambda path: path)
        self.env = jinja2.Environment(
            loader=jinja2.FunctionLoader(self._load_template),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def _load_template(self, name: str) -> tuple[str, str, Callable[[], bool]]:
        """Jinja's loader: a template file whose real path (symlinks resolved) is allowed by `resolve`."""
        path = self._resolve(self.templates / name)
        return path.read_text(encoding="utf-8"), str(path), lambda: True

    def compose(
        self, job: PrintJob, compact: bool = False, fit_problems: Sequence[str] = (), highlight: str = "", every_card: bool = False,
    ) -> ComposedHtml:
        """The HTML of a job; RenderError when a template asks for the wrong string or leaves one out.

        `highlight` (proofs only) outlines one string's box, for the review desk's preview. A sheet
        holds one card per side (the renderer repeats it at the sheet's other places), or with
        `every_card` all of them (the whole sheet as HTML alone would need it).
        """
        plan = job.plan
        spec = plan.format
        if highlight and not job.proof:
            raise RenderError(f"{plan.where}: only a proof can outline a string")
        t = _Texts(job, highlight)
        context: dict[str, Any] = {
            "t": t,
            "plan": plan,
            "front": plan.front,
            "back": plan.back,
            "edition": plan.edition_id,
            "lang": plan.language,
            "dir": plan.direction,
            "title": t.plain(plan.title) if plan.title else plan.edition_id,
            "fmt": spec,
            "hotlines": plan.hotlines,
            "proof": job.proof,
            "unapproved": list(job.unapproved),  # (id, state, text, check errors)
            "sheet": plan.sheet,
            "cards": len(plan.sheet.fronts) if plan.sheet and every_card else 1,
            "crop_mark_mm": CROP_MARK_MM,
            "qr_url": plan.qr,
            "qr": qr_svg(plan.qr, t.alt(plan.back.qr_alt) if plan.back.qr_alt else plan.qr) if plan.qr else None,
            "fit_problems": list(fit_problems),
            "document_errors": list(job.document_errors),  # check errors not tied to one string (proofs)
            "in_english": list(job.in_english),
            "compact": compact,
        }
        try:
            html_text = self.env.get_template(spec.template).render(context)
        except jinja2.TemplateError as exc:
            raise RenderError(f"{plan.where}: template {spec.template}: {exc}") from None
        missing = [i for i in plan.string_ids if i not in t.used]
        if missing:
            raise RenderError(f"{plan.where}: template {spec.template} did not print {', '.join(missing)}")
        # Indentation means nothing in HTML (no element keeps white space) but costs parsing time.
        return ComposedHtml(_INDENTATION_RE.sub("\n", html_text), frozenset(t.used))


@functools.lru_cache(maxsize=4)
def _composer(templates: Path) -> Composer:
    return Composer(templates)


def compose_html(job: PrintJob, templates: Path, compact: bool = False, every_card: bool = False) -> str:
    """The HTML the renderer lays out for a job (templates: the project's templates folder); with
    `every_card`, a sheet with all its cards in the HTML rather than one per side."""
    return _composer(templates).compose(job, compact, every_card=every_card).html
