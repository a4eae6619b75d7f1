"""Fill the page: spread the lists of a laid-out document so that no page or card face ends in an empty band.

Print that works in a crisis uses its whole sheet. After a document fits, the
renderer asks `spread_css(document, kind)` for extra CSS: for each card face (and,
on flyers, each page) it measures the empty height under the lowest line and shares
it out as padding under the list items (steps, bullets, help lines) of that face
or page, up to MAX_GAP_MM each. Large print never splits a section, so each of its
pages is spread on its own, naming the sections and help boxes that page holds. The renderer lays the document out again with it
and keeps the result only if it still fits; the same input always gives the same
CSS, so output stays byte-identical.
"""

from __future__ import annotations

from typing import Any

from weasyprint.formatting_structure import boxes

from pipeline.document import MM_PER_PX
from pipeline.render.fit import box_children as _children  # the one way boxes are read (fit.py)
from pipeline.render.fit import box_classes as _classes

MAX_GAP_MM = {"card": 4.0, "sheet": 4.0, "flyer": 8.0, "large": 10.0}  # the most added under one item
SAFETY = 0.95
PANEL_SHARE = 3  # a card back's white panel counts as this many items  # share of the measured slack handed out (rounding, line-height snapping)
SPREAD = {  # per region: the selector whose items get the padding, and the elements counted
    "card-front": (".card.front .card-body li", ("li",)),
    "card-back": (".card.back .card-body li, .card.back .line > *", ("li", "line")),
    "page-1": (".front .urgent li", ("li",)),
    "page-2": (".more li", ("li",)),
}


def _find(box: object, name: str) -> list[Any]:
    if name in _classes(box):
        return [box]
    return [found for child in _children(box) for found in _find(child, name)]


def _lowest(box: object, skip: str = "proof-overlay") -> float:
    """The lowest bottom edge (px) of any line or picture under a box."""
    if skip in _classes(box):
        return 0.0
    bottom = 0.0
    if isinstance(box, (boxes.LineBox, boxes.AtomicInlineLevelBox, boxes.BlockReplacedBox)) or isinstance(box, boxes.BlockBox) and (box.border_bottom_width or 0) > 0:
        bottom = box.position_y + box.margin_height()
    for child in _children(box):
        bottom = max(bottom, _lowest(child, skip))
    return bottom


def _count(box: object, what: tuple[str, ...], inside: str | None = None) -> int:
    tag = getattr(box, "element_tag", None)
    own = 1 if (("li" in what and tag == "li" and isinstance(box, boxes.BlockBox)) or ("line" in what and "line" in _classes(box))) else 0
    if own and tag == "li":
        return 1
    if own:
        return 1 + sum(_count(c, ("li",)) for c in _children(box))
    return sum(_count(c, what) for c in _children(box))


def _rule(key: str, slack_px: float, count: int, kind: str) -> str:
    if count == 0 or slack_px <= 0:
        return ""
    gap_mm = min(MAX_GAP_MM[kind], slack_px * SAFETY * MM_PER_PX / count)
    if gap_mm < 0.05:
        return ""
    selector = SPREAD[key][0]
    return f"{selector} {{ padding-bottom: {gap_mm:.2f}mm; }}\n"


def spread_css(document: Any, kind: str) -> str:
    """Extra CSS that spreads each card face's or flyer page's list items over its empty height."""
    rules = []
    pages = [p._page_box for p in document.pages if not _find(p._page_box, "review")]
    if kind in ("card", "sheet"):
        done = set()
        for page_box in pages:
            for card in _find(page_box, "card"):
                key = "card-back" if "back" in _classes(card) else "card-front"
                if key in done:
                    continue
                done.add(key)
                bottom = card.content_box_y() + card.height
                slack = bottom - _lowest(card)
                count = _count(card, SPREAD[key][1])
                if key == "card-back":
                    # The white panel of signs takes a share too (as a white border), so that a
                    # back with one or two help lines does not spread its signs apart.
                    count += PANEL_SHARE
                    share = _rule(key, slack, count, kind)
                    if share:
                        gap = share[share.index("padding-bottom: ") + 16 : share.index("mm;")]
                        rules.append(f".card.back > .card-body {{ border-bottom: {float(gap) * PANEL_SHARE:.2f}mm solid device-cmyk(0 0 0 0); }}\n")
                    rules.append(share)
                    continue
                rules.append(_rule(key, slack, count, kind))
    elif kind == "flyer" and len(pages) == 2:
        for number, page_box in enumerate(pages, 1):
            bottom = page_box.content_box_y() + page_box.height
            key = f"page-{number}"
            region = _find(page_box, "urgent") if number == 1 else _find(page_box, "more")
            if not region:
                continue
            slack = bottom - _lowest(page_box)
            rules.append(_rule(key, slack, _count(region[0], SPREAD[key][1]), kind))
    elif kind == "large":
        for page_box in pages:
            blocks = [b for name in ("section", "help") for b in _find(page_box, name)]
            selectors, count = [], 0
            for block in blocks:
                selector = _selector(block)
                if selector is None:
                    continue
                items = _count(block, ("li", "line"))
                if items:
                    selectors.append(f"{selector} li, {selector} .line")
                    count += items
            if not selectors:
                continue
            slack = page_box.content_box_y() + page_box.height - _lowest(page_box)
            gap_mm = min(MAX_GAP_MM[kind], slack * SAFETY * MM_PER_PX / count) if slack > 0 else 0
            if gap_mm >= 0.05:
                rules.append(f"{', '.join(selectors)} {{ padding-bottom: {gap_mm:.2f}mm; }}\n")
    return "".join(rules)


def _selector(box: object) -> str | None:
    """A CSS selector for a section or help box: the data attribute the templates give it."""
    element = getattr(box, "element", None)
    if element is None:
        return None
    for name in ("data-section", "data-help"):
        value = element.get(name)
        if value:
            return f'[{name}="{value}"]'
    return None
