"""Print-shop and crisis-reading minimums, measured from the PDFs (issue 11).

Shipped editions are rendered once per module (proof texts, as `outreach build` would)
and measured with PyMuPDF: smallest text, blank band at the foot of each page, the
large-print page 1, output intent, CMYK text, subset tags, byte identity.
"""

from __future__ import annotations

import io
import re

import pikepdf
import pymupdf
import pytest
from conftest import REPO

from pipeline.approval import language_states, proof_texts
from pipeline.content import read_source
from pipeline.errors import ContentError
from pipeline.imprint import read_imprints
from pipeline.project import Project
from pipeline.render import Renderer
from pipeline.render.prepress import prepare_for_press
from pipeline.typography import format_local_date, typeset

MAX_BLANK_SHARE = 0.12
CARD_MIN_PT = 7.0


@pytest.fixture(scope="module")
def source():
    return read_source(Project(REPO))


@pytest.fixture(scope="module")
def renderer(source):
    return Renderer(source)


@pytest.fixture(scope="module")
def rendered(source, renderer):
    """Every shipped edition in every one of its formats, as it prints now (finals for English, proofs otherwise)."""
    documents = {}
    for edition in source.editions.values():
        texts = proof_texts(language_states(source, edition.language))
        final = edition.language == "en"
        for format_name in edition.formats:
            documents[(edition.id, format_name)] = renderer.render(edition, format_name, texts, proof=not final)
    return documents


def content_pages(document) -> list:
    pdf = pymupdf.open(stream=document.pdf, filetype="pdf")
    pages = [page for page in pdf if "Strings awaiting approval" not in page.get_text()]
    return pages


def text_sizes(page) -> list[float]:
    return [span["size"] for block in page.get_text("dict")["blocks"] for line in block.get("lines", []) for span in line["spans"] if span["text"].strip()]


def blank_share(page) -> float:
    """The share of the trimmed page height below the lowest text, drawing or image inside the trim.

    Crop marks (in the bleed, beside the trim) and backgrounds that cover the whole page do not count.
    """
    # The trim box centred on the page (PyMuPDF reports it relative to the media box origin).
    width, height = page.trimbox.width, page.trimbox.height
    left, top = (page.rect.width - width) / 2, (page.rect.height - height) / 2
    trim = pymupdf.Rect(left, top, left + width, top + height)

    def inside(rect) -> bool:
        return rect.x0 >= trim.x0 - 0.5 and rect.x1 <= trim.x1 + 0.5 and rect.y1 <= trim.y1 + 0.5 and rect.height < trim.height * 0.9

    bottoms = [pymupdf.Rect(b[:4]).y1 for b in page.get_text("blocks") if inside(pymupdf.Rect(b[:4]))]
    bottoms += [d["rect"].y1 for d in page.get_drawings() if inside(d["rect"]) and d["rect"].width < trim.width * 0.95]
    lowest = max(bottoms, default=trim.y0)
    return max(0.0, trim.y1 - lowest) / trim.height


def text_lines(page) -> list[tuple[pymupdf.Rect, str, int]]:
    """Each horizontal line of text (proof marks left out) as a box from cap height to descender, with its block."""
    lines = []
    for number, block in enumerate(page.get_text("dict")["blocks"]):
        for line in block.get("lines", []):
            spans = [span for span in line["spans"] if span["text"].strip()]
            text = "".join(span["text"] for span in spans)
            if not spans or "PROOF" in text or abs(line["dir"][1]) > 0.01:
                continue
            box = pymupdf.Rect(line["bbox"])
            box.y0 = min(span["origin"][1] - 0.7 * span["size"] for span in spans)
            box.y1 = max(span["origin"][1] + 0.15 * span["size"] for span in spans)
            lines.append((box, text, number))
    return lines


