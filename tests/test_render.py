"""Tests for pipeline/render.py: what the printed PDFs contain, their sizes, and every way a render must fail.

One Renderer serves the whole module, as in a real run. Texts come from the English
source; other languages use short sample sentences written here to exercise each
script (shaping, right-to-left, CJK).
"""

from __future__ import annotations

import dataclasses
import io
import re
import shutil
import subprocess
from pathlib import Path

import pymupdf
import pytest
import segno
from pypdf import PdfReader

from pipeline.content import Edition, read_source
from pipeline.project import Project
from pipeline.render import FORMATS, RenderError, Renderer, TemplateFetcher, sheet_geometry
from pipeline.spans import PHONE_RE, digits_of
from pipeline.typography import typeset

ROOT = Path(__file__).resolve().parents[1]
PROOF_MARK = "PROOF — NOT FOR DISTRIBUTION"
MM = 72 / 25.4  # PDF points per millimetre
BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")

# A short genuine sentence per language: the card title ("If someone won't wake up")
# and the first step ("Call {emergency} now").
SAMPLES = {
    "en": ("If someone won't wake up", "Call {emergency} now."),
    "es": ("Si alguien no despierta", "Llame al {emergency} ahora."),
    "fr": ("Si une personne ne se réveille pas", "Appelez le {emergency} tout de suite."),
    "pt": ("Se alguém não acorda", "Ligue para o {emergency} agora."),
    "vi": ("Nếu ai đó không tỉnh dậy", "Gọi {emergency} ngay."),
    "tl": ("Kung may taong hindi magising", "Tumawag agad sa {emergency}."),
    "ht": ("Si yon moun pa reveye", "Rele {emergency} kounye a."),
    "so": ("Haddii qof uusan soo toosin", "Hadda wac {emergency}."),
    "ru": ("Если человек не просыпается", "Сразу звоните {emergency}."),
    "uk": ("Якщо людина не прокидається", "Негайно телефонуйте {emergency}."),
    "ar": ("إذا لم يستيقظ شخص ما", "اتصل بالرقم {emergency} فورًا."),
    "fa": ("اگر کسی بیدار نمی‌شود", "فوراً با {emergency} تماس بگیرید."),
    "hi": ("अगर कोई जाग नहीं रहा है", "तुरंत {emergency} पर कॉल करें।"),
    "bn": ("কেউ যদি জেগে না ওঠে", "এখনই {emergency} নম্বরে ফোন করুন।"),
    "zh-Hans": ("如果有人叫不醒", "立即拨打{emergency}。"),
    "zh-Hant": ("如果有人叫不醒", "立即撥打{emergency}。"),
    "ko": ("누군가 깨어나지 않으면", "즉시 {emergency}에 전화하세요."),
    "ja": ("誰かが目を覚まさないとき", "すぐに{emergency}に電話してください。"),
    "am": ("አንድ ሰው ካልነቃ", "ወዲያውኑ ወደ {emergency} ይደውሉ።"),
}

