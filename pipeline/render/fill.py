"""Fill the page: spread the lists of a laid-out document so that no page or card face ends in an empty band.

Print that works in a crisis uses its whole sheet. Once a document fits, the
renderer calls `spread_document(document, kind, images)`: for each card face
(and, on flyers, each page) it measures the empty height under the lowest line
and shares it out as space under the list items (steps, bullets, help lines) of
that face or page, up to MAX_GAP_MM each. A card back's white panel of signs
takes a share too (it grows downwards), so that a back with one or two help lines
does not spread its signs apart. Large print never splits a section, so each of
its pages is spread on its own, over the sections and help boxes that page
holds; what its items cannot take (they are capped) goes above the page's later
sections, up to MAX_SECTION_GAP_MM each.

The space is added to the laid-out boxes themselves, not by laying the document
out again: an item grows by its gap and what follows it moves down by as much
(`_shift`), on the same page, so no line breaks anew and nothing can move to
another page. Space under the lowest item of a face moves nothing, so the slack
is measured again and the rest handed out, for at most PASSES rounds (no layout
in between, only arithmetic on boxes). Backgrounds and link areas, which
WeasyPrint places when it lays a page out, are placed again on the pages that
changed. The same input always gives the same gaps, so output stays
byte-identical. A spread that would leave a line past a foot raises SpreadError
(the renderer then lays the document out again, unspread).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from weasyprint.document import Page
from weasyprint.formatting_structure import boxes
from weasyprint.layout.background import layout_backgrounds

from pipeline.document import MM_PER_PX
from pipeline.render.fit import box_children as _children  # the one way boxes are read (fit.py)
from pipeline.render.fit import box_classes as _classes
from pipeline.render.fit import boxes_with_class

MAX_GAP_MM = {"card": 4.0, "sheet": 4.0, "flyer": 8.0, "large": 10.0}  # the most added under one item
MAX_SECTION_GAP_MM = {"flyer": 12.0, "large": 24.0}  # the most added above a section that is not first on its page
SAFETY = 0.95  # share of the measured slack handed out (the last item's space moves nothing; rounding)
MIN_STEP_MM = 0.05  # less than this is not worth another round
PASSES = 4  # rounds of measuring and sharing out
PANEL_SHARE = 3  # a card back's white panel counts as this many items
TOLERANCE_PX = 0.5  # how far past a region's foot rounding may leave a line
STACKED_PX = 0.5  # a box counts as below another when its top is at most this far above the other's bottom


class SpreadError(Exception):
    """A spread left a line past its page's or card face's foot (the renderer then prints unspread)."""


@dataclass(slots=True)
class Tier:
    """Boxes that share a region's slack alike: each takes `gap` (px) times its weight, up to `cap_px`."""

    boxes: list[tuple[Any, int]]  # (box, weight)
    place: str  # "after": space under the box; "before": space above it
    cap_px: float | None
    gap: float = 0.0

    @property
    def shares(self) -> int:
        return sum(weight for _, weight in self.boxes)


@dataclass(slots=True)
class Region:
    """A card face or a page: a box of fixed height whose slack its tiers share."""

    page: int  # index in the document's pages
    root: Any  # the box whose in-flow content is spread
    bottom: float  # px: the lowest a line may reach
    tiers: list[Tier]


# ---------------------------------------------------------------- reading boxes


def _find(box: object, name: str) -> list[Any]:
    return list(boxes_with_class(box, name))


def _out_of_flow(box: object) -> bool:
    style = getattr(box, "style", None)
    return style is not None and style["position"] in ("absolute", "fixed")


def _lowest(box: object, skip: str = "proof-overlay") -> float:
    """The lowest bottom edge (px) of any line or picture under a box, or of a bordered block's border."""
    if skip in _classes(box):
        return 0.0
    bottom = 0.0
    if isinstance(box, boxes.LineBox):
        bottom = box.position_y + box.height
    elif isinstance(box, (boxes.AtomicInlineLevelBox, boxes.BlockReplacedBox)) or isinstance(box, boxes.BlockBox) and (box.border_bottom_width or 0) > 0:
        bottom = box.border_box_y() + box.border_height()
    for child in _children(box):
        bottom = max(bottom, _lowest(child, skip))
    return bottom