def test_no_text_lies_over_other_text(rendered):
    """Spreading moves laid-out boxes and sheets repeat a card: nothing may end up over something else."""
    overlaps = []
    for key, document in rendered.items():
        for number, page in enumerate(content_pages(document)):
            lines = text_lines(page)
            for i, (box, text, block) in enumerate(lines):
                for other, other_text, other_block in lines[i + 1:]:
                    common = box & other
                    if block != other_block and not common.is_empty and common.width > 1.5 and common.height > 0.5:
                        overlaps.append((*key, number + 1, text[:30], other_text[:30]))
    assert not overlaps, overlaps[:10]


def test_every_printed_phone_number_stands_apart_from_the_words_beside_it(rendered, source):
    """A number that touches the next word ("1-800-662-4357Disponible") is misread: no letter or digit may
    touch a registry number printed, and the words beside it keep room, on every page of every document."""
    numbers = {line.display_number() for region in source.registry.regions.values() for line in region.entries if source.registry.is_printable(line)}
    glued = []
    for key, document in rendered.items():
        for number, page in enumerate(content_pages(document)):
            words = page.get_text("words")  # (x0, y0, x1, y1, word, block, line, word number)
            for word in words:
                text = word[4]
                found = max((n for n in numbers if n in text), key=len, default=None)
                if found is None:
                    continue
                rest = text.replace(found, " ")
                if re.search(r"[^\W_]", rest, re.ASCII) or re.search(r"[^\W\d_]", rest) and not re.search(r"[\u3000-\u9fff]", rest):
                    glued.append((*key, number + 1, text))  # a Latin letter or digit against it (Han beside a number is how Chinese is set)
                    continue
                for other in words:
                    same_line = other is not word and abs(other[1] - word[1]) < 2 and abs(other[3] - word[3]) < 2 and re.search(r"\w", other[4])
                    gap = max(other[0] - word[2], word[0] - other[2])
                    if same_line and -0.5 < gap < 1.5:  # points; 1.5 pt = 0.5 mm
                        glued.append((*key, number + 1, f"{text} | {other[4]} ({gap:.1f} pt apart)"))
    assert not glued, glued[:10]


def test_no_card_text_under_7_pt(rendered):
    smallest = {}
    for (edition_id, format_name), document in rendered.items():
        if format_name in ("card", "sheet-letter", "sheet-a4"):
            sizes = [s for page in content_pages(document) for s in text_sizes(page) if s > 5.5]  # the proof band is 5 pt
            smallest[edition_id, format_name] = min(sizes)
    assert smallest and min(smallest.values()) >= CARD_MIN_PT - 0.05, sorted(smallest.items(), key=lambda i: i[1])[:5]


SHORT_STEPS = {b: "Go." for b in ("call-emergency", "give-naloxone", "rescue-breathing", "naloxone-benzos-keep-breathing", "side-and-stay")}


def test_blank_band_measure_sees_an_empty_foot(renderer, source, monkeypatch):
    """The measure itself: a card front whose text stops halfway is found (laid out without spreading)."""
    english = {s.id: s.text for s in source.strings.values()}
    monkeypatch.setattr("pipeline.render.fill._share", lambda tiers, slack: {})
    document = renderer.render(source.editions["en-US"], "card", dict(english, **SHORT_STEPS), proof=False)
    assert blank_share(content_pages(document)[0]) > MAX_BLANK_SHARE


def test_a_sparse_card_face_is_spread_over_its_whole_height(renderer, source):
    """Five one-word steps (content no shipped edition has): the face is still used to its foot."""
    english = {s.id: s.text for s in source.strings.values()}
    document = renderer.render(source.editions["en-US"], "card", dict(english, **SHORT_STEPS), proof=False)
    assert [round(blank_share(page), 3) for page in content_pages(document)] == [pytest.approx(0.07, abs=0.05)] * 2