# Several sentences for the scripts that need shaping, for a whole card.
SHAPING = {
    "ar": {  # a whole card
        "ui.card.front-title": "إذا لم يستيقظ شخص ما",
        "ui.section.what-to-do": "ماذا تفعل",
        "call-emergency": "اتصل بالرقم {emergency} فورًا، وأعطِ العنوان، وقل إن الشخص لا يتنفس أو لا يستيقظ.",
        "give-naloxone": "أعطِ النالوكسون (ناركان) إن كان معك، وأعطِ جرعة أخرى إذا لم يتحسن خلال 2 إلى 3 دقائق.",
        "rescue-breathing": "إذا لم يكن يتنفس، أمِل رأسه إلى الخلف، وأغلق أنفه، وأعطِ نفَسًا واحدًا كل 5 ثوانٍ.",
        "side-and-stay": "إذا كان يتنفس، ضعه على جنبه حتى لا يختنق، وابقَ معه حتى تصل المساعدة.",
        "ui.section.signs": "علامات الجرعة الزائدة",
        "signs-wont-wake": "الشخص الذي لا يستيقظ، وجسمه رخو، وحدقتا عينيه صغيرتان جدًا، قد يكون في جرعة زائدة.",
        "signs-breathing-color": "من العلامات: تنفس بطيء أو متوقف، وصوت غرغرة أو شخير، وشفاه زرقاء أو رمادية.",
        "ui.section.get-help": "اطلب المساعدة",
        "ui.label.call": "اتصل",
        "ui.category.emergency": "الطوارئ",
        "ui.category.drug_alcohol_helpline": "خط المساعدة للمخدرات والكحول",
        "ui.category.never_use_alone": "خط «لا تتعاطَ وحدك»",
        "ui.category.poison_centre": "مساعدة السموم",
        "ui.label.open-24-7": "مفتوح 24/7",
        "ui.label.free": "مجاني",
    },
    "fa": {
        "ui.card.front-title": "اگر کسی بیدار نمی‌شود",
        "call-emergency": "فوراً با {emergency} تماس بگیرید و نشانی را بگویید.",
        "give-naloxone": "اگر نالوکسان دارید، آن را بدهید.",
        "ui.label.call": "تماس بگیرید",
    },
    "zh-Hans": {
        "ui.card.front-title": "如果有人叫不醒",
        "call-emergency": "立即拨打{emergency}，说出地址。",
        "give-naloxone": "如果有纳洛酮（Narcan），马上给药。",
        "signs-breathing-color": "呼吸很慢或停止，嘴唇发青或发灰。",
        "ui.label.call": "拨打",
        "ui.category.emergency": "急救",
    },
    "hi": {
        "ui.card.front-title": "अगर कोई जाग नहीं रहा है",
        "call-emergency": "तुरंत {emergency} पर कॉल करें और पता बताएं।",
        "signs-wont-wake": "व्यक्ति जाग नहीं रहा है और बहुत धीरे सांस ले रहा है।",
    },
    "am": {
        "ui.card.front-title": "አንድ ሰው ካልነቃ",
        "call-emergency": "ወዲያውኑ ወደ {emergency} ይደውሉ እና አድራሻውን ይንገሩ።",
        "signs-wont-wake": "ሰውየው አይነቃም፤ በጣም በዝግታ ይተነፍሳል።",
    },
}


@pytest.fixture(scope="module")
def source():
    return read_source(Project(ROOT))


@pytest.fixture(scope="module")
def renderer(source):
    return Renderer(source)


@pytest.fixture(scope="module")
def english(source):
    return {s.id: s.text for s in source.strings.values()}


def pdf_pages(pdf: bytes) -> list[str]:
    return [BIDI_CONTROLS.sub("", page.extract_text() or "") for page in PdfReader(io.BytesIO(pdf)).pages]


def flat(text: str) -> str:
    return " ".join(text.split())


def edition_for(language: str, region: str = "US", formats=("card",)) -> Edition:
    return Edition(f"{language}-{region}", language, region, tuple(formats), ("emergency", "poison_centre"), 0)


@pytest.fixture(scope="module")
def us_flyer(renderer, source, english):
    return renderer.render(source.editions["en-US"], "flyer-letter", english, proof=False)


# ---------------------------------------------------------------- content


def test_flyer_prints_headline_and_region_numbers(us_flyer, source):
    text = flat(" ".join(pdf_pages(us_flyer.pdf)))
    assert source.english("ui.headline") in text
    printed = [entry.display_number() for entry in source.printed_hotlines(source.editions["en-US"])]
    for number in ("911", "1-800-222-1222", *printed):
        assert number in text
    assert "compiled November 21, 2026." in text  # {date}: the registry's compile date, in the edition's locale
    forbidden = [d.digits for d in source.registry.do_not_print if len(d.digits) >= 7]
    for match in PHONE_RE.finditer(text):
        assert not any(f in digits_of(match.group(0)) for f in forbidden), match.group(0)
    assert us_flyer.page_count == 2


def test_flyer_labels_only_where_the_registry_says(renderer, source, english):
    edition = source.editions["fr-FR"]  # lines with and without 24/7 and free
    document = renderer.render(edition, "flyer-a4", english, proof=False)
    text = " ".join(pdf_pages(document.pdf))
    lines = source.printed_hotlines(edition)
    assert text.count("Open 24/7") == sum(e.is_open_24_7 for e in lines)
    assert len(re.findall(r"\bFree\b", text)) == sum(e.is_free for e in lines)
    assert "Call 15" in flat(text)


