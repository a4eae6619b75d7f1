"""Print-shop output: turn the renderer's PDF into a PDF/X-4 file a press can take, keeping its tags.

`prepare_for_press(pdf, bleed_mm, date)` is a pure function, bytes in, bytes out:

- every DeviceRGB colour set in a content stream (`rg`/`RG`) becomes DeviceCMYK
  (`k`/`K`): greys and black become pure K (so small black type prints in one
  ink), the palette's colours take their print values (PALETTE), any other
  colour a plain conversion;
- the page-level transparency group WeasyPrint adds is removed when nothing on
  the page is transparent (no soft mask, no alpha under 1);
- each embedded font subset gets its own six-letter tag, derived from a hash of
  the subset's bytes (WeasyPrint names every subset of a family alike, which
  breaks tools that merge files), so the same input gives the same bytes;
- Latin words marked in right-to-left text get their language (/Lang) in the tags;
- an output intent (GTS_PDFX) with a CMYK output profile from a Debian
  package (PROFILE_PATH), TrimBox/BleedBox on every page, fixed creation and
  modification dates, and PDF/X-4 identification in the XMP metadata next to
  the PDF/UA identification, language and title, which are kept.

PDF/UA-1 and PDF/X-4 identification can be combined (they use different XMP
schemas); no validator is installable offline, so the tests check what can be
read back (output intent, colour operators, subset tags, tags, byte identity).

It runs once for every final, so it is kept cheap next to the layout. A content
stream is not parsed and written again whole: a scan that follows the PDF lexer
(literal strings skipped with their nesting and escapes) stops only at
`rg`/`RG` and replaces those instructions, keeping every other byte; a stream it
cannot be sure of (a comment, an inline image, a malformed hex string, an `rg`
that is not three numbers after another operator) goes through qpdf's parser
instead. The file's objects are looked at in one pass; the output profile is
compressed once per process, so saving copies every stream that already is.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import io
import re
import string
import zlib
from typing import Any

import pikepdf

from pipeline.document import OUTPUT_CONDITION, PROFILE_NAME, PROFILE_PATH

MM = 72 / 25.4

# sRGB hex -> CMYK (0-1) print values of the palette used by templates/*.css.
PALETTE: dict[str, tuple[float, float, float, float]] = {
    "b3001b": (0.0, 1.0, 0.85, 0.30),  # red
    "c8001e": (0.0, 1.0, 0.85, 0.20),  # proof red
    "0d2c54": (1.0, 0.75, 0.0, 0.60),  # navy
    "ffd23f": (0.0, 0.15, 0.85, 0.0),  # yellow
}
_SUBSET_RE = re.compile(r"^[A-Z]{6}\+")
FOREIGN_LANG = "en"  # the language of Latin words marked in right-to-left text (pipeline.typography.tag_foreign_words)


def _cmyk(r: float, g: float, b: float) -> tuple[float, float, float, float]:
    key = "".join(f"{round(v * 255):02x}" for v in (r, g, b))
    if key in PALETTE:
        return PALETTE[key]
    if abs(r - g) < 0.02 and abs(g - b) < 0.02:
        return (0.0, 0.0, 0.0, round(1.0 - (r + g + b) / 3, 4))  # grey: K only
    k = 1.0 - max(r, g, b)
    if k >= 1.0:
        return (0.0, 0.0, 0.0, 1.0)
    return tuple(round((1.0 - v - k) / (1.0 - k), 4) for v in (r, g, b)) + (round(k, 4),)  # type: ignore[return-value]


@functools.lru_cache(maxsize=1)
def _profile() -> bytes:
    """The output profile, Flate-compressed once per process (as qpdf would on every save, same bytes)."""
    return zlib.compress(PROFILE_PATH.read_bytes())


# The PDF lexer's character classes (ISO 32000-1, 7.2.2): white space and delimiters.
_WHITE = b"\x00\t\n\x0c\r "
_DELIMITERS = b"()<>[]{}/%"
_BOUNDARY_BYTES = frozenset(_WHITE + _DELIMITERS)
_WHITE_BYTES = frozenset(_WHITE)
_BOUNDARY = re.escape(_WHITE + _DELIMITERS)  # for character classes
_SPACE = re.escape(_WHITE)
_HEX = b"0-9A-Fa-f" + _SPACE
# What a scan of a content stream stops at, leftmost first: a literal string's `(` (skipped by
# `_string_end`), the operators `rg` and `RG`, and what sends the stream to the full parser instead:
# a comment, an inline image (`BI`, binary data follows) or a malformed hex string (a run of `<` of odd
# length opens one; a well-formed one holds only hex digits and white space, so neither `rg` nor `(`).
# Everything else (numbers, names, other operators, arrays, dictionaries) is passed over inside the
# regular expression engine. Each alternative starts with its own byte (lookbehinds come after it), so
# the engine skips ahead to those six bytes; the byte tells which alternative matched.
_SCAN = re.compile(
    rb"\(|%"
    rb"|<(?<!<<)(?:<<)*+(?!<)[" + _HEX + rb"]*+[^>" + _HEX + rb"]"
    rb"|B(?<![^" + _BOUNDARY + rb"]B)I(?![^" + _BOUNDARY + rb"])"
    rb"|r(?<![^" + _BOUNDARY + rb"]r)g(?![^" + _BOUNDARY + rb"])"
    rb"|R(?<![^" + _BOUNDARY + rb"]R)G(?![^" + _BOUNDARY + rb"])"
)
_STRING_STEP = re.compile(rb"[()\\]")
_NUMBER = rb"[+-]?(?:\d+\.?\d*|\.\d+)"
# The three operands before an `rg`/`RG`, matched on the bytes before the operator read backwards
# (a number read backwards: _REVERSED_NUMBER): white space, three numbers with white space between,
# and the stream's start, white space or a delimiter before the first. Only _OPERANDS_REACH bytes
# are read back; operands written longer than that go to the full parser.
_REVERSED_NUMBER = rb"(?:\d*\.?\d+|\d+\.)[+-]?"
_REVERSED_OPERANDS = re.compile(
    rb"[" + _SPACE + rb"]+(" + _REVERSED_NUMBER + rb")[" + _SPACE + rb"]+(" + _REVERSED_NUMBER + rb")[" + _SPACE + rb"]+("
    + _REVERSED_NUMBER + rb")(?![^" + _BOUNDARY + rb"])"
)
_OPERANDS_REACH = 96
_IS_NUMBER = re.compile(_NUMBER)
_NOT_OPERATORS = frozenset((b"true", b"false", b"null"))


def _string_end(data: bytes, start: int) -> int | None:
    """The index after the literal string opening at `start` (nested parentheses, backslash escapes), None if unclosed."""
    depth, pos = 0, start
    while (step := _STRING_STEP.search(data, pos)) is not None:
        char, pos = step.group(), step.end()
        if char == b"\\":
            pos += 1  # the escaped byte, whatever it is
        elif char == b"(":
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                return pos
    return None


def _token_before(data: bytes, end: int) -> tuple[int, bytes] | None:
    """The regular token (a number or an operator) before `end` and the white space before it, as
    (start, token); (0, b"") when only white space comes before; None for anything else (a
    delimiter, so a string, array or dictionary, or a name)."""
    pos = end
    while pos > 0 and data[pos - 1] in _WHITE_BYTES:
        pos -= 1
    stop = pos
    while pos > 0 and data[pos - 1] not in _BOUNDARY_BYTES:
        pos -= 1
    if pos == stop and pos > 0:
        return None
    if pos > 0 and data[pos - 1] == 0x2F:  # a name: an operand, never a colour
        return None
    return pos, data[pos:stop]


@functools.lru_cache(maxsize=256)
def _cmyk_operator(operator: bytes, r: bytes, g: bytes, b: bytes) -> bytes:
    """`r g b rg` as `c m y k k` (`RG` as `K`), written as pikepdf writes an instruction."""
    instructions: list[Any] = [(list(_cmyk(float(r), float(g), float(b))), pikepdf.Operator("k" if operator == b"rg" else "K"))]
    written: bytes = pikepdf.unparse_content_stream(instructions)
    return written


def _recolour_bytes(data: bytes) -> bytes | None:
    """The content stream with each `r g b rg`/`RG` operator (three numbers after another operator) made
    CMYK and every other byte kept; None where this scan cannot be sure (the full parser decides)."""
    pieces: list[bytes] = []
    done = pos = 0
    while (found := _SCAN.search(data, pos)) is not None:
        first = data[found.start()]
        if first == 0x28:  # (
            end = _string_end(data, found.start())
            if end is None:
                return None
            pos = end
            continue
        if first not in b"rR":
            return None
        reach = max(0, found.start() - _OPERANDS_REACH)
        behind = data[reach : found.start()][::-1]
        operands = _REVERSED_OPERANDS.match(behind)
        if operands is None or (operands.end() == len(behind) and reach > 0):
            return None  # not three numbers, or the first may go on before what was read
        start = found.start() - operands.end()
        before = _token_before(data, start)
        if before is None or (before[1] and (_IS_NUMBER.fullmatch(before[1]) or before[1] in _NOT_OPERATORS)):
            return None  # a fourth operand (or a name, string, array...): not three numbers after an operator
        b, g, r = (operand[::-1] for operand in operands.groups())
        pieces += [data[done:start], _cmyk_operator(found.group(), r, g, b)]
        done = pos = found.end()
    if not pieces:
        return data
    pieces.append(data[done:])
    return b"".join(pieces)


def _recolour(stream: pikepdf.Object) -> None:
    """A content stream's DeviceRGB colours as DeviceCMYK, the stream left as it is when it has none."""
    data = stream.read_bytes()
    if b"rg" not in data and b"RG" not in data:
        return
    recoloured = _recolour_bytes(data)
    if recoloured is None:
        _recolour_parsed(stream)
    elif recoloured is not data:
        stream.write(recoloured)


