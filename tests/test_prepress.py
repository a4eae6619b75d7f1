"""Prepress (pipeline/render/prepress.py) on small hand-made PDFs: what its fast paths may and may not touch.

The shipped editions' finals are checked in test_print.py. Here each case is a content stream or an
XMP packet made for one rule, and the content-stream rewrite that keeps every byte but the colour
operators is compared with qpdf's parser (the way prepress falls back to) on generated streams.
"""

from __future__ import annotations

import datetime as dt
import io
import xml.etree.ElementTree as ET
from decimal import Decimal

import pikepdf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.render import prepress
from pipeline.render.prepress import prepare_for_press

DATE = dt.date(2026, 11, 21)
SCRATCH = pikepdf.new()  # owns the streams the parser reads in these tests

# The packet WeasyPrint writes for a PDF/UA-1 document (what prepress usually gets).
WEASYPRINT_XMP = (
    b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>\n<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
    b'<rdf:RDF xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:pdf="http://ns.adobe.com/pdf/1.3/" '
    b'xmlns:pdfuaid="http://www.aiim.org/pdfua/ns/id/" xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description rdf:about="" pdfuaid:part="1" /><rdf:Description rdf:about="" pdf:Producer="WeasyPrint 70.0" />'
    b'<rdf:Description rdf:about=""><dc:title><rdf:Alt><rdf:li xml:lang="x-default">Naloxone</rdf:li></rdf:Alt></dc:title>'
    b"</rdf:Description></rdf:RDF>\n</x:xmpmeta>\n<?xpacket end=\"r\"?>"
)


def make_pdf(content: bytes, xmp: bytes | None = WEASYPRINT_XMP, ext_gstate: pikepdf.Dictionary | None = None) -> bytes:
    """One page with this content stream, WeasyPrint's page group, and optionally an XMP packet and a graphics state."""
    pdf = pikepdf.new()
    page = pdf.add_blank_page(page_size=(200, 200))
    page.obj.Contents = pdf.make_stream(content)
    page.obj.Group = pikepdf.Dictionary(Type=pikepdf.Name.Group, S=pikepdf.Name.Transparency, CS=pikepdf.Name.DeviceRGB)
    if ext_gstate is not None:
        page.obj.Resources = pikepdf.Dictionary(ExtGState=pikepdf.Dictionary(a0=pdf.make_indirect(ext_gstate)))
    if xmp is not None:
        pdf.Root.Metadata = pdf.make_stream(xmp, Type=pikepdf.Name.Metadata, Subtype=pikepdf.Name.XML)
    buffer = io.BytesIO()
    pdf.save(buffer)
    return buffer.getvalue()


def pressed(pdf_bytes: bytes) -> pikepdf.Pdf:
    return pikepdf.open(io.BytesIO(prepare_for_press(pdf_bytes, 0.0, DATE)))


def value(operand: object) -> object:
    """An operand as a comparable value (the parser's numbers, strings, names, arrays and dictionaries)."""
    if isinstance(operand, (int, Decimal)) and not isinstance(operand, bool):
        return float(operand)
    if isinstance(operand, pikepdf.Array):
        return tuple(value(item) for item in operand)
    if isinstance(operand, pikepdf.Dictionary):
        return tuple(sorted((key, value(item)) for key, item in operand.items()))
    if isinstance(operand, pikepdf.String):
        return bytes(operand)
    return repr(operand)


def instructions(data: bytes) -> list[tuple[tuple[object, ...], str]]:
    """What qpdf's parser reads in a content stream: each operator with its operands' values."""
    return [(tuple(value(o) for o in i.operands), str(i.operator)) for i in pikepdf.parse_content_stream(pikepdf.Stream(SCRATCH, data))]


def parsed_recolour(data: bytes) -> bytes:
    """The content stream recoloured the general way (qpdf parses it, every instruction written again)."""
    stream = pikepdf.Stream(SCRATCH, data)
    prepress._recolour_parsed(stream)
    return stream.read_bytes()


# ---------------------------------------------------------------- colour operators in content streams


def test_a_colour_written_inside_a_string_is_not_rewritten():
    """`rg` inside string operands (escaped and nested parentheses, a dictionary's string) stays; the real one is CMYK."""
    strings = (
        b"/Span << /ActualText (0 0 0 rg) >> BDC BT /F1 9 Tf (a \\) 0 0 0 rg (nested 1 1 1 RG) 0 0 1 rg \\\\) Tj "
        b"[(1 0 0 rg) -20 <0041>] TJ ET EMC"
    )
    stream = strings + b" 1 0 0 rg"
    fast = prepress._recolour_bytes(stream)
    assert fast == strings + b" 0 1 1 0 k"
    assert instructions(fast) == instructions(parsed_recolour(stream))