def test_strings_that_do_not_apply_to_the_region_are_left_out(renderer, source, english):
    document = renderer.render(source.editions["fr-CA"], "flyer-letter", english, proof=False)
    text = flat(" ".join(pdf_pages(document.pdf)))
    assert "Carry naloxone" not in text  # carry-naloxone: US only
    assert "Free, private help lines" not in text  # {helpline}: no printable CA entry
    never_use_alone = source.registry.first_printable("CA", "never_use_alone")
    assert never_use_alone and never_use_alone.display_number() in text


def test_pdf_is_tagged_with_language_and_title(us_flyer, source):
    reader = PdfReader(io.BytesIO(us_flyer.pdf))
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root and root["/MarkInfo"]["/Marked"]
    assert root["/Lang"] == "en"
    assert reader.metadata.title == source.english("ui.headline")


def test_font_list_for_every_language(source):
    css = (ROOT / "templates" / "base.css").read_text(encoding="utf-8")
    for code in source.languages:
        assert f":lang({code})" in css, code


def test_flyer_prints_the_editions_qr_code(us_flyer, source):
    """The printed QR code is segno's symbol for the edition's URL, module for module."""
    url = source.editions["en-US"].qr
    assert url
    symbol = [list(row) for row in segno.make(url, error="q", micro=False, boost_error=False).matrix]
    modules = len(symbol) + 8  # with the quiet zone of 4 modules
    with pymupdf.open(stream=us_flyer.pdf, filetype="pdf") as document:
        page = document[1]
        squares = [d["rect"] for d in page.get_drawings() if d.get("fill") == (1.0, 1.0, 1.0) and abs(d["rect"].width - d["rect"].height) < 0.5]
        area = max(squares, key=lambda r: r.width)
        assert area.width >= 20 * MM  # at least 2 cm
        pixmap = page.get_pixmap(clip=area, dpi=600, colorspace=pymupdf.csGRAY)
    step = pixmap.width / modules
    for row in range(modules):
        for column in range(modules):
            inside = 4 <= row < modules - 4 and 4 <= column < modules - 4
            dark = inside and symbol[row - 4][column - 4]
            value = pixmap.pixel(int((column + 0.5) * step), int((row + 0.5) * step))[0]
            assert (value < 128) == bool(dark), (row, column)
    assert url in "".join(pdf_pages(us_flyer.pdf)[1].split())  # its address, written under it


def test_qr_url_must_be_allowlisted(renderer, source, english):
    edition = dataclasses.replace(source.editions["en-US"], qr="https://example.org/not-listed")
    with pytest.raises(RenderError, match="QR code URL https://example.org/not-listed is not in source/urls.yaml"):
        renderer.render(edition, "flyer-letter", english, proof=False)


# ---------------------------------------------------------------- sizes


@pytest.mark.parametrize(
    ("edition_id", "format_name", "size"),
    [("en-US", "flyer-letter", (612, 792)), ("en-GB", "flyer-a4", (595.28, 841.89))],
)
def test_flyer_page_size(renderer, source, english, edition_id, format_name, size):
    document = renderer.render(source.editions[edition_id], format_name, english, proof=False)
    for page in PdfReader(io.BytesIO(document.pdf)).pages:
        assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx(size, abs=0.01)


def test_card_trim_and_bleed(renderer, source, english):
    document = renderer.render(source.editions["en-US"], "card", english, proof=False)
    pages = PdfReader(io.BytesIO(document.pdf)).pages
    assert document.page_count == len(pages) == 2
    for page in pages:
        trim, bleed, media = page.trimbox, page.bleedbox, page.mediabox
        assert float(trim.width) == pytest.approx(85.6 * MM, abs=0.01)
        assert float(trim.height) == pytest.approx(54 * MM, abs=0.01)
        for side in ("left", "bottom"):
            assert float(getattr(trim, side)) - float(getattr(bleed, side)) == pytest.approx(3 * MM, abs=0.01)
        for side in ("right", "top"):
            assert float(getattr(bleed, side)) - float(getattr(trim, side)) == pytest.approx(3 * MM, abs=0.01)
        assert [float(v) for v in media] == pytest.approx([float(v) for v in bleed], abs=0.01)


