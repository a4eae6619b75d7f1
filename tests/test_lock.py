"""One writer at a time: the project lock, racing approvals, a killed holder, stray temporaries."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO

from pipeline.ledger import read_ledger
from pipeline.project import Project

ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}

# A process that takes the project lock, says so, and holds it until its standard input closes.
HOLDER = """
import sys
from pathlib import Path
from pipeline.lock import project_lock
from pipeline.project import Project
with project_lock(Project(Path(sys.argv[1])), sys.argv[2]):
    print("held", flush=True)
    sys.stdin.read()
"""

# Imports everything first, waits for the start signal, then runs `outreach ARGS...`: both racers start together.
RACER = """
import os, sys, time
from pipeline.cli import main
go = sys.argv[1]
print("ready", flush=True)
while not os.path.exists(go):
    time.sleep(0.0005)
main(sys.argv[2:], standalone_mode=True)
"""


def start_holder(root: Path, what: str = "approve") -> subprocess.Popen:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(root), what], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=ENV, text=True
    )
    assert holder.stdout.readline().strip() == "held"
    return holder


@pytest.fixture
def es_project(project_dir):
    """The project with the shipped Spanish drafts: 39 strings a reviewer can approve."""
    shutil.copy(REPO / "translations" / "es.po", project_dir / "translations" / "es.po")
    return project_dir


def test_a_second_writer_waits_and_says_for_whom(project):
    import threading

    from pipeline.lock import project_lock

    holder = start_holder(project.root, "approve")
    heard = []
    taken = threading.Event()

    def second_writer():
        with project_lock(project, "reject", waiting=heard.append, notice_after=0.2):
            taken.set()

    thread = threading.Thread(target=second_writer)
    try:
        thread.start()
        assert not taken.wait(1.0)  # blocked while the holder has it
        assert heard == [f"waiting for another outreach command (pid {holder.pid}, approve) to finish…"]
    finally:
        holder.stdin.close()
        holder.wait()
    assert taken.wait(30)  # and in as soon as the holder is done
    thread.join()
    heard.clear()
    with project_lock(project, "render", waiting=heard.append, notice_after=0.1):
        pass
    assert heard == []  # a free lock: no message


def test_the_lock_of_a_killed_holder_is_taken_over(project):
    from pipeline.lock import project_lock

    holder = start_holder(project.root, "bundle")
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    heard = []
    with project_lock(project, "approve", waiting=heard.append, notice_after=5):
        pass
    assert heard == []  # taken at once: the kernel released a dead process's flock


def test_the_lock_is_reentrant_within_one_process(project):
    from pipeline.lock import project_lock

    with project_lock(project, "build"):
        with project_lock(project, "render", notice_after=0.1, waiting=pytest.fail):
            pass
        with project_lock(project, "bundle", notice_after=0.1, waiting=pytest.fail):
            pass


def test_a_writer_is_held_off_while_the_lock_is_taken(es_project, key_files):
    """`outreach approve` does not touch the ledger while another command holds the lock, and says why."""
    holder = start_holder(es_project, "translate")
    try:
        approve = subprocess.Popen(
            [sys.executable, "-m", "pipeline", "--project", str(es_project), "approve", "es", "call-emergency", "--key", str(key_files["Ana Reviewer"])],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV, text=True,
        )
        time.sleep(3.5)  # start-up, then the 2 s before it says it is waiting
        assert approve.poll() is None
        assert not (es_project / "translations" / "ledger" / "es.jsonl").exists()
    finally:
        holder.stdin.close()
        holder.wait()
    out, err = approve.communicate(timeout=60)
    assert approve.returncode == 0, err
    assert f"waiting for another outreach command (pid {holder.pid}, translate) to finish…" in err
    assert "call-emergency approved by Ana Reviewer" in out
    assert len(read_ledger(Project(es_project), "es").decisions) == 1


def test_racing_approvals_keep_every_record(es_project, tmp_path, key_files):
    """Two `outreach approve` on one language at the same instant, ten times: every record kept, chain intact."""
    from pipeline import checks
    from pipeline.approval import State, language_states
    from pipeline.content import read_source

    project = Project(es_project)
    source = read_source(project)
    states = language_states(source, "es")
    # Strings with a translation, not stale (that needs --english-changed-ok) and no check finding:
    # each approval can only fail by the race.
    ids = [
        i for i, s in states.items()
        if s.translation and s.state is not State.STALE and not checks.check_translation(source, "es", i, s.translation)
    ][:20]
    assert len(ids) == 20
    lost, broken = 0, 0
    for attempt in range(10):
        go = tmp_path / f"go-{attempt}"
        racers = [
            subprocess.Popen(
                [sys.executable, "-c", RACER, str(go), "--project", str(es_project), "approve", "es", string_id, "--key", str(key_files[("Ana Reviewer", "Ben Reviewer")[n]])],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV, text=True,
            )
            for n, string_id in enumerate(ids[2 * attempt:2 * attempt + 2])
        ]
        assert [racer.stdout.readline().strip() for racer in racers] == ["ready", "ready"]
        go.touch()
        for racer in racers:
            racer.communicate(timeout=120)
        ledger = read_ledger(project, "es")
        lines = project.ledger_path("es").read_text().splitlines()
        lost = 2 * (attempt + 1) - len(lines)  # records written by a racer and overwritten by the other
        if ledger.problems:  # after a break every later approval is refused: stop here
            broken += 1
            break
    assert (lost, broken) == (0, 0), f"{lost} records lost, chain broken {broken} times"
    ledger = read_ledger(project, "es")
    assert [d.string_id for d in ledger.decisions if d.action == "approve"] != []
    assert sorted(d.string_id for d in ledger.decisions) == sorted(ids)


def test_leftover_temporaries_of_a_killed_write_are_swept_by_the_next_writer(project):
    from pipeline.lock import project_lock

    po = project.po_path("es")
    po.write_text("old complete catalog\n")
    killed = subprocess.run(
        [sys.executable, "-c", "import sys; from pathlib import Path; from pipeline.fsutil import write_atomic; write_atomic(Path(sys.argv[1]), 'new')", str(po)],
        env={**ENV, "OUTREACH_FAULT": "write-before-replace"}, check=False,
    )
    assert killed.returncode == 70
    leftovers = sorted(p.name for p in project.translations.glob(".es.po.*.tmp"))
    assert len(leftovers) == 1 and po.read_text() == "old complete catalog\n"
    # Files that only look similar are not ours: kept.
    lookalikes = [project.translations / "notes.tmp", project.translations / ".es.po.tmp", project.output / ".draft.abc.tmp"]
    for path in lookalikes:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("keep me")
    with project_lock(project, "approve"):
        pass
    assert list(project.translations.glob(".es.po.*.tmp")) == []
    assert all(path.read_text() == "keep me" for path in lookalikes)


def test_a_temporary_still_being_written_is_not_swept(project):
    """A write in progress (its temporary flocked by a live process) is left alone."""
    from pipeline.lock import project_lock

    temp = project.translations / ".fr.po.abcd1234.tmp"
    writer = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, sys; f = open(sys.argv[1], 'w'); fcntl.flock(f, fcntl.LOCK_EX); print('held', flush=True); sys.stdin.read()", str(temp)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert writer.stdout.readline().strip() == "held"
        with project_lock(project, "translate"):
            pass
        assert temp.exists()
    finally:
        writer.stdin.close()
        writer.wait()
    with project_lock(project, "translate"):
        pass
    assert not temp.exists()


def test_the_lock_file_is_ignored_by_git():
    ignored = (REPO / ".gitignore").read_text().split()
    assert "/.outreach.lock" in ignored and "/.outreach.lock.owner" in ignored


def test_owner_record_names_the_command(project):
    from pipeline.lock import OWNER_NAME, project_lock

    with project_lock(project, "import-xliff"):
        record = json.loads((project.root / OWNER_NAME).read_text())
    assert record == {"pid": os.getpid(), "what": "import-xliff"}


def test_every_write_to_translations_and_output_holds_the_lock(es_project, monkeypatch, key_files):
    """Run each writing command and watch every file it writes or removes: the lock is held each time."""
    from click.testing import CliRunner

    from pipeline import fsutil
    from pipeline.cli import main
    from pipeline.lock import holds_project_lock

    project = Project(es_project)
    (es_project / "source" / "editions.yaml").write_text(
        "editions:\n  - id: en-US\n    language: en\n    region: US\n    formats: [card]\n"
        "    hotlines: [emergency, drug_alcohol_helpline, poison_centre]\n"
    )
    unlocked = []
    real_write, real_unlink = fsutil.write_atomic, Path.unlink

    shared = (str(project.translations), str(project.output))

    def watched_write(path, data):
        if str(path).startswith(shared) and not holds_project_lock(project):
            unlocked.append(("write", path))
        real_write(path, data)

    def watched_unlink(self, *args, **kwargs):
        if str(self).startswith(shared) and not holds_project_lock(project):
            unlocked.append(("remove", self))
        real_unlink(self, *args, **kwargs)

    for module in ("pipeline.fsutil", "pipeline.catalog", "pipeline.ledger", "pipeline.build", "pipeline.bundle", "pipeline.state", "pipeline.validate"):
        monkeypatch.setattr(f"{module}.write_atomic", watched_write)
    monkeypatch.setattr(Path, "unlink", watched_unlink)

    def run(*args, input=None):
        result = CliRunner().invoke(main, ["--project", str(es_project), *args], input=input, catch_exceptions=False)
        assert result.exit_code in (0, 1), result.output
        return result

    key = str(key_files["Ana Reviewer"])
    run("approve", "es", "call-emergency", "give-naloxone", "--key", key)
    run("reject", "es", "give-naloxone", "--key", key, "--reason", "revisar")
    run("review", "es", "--key", key, input="e\nPide ayuda ya\na\nq\n")
    run("export-xliff", "es", "-o", str(es_project / "es.xlf"))
    xlf = es_project / "es.xlf"
    xlf.write_text(xlf.read_text().replace("Pide ayuda ya", "Pide ayuda ahora"))
    run("import-xliff", str(xlf))
    run("render")
    run("bundle")
    run("build")
    (es_project / "source" / "facts.yaml").write_text((es_project / "source" / "facts.yaml").read_text().replace("Call {emergency} now,", "Call {emergency} right now,"))
    run("render")  # the English card is withdrawn: its final removed
    run("bundle")  # and the release with it
    assert not (es_project / "output" / "final" / "en-US" / "card.pdf").exists()
    assert unlocked == []


def test_threads_of_one_process_take_turns(project):
    """A server answering requests in threads gets one writer at a time too."""
    import threading

    from pipeline.lock import holds_project_lock, project_lock

    inside, overlaps, heard = [], [], []

    def writer(name):
        with project_lock(project, name, waiting=heard.append, notice_after=0.05):
            assert holds_project_lock(project)
            inside.append(name)
            if len(inside) > 1:
                overlaps.append(tuple(inside))
            time.sleep(0.2)
            inside.remove(name)

    threads = [threading.Thread(target=writer, args=(f"approve {n}",)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert overlaps == [] and len(heard) == 2
    assert not holds_project_lock(project)


def test_a_project_where_the_lock_cannot_be_made_is_refused_cleanly(es_project, key_files):
    """No lock, no write: exit 2 with the reason, nothing changed (here the lock's path is a folder)."""
    (es_project / ".outreach.lock").mkdir()
    before = (es_project / "translations" / "es.po").read_bytes()
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "--project", str(es_project), "approve", "es", "call-emergency", "--key", str(key_files["Ana Reviewer"])],
        capture_output=True, text=True, env=ENV, check=False,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: .outreach.lock: cannot take the project lock: ")
    assert (es_project / "translations" / "es.po").read_bytes() == before
    assert not (es_project / "translations" / "ledger" / "es.jsonl").exists()


def test_a_write_whose_temporary_was_swept_away_writes_again(tmp_path, monkeypatch):
    """The instant between creating a temporary and locking it: a sweeper may take it; the write still lands."""
    from pipeline import fsutil

    target = tmp_path / "es.po"
    real_flock, calls = fsutil.fcntl.flock, []

    def swept_first(fd, operation):
        calls.append(operation)
        if len(calls) == 1:
            for temp in tmp_path.glob(".es.po.*.tmp"):
                temp.unlink()  # what another run's sweep would do
        return real_flock(fd, operation)

    monkeypatch.setattr(fsutil.fcntl, "flock", swept_first)
    fsutil.write_atomic(target, "complete")
    assert target.read_text() == "complete" and sorted(p.name for p in tmp_path.iterdir()) == ["es.po"]
