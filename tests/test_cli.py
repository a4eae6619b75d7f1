"""The command line: help everywhere, exact error lines, exit codes 0/1/2."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from conftest import REPO, edit
from pipeline.cli import main
from pipeline.content import read_source
from pipeline.project import Project


def all_commands(group: click.Group, prefix=()):
    for name, command in group.commands.items():
        yield (*prefix, name)
        if isinstance(command, click.Group):
            yield from all_commands(command, (*prefix, name))


@pytest.mark.parametrize("path", list(all_commands(main)), ids=lambda p: " ".join(p))
def test_every_command_has_help(path, project_dir):
    result = CliRunner().invoke(main, ["--project", str(project_dir), *path, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output and len(result.output.splitlines()) > 3


def test_check_is_clean_on_shipped_content(project_dir):
    result = CliRunner().invoke(main, ["--project", str(project_dir), "check"])
    assert result.exit_code == 0, result.output
    assert "0 errors" in result.output


def test_check_lists_checks(project_dir):
    result = CliRunner().invoke(main, ["--project", str(project_dir), "check", "--list"])
    assert "placeholders     error" in result.output


def test_bad_content_exits_1_with_file_line(project_dir):
    edit(project_dir / "source" / "facts.yaml", "    topic: signs\n", "    topic: gossip\n")
    result = CliRunner().invoke(main, ["--project", str(project_dir), "check"])
    assert result.exit_code == 1
    line = result.output.strip().splitlines()[0]
    assert line.startswith("error: source/facts.yaml:") and "topic must be one of" in line
    assert "Traceback" not in result.output


def test_unreadable_input_exits_2(project_dir):
    (project_dir / "source" / "editions.yaml").write_text("editions: [\n")
    result = CliRunner().invoke(main, ["--project", str(project_dir), "check"])
    assert result.exit_code == 2
    assert result.output.startswith("error: source/editions.yaml:")


def test_usage_errors_exit_2(project_dir, tmp_path):
    runner = CliRunner()
    assert runner.invoke(main, ["--project", str(project_dir), "translate"]).exit_code == 2
    assert runner.invoke(main, ["--project", str(project_dir), "render", "--edition", "xx-YY"]).exit_code == 2
    assert runner.invoke(main, ["--project", str(tmp_path), "status"]).exit_code == 2


def test_status_and_history(project_dir):
    runner = CliRunner()
    result = runner.invoke(main, ["--project", str(project_dir), "status", "es"])
    assert result.exit_code == 0
    header, row, scope = result.output.splitlines()
    assert "count only what each edition or document prints" in scope
    assert header.split()[0] == "language" and header.split()[-1] == "missing" and row.split()[0] == "es"
    # No translations yet: every string is missing, none approved (the header alone says "missing" too).
    strings = len(read_source(Project(project_dir)).strings)
    assert row.split()[1:] == ["0", "0", "0", "0", "0", "0", str(strings)]
    result = runner.invoke(main, ["--project", str(project_dir), "history", "es"])
    assert result.exit_code == 0


def test_approve_without_translation_writes_nothing(project_dir, key_files):
    result = CliRunner().invoke(main, ["--project", str(project_dir), "approve", "es", "call-emergency", "--key", str(key_files["Ana Reviewer"])])
    assert result.exit_code == 1
    assert "call-emergency: there is no translation to approve" in result.output
    assert not (project_dir / "translations" / "ledger" / "es.jsonl").exists()
    assert not (project_dir / "translations" / "es.po").exists()


def test_format_names_come_from_the_one_registry():
    from pipeline import cli, content, document, render

    assert cli.FORMAT_NAMES is document.FORMAT_NAMES == tuple(document.FORMATS)
    assert content.FORMATS is render.FORMATS is document.FORMATS


def test_review_reads_keys_from_piped_input(project_dir, key_files):
    import shutil

    shutil.copy(REPO / "translations" / "es.po", project_dir / "translations" / "es.po")
    result = CliRunner().invoke(main, ["--project", str(project_dir), "review", "es", "--key", str(key_files["Ben Reviewer"])], input="a\ns\n")
    assert result.exit_code == 0, result.output
    assert "both-slow-breathing: approved by Ben Reviewer" in result.output
    assert "es: 1 approved, 0 rejected, 0 edited, 1 skipped" in result.output


def test_missing_translate_extra_is_a_clear_error(project_dir, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def without_argos(name, *args, **kwargs):
        if name.startswith("argostranslate") or name.startswith("ctranslate2"):
            raise ModuleNotFoundError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_argos)
    result = CliRunner().invoke(main, ["--project", str(project_dir), "models", "list"])
    assert result.exit_code == 1
    assert result.output.startswith("error: machine translation is not installed")
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["approve", "xx", "call-emergency", "--reviewer", "Ana"],
        ["approve", "es", "no-such-string", "--reviewer", "Ana"],
        ["approve", "es", "call-emergency", "--reviewer", "  "],
        ["review", "en", "--reviewer", "Ana"],
        ["export-xliff", "xx"],
        ["history", "xx"],
        ["history", "es", "no-such-string"],
        ["check", "--language", "xx"],
        ["status", "xx"],
    ],
    ids=lambda a: " ".join(a),
)
def test_wrong_usage_exits_2_without_output_on_stdout(project_dir, args):
    result = CliRunner().invoke(main, ["--project", str(project_dir), *args])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert "Error:" in result.stderr


def test_check_reports_a_broken_ledger_chain(keys, project_dir):
    import shutil

    from conftest import NOW
    from pipeline.approval import decide
    from pipeline.content import read_source
    from pipeline.project import Project

    shutil.copy(REPO / "translations" / "es.po", project_dir / "translations" / "es.po")
    source = read_source(Project(project_dir))
    decide(source, "es", ["ui.label.call", "ui.label.free"], keys["Ana Reviewer"], "approve", NOW)
    ledger = project_dir / "translations" / "ledger" / "es.jsonl"
    first, second = ledger.read_text().splitlines()
    ledger.write_text(second + "\n")  # the first approval removed
    result = CliRunner().invoke(main, ["--project", str(project_dir), "check", "--language", "es"])
    assert result.exit_code == 1
    assert "translations/ledger/es.jsonl:1: error: ledger chain broken" in result.output