def test_sheet_geometry_is_centred_and_mirrored():
    for name in ("sheet-letter", "sheet-a4"):
        geometry = sheet_geometry(FORMATS[name].page_mm)
        xs = sorted({p.x for p in geometry.fronts})
        ys = sorted({p.y for p in geometry.fronts})
        assert len(geometry.fronts) == 8 and len(xs) == 2 and len(ys) == 4
        assert xs[0] == pytest.approx(geometry.width - (xs[1] + geometry.card_width))  # centred
        assert ys[0] == pytest.approx(geometry.height - (ys[-1] + geometry.card_height))
        assert ys[0] > 10 and xs[0] > 10  # room for the crop marks
        for front, back in zip(geometry.fronts, geometry.backs):
            assert back.y == front.y
            assert back.x == pytest.approx(geometry.width - front.x - geometry.card_width)  # long-edge duplex
        grid = (xs[0], ys[0], xs[1] + geometry.card_width, ys[-1] + geometry.card_height)
        for mark in geometry.marks:  # marks stay in the margins, never on a card
            outside = max(mark.x1, mark.x2) < grid[0] or min(mark.x1, mark.x2) > grid[2] or max(mark.y1, mark.y2) < grid[1] or min(mark.y1, mark.y2) > grid[3]
            assert outside and min(mark.x1, mark.y1, mark.x2, mark.y2) >= 4


def test_sheet_pages(renderer, source, english):
    document = renderer.render(source.editions["en-GB"], "sheet-a4", english, proof=False)
    pages = PdfReader(io.BytesIO(document.pdf)).pages
    assert document.page_count == len(pages) == 2
    for page in pages:
        assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx((595.28, 841.89), abs=0.01)
    fronts, backs = pdf_pages(document.pdf)
    assert flat(fronts).count(typeset(source.english("ui.card.front-title"), "en")) == 8
    helpline = source.registry.first_printable("GB", "drug_alcohol_helpline")
    assert helpline and flat(backs).count(helpline.display_number()) == 8


# ---------------------------------------------------------------- proofs


@pytest.mark.parametrize(("edition_id", "format_name"), [("en-US", "card"), ("en-US", "flyer-letter")])
def test_proof_is_marked_on_every_page_and_lists_unapproved(renderer, source, english, edition_id, format_name):
    unapproved = [("give-naloxone", "machine", "Give naloxone <now>"), ("ui.label.free", "stale", "Free of charge")]
    proof = renderer.render(source.editions[edition_id], format_name, english, proof=True, unapproved=unapproved)
    final = renderer.render(source.editions[edition_id], format_name, english, proof=False)
    pages = [flat(p) for p in pdf_pages(proof.pdf)]
    assert proof.proof and proof.page_count == final.page_count + 1 == len(pages)
    assert all(PROOF_MARK in page for page in pages)
    assert "give-naloxone" in pages[-1] and "Give naloxone <now>" in pages[-1] and "Free of charge" in pages[-1]
    assert not any("give-naloxone" in page or "Free of charge" in page for page in pages[:-1])
    assert not any("PROOF" in page for page in pdf_pages(final.pdf))
    assert placed_words(proof.pdf)[:-1] == placed_words(final.pdf)  # laid out exactly like the final


def placed_words(pdf: bytes) -> list[set]:
    """Each page's words with their positions, leaving out the proof mark's words."""
    mark = set(PROOF_MARK.split())
    with pymupdf.open(stream=pdf, filetype="pdf") as document:
        return [{(w[4], round(w[0], 1), round(w[1], 1)) for w in page.get_text("words") if w[4] not in mark} for page in document]


# ---------------------------------------------------------------- safety


def test_text_is_escaped_and_fetches_nothing(renderer, source, english, monkeypatch):
    fetched = []
    original = TemplateFetcher.fetch

    def recording(self, url, headers=None):
        fetched.append(url)
        return original(self, url, headers)

    monkeypatch.setattr(TemplateFetcher, "fetch", recording)
    renderer.image_cache.clear()
    hostile = '<b>x</b><img src="http://127.0.0.1:9/x.png">'
    texts = dict(english, **{"signs-wont-wake": hostile})
    document = renderer.render(source.editions["en-US"], "card", texts, proof=False)
    assert typeset(hostile, "en") in flat(" ".join(pdf_pages(document.pdf)))
    templates = (ROOT / "templates").resolve().as_uri()
    assert fetched and all(url.startswith(templates) for url in fetched)


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:9/x.png", "https://example.org/a.css", "data:image/png;base64,AAAA", "file:///etc/passwd", "ftp://x/y"],
)
def test_fetcher_refuses_anything_outside_templates(url):
    with pytest.raises(RenderError, match="refused"):
        TemplateFetcher(ROOT / "templates").fetch(url)


