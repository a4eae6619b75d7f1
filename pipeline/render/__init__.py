"""Print documents: flyers, wallet cards and 8-up card sheets, through Jinja2 and WeasyPrint.

The only package that imports WeasyPrint. A job (`pipeline.document.PrintJob`:
a document plan with its texts) goes through three steps:

  compose  Jinja2 templates lay the plan out as HTML, texts escaped and filled
  pdf      WeasyPrint lays the HTML out and writes the PDF, nothing fetched from
           outside templates/, every logged warning an error
  fit      the layout boxes are checked: every string printed in full, cards
           inside their safe area, the right number of pages, no tiny text
  fill     once it fits, the lists are spread over each page's empty foot
           (kept only if it still fits)
  prepress the PDF made PDF/X-4 for the press: CMYK, output intent, unique
           font subset tags, Latin words in Arabic script tagged with /Lang
"""

from pipeline.document import FORMATS, FormatSpec, sheet_geometry
from pipeline.errors import FitError, RenderError
from pipeline.render.compose import compose_html
from pipeline.render.pdf import RenderedDocument, Renderer, TemplateFetcher

__all__ = [
    "FORMATS", "FitError", "FormatSpec", "RenderError", "RenderedDocument", "Renderer", "TemplateFetcher",
    "compose_html", "sheet_geometry",
]