def test_links_and_backgrounds_move_with_the_spread_lines(renderer, source):
    """Spreading moves laid-out boxes: each phone link's area and the back's white panel must move with them."""
    english = {s.id: s.text for s in source.strings.values()}
    document = renderer.render(source.editions["en-US"], "card", dict(english, **SHORT_STEPS), proof=False)
    back = content_pages(document)[1]
    links = [link for link in back.get_links() if link.get("uri", "").startswith("tel:")]
    assert links
    for link in links:
        number = link["uri"].removeprefix("tel:")
        shown = [r for r in back.search_for(number[-4:]) if r.intersects(link["from"])]
        assert shown, f"the link to {number} is not over its number"
    # The white panel of signs reaches below its last (moved) line: its background grew with it.
    last_sign = max(r.y1 for w in ("overdosing", "mixed", "lips") for r in back.search_for(w))
    title = min(r.y0 for r in back.search_for("GET HELP"))
    strip = back.get_pixmap(dpi=144, clip=pymupdf.Rect(back.rect.x0 + 14, last_sign, back.rect.x0 + 15, title))
    colours = [strip.pixel(0, y)[:3] for y in range(strip.height)]
    assert colours[0] == (255, 255, 255) and colours[-1] != (255, 255, 255), colours[:: max(1, len(colours) // 8)]


def test_a_sparse_large_print_page_is_spread_without_moving_a_section(renderer, source):
    """Large print with the back sections cut short (held-out content): every page still used, nothing split or moved."""
    english = {s.id: s.text for s in source.strings.values()}
    short = {k: v[: max(12, len(v) // 2)].rsplit(" ", 1)[0] + "." for k, v in english.items() if k.startswith(("danger", "stay", "naloxone-"))}
    texts = dict(english, **short)
    document = renderer.render(source.editions["en-US"], "flyer-letter-large", texts, proof=True)
    pages = content_pages(document)
    assert max(blank_share(page) for page in pages) <= MAX_BLANK_SHARE, [round(blank_share(p), 3) for p in pages]
    emergency = source.registry.first_printable("US", "emergency").display_number()
    assert emergency in pages[0].get_text()


@pytest.mark.parametrize(
    "kind",
    ["card", "flyer-letter", "flyer-a4", "sheet-letter", "sheet-a4", "flyer-letter-large"],  # every format an edition prints
)
def test_no_page_ends_with_more_than_12_percent_blank(rendered, kind):
    worst = {}
    for (edition_id, format_name), document in rendered.items():
        if format_name != kind:
            continue
        for number, page in enumerate(content_pages(document), 1):
            worst[edition_id, number] = blank_share(page)
    assert worst
    over = {k: round(v, 3) for k, v in worst.items() if v > MAX_BLANK_SHARE}
    assert not over, over


def test_large_print_page_one_has_the_emergency_number_and_every_step(rendered, source):
    for (edition_id, format_name), document in rendered.items():
        if not format_name.endswith("-large"):
            continue
        edition = source.editions[edition_id]
        page_one = " ".join(content_pages(document)[0].get_text().split())
        emergency = source.registry.first_printable(edition.region, "emergency")
        assert emergency.display_number() in page_one, edition_id
        steps = next(s for s in source.layouts["flyer"].sections if s.style == "steps")
        numbers = re.findall(r"(?<!\d)([1-9])(?!\d)", page_one)
        assert all(str(n) in numbers for n in range(1, len(steps.blocks) + 1)), (edition_id, page_one[:200])


def test_finals_carry_an_output_intent_cmyk_text_and_unique_subset_tags(rendered):
    tags_seen: dict[str, bytes] = {}
    for key in (("en-US", "flyer-letter"), ("en-US", "card"), ("en-GB", "flyer-a4")):
        with pikepdf.open(io.BytesIO(rendered[key].pdf)) as pdf:
            intents = pdf.Root.OutputIntents
            assert intents[0].S == "/GTS_PDFX" and int(intents[0].DestOutputProfile.N) == 4
            assert "/StructTreeRoot" in pdf.Root and str(pdf.Root.Lang) == "en"
            with pdf.open_metadata() as meta:
                assert meta.get("{http://www.npes.org/pdfx/ns/id/}GTS_PDFXVersion") == "PDF/X-4"
            for page in pdf.pages:
                operators = {str(op) for _, op in pikepdf.parse_content_stream(page)}
                assert not operators & {"rg", "RG"}, key  # every colour is CMYK
                assert "/TrimBox" in page.obj
            for obj in pdf.objects:
                if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/FontDescriptor":
                    name = str(obj.FontName)[1:]
                    data = (obj.get("/FontFile2") or obj.get("/FontFile3")).read_raw_bytes()
                    assert re.match(r"^[A-Z]{6}\+", name)
                    assert tags_seen.setdefault(name, data) == data, f"{name}: two different subsets share a tag"


def test_black_text_is_pure_k(rendered):
    """Fills are CMYK (CSS device-cmyk() gives `scn` in DeviceCMYK, prepress turns RGB into `k`); black is K only."""
    fills = []
    with pikepdf.open(io.BytesIO(rendered["en-US", "flyer-letter"].pdf)) as pdf:
        for operands, op in pikepdf.parse_content_stream(pdf.pages[0]):
            if str(op) in ("k", "scn", "sc") and len(operands) == 4:
                fills.append(tuple(float(v) for v in operands))
    assert (0.0, 0.0, 0.0, 1.0) in fills
    assert all(not (c == m == y and c > 0) for c, m, y, _ in fills)  # no four-colour black or grey


def test_prepress_gives_the_same_bytes(rendered):
    document = rendered["en-US", "card"]
    assert prepare_for_press(document.pdf, 3.0, __import__("datetime").date(2026, 11, 21)) == prepare_for_press(document.pdf, 3.0, __import__("datetime").date(2026, 11, 21))


def test_shared_subset_tag_is_made_unique():
    """Two different subsets that WeasyPrint tagged alike get different tags."""
    pdf = pikepdf.new()
    for data in (b"subset one", b"subset two"):
        descriptor = pikepdf.Dictionary(Type=pikepdf.Name.FontDescriptor, FontName=pikepdf.Name("/HUHQIP+Noto-Sans"), FontFile2=pikepdf.Stream(pdf, data))
        font = pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.TrueType, BaseFont=pikepdf.Name("/HUHQIP+Noto-Sans"), FontDescriptor=pdf.make_indirect(descriptor))
        pdf.add_blank_page().Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=pdf.make_indirect(font)))
    buffer = io.BytesIO()
    pdf.save(buffer)
    with pikepdf.open(io.BytesIO(prepare_for_press(buffer.getvalue(), 0.0, __import__("datetime").date(2026, 1, 1)))) as out:
        names = {str(page.Resources.Font.F1.BaseFont) for page in out.pages}
    assert len(names) == 2 and all(n.endswith("+Noto-Sans") for n in names)


# ---------------------------------------------------------------- content where people look


def page_text(document) -> str:
    return " ".join(" ".join(page.get_text() for page in content_pages(document)).split())


def test_card_names_benzos_and_keeps_breathing(rendered):
    text = page_text(rendered["en-US", "card"])
    assert "benzos" in text and "keep giving breaths" in text


def test_first_step_is_calling_the_emergency_number(rendered):
    with pymupdf.open(stream=rendered["en-US", "flyer-letter"].pdf, filetype="pdf") as pdf:
        text = " ".join(pdf[0].get_text().split())
    assert text.index("Call 911 now") < text.index("Give naloxone") < text.index("If they took benzos too")


def test_en_gb_reads_as_british_english(rendered):
    text = page_text(rendered["en-GB", "flyer-a4"]) + page_text(rendered["en-GB", "card"])
    for us_word in ("Narcan", "gray", "jail", "Klonopin"):
        assert us_word not in text, us_word
    for uk_word in ("Prenoxad", "Nyxoid", "grey", "prison", "clonazepam"):
        assert uk_word in text, uk_word


def test_dont_use_alone_prints_where_there_is_no_line(rendered, source):
    assert "Don’t use alone: have someone with you who can call" in page_text(rendered["en-GB", "flyer-a4"])
    assert "never-use-alone line" in page_text(rendered["en-US", "flyer-letter"])
    assert source.for_region("use-with-someone", "US") == "dont-use-alone"
    assert source.for_region("use-with-someone", "GB") == "use-with-someone"


def test_registry_fixes_for_fr_and_ph(rendered):
    assert "(Paris)" in page_text(rendered["fr-FR", "flyer-a4"])
    tl = page_text(rendered["tl-PH", "flyer-a4"])
    assert "1553" in tl and "0917 899 8727" in tl


def test_footer_has_publisher_version_and_local_date(rendered, source):
    text = page_text(rendered["en-US", "flyer-letter"])
    imprint = read_imprints(source)["en-US"]
    assert imprint.publisher in text and imprint.version in text
    assert re.fullmatch(r"v[0-9a-f]{7}-\d{8}", imprint.version)
    assert format_local_date(source.registry.compiled, "fr", "FR") == "21 novembre 2026"


def test_distributor_phone_must_come_from_the_registry(tmp_path):
    import shutil

    shutil.copytree(REPO / "source", tmp_path / "source")
    publication = tmp_path / "source" / "publication.yaml"
    publication.write_text("publisher: Test\ndistributors:\n  en-US:\n    name: Street Team\n    phone: 555-0100\n", encoding="utf-8")
    with pytest.raises(ContentError, match=r"publication.yaml:5: en-US: distributor phone '555-0100' is not a printable registry number"):
        read_imprints(read_source(Project(tmp_path)))
    publication.write_text("publisher: Test\ndistributors:\n  en-US:\n    name: Street Team\n    naloxone: Free kits at 1 Main St\n    phone: 1-800-662-4357\n", encoding="utf-8")
    distributor = read_imprints(read_source(Project(tmp_path)))["en-US"].distributor
    assert distributor and distributor.number == "1-800-662-4357"


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("Street 'Xanax' won't help", "en", "Street ‘Xanax’ won’t help"),
        ("Donnez l'adresse : \"vite\" !", "fr", "Donnez l’adresse\u202f: «\u202fvite\u202f»\u202f!"),
        ('Er sagt "nein"', "de", "Er sagt „nein“"),
        ("Call {emergency} now", "en", "Call {emergency} now"),
    ],
)
def test_typographic_quotes_per_language(text, language, expected):
    assert typeset(text, language) == expected


