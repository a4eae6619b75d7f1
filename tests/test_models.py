"""Model management: local files, a package index on 127.0.0.1, clear errors, nothing half-installed."""

from __future__ import annotations

import functools
import http.server
import json
import threading
import zipfile

import pytest
from click.testing import CliRunner

from make_tiny_model import build_tiny_model
from pipeline import models
from pipeline.cli import main


@pytest.fixture
def runner():
    return CliRunner()


def installed_pairs():
    return {(m.from_code, m.to_code) for m in models.installed_models()}


def test_install_list_remove_through_the_cli(runner, tmp_path, project_dir):
    path = build_tiny_model(tmp_path / "en_vi.argosmodel", "en", "vi", seed=5)
    result = runner.invoke(main, ["--project", str(project_dir), "models", "install", str(path)])
    assert result.exit_code == 0, result.output
    assert "installed en -> vi" in result.output
    listed = runner.invoke(main, ["--project", str(project_dir), "models", "list"])
    assert "en -> vi" in listed.output
    removed = runner.invoke(main, ["--project", str(project_dir), "models", "remove", "en", "vi"])
    assert removed.exit_code == 0 and ("en", "vi") not in installed_pairs()


def test_corrupt_package_is_refused_and_installs_nothing(runner, tmp_path, project_dir):
    good = build_tiny_model(tmp_path / "good.argosmodel", "en", "ar", seed=6)
    broken = tmp_path / "broken.argosmodel"
    data = bytearray(good.read_bytes())
    data[len(data) // 2: len(data) // 2 + 64] = b"\0" * 64
    broken.write_bytes(bytes(data))
    before = installed_pairs()
    result = runner.invoke(main, ["--project", str(project_dir), "models", "install", str(broken)])
    assert result.exit_code == 1
    assert result.output.startswith("error: ") and "Traceback" not in result.output
    assert installed_pairs() == before


def test_not_a_model_is_refused(tmp_path):
    junk = tmp_path / "junk.argosmodel"
    with zipfile.ZipFile(junk, "w") as archive:
        archive.writestr("a/readme.txt", "hello")
    with pytest.raises(models.ModelError, match="missing metadata.json"):
        models.install_file(junk)


class IndexHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def local_index(tmp_path):
    """A package index and its package served on 127.0.0.1 by this test."""
    folder = tmp_path / "index"
    folder.mkdir()
    build_tiny_model(folder / "translate-en_fa-1_0.argosmodel", "en", "fa", seed=7)
    build_tiny_model(folder / "mislabelled.argosmodel", "en", "es", seed=8)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(IndexHandler, directory=str(folder)))
    base = f"http://127.0.0.1:{server.server_port}/"
    (folder / "index.json").write_text(json.dumps([
        {"type": "translate", "from_code": "en", "to_code": "fa", "package_version": "1.0", "links": [base + "translate-en_fa-1_0.argosmodel"]},
        {"type": "translate", "from_code": "en", "to_code": "uk", "package_version": "1.0", "links": [base + "mislabelled.argosmodel"]},
    ]))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base
    server.shutdown()
    server.server_close()


def test_install_from_index_on_loopback(runner, local_index, project_dir):
    result = runner.invoke(main, ["--project", str(project_dir), "models", "install", "--from-index", "en", "fa", "--index", local_index])
    assert result.exit_code == 0, result.output
    assert ("en", "fa") in installed_pairs()
    models.remove("en", "fa")


def test_wrong_language_package_from_index_installs_nothing(local_index):
    before = installed_pairs()
    with pytest.raises(models.ModelError, match="translates en to es, not en to uk"):
        models.install_from_index("en", "uk", local_index)
    assert installed_pairs() == before


def test_index_without_the_pair(local_index):
    with pytest.raises(models.ModelError, match="lists no model for en to ko"):
        models.install_from_index("en", "ko", local_index)