def _items(box: object, what: tuple[str, ...]) -> Iterator[Any]:
    """The list items (`li`) and help lines (`line`) under a box, outermost first; a line's own items too."""
    tag = getattr(box, "element_tag", None)
    if "li" in what and tag == "li" and isinstance(box, boxes.BlockBox):
        yield box
        return
    if "line" in what and "line" in _classes(box):
        yield box
        what = ("li",)
    for child in _children(box):
        yield from _items(child, what)


def _later_sections(blocks: list[Any]) -> list[Any]:
    """The sections after the first block of a page (never a help box: its border would take the gap inside)."""
    ordered = sorted(blocks, key=lambda b: b.position_y)
    return [b for b in ordered[1:] if "section" in _classes(b)]


def _page_bottom(page_box: Any) -> float:
    return float(page_box.content_box_y() + page_box.height)


def _page_root(page_box: Any) -> Any:
    """The page's share of the document (its html box), below the margin boxes."""
    return next(c for c in _children(page_box) if not isinstance(c, boxes.MarginBox))


# ---------------------------------------------------------------- what is spread where


def regions(pages: list[tuple[int, Any]], kind: str) -> list[Region]:
    """The card faces or pages (numbered page boxes) of a document whose slack is shared out, with their tiers."""
    cap = MAX_GAP_MM[kind] / MM_PER_PX
    found: list[Region] = []
    if kind in ("card", "sheet"):
        for number, page_box in pages:
            for card in _find(page_box, "card"):
                body = _find(card, "card-body")
                if not body:
                    continue
                bottom = card.content_box_y() + card.height
                if "back" in _classes(card):
                    # The white panel of signs takes PANEL_SHARE shares: it grows as its items do.
                    items = [(b, 1) for b in _items(card, ("li", "line"))]
                    found.append(Region(number, card, bottom, [Tier([*items, (body[0], PANEL_SHARE)], "after", cap)]))
                else:
                    found.append(Region(number, card, bottom, [Tier([(b, 1) for b in _items(body[0], ("li",))], "after", cap)]))
    elif kind == "flyer" and len(pages) == 2:
        section_cap = MAX_SECTION_GAP_MM[kind] / MM_PER_PX
        for (number, page_box), name in zip(pages, ("urgent", "more")):
            area = _find(page_box, name)
            if not area:
                continue
            found.append(Region(number, _page_root(page_box), _page_bottom(page_box), [
                Tier([(b, 1) for b in _items(area[0], ("li",))], "after", cap),
                Tier([(b, 1) for b in _later_sections(_find(area[0], "section"))], "before", section_cap),
            ]))
    elif kind == "large":
        section_cap = MAX_SECTION_GAP_MM[kind] / MM_PER_PX
        for number, page_box in pages:
            blocks = [b for name in ("section", "help") for b in _find(page_box, name)]
            items = [(b, 1) for block in blocks for b in _items(block, ("li", "line"))]
            if not items:
                continue
            found.append(Region(number, _page_root(page_box), _page_bottom(page_box), [
                Tier(items, "after", cap),
                Tier([(b, 1) for b in _later_sections(blocks)], "before", section_cap),
            ]))
    return found


# ---------------------------------------------------------------- sharing out


def _share(tiers: list[Tier], slack: float) -> dict[int, float]:
    """Share `slack` (px) tier by tier, each up to its cap; what is still left (a sparse page: every cap
    reached) is shared over all of them alike, uncapped, so that the page is still used. What each tier's
    boxes get (px per share), keyed by id(tier)."""
    tiers = [t for t in tiers if t.shares > 0]
    added: dict[int, float] = {}
    slack *= SAFETY
    for tier in tiers:
        step = slack / tier.shares
        if tier.cap_px is not None:
            step = min(step, tier.cap_px - tier.gap - added.get(id(tier), 0.0))
        if step * MM_PER_PX >= MIN_STEP_MM:
            added[id(tier)] = added.get(id(tier), 0.0) + step
            slack -= step * tier.shares
    total = sum(t.shares for t in tiers)
    if total and slack / total * MM_PER_PX >= MIN_STEP_MM:
        for tier in tiers:
            added[id(tier)] = added.get(id(tier), 0.0) + slack / total
    return added