def test_print_shop_notes_list_each_file():
    from pipeline.bundle import print_shop_notes

    notes = print_shop_notes([{"path": "en-US/card.pdf", "format": "card"}, {"path": "en-GB/flyer-a4.pdf", "format": "flyer-a4"}])
    assert "en-US/card.pdf: trim 85.6 x 54 mm; bleed 3 mm; pages 2; duplex flip short edge" in notes
    assert "en-GB/flyer-a4.pdf: trim 210 x 297 mm; bleed 0 mm; pages 2; duplex flip long edge" in notes


# ---------------------------------------------------------------- accessibility, read back from the PDF


def struct_elements(pdf: pikepdf.Pdf) -> list:
    return [o for o in pdf.objects if isinstance(o, pikepdf.Dictionary) and o.get("/Type") == "/StructElem"]


def test_qr_alt_text_says_what_the_code_does(rendered, source):
    with pikepdf.open(io.BytesIO(rendered["en-US", "flyer-letter"].pdf)) as pdf:
        alts = [str(e.Alt) for e in struct_elements(pdf) if e.S == "/Figure" and "/Alt" in e]
    assert alts == [source.english("ui.qr.alt")]
    assert not any(a.startswith("http") for a in alts)


def test_step_numbers_and_bullets_are_tagged_list_labels(rendered):
    with pikepdf.open(io.BytesIO(rendered["en-US", "card"].pdf)) as pdf:
        kinds = [str(e.S) for e in struct_elements(pdf)]
    assert kinds.count("/Lbl") == kinds.count("/LI") >= 8  # 5 steps and 3 signs, each with its label