def test_fetcher_refuses_escape_from_templates():
    root = ROOT / "templates"
    with pytest.raises(RenderError, match="outside"):
        TemplateFetcher(root).fetch((root / "assets" / ".." / ".." / "pipeline" / "render.py").as_uri())
    response = TemplateFetcher(root).fetch((root / "assets" / "eye.svg").as_uri())
    assert b"<svg" in response.read()


@pytest.fixture
def copied_templates(tmp_path, source):
    """A project whose templates can be changed: a copy of the real ones."""
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    return tmp_path, dataclasses.replace(source, project=Project(tmp_path))


def test_outside_url_in_css_is_an_error(copied_templates, english):
    folder, source = copied_templates
    with (folder / "templates" / "card.css").open("a", encoding="utf-8") as css:
        css.write("\n.card .band { background-image: url(http://127.0.0.1:9/band.png); }\n")
    with pytest.raises(RenderError, match=r"en-US card: .*http://127\.0\.0\.1:9/band\.png"):
        Renderer(source).render(source.editions["en-US"], "card", english, proof=False)


def test_template_asking_for_another_string_is_an_error(copied_templates, english):
    folder, source = copied_templates
    card = folder / "templates" / "card.html.j2"
    card.write_text(card.read_text(encoding="utf-8").replace("{% endblock %}", '{{ t("ui.headline") }}{% endblock %}'), encoding="utf-8")
    with pytest.raises(RenderError, match="'ui.headline', which this edition does not print"):
        Renderer(source).render(source.editions["en-US"], "card", english, proof=False)


def test_card_stylesheet_must_keep_the_safe_margin(copied_templates, english):
    folder, source = copied_templates
    with (folder / "templates" / "card.css").open("a", encoding="utf-8") as css:
        css.write("\n.card { padding: 5mm; width: 81.6mm; height: 50mm; }\n")
    with pytest.raises(RenderError, match=r"en-US card: a card's padding is 5\.0 mm; it must be 7 mm"):
        Renderer(source).render(source.editions["en-US"], "card", english, proof=False)


def test_text_smaller_than_the_format_allows_is_an_error(copied_templates, english):
    folder, source = copied_templates
    with (folder / "templates" / "card.css").open("a", encoding="utf-8") as css:
        css.write("\n.card .line .line-label { font-size: 5pt; }\n")
    with pytest.raises(RenderError, match=r"string 'ui.category.poison_centre' is set in 5\.0 pt; card needs at least 7 pt"):
        Renderer(source).render(source.editions["en-US"], "card", english, proof=False)


def test_final_refuses_unapproved_strings(renderer, source, english):
    with pytest.raises(RenderError, match="en-US card: a final document cannot print unapproved strings: give-naloxone"):
        renderer.render(source.editions["en-US"], "card", english, proof=False, unapproved=[("give-naloxone", "machine", "x")])


def test_missing_text_is_an_error(renderer, source, english):
    texts = {k: v for k, v in english.items() if k != "give-naloxone"}
    with pytest.raises(RenderError, match="en-US card: no text for string 'give-naloxone'"):
        renderer.render(source.editions["en-US"], "card", texts, proof=False)


def test_unknown_placeholder_and_do_not_print_number_are_errors(renderer, source, english):
    with pytest.raises(RenderError, match=r"unknown placeholder \{helpdesk\}"):
        renderer.render(source.editions["en-US"], "card", dict(english, **{"give-naloxone": "Call {helpdesk}"}), proof=False)
    with pytest.raises(RenderError, match="do-not-print"):
        renderer.render(source.editions["en-US"], "card", dict(english, **{"give-naloxone": "Call (844) 326-4514"}), proof=False)


