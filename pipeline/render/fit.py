"""Whether a laid-out document fits: the code that walks WeasyPrint's layout boxes.

(fill.py measures a fitting document's empty foot through this module's
`box_children` and `box_classes`; nothing else reads boxes.)

WeasyPrint never says when text does not fit. `check_layout` reads the boxes of a
laid-out document and raises `FitError` naming what is wrong: a string not laid
out in full (cut off at a page edge, hidden by CSS), a card broken across pages,
a wallet card whose text leaves its safe area (4 mm inside the trim, measured on
unbounded pages to say by how much and which strings), text smaller than the
format allows, or the wrong number of pages.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import weasyprint
from weasyprint.formatting_structure import boxes
from weasyprint.layout.absolute import AbsolutePlaceholder

from pipeline.document import CARD_BLEED_MM, CARD_MM, CARD_SAFE_MM, MM_PER_PX, FormatSpec
from pipeline.errors import FitError

OVERFLOW_TOLERANCE_MM = 0.05
PROOF_OVERLAY_CLASS = "proof-overlay"  # proof marks drawn over the content (templates)
# Lays the same HTML out again on pages too large to cut anything off.
LayoutAgain = Callable[[weasyprint.HTML], weasyprint.Document]


def check_layout(
    html: weasyprint.HTML, document: weasyprint.Document, spec: FormatSpec, where: str, layout_again: LayoutAgain | None
) -> None:
    """Everything printed in full, cards inside their safe area, the right number of pages.

    WeasyPrint never says when text does not fit: a card's text may run past
    its safe area, or be split onto the next page, or be dropped (a box of
    fixed height "forgets" children that cross the page bottom). So: every
    character of every string must be in the layout, each card must be one
    box, and every line of a card must lie inside its safe area. When one
    fails, the same HTML is laid out on huge pages to say by how much.
    """
    content_pages = [page for page in document.pages if not _has_class(page._page_box, "review")]
    page_boxes = [page._page_box for page in content_pages]
    problems = []
    expected_cards = sum(1 for element in html.etree_element.iter() if "card" in (element.get("class") or "").split())
    cards = [card for box in page_boxes for card in boxes_with_class(box, "card")]
    if len(cards) != expected_cards:
        problems.append(f"{len(cards) - expected_cards} card(s) broken across pages")
    # The stylesheet must keep the bleed and the safe margin that the checks below rely on.
    box_problems = [p for card in cards[:2] for p in _card_box_problems(card)] if len(cards) == expected_cards else []
    if any(_card_fit(card).overflow_mm > OVERFLOW_TOLERANCE_MM for card in cards):
        problems.append("a card's text leaves its safe area")
    printed, sizes = _laid_out_strings(page_boxes)
    for string_id, chars in _dom_chars(html.etree_element).items():
        if printed.get(string_id, Counter()) != chars:
            problems.append(f"string {string_id!r} is not printed in full (text cut off or hidden)")
    for string_id, size_pt in sizes.items():
        if size_pt < spec.min_text_pt - 0.01:
            box_problems.append(f"string {string_id!r} is set in {size_pt:.1f} pt; {spec.name} needs at least {spec.min_text_pt:g} pt")
    if spec.pages is not None and len(content_pages) != spec.pages:
        problems.append(f"content takes {len(content_pages)} pages instead of {spec.pages}")
    if problems and expected_cards:
        # Say by how much and where, measured where nothing can be cut off.
        # (Skipped when another style will be tried: the measurement costs a whole layout.)
        problems = (measure_cards(layout_again(html)) if layout_again else []) or problems
    problems = box_problems + problems
    if problems:
        raise FitError(f"{where}: " + "; ".join(dict.fromkeys(problems)))

def measure_cards(document: weasyprint.Document) -> list[str]:
    """Each card of a document laid out on unbounded pages that leaves its safe area, by how much."""
    problems = []
    for page in document.pages:
        for card in boxes_with_class(page._page_box, "card"):
            fit = _card_fit(card)
            if fit.overflow_mm > OVERFLOW_TOLERANCE_MM:
                outside = ", ".join(repr(i) for i in fit.strings_outside) or "its text"
                problems.append(
                    f"the card {fit.side} overflows its safe area ({CARD_SAFE_MM:g} mm inside the trim) "
                    f"by {fit.overflow_mm:.1f} mm; text outside it: {outside}"
                )
    return problems


@dataclass(frozen=True, slots=True)
class _CardFit:
    side: str
    overflow_mm: float  # how far the text reaches outside the safe area (0 if inside)
    strings_outside: tuple[str, ...]  # strings with text outside it, in document order


def box_children(box: object) -> list[Any]:
    """A box's children, absolutely placed ones included (fill.py reads boxes the same way)."""
    children = getattr(box, "children", None) or []
    return [child._box if isinstance(child, AbsolutePlaceholder) else child for child in children]


def box_classes(box: object) -> list[str]:
    """The CSS classes of the element a box lays out; none for generated content."""
    element = getattr(box, "element", None)
    if element is None or "::" in (getattr(box, "element_tag", None) or ""):
        return []
    return (element.get("class") or "").split()