def _recolour_parsed(stream: pikepdf.Object) -> None:
    """The content stream through qpdf's parser, every instruction written again (the slow, general way)."""
    instructions = pikepdf.parse_content_stream(stream)
    changed = False
    out: list[Any] = []
    for instruction in instructions:
        operands, operator = instruction.operands, instruction.operator
        name = str(operator)
        if name in ("rg", "RG") and len(operands) == 3:
            c, m, y, k = _cmyk(*(float(v) for v in operands))
            out.append(([c, m, y, k], pikepdf.Operator("k" if name == "rg" else "K")))
            changed = True
        else:
            out.append((operands, operator))
    if changed:
        stream.write(pikepdf.unparse_content_stream(out))


def _forms(resources: pikepdf.Object | None, seen: set[tuple[int, int]]) -> list[pikepdf.Object]:
    found: list[pikepdf.Object] = []
    xobjects = resources.get("/XObject") if resources is not None else None
    if xobjects is None:
        return found
    for xobject in xobjects.values():
        if xobject.get("/Subtype") == "/Form" and xobject.objgen not in seen:
            seen.add(xobject.objgen)
            found.append(xobject)
            found.extend(_forms(xobject.get("/Resources"), seen))
    return found


def _subset_tag(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    letters = string.ascii_uppercase
    return "".join(letters[b % 26] for b in digest[:6])


@dataclasses.dataclass(frozen=True)
class _Survey:
    """What prepress changes outside the content streams, found in one pass over the file's objects."""

    transparent: bool  # something has a soft mask or an alpha under 1: the pages keep their group
    descriptors: list[pikepdf.Object]  # font descriptors
    fonts: list[pikepdf.Object]
    foreign_words: list[pikepdf.Object]  # /Art structure elements (typography.tag_foreign_words)


def _survey(pdf: pikepdf.Pdf) -> _Survey:
    """One pass over the objects, with as few look-ups per object as can be (each goes through pikepdf).

    Most of a tagged file's objects are structure elements; each is asked only for its /S. Nothing
    with an /S (structure elements, actions, output intents, groups, soft mask dictionaries) is a
    font or has a soft mask or alpha of its own (/SMask, /CA, /ca belong to graphics states,
    XObjects and annotations, none of which has an /S).
    """
    transparent = False
    descriptors: list[pikepdf.Object] = []
    fonts: list[pikepdf.Object] = []
    foreign_words: list[pikepdf.Object] = []
    for obj in pdf.objects:
        if not isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream)):
            continue
        role = obj.get("/S")
        if role is not None:
            if role == "/Art" and obj.get("/Type") == "/StructElem":
                foreign_words.append(obj)
            continue
        kind = obj.get("/Type")
        if kind == "/FontDescriptor":
            descriptors.append(obj)
        elif kind == "/Font":
            fonts.append(obj)
        if not transparent:
            if "/SMask" in obj and obj.get("/SMask") != pikepdf.Name("/None"):
                transparent = True
            for key in ("/CA", "/ca"):
                if key in obj and float(obj[key]) < 1.0:
                    transparent = True
    return _Survey(transparent, descriptors, fonts, foreign_words)