def test_latin_words_in_arabic_and_persian_carry_their_language(rendered):
    for edition_id in ("ar-US", "fa-CA"):
        with pikepdf.open(io.BytesIO(rendered[edition_id, "card"].pdf)) as pdf:
            tagged = [e for e in struct_elements(pdf) if "/Lang" in e]
            assert str(pdf.Root.Lang) == edition_id.split("-")[0]
        assert tagged and all(e.S == "/Span" and str(e.Lang) == "en" for e in tagged), edition_id
    with pikepdf.open(io.BytesIO(rendered["en-US", "card"].pdf)) as pdf:
        assert not [e for e in struct_elements(pdf) if "/Lang" in e]  # nothing foreign in English


def test_foreign_word_markup_keeps_tags_and_entities():
    from pipeline.typography import tag_foreign_words

    marked = tag_foreign_words('أعطِ (Narcan) &amp; <bdi dir="ltr">911</bdi>', "en")
    assert marked == 'أعطِ <article class="foreign" lang="en" dir="ltr">(Narcan)</article> &amp; <bdi dir="ltr">911</bdi>'


def reading_order(document) -> str:
    """The text in the order the PDF draws (and tags) it, page after page (pypdf keeps Arabic in reading order)."""
    from pypdf import PdfReader

    pages = [page.extract_text() or "" for page in PdfReader(io.BytesIO(document.pdf)).pages]
    text = " ".join(p for p in pages if "Strings awaiting approval" not in p)
    return re.sub("[\u200e\u200f\u202a-\u202e\u2066-\u2069]", "", text)


