"""Crash safety: kill render, build, bundle and approve anywhere; every file stays the old or the new complete version.

Runs killed at random moments (SIGKILL after a random delay) and at chosen
instants (OUTREACH_FAULT makes the process exit there: before and after the
release swap, between writing a temporary file and renaming it), then checks the
disk: PDFs open, PO files parse, ledgers verify, the release manifest matches its
PDFs and zip, no debris once the next command has run, and `outreach check`
says what the disk says. Only the en-US card is rendered, to keep this quick.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import polib
import pytest
from click.testing import CliRunner
from conftest import MAINTAINERS, REPO
from pypdf import PdfReader

import pipeline.render  # noqa: F401 - loaded once here, so forked runs start rendering at once
from pipeline import fsutil
from pipeline.cli import main
from pipeline.ledger import read_ledger
from pipeline.project import Project
from pipeline.release_check import verify_release

ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
CARD_ONLY = """editions:
  - id: en-US
    language: en
    region: US
    formats: [card]
    hotlines: [emergency, drug_alcohol_helpline, poison_centre]
"""
FACT = "call-emergency"
KEYS: dict[str, str] = {}  # signing key file by language, set by `released`
WORDINGS = ("Call {emergency} now,", "Call {emergency} right now,")


class Run:
    """`outreach ARGS` in a forked child process (no interpreter start-up: the kills land in the work itself)."""

    def __init__(self, root: Path, *args: str, fault: str = ""):
        self.pid = os.fork()
        if self.pid == 0:  # the child: run the command, never return into pytest
            code = 1
            try:
                os.environ.pop(fsutil.FAULT_ENV, None)
                if fault:
                    os.environ[fsutil.FAULT_ENV] = fault
                if args[0] in ("approve", "reject"):
                    os.environ["OUTREACH_SIGNING_KEY"] = KEYS[args[1]]
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 1)
                os.dup2(devnull, 2)
                try:
                    main(["--project", str(root), *args], standalone_mode=False)
                    code = 0
                except SystemExit as exc:
                    code = exc.code if isinstance(exc.code, int) else 1
            finally:
                os._exit(code)
        self.returncode: int | None = None

    def wait(self, timeout: float | None = None) -> int | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.returncode is None:
            pid, status = os.waitpid(self.pid, 0 if deadline is None else os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
            elif time.monotonic() >= deadline:
                return None
            else:
                time.sleep(0.005)
        return self.returncode

    def kill(self) -> None:
        os.kill(self.pid, signal.SIGKILL)
        self.wait()


def finish(root: Path, *args: str, fault: str = "") -> int:
    return Run(root, *args, fault=fault).wait()


def toggle_wording(root: Path) -> None:
    """An author edits the English of a fact on the card (as in an editor: not under the lock)."""
    facts = root / "source" / "facts.yaml"
    text = facts.read_text(encoding="utf-8")
    old, new = WORDINGS if WORDINGS[0] in text else WORDINGS[::-1]
    facts.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture(scope="module")
def released(tmp_path_factory, signed_files, key_files) -> Path:
    """A card-only project with Spanish drafts, its card rendered and released: the 'old' state."""
    root = tmp_path_factory.mktemp("crash") / "project"
    shutil.copytree(REPO / "source", root / "source")
    shutil.copytree(REPO / "templates", root / "templates")
    (root / "translations" / "ledger").mkdir(parents=True)
    (root / "source" / "reviewers.yaml").write_text(signed_files["reviewers.yaml"], encoding="utf-8")
    (root / "translations" / "ledger" / "en.jsonl").write_text(signed_files["en.jsonl"], encoding="utf-8")
    KEYS.update(en=str(key_files[MAINTAINERS]), es=str(key_files["Ana Reviewer"]))
    shutil.copy(REPO / "translations" / "es.po", root / "translations" / "es.po")
    (root / "source" / "editions.yaml").write_text(CARD_ONLY)
    assert WORDINGS[0] in (root / "source" / "facts.yaml").read_text()
    assert subprocess.run([sys.executable, "-m", "pipeline", "--project", str(root), "build"], env=ENV, capture_output=True, check=False).returncode == 0
    return root


@pytest.fixture
def project_copy(released, tmp_path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(released, root)
    return root


def assert_whole(root: Path) -> None:
    """Every file is a complete version: PDFs open, PO parses, ledgers verify, the release matches its manifest."""
    output = root / "output"
    for pdf in sorted(output.rglob("*.pdf")):
        if not any(part.startswith(".") for part in pdf.relative_to(output).parts):
            assert len(PdfReader(pdf).pages) >= 1, pdf
    polib.pofile(str(root / "translations" / "es.po"), encoding="utf-8")
    for language in ("en", "es"):
        assert read_ledger(Project(root), language).problems == (), language
    release = output / "release"
    if release.exists() or (output / ".release.old").exists():
        # Checked here by hand, independently of release_check: the manifest, its PDFs and the zip agree.
        shown = release if release.exists() else output / ".release.old"
        manifest = json.loads((shown / "manifest.json").read_text())
        listed = {f["path"]: f["sha256"] for f in manifest["files"]}
        on_disk = {str(p.relative_to(shown)): hashlib.sha256(p.read_bytes()).hexdigest() for p in shown.rglob("*.pdf")}
        assert on_disk == listed
        with zipfile.ZipFile(shown / "outreach-release.zip") as archive:
            assert sorted(archive.namelist()) == sorted([*listed, "manifest.json"])
            assert all(hashlib.sha256(archive.read(n)).hexdigest() == d for n, d in listed.items())


def check_errors(root: Path) -> list[str]:
    result = CliRunner().invoke(main, ["--project", str(root), "check"], catch_exceptions=False)
    return [line for line in result.output.splitlines() if ": error: " in line]


def assert_no_debris(root: Path) -> None:
    # output/.state/ is the build state (kept on purpose); anything else hidden is left over from a kill.
    debris = [p for p in (root / "output").rglob(".*") if p.name not in (".outreach.lock",) and p != root / "output" / ".state"]
    debris += list((root / "translations").rglob(".*.tmp")) + list(root.glob(".*.tmp"))
    assert debris == []


def test_kills_at_random_moments_leave_whole_files(project_copy):
    """Runs of approve, reject, render, bundle and build, SIGKILLed after a random delay, until 20 were killed."""
    root = project_copy
    rng = random.Random(int(os.environ.get("OUTREACH_CRASH_SEED", "8")))
    es_ids = ["call-emergency", "give-naloxone", "rescue-breathing", "side-and-stay", "naloxone-wears-off", "carry-naloxone"]
    steps = [
        ("approve", "en", FACT),
        ("approve", "es", *rng.sample(es_ids, 3)),
        ("render",),
        ("bundle",),
        ("build",),
        ("reject", "es", *rng.sample(es_ids, 2), "--reason", "revisar"),
    ]
    durations: dict[str, float] = {}
    kills: list[str] = []
    number = 0
    while len(kills) < 20:
        assert number < 60, kills
        args = steps[number % len(steps)]
        if number % len(steps) == 0:
            toggle_wording(root)
        started = time.monotonic()
        run = Run(root, *args)
        number += 1
        if run.wait(timeout=rng.uniform(0, 0.9 * durations.get(args[0], 1.0))) is None:
            run.kill()
            kills.append(args[0])
        else:
            durations[args[0]] = time.monotonic() - started  # it finished first: aim earlier next time
        assert_whole(root)
        errors = check_errors(root)
        assert not [e for e in errors if "[release]" in e or "[ledger-chain]" in e], errors
    assert {"approve", "render", "bundle", "build"} <= set(kills), kills
    # The next writer cleans up whatever the kills left, and finishes the job.
    assert finish(root, "approve", "en", FACT) == 0
    assert finish(root, "build") == 0
    assert_whole(root)
    assert_no_debris(root)
    assert check_errors(root) == []


@pytest.mark.parametrize(
    "command, fault, release_after",
    [
        (("bundle",), "swap-before", "old"),
        (("bundle",), "swap-after", "new"),
        (("bundle",), "write-before-replace", "old"),  # the first file of the new release
        (("bundle",), "write-before-replace#2", "old"),  # its manifest, after the new card
        (("build",), "swap-after", "new"),
        (("render",), "write-before-replace", "old"),
        (("approve", "en", FACT), "write-before-replace", "old"),
    ],
)
def test_a_kill_at_the_exact_instant_leaves_the_old_or_the_new(project_copy, command, fault, release_after):
    root = project_copy
    release = root / "output" / "release"
    old_manifest = (release / "manifest.json").read_bytes()
    # New wording on the card, signed off and rendered, makes a new release.
    toggle_wording(root)
    if command[0] != "approve":
        assert finish(root, "approve", "en", FACT) == 0
    if command[0] == "bundle":
        assert finish(root, "render") == 0
    assert finish(root, *command, fault=fault) == fsutil.FAULT_EXIT_CODE
    assert_whole(root)
    assert release.is_dir()  # at every instant, a complete release is there
    now = (release / "manifest.json").read_bytes()
    assert (now == old_manifest) == (release_after == "old")
    assert [e for e in check_errors(root) if "[release]" in e or "[ledger-chain]" in e] == []
    # The next writer removes what the killed one left.
    assert finish(root, "reject", "es", "give-naloxone", "--reason", "revisar") == 0
    assert_no_debris(root)
    assert_whole(root)


def test_an_interrupted_two_rename_swap_is_put_back(tmp_path, monkeypatch):
    """Where the kernel cannot exchange two folders, a kill between the renames loses nothing: the next run restores."""
    output = tmp_path / "output"
    release = output / "release"
    release.mkdir(parents=True)
    (release / "manifest.json").write_text("old")
    staging = fsutil.make_staging(release)
    (staging / "manifest.json").write_text("new")

    class Killed(BaseException):
        pass

    def die_at(point):
        if point == "swap-between":
            raise Killed

    monkeypatch.setattr(fsutil, "_exchange", lambda a, b: False)
    monkeypatch.setattr(fsutil, "fault_point", die_at)
    with pytest.raises(Killed):
        fsutil.swap_in(staging, release)
    assert not release.exists() and (output / ".release.old" / "manifest.json").read_text() == "old"
    assert [p.message for p in verify_release(output)] == [
        "a release swap was interrupted: the next outreach command that writes (e.g. `outreach bundle`) puts the old release back"
    ]
    assert fsutil.recover_output(output) == ["restored release", f"removed {staging.name}"]
    assert (release / "manifest.json").read_text() == "old" and sorted(p.name for p in output.iterdir()) == ["release"]


def test_the_two_rename_swap_completes(tmp_path, monkeypatch):
    monkeypatch.setattr(fsutil, "_exchange", lambda a, b: False)
    release = tmp_path / "release"
    release.mkdir()
    (release / "a.pdf").write_text("old")
    staging = fsutil.make_staging(release)
    (staging / "b.pdf").write_text("new")
    fsutil.swap_in(staging, release)
    assert [p.name for p in tmp_path.iterdir()] == ["release"] and [p.name for p in release.iterdir()] == ["b.pdf"]


def test_exchange_swaps_in_one_step(tmp_path):
    release = tmp_path / "release"
    release.mkdir()
    (release / "a.pdf").write_text("old")
    staging = fsutil.make_staging(release)
    (staging / "b.pdf").write_text("new")
    assert fsutil._exchange(staging, release)  # this machine's kernel and filesystem can
    assert (release / "b.pdf").read_text() == "new" and (staging / "a.pdf").read_text() == "old"


def test_check_reports_a_release_that_does_not_match_its_manifest(released, tmp_path):
    """What a bundle killed mid-way left before the swap: new PDFs beside the old manifest."""
    root = tmp_path / "project"
    shutil.copytree(released, root)
    assert check_errors(root) == []  # quiet on a whole release
    card = root / "output" / "release" / "en-US" / "card.pdf"
    card.write_bytes(card.read_bytes() + b"\n% rendered again\n")
    (root / "output" / "release" / "en-US" / "flyer-letter.pdf").write_bytes(card.read_bytes())
    errors = check_errors(root)
    assert errors == [
        "output/release/en-US/card.pdf: error: does not match the release manifest (sha256 differs); run `outreach bundle` [release]",
        "output/release/en-US/flyer-letter.pdf: error: not listed in the release manifest; run `outreach bundle` [release]",
    ]
    zip_path = root / "output" / "release" / "outreach-release.zip"
    zip_path.write_bytes(zip_path.read_bytes()[:100])
    assert any("unreadable release zip" in e for e in check_errors(root))