def test_card_that_does_not_fit_is_an_error(renderer, source, english):
    texts = dict(english, **{"give-naloxone": english["give-naloxone"] * 6})
    with pytest.raises(RenderError) as caught:
        renderer.render(source.editions["en-US"], "card", texts, proof=False)
    message = str(caught.value)
    assert message.startswith("en-US card: the card front overflows its safe area (4 mm inside the trim) by ")
    assert re.search(r"by \d+\.\d mm; text outside it: '(give-naloxone|rescue-breathing|side-and-stay)'", message)


def test_proof_of_a_card_that_does_not_fit_shows_the_problem(renderer, source, english):
    texts = dict(english, **{"give-naloxone": english["give-naloxone"] * 6})
    unapproved = [("give-naloxone", "machine draft", texts["give-naloxone"])]
    proof = renderer.render(source.editions["en-US"], "card", texts, proof=True, unapproved=unapproved)
    review = flat(pdf_pages(proof.pdf)[-1])
    assert "Does not fit: a final would be refused" in review
    assert "overflows its safe area" in review and "give-naloxone" in review
    assert all(PROOF_MARK in flat(page) for page in pdf_pages(proof.pdf))


def test_a_translated_proof_outlines_what_it_prints_in_english(source, renderer):
    """A string with no translation yet prints in English on a proof: outlined on the page, named on the review page."""
    from pipeline.approval import language_states
    from pipeline.build import Gate
    from pipeline.render import compose_html

    gate = Gate(source)
    job = gate.proof_job(source.editions["es-US"], "card")
    states = language_states(source, "es")
    untranslated = {i for i in job.plan.string_ids if not states[i].translation}
    assert untranslated and set(job.in_english) == untranslated
    html = compose_html(job, source.project.templates)
    assert set(re.findall(r'class="s [^"]*\bin-english\b[^"]*" data-string="([^"]+)"', html)) == untranslated
    review = " ".join(flat(page) for page in pdf_pages(renderer.render_job(job).pdf)[2:])  # after the two faces
    assert "printed in English" in review and all(i in review for i in untranslated)
    english_proof = gate.proof_job(source.editions["en-US"], "card")
    assert not english_proof.in_english and "in-english" not in compose_html(english_proof, source.project.templates)
    # In Arabic the English keeps its own language and direction: its full stop stays at its end.
    arabic = gate.proof_job(source.editions["ar-US"], "card")
    missing = next(i for i in arabic.in_english if source.english(i).endswith("."))
    assert f'data-string="{missing}" lang="en" dir="ltr"' in compose_html(arabic, source.project.templates)
    page_text = " ".join(" ".join(page.get_text().split()) for page in pymupdf.open(stream=renderer.render_job(arabic).pdf, filetype="pdf"))
    assert " ".join(source.english(missing).split())[-20:] in page_text


def test_the_pdf_title_carries_no_typesetting_marks(renderer, source):
    """The word joiner that keeps a Chinese line's last two characters together stays off the title."""
    from pipeline.approval import language_states, proof_texts

    edition = source.editions["zh-Hans-US"]
    document = renderer.render(edition, "card", proof_texts(language_states(source, "zh-Hans")), proof=True)
    title = str(PdfReader(io.BytesIO(document.pdf)).metadata.title)
    assert title and "\u2060" not in title and title == title.strip()


def test_sheet_card_that_does_not_fit_is_an_error(renderer, source, english):
    texts = dict(english, **{"signs-breathing-color": english["signs-breathing-color"] * 4})
    with pytest.raises(RenderError, match=r"en-US sheet-letter: the card back overflows its safe area .* by \d+\.\d mm"):
        renderer.render(source.editions["en-US"], "sheet-letter", texts, proof=False)


def test_missing_glyph_is_an_error(renderer, source, english):
    # Khitan Small Script: no installed font has it (Linear B and Cuneiform do: fonts-noto-core).
    character = "\U00018b00"
    listed = subprocess.run(["fc-list", f":charset={ord(character):x}"], capture_output=True, text=True).stdout
    assert not listed.strip(), "a font for the test character is installed; pick another"
    texts = dict(english, **{"ui.card.front-title": f"Help {character}"})
    with pytest.raises(RenderError, match=r"en-US card: missing glyph: .*U\+18B00.* in ui\.card\.front-title"):
        renderer.render(source.editions["en-US"], "card", texts, proof=False)


# ---------------------------------------------------------------- output


