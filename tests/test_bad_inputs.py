"""The bad-input corpus: every case in tests/bad_inputs/ gives a clean `path:line: message`.

Each case is a small YAML file naming a file of a copy of the shipped project,
an edit to make to it, the command to run (default `check`), the exit code
expected (2 unusable input, 1 content problems, 0 for input that must be
accepted) and a regular expression the output must match. The test asserts
the exit code, the message, that no traceback escaped, and that no file of the
project changed (a hash of the whole tree before and after).

Edits (one per case): replace: [old, new] (literal, must be there), regex:
[pattern, replacement] (multi-line, first match), write: TEXT, write_hex: BYTES
(the whole file), append_hex: BYTES, prepend_hex: BYTES, make_dir: true (the
file becomes a folder), delete: true.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import traceback
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import REPO

from pipeline.cli import main

CASES = Path(__file__).parent / "bad_inputs"
EDITS = ("replace", "regex", "write", "write_hex", "append_hex", "prepend_hex", "make_dir", "delete")
LOCATED = r"^\s*(?:error: |warning: )?(?:source|translations|templates|output)/[^\s:]+{line}: \S"


def load_cases() -> list[tuple[str, dict]]:
    cases = []
    for path in sorted(CASES.glob("*.yaml")):
        case = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert set(case) <= {"about", "file", "command", "exit", "expect", "line", *EDITS}, path.name
        assert sum(key in case for key in EDITS) == 1, f"{path.name}: exactly one edit"
        cases.append((path.stem, case))
    return cases


@pytest.fixture(scope="module")
def pristine(tmp_path_factory, signed_files) -> Path:
    """The shipped project, with the test reviewers' keys listed and the English re-signed (as conftest's project_dir)."""
    root = tmp_path_factory.mktemp("pristine") / "project"
    for folder in ("source", "translations", "templates"):
        shutil.copytree(REPO / folder, root / folder)
    (root / "source" / "reviewers.yaml").write_text(signed_files["reviewers.yaml"], encoding="utf-8")
    (root / "translations" / "ledger" / "en.jsonl").write_text(signed_files["en.jsonl"], encoding="utf-8")
    return root


def tree_hash(root: Path) -> dict[str, str]:
    """Every file and folder under root, with the sha256 of each file's bytes (not the project lock's own files)."""
    result = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        if key in (".outreach.lock", ".outreach.lock.owner"):
            continue  # where a writer waits its turn: there from the first writer on, never content
        result[key] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "folder"
    return result


def apply_edit(path: Path, case: dict) -> None:
    if "replace" in case:
        old, new = case["replace"]
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {path}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
    elif "regex" in case:
        pattern, replacement = case["regex"]
        text = path.read_text(encoding="utf-8")
        new, count = re.subn(pattern, replacement, text, count=1, flags=re.MULTILINE)
        assert count == 1, f"{pattern!r} does not match {path}"
        path.write_text(new, encoding="utf-8")
    elif "write" in case:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(case["write"], encoding="utf-8")
    elif "write_hex" in case:
        path.write_bytes(bytes.fromhex(case["write_hex"]))
    elif "append_hex" in case:
        path.write_bytes(path.read_bytes() + bytes.fromhex(case["append_hex"]))
    elif "prepend_hex" in case:
        path.write_bytes(bytes.fromhex(case["prepend_hex"]) + path.read_bytes())
    elif "make_dir" in case:
        path.unlink()
        path.mkdir()
        (path / "placeholder.txt").write_text("a folder where a file should be\n")
    elif "delete" in case:
        path.unlink()


def test_the_corpus_is_large_and_covers_every_input_file():
    cases = dict(load_cases())
    assert len(cases) >= 60
    targets = {case["file"] for case in cases.values()}
    for name in ("facts", "strings", "languages", "layouts", "editions", "glossary", "wording", "urls", "hotlines"):
        assert f"source/{name}.yaml" in targets, name
    assert any(t.endswith(".po") for t in targets) and any(t.endswith(".jsonl") for t in targets)


@pytest.mark.parametrize("name, case", load_cases(), ids=[name for name, _ in load_cases()])
def test_bad_input_gives_a_located_message_and_changes_nothing(pristine, key_files, tmp_path, name, case):
    root = tmp_path / "project"
    shutil.copytree(pristine, root, symlinks=True)
    apply_edit(root / case["file"], case)
    before = tree_hash(root)
    command = [str(key_files["Ana Reviewer"]) if arg == "{key}" else arg for arg in case.get("command", ["check"])]
    result = CliRunner().invoke(main, ["--project", str(root), *command])
    output = result.output
    escaped = result.exception if result.exception and not isinstance(result.exception, SystemExit) else None
    assert escaped is None, "".join(traceback.format_exception(escaped))
    assert "Traceback" not in output
    assert result.exit_code == case["exit"], output
    if case.get("expect"):
        assert re.search(case["expect"], output, flags=re.MULTILINE), output
    if case["exit"] != 0:  # `line: false` for a problem with the whole file (a folder, bad bytes)
        located = LOCATED.format(line=r":\d+" if case.get("line", True) else r"(?::\d+)?")
        assert re.search(located, output, flags=re.MULTILINE), f"no path:line: message in\n{output}"
    assert tree_hash(root) == before, "the command changed the project"