def test_a_stream_like_weasyprints_is_rewritten_in_place():
    """Only the colour instructions change; every other byte (layout, hex strings in TJ) is kept as written."""
    stream = b"q\n/a1.0 gs\n0 0 0 rg\n0.066667 0.066667 0.066667 RG\nBT\n/SDIUIR 9 Tf\n[<002a>0<0048>19<0057>] TJ\nET\n0.701961 0 0.105882 rg\nQ"
    fast = prepress._recolour_bytes(stream)
    assert fast == (
        b"q\n/a1.0 gs\n0 0 0 1 k\n0 0 0 0.9333 K\nBT\n/SDIUIR 9 Tf\n[<002a>0<0048>19<0057>] TJ\nET\n0 1 0.85 0.3 k\nQ"
    )
    assert instructions(fast) == instructions(parsed_recolour(stream))


@pytest.mark.parametrize(
    "stream",
    [
        b"% a comment ( \n0 0 0 rg ) Tj\n",  # a comment: a parenthesis in it opens no string
        b"BI /W 2 /H 1 /BPC 8 /CS /G ID \n0 0 0 rg\nEI Q",  # inline image data may hold anything
        b"<ab 0 0 0 rg> Tj",  # a malformed hex string
        b"1 0 0 0 rg",  # four operands: not an RGB colour
        b"0 0 rg",
        b"(a) 0 0 0 rg",  # a string operand before the three numbers
        b"true 0 0 0 rg",
        b"0 0 0]rg",
        b"q -" + b"5" * 91 + b" 0 0 rg",  # operands longer than the scan reads back (it would see 555..., not -555...)
    ],
)
def test_a_stream_the_scan_cannot_be_sure_of_goes_to_the_parser(stream):
    assert prepress._recolour_bytes(stream) is None


def test_a_comment_or_inline_image_is_recoloured_as_the_parser_reads_it():
    """Through prepress, the streams the scan leaves alone still get their real colours made CMYK, and nothing else."""
    for stream, expected in (
        (b"% a comment ( \n0 0 0 rg\n", [((0.0, 0.0, 0.0, 1.0), "k")]),
        (b"BI /W 2 /H 1 /BPC 8 /CS /G ID \n0 0 0 rg\nEI 1 1 1 rg", None),
    ):
        with pressed(make_pdf(stream)) as pdf:
            data = pdf.pages[0].obj.Contents.read_bytes()
        if expected is not None:
            assert instructions(data) == expected
        else:
            assert b"\n0 0 0 rg\nEI" in data and data.endswith(b"0 0 0 0 k")  # image bytes as they were


NUMBER = st.from_regex(rb"\A[+-]?(?:\d{1,3}(?:\.\d{0,6})?|\.\d{1,6})\Z")
SPACE = st.sampled_from([b" ", b"\n", b"\r\n", b"\t", b"  "])
TEXT = st.sampled_from([b"0 0 0 rg", b" 1 1 1 RG ", b"\\(", b"\\)", b"\\\\", b"%", b"<", b"BI", b"word", b"\\n", b" "])
STRING = st.recursive(
    st.lists(TEXT, max_size=4).map(lambda parts: b"(" + b"".join(parts) + b")"),
    lambda inner: st.lists(st.one_of(TEXT, inner), max_size=4).map(lambda parts: b"(" + b"".join(parts) + b")"),
    max_leaves=6,
)
OPERAND = st.one_of(
    NUMBER,
    NUMBER,
    STRING,
    st.from_regex(rb"\A<[0-9A-Fa-f ]{0,8}>\Z"),
    st.sampled_from([b"/F1", b"/a1.0", b"/Span", b"/x0", b"true", b"null"]),
    st.lists(st.one_of(NUMBER, STRING), max_size=3).map(lambda items: b"[" + b" ".join(items) + b"]"),
    STRING.map(lambda text: b"<< /MCID 3 /ActualText " + text + b" >>"),
)
OPERATOR = st.sampled_from([b"q", b"Q", b"cm", b"re", b"f", b"Tj", b"TJ", b"BT", b"ET", b"gs", b"BDC", b"EMC", b"d0", b"'", b"k", b"w"])
COLOUR = st.tuples(st.lists(NUMBER, min_size=2, max_size=4), st.sampled_from([b"rg", b"RG"]))
INSTRUCTION = st.one_of(st.tuples(st.lists(OPERAND, max_size=3), OPERATOR), COLOUR, COLOUR)