def _shift(box: Any, after: Mapping[int, float], before: Mapping[int, float], holds: set[int]) -> float:
    """Grow `box` by the gaps of the boxes in it, moving what lies below each one down as far; how much
    lower its bottom edge now is (0 for a box of fixed height: the slack it had takes the growth)."""
    moved: list[tuple[float, float]] = []  # (original border-box bottom, how far it moved) of each child so far
    ends_before: list[float] = []  # margin-box bottoms of the children, before and after
    ends_after: list[float] = []
    for child in _children(box):
        if _out_of_flow(child):
            continue
        top = child.border_box_y()
        bottom = top + child.border_height()
        offset = max((delta for below, delta in moved if below <= top + STACKED_PX), default=0.0) + before.get(id(child), 0.0)
        if offset:
            child.translate(0, offset)
        grown = _shift(child, after, before, holds) if id(child) in holds else 0.0
        moved.append((bottom, offset + grown))
        end = child.position_y + child.margin_height()  # its margin-box bottom, moved
        ends_before.append(end - offset - grown)
        ends_after.append(end)
    grow = after.get(id(box), 0.0)
    if ends_after and isinstance(box, boxes.Box):
        content_bottom = box.content_box_y() + box.height
        grow += max(0.0, max(ends_after) - max(content_bottom, *ends_before))
    if not grow or not isinstance(box, boxes.Box) or box.style["height"] != "auto":
        return 0.0
    box.height += grow
    return grow


def _holders(root: Any, targets: set[int]) -> set[int]:
    """The ids of the boxes under `root` that hold a target (the targets included): only they can grow."""
    held: set[int] = set()

    def visit(box: Any) -> bool:
        inside = id(box) in targets
        for child in _children(box):
            inside = visit(child) or inside
        if inside:
            held.add(id(box))
        return inside

    visit(root)
    return held


def spread_document(document: Any, kind: str, image: Callable[..., Any]) -> bool:
    """Spread each card face's or page's items over its empty foot, in place; whether anything moved.

    `image(url=...)` returns an image the layout already loaded (backgrounds are placed again with it).
    SpreadError if a line ends up past its region's foot: the document is then spoilt and must be laid
    out again.
    """
    pages = [(n, p._page_box) for n, p in enumerate(document.pages) if not _find(p._page_box, "review")]
    changed: set[int] = set()
    for region in regions(pages, kind):
        targets = {id(b) for tier in region.tiers for b, _ in tier.boxes}
        foot = max(region.bottom, _lowest(region.root))  # a spread never takes a line lower than this
        holds = _holders(region.root, targets)
        for _ in range(PASSES):
            added = _share(region.tiers, region.bottom - _lowest(region.root))
            if not added:
                break
            after: dict[int, float] = {}
            before: dict[int, float] = {}
            for tier in region.tiers:
                step = added.get(id(tier), 0.0)
                tier.gap += step
                for b, weight in tier.boxes:
                    (after if tier.place == "after" else before)[id(b)] = step * weight
            _shift(region.root, after, before, holds)
            changed.add(region.page)
        overshoot = _lowest(region.root) - foot
        if overshoot > TOLERANCE_PX:
            raise SpreadError(f"spreading left a line {overshoot * MM_PER_PX:.1f} mm past the foot of page {region.page + 1}")
    for number in sorted(changed):
        page_box = document.pages[number]._page_box
        layout_backgrounds(page_box, image)  # backgrounds are placed at layout: place them again
        document.pages[number] = Page(page_box)  # so are link areas and anchors
    return bool(changed)
