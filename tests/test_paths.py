"""Nothing is written or deleted outside output/ and translations/; templates stay inside templates/."""

from __future__ import annotations

import os
import shutil

import pytest
from click.testing import CliRunner
from conftest import edit

from pipeline.cli import main
from pipeline.errors import ContentError, RenderError
from pipeline.fsutil import guard_path


def test_guard_accepts_paths_inside(tmp_path):
    (tmp_path / "output" / "final").mkdir(parents=True)
    assert guard_path(tmp_path / "output" / "final" / "en-US" / "card.pdf", tmp_path / "output") == tmp_path / "output" / "final" / "en-US" / "card.pdf"


@pytest.mark.parametrize("name", ["../../../../x/card.pdf", "/abs/card.pdf", "a/../../../b.pdf", "bad\0name.pdf"])
def test_guard_refuses_paths_that_leave_the_folder(tmp_path, name):
    (tmp_path / "output").mkdir()
    with pytest.raises(ContentError) as caught:
        guard_path(tmp_path / "output" / "final" / name, tmp_path / "output")
    assert caught.value.unusable and "refused" in caught.value.problems[0].message


def test_guard_follows_symlinks(tmp_path):
    (tmp_path / "output").mkdir()
    (tmp_path / "elsewhere").mkdir()
    os.symlink(tmp_path / "elsewhere", tmp_path / "output" / "final")
    with pytest.raises(ContentError):
        guard_path(tmp_path / "output" / "final" / "card.pdf", tmp_path / "output")


def test_project_paths_are_guarded(project):
    with pytest.raises(ContentError):
        project.output_path("final", "../../../x", "card.pdf")
    with pytest.raises(ContentError):
        project.po_path("../../x")
    with pytest.raises(ContentError):
        project.ledger_path("../../../x")
    assert project.po_path("es") == project.translations / "es.po"


def test_a_refused_final_never_deletes_through_a_symlinked_output_folder(project_dir, tmp_path):
    outside = tmp_path / "someone-elses-files"
    (outside / "es-US").mkdir(parents=True)
    (outside / "es-US" / "card.pdf").write_bytes(b"not ours")
    (project_dir / "output").mkdir()
    os.symlink(outside, project_dir / "output" / "final")
    result = CliRunner().invoke(main, ["--project", str(project_dir), "render", "--edition", "es-US", "--format", "card"])
    assert result.exit_code == 2 and "refused to write or delete" in result.output and "Traceback" not in result.output
    assert (outside / "es-US" / "card.pdf").read_bytes() == b"not ours"


def test_release_member_names_are_checked():
    from pipeline.bundle import _zip

    with pytest.raises(ContentError):
        _zip({"../../evil.pdf": b"x"})
    assert _zip({"en-US/card.pdf": b"x", "manifest.json": b"{}"})


@pytest.mark.parametrize("edition_id", ["../../../../x", "/abs", "en US", "a/b"])
def test_edition_ids_are_checked_at_load(project_dir, edition_id):
    edit(project_dir / "source" / "editions.yaml", "- id: en-US\n", f"- id: {edition_id!r}\n")
    result = CliRunner().invoke(main, ["--project", str(project_dir), "check"])
    assert result.exit_code == 1 and "source/editions.yaml:" in result.output and "may only hold letters, digits and '-'" in result.output
    assert not (project_dir / "output").exists()


@pytest.mark.parametrize("code", ["../../x", "ES", "es_MX", "e"])
def test_language_codes_are_checked_at_load(project_dir, code):
    edit(project_dir / "source" / "languages.yaml", "{code: es,", f"{{code: {code!r},")
    result = CliRunner().invoke(main, ["--project", str(project_dir), "check"])
    assert result.exit_code == 1 and "source/languages.yaml:" in result.output and "BCP 47" in result.output


def test_templates_and_stylesheets_may_not_leave_templates_through_a_symlink(project, tmp_path):
    from pipeline.content import read_source
    from pipeline.render import Renderer

    source = read_source(project)
    Renderer(source)  # quiet: the shipped templates load
    outside = tmp_path / "outside.css"
    shutil.copy(project.templates / "card.css", outside)
    (project.templates / "card.css").unlink()
    os.symlink(outside, project.templates / "card.css")
    with pytest.raises(RenderError, match="outside"):
        Renderer(source)
    (project.templates / "card.css").unlink()
    shutil.copy(outside, project.templates / "card.css")
    page = tmp_path / "card.html.j2"
    shutil.copy(project.templates / "card.html.j2", page)
    (project.templates / "card.html.j2").unlink()
    os.symlink(page, project.templates / "card.html.j2")
    renderer = Renderer(source)
    with pytest.raises(RenderError, match="outside"):
        renderer.env.get_template("card.html.j2")
