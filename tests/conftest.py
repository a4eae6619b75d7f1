"""Shared fixtures: a throw-away copy of the project, Argos kept inside a temp folder."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TOOLS = REPO / "tests" / "tools"
sys.path.insert(0, str(TOOLS))

# Argos reads its folders once, when first imported: point them at a temp folder
# before any test imports it, so tests never touch a user's models or caches.
_ARGOS_HOME = Path(tempfile.mkdtemp(prefix="outreach-argos-"))
os.environ["ARGOS_PACKAGES_DIR"] = str(_ARGOS_HOME / "packages")
os.environ["XDG_DATA_HOME"] = str(_ARGOS_HOME / "data")
os.environ["XDG_CACHE_HOME"] = str(_ARGOS_HOME / "cache")
os.environ["XDG_CONFIG_HOME"] = str(_ARGOS_HOME / "config")
os.environ.pop("ARGOS_PACKAGE_INDEX", None)

NOW = dt.datetime(2026, 11, 21, 12, 0, tzinfo=dt.timezone.utc)
MAINTAINERS = "project maintainers"
# Test reviewers, listed in every test project's source/reviewers.yaml for these languages.
TEST_REVIEWERS = {"Ana Reviewer": ["all"], "Ben Reviewer": ["all"], "Esme Spanish": ["es"]}


def write_test_key(path: Path, comment: str, passphrase: str | None = None) -> Path:
    """A new OpenSSH Ed25519 key pair at path and path.pub (as `ssh-keygen -t ed25519` writes them)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    encryption = serialization.BestAvailableEncryption(passphrase.encode()) if passphrase else serialization.NoEncryption()
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, encryption))
    path.chmod(0o600)
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    path.with_name(path.name + ".pub").write_text(f"{public} {comment}\n")
    return path


@pytest.fixture(scope="session")
def key_files(tmp_path_factory) -> dict[str, Path]:
    """Private key files by reviewer name: the test maintainers' key and each TEST_REVIEWERS entry."""
    folder = tmp_path_factory.mktemp("keys")
    names = [MAINTAINERS, *TEST_REVIEWERS]
    return {name: write_test_key(folder / f"key{number}", name.lower().replace(" ", "-") + "@test") for number, name in enumerate(names)}


@pytest.fixture(scope="session")
def signed_files(key_files) -> dict[str, str]:
    """The shipped reviewers.yaml with test keys instead of real ones, and en.jsonl re-signed with the test maintainers' key."""
    from resign_english import resign_text

    from pipeline.project import Project
    from pipeline.reviewers import read_reviewers
    from pipeline.signing import load_signing_key

    shipped = read_reviewers(Project(REPO))
    text = (REPO / "source" / "reviewers.yaml").read_text(encoding="utf-8")
    maintainers = load_signing_key(key_files[MAINTAINERS])
    listed = [entry for entry in shipped.entries if entry.name == MAINTAINERS]
    assert listed, f"source/reviewers.yaml must list {MAINTAINERS!r} for en"
    text = text.replace(listed[0].key.split()[1], maintainers.public_line.split()[1])
    for name, languages in TEST_REVIEWERS.items():
        public = key_files[name].with_name(key_files[name].name + ".pub").read_text().strip()
        text += f"  - name: {name}\n    languages: [{', '.join(languages)}]\n    key: {public}\n"
    ledger = (REPO / "translations" / "ledger" / "en.jsonl").read_text(encoding="utf-8")
    return {"reviewers.yaml": text, "en.jsonl": resign_text(ledger, maintainers, MAINTAINERS)}


@pytest.fixture(scope="session")
def keys(key_files):
    """Loaded signing keys by reviewer name."""
    from pipeline.signing import load_signing_key

    return {name: load_signing_key(path) for name, path in key_files.items()}


@pytest.fixture
def project_dir(tmp_path: Path, signed_files) -> Path:
    """A copy of the shipped source/, templates/ and English sign-offs, with no translations yet.

    Its reviewers.yaml lists test keys (see `keys`), and the English sign-offs are
    signed by the test maintainers' key.
    """
    root = tmp_path / "project"
    shutil.copytree(REPO / "source", root / "source")
    if (REPO / "templates").is_dir():
        shutil.copytree(REPO / "templates", root / "templates")
    (root / "translations" / "ledger").mkdir(parents=True)
    (root / "source" / "reviewers.yaml").write_text(signed_files["reviewers.yaml"], encoding="utf-8")
    # The English sign-offs travel with the source they sign off.
    (root / "translations" / "ledger" / "en.jsonl").write_text(signed_files["en.jsonl"], encoding="utf-8")
    return root


@pytest.fixture
def project(project_dir: Path):
    from pipeline.project import Project

    return Project(project_dir)


@pytest.fixture
def source(project):
    from pipeline.content import read_source

    return read_source(project)


@pytest.fixture
def po_files_compile(project_dir):
    """Every PO file a test leaves behind passes `msgfmt --check` (gettext's own validator)."""
    yield
    for path in sorted((project_dir / "translations").glob("*.po")):
        result = subprocess.run(["msgfmt", "--check", "-o", "/dev/null", str(path)], capture_output=True, text=True)
        assert result.returncode == 0, f"{path.name}: {result.stderr}"


def edit(path: Path, old: str, new: str) -> None:
    """Replace text in a file, failing loudly if it is not there."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def hand_edit_po(source, language: str, edits: dict[str, dict]) -> None:
    """Edit entries of a language's PO as a translator would in Poedit (through polib, not the pipeline).

    `edits` maps string id -> any of msgstr=..., fuzzy=True/False, provenance=[lines]
    (replacing the `outreach:` comment lines), add_comment="a translator's line".
    """
    import polib

    from pipeline.catalog import read_catalog, sync_catalog, write_catalog

    catalog = read_catalog(source.project, language)
    sync_catalog(source, catalog)
    write_catalog(catalog, NOW)
    po = polib.pofile(str(catalog.path), wrapwidth=0)
    for string_id, change in edits.items():
        entry = po.find(string_id, by="msgctxt")
        assert entry is not None, string_id
        if "msgstr" in change:
            entry.msgstr = change["msgstr"]
        if change.get("fuzzy") is True and "fuzzy" not in entry.flags:
            entry.flags.insert(0, "fuzzy")
        if change.get("fuzzy") is False and "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")
        if "provenance" in change:
            human = [line for line in entry.tcomment.splitlines() if not line.startswith("outreach:")]
            entry.tcomment = "\n".join([f"outreach: {line}" for line in change["provenance"]] + human)
        if "add_comment" in change:
            entry.tcomment = "\n".join([*entry.tcomment.splitlines(), change["add_comment"]])
    po.save()