def _has_class(box: object, name: str) -> bool:
    return name in box_classes(box) or any(_has_class(child, name) for child in box_children(box))


def boxes_with_class(box: object, name: str) -> Iterator[boxes.Box]:
    """The outermost boxes under `box` (itself included) whose element has the CSS class `name`."""
    if name in box_classes(box):
        yield box
        return
    for child in box_children(box):
        yield from boxes_with_class(child, name)


def _card_box_problems(card: boxes.Box) -> list[str]:
    """A card box must be the card plus its bleed, padded to the safe area."""
    problems = []
    size = (card.border_width() * MM_PER_PX, card.border_height() * MM_PER_PX)
    expected = (CARD_MM[0] + 2 * CARD_BLEED_MM, CARD_MM[1] + 2 * CARD_BLEED_MM)
    if any(abs(a - b) > OVERFLOW_TOLERANCE_MM for a, b in zip(size, expected)):
        problems.append(f"a card box is {size[0]:.1f} x {size[1]:.1f} mm, not {expected[0]:.1f} x {expected[1]:.1f} mm (card and bleed)")
    padding = min(card.padding_top, card.padding_right, card.padding_bottom, card.padding_left) * MM_PER_PX
    if padding < CARD_BLEED_MM + CARD_SAFE_MM - OVERFLOW_TOLERANCE_MM:
        problems.append(f"a card's padding is {padding:.1f} mm; it must be {CARD_BLEED_MM + CARD_SAFE_MM:g} mm ({CARD_BLEED_MM:g} mm bleed and {CARD_SAFE_MM:g} mm safe margin)")
    return problems


def _string_of(box: object, inherited: str | None) -> str | None:
    """The string a box prints: its element's data-string, else its parent's. Generated content has none."""
    if "::" in (getattr(box, "element_tag", None) or ""):
        return None
    element = getattr(box, "element", None)
    if element is None:
        return inherited
    return element.get("data-string") or inherited


def _card_fit(card: boxes.Box) -> _CardFit:
    """Where the card's lines and pictures lie against its safe area (its content box)."""
    left = card.content_box_x()
    top = card.content_box_y()
    right = left + card.width
    bottom = top + card.height
    worst = 0.0
    outside: dict[str, None] = {}

    def visit(box: object, string_id: str | None) -> None:
        nonlocal worst
        if PROOF_OVERLAY_CLASS in box_classes(box):
            return  # a proof's mark floats over the card; it is not the card's content
        string_id = _string_of(box, string_id)
        report = string_id
        extents = []
        if isinstance(box, boxes.LineBox):
            extents.append((top - box.position_y, box.position_y + box.height - bottom))
            report = string_id or _first_string(box)
        if isinstance(box, (boxes.TextBox, boxes.AtomicInlineLevelBox, boxes.BlockReplacedBox)):
            x = box.border_box_x()
            extents.append((left - x, x + box.border_width() - right))
        if isinstance(box, (boxes.AtomicInlineLevelBox, boxes.BlockReplacedBox)):
            y = box.border_box_y()
            extents.append((top - y, y + box.border_height() - bottom))
        amount = max((max(before, after) * MM_PER_PX for before, after in extents), default=0.0)
        if amount > OVERFLOW_TOLERANCE_MM:
            worst = max(worst, amount)
            if report:
                outside[report] = None
        for child in box_children(box):
            visit(child, string_id)

    visit(card, None)
    side = "back" if "back" in box_classes(card) else "front"
    return _CardFit(side, worst, tuple(outside))


def _first_string(box: object) -> str | None:
    found = _string_of(box, None)
    if found:
        return found
    for child in box_children(box):
        found = _first_string(child)
        if found:
            return found
    return None


def _normalise(text: str) -> str:
    """Text as compared between the HTML and the layout: no spaces, no soft hyphens, upper case."""
    return "".join(text.split()).replace("\u00ad", "").replace("\u2010", "").upper()


def _laid_out_strings(page_boxes: Sequence[boxes.Box]) -> tuple[dict[str, Counter[str]], dict[str, float]]:
    """The characters of each string as laid out on the given pages, and its smallest size in pt."""
    found: dict[str, Counter[str]] = {}
    sizes: dict[str, float] = {}

    def visit(box: object, string_id: str | None) -> None:
        string_id = _string_of(box, string_id)
        if isinstance(box, boxes.TextBox) and string_id:
            found.setdefault(string_id, Counter()).update(_normalise(box.text))
            size_pt = box.style["font_size"] * 0.75  # CSS px to pt
            sizes[string_id] = min(size_pt, sizes.get(string_id, size_pt))
        for child in box_children(box):
            visit(child, string_id)

    for page_box in page_boxes:
        visit(page_box, None)
    return found, sizes


def _dom_chars(root: Any) -> dict[str, Counter[str]]:
    """The characters of each string, as written in the HTML."""
    found: dict[str, Counter[str]] = {}
    for element in root.iter():
        string_id = element.get("data-string")
        if string_id:
            found.setdefault(string_id, Counter()).update(_normalise("".join(element.itertext())))
    return found
