"""Prepress (pipeline/render/prepress.py) on small hand-made PDFs."""

from __future__ import annotations

import datetime as dt
import io

import pikepdf

from pipeline.render.prepress import prepare_for_press

DATE = dt.date(2026, 11, 21)


def make_pdf(content: bytes) -> bytes:
    pdf = pikepdf.new()
    page = pdf.add_blank_page(page_size=(200, 200))
    page.obj.Contents = pdf.make_stream(content)
    buffer = io.BytesIO()
    pdf.save(buffer)
    return buffer.getvalue()


def pressed(pdf_bytes: bytes) -> pikepdf.Pdf:
    return pikepdf.open(io.BytesIO(prepare_for_press(pdf_bytes, 0.0, DATE)))


def test_info_says_the_file_is_not_trapped():
    with pressed(make_pdf(b"0 0 0 rg")) as pdf:
        assert pdf.docinfo["/Trapped"] == pikepdf.Name("/False")
