"""Fill the page: spread the lists of a laid-out document so that no page or card face ends in an empty band.

Print that works in a crisis uses its whole sheet. After a document fits, the
renderer asks `spread_gaps(document, kind)` for the space to add: for each card
face (and, on flyers, each page) it measures the empty height under the lowest
line and shares it out as padding under the list items (steps, bullets, help
lines) of that face or page, up to MAX_GAP_MM each. A card back's white panel of
signs takes a share too (as a white border), so that a back with one or two help
lines does not spread its signs apart. Large print never splits a section, so
each of its pages is spread on its own, naming the sections and help boxes that
page holds; what its items cannot take (they are capped) goes above the page's
later sections, up to MAX_SECTION_GAP_MM each.

The padding under the lowest item of a face or page moves nothing, so one
measure falls short: the renderer lays the document out with the gaps, measures
again and hands the rest out on top (`spread_gaps(laid_out, kind, before=gaps)`),
for at most PASSES layouts. It keeps a layout only if it still fits and every
section and help box stays on the page it was on (`placement`). The same input
always gives the same gaps, so output stays byte-identical.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from weasyprint.formatting_structure import boxes

from pipeline.document import MM_PER_PX
from pipeline.render.fit import box_children as _children  # the one way boxes are read (fit.py)
from pipeline.render.fit import box_classes as _classes

MAX_GAP_MM = {"card": 4.0, "sheet": 4.0, "flyer": 8.0, "large": 10.0}  # the most added under one item
MAX_SECTION_GAP_MM = {"flyer": 12.0, "large": 24.0}  # the most added above a section that is not first on its page
SAFETY = 0.95  # share of the measured slack handed out (rounding, line-height snapping)
MIN_STEP_MM = 0.05  # less than this is not worth another layout
PASSES = 3  # layouts with gaps at most (the first, and corrections for the padding under the lowest item)
PANEL_SHARE = 3  # a card back's white panel counts as this many items
PANEL_RULE = ".card.back > .card-body { border-bottom"
SPREAD = {  # per region: the selector whose items get the padding, and the elements counted
    "card-front": (".card.front .card-body li", ("li",)),
    "card-back": (".card.back .card-body li, .card.back .line > *", ("li", "line")),
    "page-1": (".front .urgent li", ("li",)),
    "page-2": (".more li", ("li",)),
}
Gaps = dict[str, float]  # "selector { property" -> millimetres


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


def _count(box: object, what: tuple[str, ...]) -> int:
    tag = getattr(box, "element_tag", None)
    own = 1 if (("li" in what and tag == "li" and isinstance(box, boxes.BlockBox)) or ("line" in what and "line" in _classes(box))) else 0
    if own and tag == "li":
        return 1
    if own:
        return 1 + sum(_count(c, ("li",)) for c in _children(box))
    return sum(_count(c, what) for c in _children(box))


def _add(gaps: Gaps, before: Mapping[str, float], rule: str, slack_px: float, count: int, cap_mm: float | None) -> float:
    """Add `slack_px` shared over `count` items to `rule` (on top of what it had), capped; the slack (px) left over."""
    if count == 0 or slack_px <= 0:
        return max(0.0, slack_px)
    had = gaps.get(rule, before.get(rule, 0.0))
    step = slack_px * MM_PER_PX / count
    if cap_mm is not None:
        step = min(cap_mm - had, step)
    if step >= MIN_STEP_MM:
        gaps[rule] = had + step
        return slack_px - step * count / MM_PER_PX
    return slack_px


def _share(gaps: Gaps, before: Mapping[str, float], tiers: list[tuple[str, int, float]], slack_px: float) -> None:
    """Share a region's slack out tier by tier, each up to its cap; what is still left (a sparse page:
    every cap reached) is shared out over all of them alike, uncapped, so that the page is still used."""
    tiers = [t for t in tiers if t[1] > 0]
    slack_px *= SAFETY
    for rule, count, cap in tiers:
        slack_px = _add(gaps, before, rule, slack_px, count, cap)
    total = sum(count for _, count, _ in tiers)
    if total and slack_px * MM_PER_PX >= MIN_STEP_MM * total:
        share = slack_px / total
        for rule, count, _ in tiers:
            _add(gaps, before, rule, share * count, count, None)


def _later_sections(blocks: list[Any]) -> list[str]:
    """Selectors of the sections after the first block of a page (never a help box: its border would take the gap inside)."""
    ordered = sorted(blocks, key=lambda b: b.position_y)
    return [s for b in ordered[1:] if "section" in _classes(b) and (s := _selector(b))]


def spread_gaps(document: Any, kind: str, before: Mapping[str, float] | None = None) -> Gaps:
    """The padding (mm) that spreads each card face's or flyer page's items over its empty height.

    `before`: the gaps the document was laid out with; what is measured now is added to them.
    """
    before = dict(before or {})
    gaps: Gaps = dict(before)
    pages = [p._page_box for p in document.pages if not _find(p._page_box, "review")]
    cap = MAX_GAP_MM[kind]
    if kind in ("card", "sheet"):
        done = set()
        for page_box in pages:
            for card in _find(page_box, "card"):
                key = "card-back" if "back" in _classes(card) else "card-front"
                if key in done:
                    continue
                done.add(key)
                slack = card.content_box_y() + card.height - _lowest(card)
                count = _count(card, SPREAD[key][1])
                rule = f"{SPREAD[key][0]} {{ padding-bottom"
                if key == "card-back":
                    # The white panel of signs takes PANEL_SHARE shares, as a white border.
                    _share(gaps, before, [(rule, count + PANEL_SHARE, cap)], slack)
                    if rule in gaps:
                        gaps[PANEL_RULE] = gaps[rule] * PANEL_SHARE
                    continue
                _share(gaps, before, [(rule, count, cap)], slack)
    elif kind == "flyer" and len(pages) == 2:
        for number, page_box in enumerate(pages, 1):
            key = f"page-{number}"
            region = _find(page_box, "urgent") if number == 1 else _find(page_box, "more")
            if not region:
                continue
            slack = page_box.content_box_y() + page_box.height - _lowest(page_box)
            later = _later_sections(_find(region[0], "section"))
            _share(gaps, before, [
                (f"{SPREAD[key][0]} {{ padding-bottom", _count(region[0], SPREAD[key][1]), cap),
                (f"{', '.join(later)} {{ padding-top", len(later), MAX_SECTION_GAP_MM[kind]),
            ], slack)
    elif kind == "large":
        for page_box in pages:
            blocks = [b for name in ("section", "help") for b in _find(page_box, name)]
            selectors, count = [], 0
            for block in blocks:
                selector = _selector(block)
                items = _count(block, ("li", "line")) if selector else 0
                if items:
                    selectors.append(f"{selector} li, {selector} .line")
                    count += items
            if not selectors:
                continue
            slack = page_box.content_box_y() + page_box.height - _lowest(page_box)
            # What the capped items cannot take goes above the page's later sections.
            later = _later_sections(blocks)
            _share(gaps, before, [
                (f"{', '.join(selectors)} {{ padding-bottom", count, cap),
                (f"{', '.join(later)} {{ padding-top", len(later), MAX_SECTION_GAP_MM[kind]),
            ], slack)
    return gaps


def spread_css(gaps: Mapping[str, float]) -> str:
    """The CSS for spread gaps, in a stable order."""
    return "".join(f"{rule}: {mm:.2f}mm{' solid device-cmyk(0 0 0 0)' if rule == PANEL_RULE else ''}; }}\n" for rule, mm in sorted(gaps.items()))


def placement(document: Any) -> tuple[tuple[str, ...], ...]:
    """The sections and help boxes on each page, in order: spreading must not move any of them."""
    pages = [p._page_box for p in document.pages if not _find(p._page_box, "review")]
    return tuple(tuple(s for name in ("section", "help") for b in _find(page, name) if (s := _selector(b))) for page in pages)


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
