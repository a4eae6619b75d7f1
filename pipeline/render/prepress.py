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
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import re
import string
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


def _tag_foreign_words(pdf: pikepdf.Pdf) -> None:
    """Each /Art structure element (a marked foreign word, see typography.py) becomes a /Span with /Lang."""
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/StructElem" and obj.get("/S") == "/Art":
            obj.S = pikepdf.Name.Span
            obj.Lang = pikepdf.String(FOREIGN_LANG)


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
    return PROFILE_PATH.read_bytes()


def _recolour(pdf: pikepdf.Pdf, stream: pikepdf.Object) -> None:
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


def _is_transparent(pdf: pikepdf.Pdf) -> bool:
    for obj in pdf.objects:
        if isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream)):
            if "/SMask" in obj and obj.get("/SMask") != pikepdf.Name("/None"):
                return True
            for key in ("/CA", "/ca"):
                if key in obj and float(obj[key]) < 1.0:
                    return True
    return False


def _subset_tag(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    letters = string.ascii_uppercase
    return "".join(letters[b % 26] for b in digest[:6])


def _retag_fonts(pdf: pikepdf.Pdf) -> None:
    for obj in pdf.objects:
        if not isinstance(obj, pikepdf.Dictionary) or obj.get("/Type") != "/FontDescriptor":
            continue
        name = str(obj.get("/FontName", ""))[1:]
        if not _SUBSET_RE.match(name):
            continue
        font_file = obj.get("/FontFile2") or obj.get("/FontFile3") or obj.get("/FontFile")
        if font_file is None:
            continue
        new_name = _subset_tag(font_file.read_raw_bytes()) + name[6:]
        obj.FontName = pikepdf.Name("/" + new_name)
    # Fonts name their descriptor's FontName as BaseFont.
    for obj in pdf.objects:
        if not isinstance(obj, pikepdf.Dictionary) or obj.get("/Type") != "/Font":
            continue
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


def prepare_for_press(pdf_bytes: bytes, bleed_mm: float, date: dt.date) -> bytes:
    """The PDF as PDF/X-4 (CMYK, output intent, unique subset tags), same bytes for the same input."""
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        transparent = _is_transparent(pdf)
        seen: set[tuple[int, int]] = set()
        for page in pdf.pages:
            for contents in ([page.obj.Contents] if isinstance(page.obj.Contents, pikepdf.Stream) else list(page.obj.Contents)):
                _recolour(pdf, contents)
            for form in _forms(page.obj.get("/Resources"), seen):
                _recolour(pdf, form)
            if not transparent and "/Group" in page.obj:
                del page.obj["/Group"]
            media = [float(v) for v in page.obj.MediaBox]
            bleed = bleed_mm * MM
            if "/TrimBox" not in page.obj:
                page.obj.TrimBox = pikepdf.Array([media[0] + bleed, media[1] + bleed, media[2] - bleed, media[3] - bleed])
            if "/BleedBox" not in page.obj:
                page.obj.BleedBox = pikepdf.Array(media)
        _retag_fonts(pdf)
        _tag_foreign_words(pdf)
        profile = pikepdf.Stream(pdf, _profile())
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
        pdf.docinfo["/Trapped"] = pikepdf.Name("/False")  # (pikepdf.Name.False_ is the name /False_)
        iso = f"{date:%Y-%m-%d}T00:00:00Z"
        with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as meta:
            meta.register_xml_namespace("http://www.npes.org/pdfx/ns/id/", "pdfxid")
            meta["{http://www.npes.org/pdfx/ns/id/}GTS_PDFXVersion"] = "PDF/X-4"
            meta["xmp:CreateDate"] = iso
            meta["xmp:ModifyDate"] = iso
            meta["xmp:MetadataDate"] = iso
            meta["pdf:Trapped"] = "False"
        out = io.BytesIO()
        pdf.save(out, deterministic_id=True, compress_streams=True, object_stream_mode=pikepdf.ObjectStreamMode.preserve)
        return out.getvalue()
