"""Argos Translate models: install from a file or a package index, list, remove.

Models are ordinary Argos packages (`.argosmodel`: a zip of one folder with
metadata.json, a CTranslate2 model/ and a tokenizer). They live where Argos
keeps them (ARGOS_PACKAGES_DIR, else Argos's default data folder). The network
is used only by `install_from_index`, against the index the user names.
This module and translate.py are the only ones that import argostranslate.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import urllib.parse
import urllib.request
import zipfile
from typing import Any
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import ModelError

DEFAULT_INDEX = "https://raw.githubusercontent.com/argosopentech/argospm-index/main/"
MISSING_MODEL_HELP = (
    "No Argos model translates {from_code} to {to_code}. Install one with\n"
    "  outreach models install FILE.argosmodel\n"
    "(an .argosmodel file copied from a connected machine), or, with network access,\n"
    "  outreach models install --from-index {from_code} {to_code}"
)


@dataclass(frozen=True, slots=True)
class ModelInfo:
    from_code: str
    to_code: str
    version: str
    code: str  # package name, e.g. translate-en_es
    path: Path

    @property
    def label(self) -> str:
        return f"{self.code} {self.version}"


NO_TRANSLATE_EXTRA = (
    "machine translation is not installed: install the translate extra with\n"
    "  pip install torch==2.13.0 && pip install '.[translate]'   (or `make install`)"
)


def _argos_package() -> Any:
    try:
        import argostranslate.package  # noqa: PLC0415 - heavy optional dependency, imported on use
    except ImportError:
        raise ModelError(NO_TRANSLATE_EXTRA) from None
    return argostranslate.package


def installed_models() -> list[ModelInfo]:
    package = _argos_package()
    models = []
    for pkg in package.get_installed_packages():
        if getattr(pkg, "type", "translate") != "translate":
            continue
        models.append(
            ModelInfo(pkg.from_code, pkg.to_code, str(pkg.package_version), pkg.package_path.name, Path(pkg.package_path))
        )
    return sorted(models, key=lambda m: (m.from_code, m.to_code))


def find_model(from_code: str, to_code: str) -> ModelInfo | None:
    for model in installed_models():
        if model.from_code == from_code and model.to_code == to_code:
            return model
    return None


def read_package_metadata(path: Path) -> dict[str, Any]:
    """Validate an .argosmodel file without installing it; return its metadata."""
    if not zipfile.is_zipfile(path):
        raise ModelError(f"{path}: not an Argos model (not a zip archive)")
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            bad = archive.testzip()
            if bad is not None:
                raise ModelError(f"{path}: corrupt archive (bad CRC in {bad})")
            tops = {name.split("/", 1)[0] for name in names}
            if len(tops) != 1:
                raise ModelError(f"{path}: an Argos model holds exactly one folder, found {len(tops)}")
            top = tops.pop()
            unsafe = [n for n in names if n.startswith("/") or ".." in n.split("/")]
            if unsafe:
                raise ModelError(f"{path}: unsafe path in archive: {unsafe[0]}")
            required = [f"{top}/metadata.json", f"{top}/model/model.bin"]
            for name in required:
                if name not in names:
                    raise ModelError(f"{path}: missing {name.split('/', 1)[1]}")
            if f"{top}/sentencepiece.model" not in names and f"{top}/bpe.model" not in names:
                raise ModelError(f"{path}: missing tokenizer (sentencepiece.model or bpe.model)")
            metadata = json.loads(archive.read(f"{top}/metadata.json"))
    except (zipfile.BadZipFile, OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelError(f"{path}: corrupt Argos model ({exc})") from None
    if metadata.get("type", "translate") != "translate" or not metadata.get("from_code") or not metadata.get("to_code"):
        raise ModelError(f"{path}: metadata.json does not describe a translation model (from_code, to_code)")
    metadata["_folder"] = top
    return dict(metadata)


def install_file(path: Path, expect_from: str | None = None, expect_to: str | None = None) -> ModelInfo:
    """Install a local .argosmodel after checking it; nothing is installed if it is wrong."""
    metadata = read_package_metadata(path)
    pair = (metadata["from_code"], metadata["to_code"])
    if expect_from and expect_to and pair != (expect_from, expect_to):
        raise ModelError(f"{path}: this model translates {pair[0]} to {pair[1]}, not {expect_from} to {expect_to}")
    _extract_atomically(path, metadata["_folder"])
    model = find_model(*pair)
    if model is None:
        raise ModelError(f"{path}: installed, but Argos does not list it")
    return model


def _extract_atomically(path: Path, folder: str) -> None:
    """Unpack next to Argos's package folder, then rename into it: a killed install leaves nothing half-made."""
    _argos_package()
    from argostranslate import settings  # noqa: PLC0415

    packages = Path(settings.package_data_dir)
    packages.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".outreach-install-", dir=packages.parent))
    try:
        with zipfile.ZipFile(path) as archive:
            archive.extractall(staging)
        target = packages / folder
        if target.exists():
            retired = staging / ".replaced"
            os.replace(target, retired)
        os.replace(staging / folder, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def remove(from_code: str, to_code: str) -> ModelInfo:
    package = _argos_package()
    for pkg in package.get_installed_packages():
        if pkg.from_code == from_code and pkg.to_code == to_code:
            info = ModelInfo(pkg.from_code, pkg.to_code, str(pkg.package_version), pkg.package_path.name, Path(pkg.package_path))
            package.uninstall(pkg)
            return info
    raise ModelError(f"no installed model translates {from_code} to {to_code}")


def index_url(explicit: str | None) -> str:
    """The package index to use: the option, else ARGOS_PACKAGE_INDEX, else Argos's own."""
    base = explicit or os.environ.get("ARGOS_PACKAGE_INDEX") or DEFAULT_INDEX
    return base if base.endswith(".json") else base.rstrip("/") + "/index.json"


def _fetch(url: str, timeout: float) -> bytes:
    if urllib.parse.urlparse(url).scheme not in ("http", "https"):
        raise ModelError(f"only http and https package indexes are supported, not {url}")
    request = urllib.request.Request(url, headers={"User-Agent": "outreach"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - scheme checked above
            data: bytes = response.read()
            return data
    except OSError as exc:
        raise ModelError(f"cannot download {url}: {exc}") from None


def install_from_index(from_code: str, to_code: str, index: str | None = None, timeout: float = 60.0) -> ModelInfo:
    """Download the index the user chose, then the newest model for the pair, check it, install it."""
    url = index_url(index)
    try:
        entries = json.loads(_fetch(url, timeout))
    except json.JSONDecodeError as exc:
        raise ModelError(f"{url}: not a package index ({exc})") from None
    candidates = [
        e for e in entries
        if isinstance(e, dict) and e.get("from_code") == from_code and e.get("to_code") == to_code and e.get("type", "translate") == "translate"
    ]
    if not candidates:
        raise ModelError(f"{url} lists no model for {from_code} to {to_code}")
    from packaging.version import InvalidVersion, Version

    def version_key(entry: dict[str, Any]) -> Version:
        try:
            return Version(str(entry.get("package_version", "0")))
        except InvalidVersion:
            return Version("0")

    best = max(candidates, key=version_key)
    links = best.get("links") or []
    if not links:
        raise ModelError(f"{url}: the {from_code} to {to_code} entry has no download link")
    link = urllib.parse.urljoin(url, links[0])
    data = _fetch(link, timeout)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"translate-{from_code}_{to_code}.argosmodel"
        path.write_bytes(data)
        return install_file(path, from_code, to_code)