@st.composite
def content_streams(draw) -> bytes:
    parts: list[bytes] = []
    for operands, operator in draw(st.lists(INSTRUCTION, min_size=1, max_size=12)):
        for token in [*operands, operator]:
            parts += [token, draw(SPACE)]
    return b"".join(parts)


@settings(max_examples=150, deadline=None)
@given(content_streams())
def test_the_in_place_rewrite_reads_as_the_parser_would_write_it(stream):
    """On generated streams (strings holding `rg`, names, arrays, dictionaries, two to four operands):
    where the scan rewrites a stream, qpdf's parser reads it as it reads the general way's output."""
    fast = prepress._recolour_bytes(stream)
    if fast is not None:
        assert instructions(fast) == instructions(parsed_recolour(stream))


# ---------------------------------------------------------------- the rest of PDF/X-4


def xmp_properties(pdf: pikepdf.Pdf) -> dict[str, list[str]]:
    """Every property in the XMP packet (elements and attributes) by {namespace}name, each value it has."""
    found: dict[str, list[str]] = {}
    for element in ET.fromstring(pdf.Root.Metadata.read_bytes()).iter():
        found.setdefault(element.tag, []).append((element.text or "").strip())
        for name, text in element.attrib.items():
            found.setdefault(name, []).append(text)
    return found


PDFX = "{http://www.npes.org/pdfx/ns/id/}GTS_PDFXVersion"
CREATED = "{http://ns.adobe.com/xap/1.0/}CreateDate"
ISO = "2026-11-21T00:00:00Z"


@pytest.mark.parametrize(
    "xmp",
    [
        WEASYPRINT_XMP,
        # dates already there, as an attribute and as an element (WeasyPrint writes them for dcterms.created)
        WEASYPRINT_XMP.replace(b'pdfuaid:part="1"', b'pdfuaid:part="1" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:CreateDate="2020-01-01"'),
        WEASYPRINT_XMP.replace(b"</rdf:RDF>", b'<rdf:Description rdf:about=""><xmp:CreateDate xmlns:xmp="http://ns.adobe.com/xap/1.0/">2020-01-01</xmp:CreateDate></rdf:Description></rdf:RDF>'),
        None,  # no packet at all
    ],
)
def test_xmp_carries_pdfx_identification_and_dates_once(xmp):
    with pressed(make_pdf(b"0 0 0 rg", xmp=xmp)) as pdf:
        found = xmp_properties(pdf)
        with pdf.open_metadata() as meta:
            assert meta.get(PDFX) == "PDF/X-4" and meta.get("xmp:CreateDate") == ISO
    assert found[PDFX] == ["PDF/X-4"]
    assert found[CREATED] == [ISO]
    assert found["{http://ns.adobe.com/xap/1.0/}ModifyDate"] == found["{http://ns.adobe.com/xap/1.0/}MetadataDate"] == [ISO]
    assert found["{http://ns.adobe.com/pdf/1.3/}Trapped"] == ["False"]
    if xmp is not None:  # what WeasyPrint wrote is kept
        assert found["{http://www.aiim.org/pdfua/ns/id/}part"] == ["1"]
        assert "Naloxone" in found["{http://www.w3.org/1999/02/22-rdf-syntax-ns#}li"]


def test_info_says_the_file_is_not_trapped():
    with pressed(make_pdf(b"0 0 0 rg")) as pdf:
        assert pdf.docinfo["/Trapped"] == pikepdf.Name("/False")


@pytest.mark.parametrize(
    ("ext_gstate", "keeps_group"),
    [
        (pikepdf.Dictionary(Type=pikepdf.Name.ExtGState, ca=0.5), True),
        (pikepdf.Dictionary(CA=0.4), True),
        (pikepdf.Dictionary(Type=pikepdf.Name.ExtGState, SMask=pikepdf.Dictionary(S=pikepdf.Name.Luminosity)), True),
        (pikepdf.Dictionary(Type=pikepdf.Name.ExtGState, ca=1, CA=1, SMask=pikepdf.Name("/None")), False),
        (None, False),
    ],
)
def test_the_page_group_goes_only_when_nothing_is_transparent(ext_gstate, keeps_group):
    with pressed(make_pdf(b"/a0 gs 0 0 0 rg", ext_gstate=ext_gstate)) as pdf:
        assert ("/Group" in pdf.pages[0].obj) is keeps_group