def test_same_inputs_give_identical_bytes(renderer, source, english, us_flyer):
    again = renderer.render(source.editions["en-US"], "flyer-letter", english, proof=False)
    assert again.pdf == us_flyer.pdf
    fresh = Renderer(source).render(source.editions["en-US"], "flyer-letter", english, proof=False)
    assert fresh.pdf == us_flyer.pdf


def test_right_to_left_card_keeps_numbers_in_order(renderer, source, english):
    texts = dict(english, **SHAPING["ar"])
    document = renderer.render(source.editions["ar-US"], "card", texts, proof=False)
    front, back = (flat(p) for p in pdf_pages(document.pdf))
    assert "911" in front and "اتصل" in front
    assert "1-800-222-1222" in back
    for entry in source.printed_hotlines(source.editions["ar-US"])[1:]:  # the emergency line is on the front
        assert entry.display_number() in back
    assert PdfReader(io.BytesIO(document.pdf)).trailer["/Root"]["/Lang"] == "ar"


@pytest.mark.parametrize("language", ["ar", "fa", "zh-Hans", "hi", "am"])
def test_scripts_that_need_shaping(renderer, source, english, language):
    texts = dict(english, **SHAPING[language])
    document = renderer.render(edition_for(language, formats=("card",)), "card", texts, proof=False)
    assert document.page_count == 2
    assert not notdef_glyphs(document.pdf)


def test_a_card_in_every_language(renderer, source, english):
    assert set(SAMPLES) == set(source.languages)
    for code in source.languages:
        title, step = SAMPLES[code]
        texts = dict(english, **{"ui.card.front-title": title, "call-emergency": step})
        document = renderer.render(edition_for(code), "card", texts, proof=False)
        assert document.page_count == 2, code
        assert "911" in pdf_pages(document.pdf)[0], code
        assert not notdef_glyphs(document.pdf), code


def notdef_glyphs(pdf: bytes) -> list[str]:
    """Characters drawn with glyph 0 (tofu): an independent check on the finished PDF."""
    with pymupdf.open(stream=pdf, filetype="pdf") as document:
        return [chr(char[0]) for page in document for span in page.get_texttrace() for char in span["chars"] if char[1] == 0]


def test_notdef_check_sees_tofu():
    # Make sure the independent check works: WeasyPrint asked to draw a character no font has.
    import weasyprint

    pdf = weasyprint.HTML(string='<p style="font-family: Noto Sans">a\U00018b00</p>').write_pdf()
    assert notdef_glyphs(pdf) == ["\U00018b00"]


def test_large_print_flyer_sets_every_string_at_18pt_or_more(renderer, source, english):
    edition = source.editions["en-US"]
    document = renderer.render(edition, "flyer-letter-large", english, proof=False)
    sizes = []
    with pymupdf.open(stream=document.pdf, filetype="pdf") as pdf:
        for page in pdf:
            for block in page.get_text("dict")["blocks"]:
                for line in block.get("lines", []):
                    for span in line["spans"]:
                        text = span["text"].strip()
                        if text and text not in (edition.qr or ""):  # the QR code's address is a caption, not body text
                            sizes.append(span["size"])
    assert sizes and min(sizes) >= 17.9
    regular = renderer.render(edition, "flyer-letter", english, proof=False)
    assert document.page_count > regular.page_count


SHIPPED_EDITIONS = [e.id for e in read_source(Project(ROOT)).editions.values()]


@pytest.mark.parametrize("edition_id", SHIPPED_EDITIONS)
def test_shipped_translations_fit_every_format_of_their_edition(renderer, source, edition_id):
    """Once a reviewer approves the shipped drafts as they stand, every document must print."""
    from visual_samples import sample_texts

    edition = source.editions[edition_id]
    texts = sample_texts(source, edition.language)
    for format_name in edition.formats:
        if format_name.startswith("sheet"):
            continue  # the same cards as `card`, laid out eight to a page
        document = renderer.render(edition, format_name, texts, proof=False)
        assert document.page_count == (FORMATS[format_name].pages or document.page_count)