def _tag_foreign_words(elements: list[pikepdf.Object]) -> None:
    """Each /Art structure element (a marked foreign word, see typography.py) becomes a /Span with /Lang."""
    for obj in elements:
        obj.S = pikepdf.Name.Span
        obj.Lang = pikepdf.String(FOREIGN_LANG)


def _retag_fonts(descriptors: list[pikepdf.Object], fonts: list[pikepdf.Object]) -> None:
    for obj in descriptors:
        name = str(obj.get("/FontName", ""))[1:]
        if not _SUBSET_RE.match(name):
            continue
        font_file = obj.get("/FontFile2") or obj.get("/FontFile3") or obj.get("/FontFile")
        if font_file is None:
            continue
        new_name = _subset_tag(font_file.read_raw_bytes()) + name[6:]
        obj.FontName = pikepdf.Name("/" + new_name)
    # Fonts name their descriptor's FontName as BaseFont.
    for obj in fonts:
        descriptor = obj.get("/FontDescriptor")
        if descriptor is None and "/DescendantFonts" in obj:
            descriptor = obj.DescendantFonts[0].get("/FontDescriptor")
            if descriptor is not None and obj.get("/Subtype") == "/Type0":
                obj.BaseFont = descriptor.FontName
                continue
        if descriptor is not None:
            obj.BaseFont = descriptor.FontName


