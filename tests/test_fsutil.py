"""Atomic writes: a run killed mid-write leaves the old file whole and no debris."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.fsutil import write_atomic


def test_interrupted_write_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "es.po"
    target.write_text("old complete text\n")

    def killed(src, dst):
        raise KeyboardInterrupt  # the process dies between writing and renaming

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, "new text that never lands\n")
    assert target.read_text() == "old complete text\n"
    assert [p.name for p in tmp_path.iterdir()] == ["es.po"]


def test_write_replaces_whole_file(tmp_path):
    target = tmp_path / "deep" / "file.txt"
    write_atomic(target, "one")
    write_atomic(target, "two")
    assert target.read_text() == "two" and oct(target.stat().st_mode & 0o777) == "0o644"


def test_broken_po_file_is_unusable_input_with_its_line(project_dir):
    po = project_dir / "translations" / "es.po"
    po.write_text('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\nmsgctxt "x"\nmsgid "a"\nmsgstr "b\n')
    result = CliRunner().invoke(main, ["--project", str(project_dir), "status", "es"])
    assert result.exit_code == 2
    assert result.output.startswith("error: translations/es.po:")
    assert "cannot read PO file" in result.output and "Traceback" not in result.output