def test_compact_style_is_tried_before_a_card_is_refused(renderer, source, english):
    # Slightly too long for the normal style: the compact style makes it fit.
    texts = dict(english, **{"side-and-stay": english["side-and-stay"] + " Keep them warm, watch their breathing closely, and tell the ambulance crew what they took."})
    document = renderer.render(source.editions["en-US"], "card", texts, proof=False)
    assert document.page_count == 2
    with pymupdf.open(stream=document.pdf, filetype="pdf") as pdf:
        sizes = {round(span["size"], 1) for block in pdf[0].get_text("dict")["blocks"] for line in block.get("lines", []) for span in line["spans"]}
    assert 7.0 in sizes and min(sizes) >= 7.0  # the compact style was needed, and used


def test_a_sheet_lays_out_one_card_per_side_and_takes_its_cards_style(source, english, monkeypatch):
    renderer = Renderer(source)  # its own: no style verdict left by other tests
    texts = dict(english, **{"side-and-stay": english["side-and-stay"] + " Keep them warm, watch their breathing closely, and tell the ambulance crew what they took."})
    laid_out = []
    original = type(renderer)._lay_out

    def counting(self, html_text, spec, *args, **kwargs):
        compact = bool(re.search(r'<html[^>]*class="[^"]*\bcompact\b', html_text))
        laid_out.append((spec.name, compact, html_text.count('class="card front"'), html_text.count('class="card back"')))
        return original(self, html_text, spec, *args, **kwargs)

    monkeypatch.setattr(type(renderer), "_lay_out", counting)
    edition = source.editions["en-US"]
    # Alone, the sheet tries the regular style, then the compact one, each with one card per side.
    alone = renderer.render(edition, "sheet-letter", texts, proof=False)
    assert laid_out == [("sheet-letter", False, 1, 1), ("sheet-letter", True, 1, 1)]
    fronts, backs = pdf_pages(alone.pdf)
    assert flat(fronts).count(typeset(texts["side-and-stay"], "en")[:40]) == 8  # and prints it 8 times
    assert flat(backs).count(source.registry.first_printable("US", "poison_centre").display_number()) == 8
    with pymupdf.open(stream=alone.pdf, filetype="pdf") as pdf:
        sizes = {round(span["size"], 1) for block in pdf[0].get_text("dict")["blocks"] for line in block.get("lines", []) for span in line["spans"]}
    assert 7.0 in sizes and min(sizes) >= 7.0
    # After the card of the same texts, the sheet goes straight to the style the card took.
    other = dict(texts, **{"signs-wont-wake": english["signs-wont-wake"] + " Shout their name."})
    renderer.render(edition, "card", other, proof=False)
    laid_out.clear()
    renderer.render(edition, "sheet-letter", other, proof=False)
    assert laid_out == [("sheet-letter", True, 1, 1)]
    laid_out.clear()
    # Short texts, so that the card fits the regular style (the shipped English card takes the compact one).
    short = dict(english, **{
        "side-and-stay": "Stay with them.", "signs-pupils-benzos": "Normal pupils can still be an overdose.",
        "naloxone-benzos-keep-breathing": "Keep giving breaths.", "signs-wont-wake": "Will not wake up.",
        "signs-breathing-color": "Slow breathing, blue lips.",
    })
    renderer.render(edition, "sheet-letter", short, proof=False)
    assert laid_out == [("sheet-letter", False, 1, 1)]  # a card that fits: the regular style


def test_every_card_on_a_sheet_is_the_same_card(renderer, source, english):
    """The repeated cards are the laid-out card moved: the same text, line for line, at each of the plan's places."""
    document = renderer.render(source.editions["en-GB"], "sheet-a4", english, proof=False)
    geometry = sheet_geometry(FORMATS["sheet-a4"].page_mm)
    with pymupdf.open(stream=document.pdf, filetype="pdf") as pdf:
        for page, places in zip(pdf, (geometry.fronts, geometry.backs)):
            mm = 72 / 25.4
            cells = [pymupdf.Rect(p.x * mm, p.y * mm, (p.x + geometry.card_width) * mm, (p.y + geometry.card_height) * mm) for p in places]
            texts = [page.get_text(clip=cell) for cell in cells]
            assert texts[0].strip() and texts.count(texts[0]) == len(cells), [t[:40] for t in texts]
            links = [sorted((round(link["from"].x0 - cell.x0), round(link["from"].y0 - cell.y0), link.get("uri"))
                            for link in page.get_links() if cell.contains(link["from"])) for cell in cells]
            assert links[0] and all(found == links[0] for found in links), "every copy has its phone links, in place"