def _pdf_date(date: dt.date) -> str:
    return f"D:{date:%Y%m%d}000000Z"


_PDFXID = "http://www.npes.org/pdfx/ns/id/"
_XMP = "http://ns.adobe.com/xap/1.0/"
_PDF = "http://ns.adobe.com/pdf/1.3/"
# The XMP properties prepress sets (namespace, name).
_XMP_SET = ((_PDFXID, "GTS_PDFXVersion"), (_XMP, "CreateDate"), (_XMP, "ModifyDate"), (_XMP, "MetadataDate"), (_PDF, "Trapped"))


def _xmp_values(date: dt.date) -> tuple[str, ...]:
    iso = f"{date:%Y-%m-%d}T00:00:00Z"
    return ("PDF/X-4", iso, iso, iso, "False")


def _stamp_xmp(pdf: pikepdf.Pdf, date: dt.date) -> None:
    """PDF/X-4 identification, dates and trapping in the XMP, everything there kept."""
    values = _xmp_values(date)
    with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as meta:
        meta.register_xml_namespace(_PDFXID, "pdfxid")
        for (uri, name), value in zip(_XMP_SET, values):
            meta[f"{{{uri}}}{name}"] = value
        if "pdf:PDFVersion" in meta:  # what save's fix_metadata_version does, without opening the XMP again
            meta["pdf:PDFVersion"] = pdf.pdf_version


def prepare_for_press(pdf_bytes: bytes, bleed_mm: float, date: dt.date) -> bytes:
    """The PDF as PDF/X-4 (CMYK, output intent, unique subset tags), same bytes for the same input."""
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        survey = _survey(pdf)
        seen: set[tuple[int, int]] = set()
        for page in pdf.pages:
            for contents in ([page.obj.Contents] if isinstance(page.obj.Contents, pikepdf.Stream) else list(page.obj.Contents)):
                _recolour(contents)
            for form in _forms(page.obj.get("/Resources"), seen):
                _recolour(form)
            if not survey.transparent and "/Group" in page.obj:
                del page.obj["/Group"]
            media = [float(v) for v in page.obj.MediaBox]
            bleed = bleed_mm * MM
            if "/TrimBox" not in page.obj:
                page.obj.TrimBox = pikepdf.Array([media[0] + bleed, media[1] + bleed, media[2] - bleed, media[3] - bleed])
            if "/BleedBox" not in page.obj:
                page.obj.BleedBox = pikepdf.Array(media)
        _retag_fonts(survey.descriptors, survey.fonts)
        _tag_foreign_words(survey.foreign_words)
        profile = pikepdf.Stream(pdf, _profile())
        profile.Filter = pikepdf.Name.FlateDecode
        profile.N = 4
        pdf.Root.OutputIntents = pikepdf.Array([
            pikepdf.Dictionary(
                Type=pikepdf.Name.OutputIntent,
                S=pikepdf.Name.GTS_PDFX,
                OutputConditionIdentifier=pikepdf.String("CGATS TR 001"),
                OutputCondition=pikepdf.String(OUTPUT_CONDITION),
                RegistryName=pikepdf.String("http://www.color.org"),
                Info=pikepdf.String(PROFILE_NAME),
                DestOutputProfile=profile,
            )
        ])
        stamp = _pdf_date(date)
        pdf.docinfo["/CreationDate"] = pikepdf.String(stamp)
        pdf.docinfo["/ModDate"] = pikepdf.String(stamp)
        pdf.docinfo["/Trapped"] = pikepdf.Name("/False")
        _stamp_xmp(pdf, date)
        out = io.BytesIO()
        # Streams already Flate-compressed (WeasyPrint's, the profile) are copied as they are; only the
        # recoloured content streams are compressed here. _stamp_xmp keeps pdf:PDFVersion true, so the
        # XMP is not opened again (fix_metadata_version).
        pdf.save(
            out, deterministic_id=True, compress_streams=True, object_stream_mode=pikepdf.ObjectStreamMode.preserve,
            fix_metadata_version=False,
        )
        return out.getvalue()
