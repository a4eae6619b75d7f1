"""A card sheet prints its edition's card eight times a side: lay the card out once, repeat it.

The sheet's HTML holds one card per page (the template lays out the first of the plan's places);
once that card has been checked and spread, `repeat_cards` copies its laid-out boxes to the page's
other places. So a sheet costs one card's layout per side, and every card on it is the same card,
down to the line breaks. Backgrounds and link areas, which WeasyPrint places when it lays a page out,
are placed again for the copies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from weasyprint.document import Page
from weasyprint.layout.background import layout_backgrounds

from pipeline.document import MM_PER_PX
from pipeline.render.fit import box_children, boxes_with_class


class SheetError(Exception):
    """A sheet's page does not hold exactly the one laid-out card to repeat."""


def repeat_cards(document: Any, placements: tuple[tuple[tuple[float, float], ...], ...], image: Callable[..., Any]) -> None:
    """Repeat the card laid out on each page at the page's other places, in place.

    `placements[n]` lists page n's card positions (mm from the top left), the laid-out one first.
    `image(url=...)` returns an image the layout already loaded.
    """
    for number, positions in enumerate(placements):
        if number >= len(document.pages) or len(positions) < 2:
            continue
        page_box = document.pages[number]._page_box
        cards = list(boxes_with_class(page_box, "card"))
        if len(cards) != 1:
            raise SheetError(f"page {number + 1} of a sheet lays out {len(cards)} cards, not 1")
        card = cards[0]
        holder = _parent_of(page_box, card)
        index = [getattr(c, "_box", c) for c in holder.children].index(card)  # an absolutely placed card sits in a placeholder
        (x0, y0), copies = positions[0], []
        for x, y in positions[1:]:
            copy = card.deepcopy()
            copy.translate((x - x0) / MM_PER_PX, (y - y0) / MM_PER_PX)
            copies.append(copy)
        holder.children = [*holder.children[: index + 1], *copies, *holder.children[index + 1:]]
        layout_backgrounds(page_box, image)  # backgrounds are placed at layout: place the copies' too
        document.pages[number] = Page(page_box)  # so are link areas


def _parent_of(box: Any, target: Any) -> Any:
    for child in box_children(box):
        if child is target:
            return box
        found = _parent_of(child, target)
        if found is not None:
            return found
    return None
