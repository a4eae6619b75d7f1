"""The document plan: the one place that decides what a document prints, and its job digest."""

from __future__ import annotations

import dataclasses
import io

from pypdf import PdfReader

from conftest import edit
from pipeline.content import read_source
from pipeline.document import FORMATS, make_job, plan_document


def headings(face):
    return [s.heading for s in face.sections]


def test_flyer_faces_follow_the_layout(source):
    plan = plan_document(source, source.editions["en-US"], "flyer-letter")
    assert headings(plan.front) == ["ui.section.what-to-do", "ui.section.signs"]  # the action first (issue 11)
    assert headings(plan.back) == ["ui.section.danger", "ui.section.naloxone", "ui.section.stay-safer"]
    assert plan.front.call_line and plan.front.call_line.category == "emergency"
    assert plan.front.lines[0] == plan.front.call_line and plan.back.qr
    # Every string once, in order: the headline first.
    assert plan.string_ids[0] == "ui.headline" and len(set(plan.string_ids)) == len(plan.string_ids)


def test_the_plan_holds_regional_variants_qr_alt_and_imprint(source):
    """What print (issue 11) added to a document is decided in its plan, so the job digest covers it."""
    gb = plan_document(source, source.editions["en-GB"], "flyer-a4")
    blocks = [b for face in (gb.front, gb.back) for s in face.sections for b in s.blocks]
    assert "give-naloxone-gb" in blocks and "give-naloxone" not in gb.string_ids
    assert gb.front.subtitle == "ui.subhead.gb"
    assert gb.back.imprint is not None and gb.back.imprint.publisher
    us = plan_document(source, source.editions["en-US"], "flyer-letter")
    assert us.qr and us.back.qr_alt == "ui.qr.alt" and "ui.qr.alt" in us.string_ids
    assert (gb.qr is None) == (gb.back.qr_alt is None)
    assert "give-naloxone" in us.string_ids and us.front.subtitle == "ui.subhead"
    card = plan_document(source, source.editions["en-US"], "card")
    assert card.back.qr_alt is None and card.back.imprint is None and "ui.qr.alt" not in card.string_ids
    assert card.format.min_text_pt == 7.0


def test_a_regional_variant_keeps_the_pictogram_of_the_block_it_prints_for(source):
    """The GB naloxone step (give-naloxone-gb) shows the naloxone pictogram, like the US one."""
    from pipeline.render import compose_html

    def step_icons(edition_id: str, format_name: str) -> int:
        plan = plan_document(source, source.editions[edition_id], format_name)
        english = {i: source.english(i) for i in plan.string_ids}
        return compose_html(make_job(plan, english, proof=False), source.project.templates).count("step-icon")

    gb = plan_document(source, source.editions["en-GB"], "flyer-a4")
    steps = next(s for s in gb.front.sections if s.style == "steps")
    assert "give-naloxone-gb" in steps.blocks and steps.slots[steps.blocks.index("give-naloxone-gb")] == "give-naloxone"
    assert step_icons("en-GB", "flyer-a4") == step_icons("en-US", "flyer-letter") > 0


def test_card_back_lists_the_lines_not_on_the_front(source):
    plan = plan_document(source, source.editions["en-US"], "card")
    assert plan.front.lines == (plan.front.call_line,)
    assert plan.front.call_line not in plan.back.lines
    assert {h.category for h in plan.back.lines} | {plan.front.call_line.category} == {h.category for h in plan.hotlines}
    assert plan.sheet is None and plan_document(source, source.editions["en-US"], "sheet-letter").sheet is not None


def test_moving_a_section_to_the_front_moves_it_on_paper(project, project_dir):
    from pipeline.render import Renderer

    edit(project_dir / "source" / "layouts.yaml", "      - heading: ui.section.naloxone\n", "      - heading: ui.section.naloxone\n        face: front\n")
    source = read_source(project)
    plan = plan_document(source, source.editions["en-US"], "flyer-letter")
    assert "ui.section.naloxone" in headings(plan.front) and "ui.section.naloxone" not in headings(plan.back)
    english = {s.id: s.text for s in source.strings.values()}
    document = Renderer(source).render(source.editions["en-US"], "flyer-letter-large", english, proof=False)
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(document.pdf)).pages).split())
    # Large print runs on: the front's sections come first, the back's after them.
    assert text.index(source.english("naloxone-wears-off")[:40]) < text.index(source.english("ui.section.danger"))


def test_digest_changes_with_what_prints_and_nothing_else(source):
    plan = plan_document(source, source.editions["en-US"], "card")
    texts = {s.id: s.text for s in source.strings.values()}
    job = make_job(plan, texts, False, environment="env")
    assert job.digest() == make_job(plan, dict(texts), False, environment="env").digest()
    unprinted = next(i for i in texts if i not in plan.string_ids)
    assert job.digest() == make_job(plan, dict(texts, **{unprinted: "changed"}), False, environment="env").digest()
    assert job.digest() != make_job(plan, dict(texts, **{plan.string_ids[-1]: "changed"}), False, environment="env").digest()
    assert job.digest() != make_job(plan, texts, False, environment="other").digest()
    assert job.digest() != make_job(plan, texts, True, environment="env").digest()
    assert job.digest() != make_job(plan, texts, False, approvals=("x",), environment="env").digest()
    moved = dataclasses.replace(plan, format=FORMATS["card"].__class__(**{**dataclasses.asdict(FORMATS["card"]), "min_text_pt": 7.5}))
    assert job.digest() != make_job(moved, texts, False, environment="env").digest()


def test_unknown_face_is_a_content_error(project_dir):
    import pytest

    from pipeline.errors import ContentError
    from pipeline.project import Project

    edit(project_dir / "source" / "layouts.yaml", "        face: front\n", "        face: top\n")
    with pytest.raises(ContentError) as raised:
        read_source(Project(project_dir))
    assert any("section face must be one of front, back" in p.message for p in raised.value.problems)


def test_only_the_render_package_imports_weasyprint_or_jinja():
    """Print composition and layout live in pipeline/render/; the review desk's own web pages
    (pipeline/desk/) are the one other user of Jinja, and never of WeasyPrint."""
    import ast
    from pathlib import Path

    package = Path(__file__).resolve().parents[1] / "pipeline"
    offenders = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                allowed = ("render", "desk") if name.split(".")[0] == "jinja2" else ("render",)
                if name.split(".")[0] in ("weasyprint", "jinja2") and path.parent.name not in allowed:
                    offenders.append(f"{path.relative_to(package)} imports {name}")
    assert offenders == []


def test_planning_needs_neither_jinja_nor_weasyprint():
    import subprocess
    import sys

    code = "import sys, pipeline.document, pipeline.build, pipeline.bundle; print(sorted(m for m in ('jinja2', 'weasyprint') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
