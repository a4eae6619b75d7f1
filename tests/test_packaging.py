"""What `pip install` ships, read from pyproject.toml by setuptools itself.

Every folder under pipeline/ must be a package of the configuration (Python can import
any folder, so setuptools warns that one left out "would be ignored"), and every file
that is not Python must be package data, or a non-editable install lacks it (the review
desk's templates and static files).
"""

from __future__ import annotations

import fnmatch
import shutil
from pathlib import Path

from conftest import REPO
from setuptools.config.pyprojecttoml import read_configuration


def unshipped(root: Path) -> list[str]:
    """Folders under root/pipeline that are not packages, and files there that no package ships."""
    config = read_configuration(root / "pyproject.toml")["tool"]["setuptools"]
    packages = set(config["packages"])
    data = config.get("package-data", {})
    found = []
    for path in sorted((root / "pipeline").rglob("*")):
        parts = path.relative_to(root).parts
        if "__pycache__" in parts:
            continue
        if path.is_dir():
            if ".".join(parts) not in packages:
                found.append(f"folder {'/'.join(parts)} is not a package")
            continue
        if path.suffix == ".py":
            continue
        # Package data of the file's own package or of one above it (`templates/*.j2` on pipeline.desk).
        owners = [(".".join(parts[:n]), "/".join(parts[n:])) for n in range(len(parts) - 1, 0, -1)]
        if not any(
            fnmatch.fnmatch(rest, pattern)
            for package, rest in owners
            if package in packages
            for pattern in [*data.get(package, []), *data.get("", [])]
        ):
            found.append(f"file {'/'.join(parts)} is not package data")
    return found


def test_every_folder_is_a_package_and_every_file_ships():
    assert unshipped(REPO) == []


def test_a_folder_or_file_left_out_is_found(tmp_path):
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(REPO / "pipeline", tmp_path / "pipeline", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "pipeline" / "desk" / "templates" / "notes.txt").write_text("not a template\n")
    (tmp_path / "pipeline" / "fonts").mkdir()
    (tmp_path / "pipeline" / "fonts" / "x.ttf").write_bytes(b"\0")
    assert unshipped(tmp_path) == [
        "file pipeline/desk/templates/notes.txt is not package data",
        "file pipeline/fonts/x.ttf is not package data",
    ]
    # The configuration of main before this change: the desk's data folders were not packages.
    text = (tmp_path / "pyproject.toml").read_text()
    start, end = text.index("[tool.setuptools.packages.find]"), text.index("[tool.pytest.ini_options]")
    old = '[tool.setuptools]\npackages = ["pipeline", "pipeline.desk", "pipeline.render"]\n\n' \
          '[tool.setuptools.package-data]\n"pipeline.desk" = ["templates/*.j2", "static/*"]\n\n'
    (tmp_path / "pyproject.toml").write_text(text[:start] + old + text[end:])
    shutil.rmtree(tmp_path / "pipeline" / "fonts")
    (tmp_path / "pipeline" / "desk" / "templates" / "notes.txt").unlink()
    assert unshipped(tmp_path) == [
        "folder pipeline/desk/static is not a package",
        "folder pipeline/desk/templates is not a package",
    ]