@pytest.mark.parametrize("key", [("en-US", "flyer-letter"), ("en-US", "flyer-letter-large"), ("en-US", "card"), ("en-GB", "flyer-a4"), ("ar-US", "card")])
def test_reading_order_puts_the_emergency_first_and_the_steps_in_order(rendered, source, key):
    edition_id, format_name = key
    edition = source.editions[edition_id]
    text = reading_order(rendered[key])
    squeezed = "".join(text.split())
    emergency = source.registry.first_printable(edition.region, "emergency").display_number()
    states = language_states(source, edition.language)
    texts = proof_texts(states)
    steps = next(s for s in source.layouts["card-front" if format_name == "card" else "flyer"].sections if s.style == "steps")
    positions = []
    for block in steps.blocks:
        resolved = source.for_region(block, edition.region)
        # The first characters of the step, spaces left out (extraction spaces numbers in right-to-left text).
        words = "".join(typeset(texts[resolved], edition.language).replace("{emergency}", emergency).split())[:14]
        assert words in squeezed, (key, words)
        positions.append(squeezed.index(words))
    assert positions == sorted(positions), key
    assert squeezed.index(emergency) < positions[1]  # the number to call comes before the second step


def test_a_spread_that_would_push_text_past_the_foot_is_not_kept(renderer, source, monkeypatch):
    """Spreading may only use the empty foot: a gap that pushes text past the page's foot is dropped."""
    english = {s.id: s.text for s in source.strings.values()}
    edition = source.editions["en-US"]

    def pages_of_headings(document) -> list[int]:
        return [n for n, page in enumerate(content_pages(document)) for _ in range(page.get_text().count("Naloxone\n"))]

    monkeypatch.setattr("pipeline.render.fill._share", lambda tiers, slack: {})
    plain = renderer.render(edition, "flyer-letter-large", english, proof=False)
    monkeypatch.setattr("pipeline.render.fill._share", lambda tiers, slack: {id(tier): 150.0 for tier in tiers})
    pushed = renderer.render(edition, "flyer-letter-large", english, proof=False)
    assert pages_of_headings(plain) and pages_of_headings(pushed) == pages_of_headings(plain)
    assert pushed.pdf == plain.pdf


@pytest.mark.parametrize(
    "text, language, expected",
    [
        ("این کار نمی شود.", "fa", "این کار نمی\u200cشود."),
        ("می توانند", "fa", "می\u200cتوانند"),
        ("بنزودیازپین ها و لب های کبود", "fa", "بنزودیازپین\u200cها و لب\u200cهای کبود"),
        # quiet: already joined, Arabic (no such rule), a word that merely starts or ends alike, Latin
        ("نمی\u200cشود", "fa", "نمی\u200cشود"),
        ("این کار نمی شود.", "ar", "این کار نمی شود."),
        ("سامی شود ماهی هارا", "fa", "سامی شود ماهی هارا"),
        ("Call {emergency} now", "fa", "Call {emergency} now"),
    ],
)
def test_persian_joins_prefix_and_plural_with_a_zwnj(text, language, expected):
    assert typeset(text, language) == expected


def test_persian_pdf_has_no_verb_prefix_standing_apart(rendered, source):
    """Read from the PDF: the shipped Persian text spaces نمی/می apart; the card prints them joined."""
    prefix_apart = re.compile(r"(?<![\w\u200c])ن?می (?=[\u0621-\u064a\u067e\u0686\u0698\u06a9\u06af\u06cc])")
    fa = [e for e in source.editions.values() if e.language == "fa" and (e.id, "card") in rendered]
    assert fa
    texts = proof_texts(language_states(source, "fa"))
    assert any(prefix_apart.search(t) for t in texts.values())  # the case exists in the translation
    printed = page_text(rendered[fa[0].id, "card"])
    assert "می" in printed and not prefix_apart.search(printed), printed[:300]


CJK_CHAR = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


@pytest.mark.parametrize(
    "text, language, expected",
    [
        ("请给纳洛酮药剂。", "zh-Hans", "请给纳洛酮药\u2060剂。"),
        ("救護車來。", "zh-Hant", "救護車\u2060來。"),
        ("助けを呼ぶ", "ja", "助けを呼\u2060ぶ"),
        # quiet: a placeholder or Latin at the end, one character only, not Chinese or Japanese
        ("拨打 {emergency}", "zh-Hans", "拨打 {emergency}"),
        ("使用（Narcan）", "zh-Hans", "使用（Narcan）"),
        ("剂", "zh-Hans", "剂"),
        ("请给纳洛酮药剂。", "ko", "请给纳洛酮药剂。"),
    ],
)
def test_cjk_last_two_characters_are_joined(text, language, expected):
    assert typeset(text, language) == expected


def test_no_cjk_character_alone_on_a_line(renderer, source):
    """Read from the PDF: no line of a Chinese flyer is one character and its punctuation (the shipped zh-Hans text had "助。")."""
    lonely = []
    for edition in source.editions.values():
        if edition.language.split("-")[0] not in ("zh", "ja") or "flyer-letter" not in edition.formats:
            continue
        document = renderer.render(edition, "flyer-letter", proof_texts(language_states(source, edition.language)), proof=True)
        for page in content_pages(document):
            for block in page.get_text("dict")["blocks"]:
                for line in block.get("lines", []):
                    text = "".join(span["text"] for span in line["spans"]).strip()
                    if len(CJK_CHAR.findall(text)) == 1 and not re.search(r"[A-Za-z0-9]", text):
                        lonely.append((edition.id, text))
    assert not lonely, lonely


@pytest.mark.parametrize("format_name", ["flyer-letter", "flyer-letter-large"])
def test_a_wrapped_help_title_hangs_under_its_first_word_not_under_the_icon(renderer, source, format_name):
    """fr-CA's "Trouver de l'aide" wrapped its second line under the phone icon; any title that wraps must hang."""
    edition = source.editions["en-US"]
    texts = proof_texts(language_states(source, "en"))
    texts["ui.section.get-help"] = "Wrapping title words here for everyone who needs help tonight, tomorrow and every day after"
    document = renderer.render(edition, format_name, texts, proof=True)
    with pymupdf.open(stream=document.pdf, filetype="pdf") as pdf:
        for page in pdf:
            words = page.get_text("words")
            first = next((w for w in words if w[4] == "Wrapping"), None)
            if first is None:
                continue
            title = [w for w in words if w[5] == first[5]]  # the title's text block
            starts = {}
            for w in title:
                starts.setdefault(w[6], w[0])  # each line's first word's left edge
            assert len(starts) >= 2, "the test title should wrap"
            assert max(starts.values()) - min(starts.values()) < 1.0, starts
            return
    pytest.fail("the help title was not found")
