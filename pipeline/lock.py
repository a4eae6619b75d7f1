"""One writer at a time: the project lock every read-modify-write of shared files takes.

Approving, rejecting, reviewing, translating and importing XLIFF rewrite PO files
and ledgers; rendering, building and bundling rewrite output/. Each does so
inside `project_lock(project, what)`, and reads the files it changes only after
taking it, so two commands on one project never lose each other's work. A second
writer waits, and says so (through the package logger, or the `waiting`
callback) once it has waited two seconds. The lock is `filelock`'s FileLock,
which on Linux and macOS is flock(2): the kernel releases it when the holding
process dies, however it dies, so a lock left by a killed run is simply free.

The lock is reentrant within one thread (a stage that takes it may call another
that does); other threads of the same process wait like other processes. Taking it from the outside also cleans up after killed runs: stray
temporary files of `write_atomic` and an interrupted release swap (see fsutil).
"""

from __future__ import annotations

import functools
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ParamSpec, TypeVar

from filelock import FileLock, Timeout

from pipeline.errors import ContentError, Problem
from pipeline.fsutil import recover_output, sweep_temp_files
from pipeline.project import Project

LOCK_NAME = ".outreach.lock"
OWNER_NAME = ".outreach.lock.owner"
WAIT_NOTICE_SECONDS = 2.0

log = logging.getLogger("outreach")

_depth: dict[Path, int] = {}  # lock file -> how many times the holding thread has taken it
_holder: dict[Path, int] = {}  # lock file -> the holding thread
_gates: dict[Path, threading.RLock] = {}  # one thread of this process at a time, before the file lock
_guard = threading.Lock()


def lock_path(project: Project) -> Path:
    return project.root / LOCK_NAME


def _owner(project: Project) -> str:
    """Who holds the lock, as the holder wrote it ("pid N, approve"), or "" when unknown."""
    try:
        record = json.loads((project.root / OWNER_NAME).read_text(encoding="utf-8"))
        return f"pid {int(record['pid'])}, {record['what']}"
    except (OSError, ValueError, KeyError, TypeError):
        return ""


@contextmanager
def project_lock(
    project: Project,
    what: str,
    waiting: Callable[[str], None] | None = None,
    notice_after: float = WAIT_NOTICE_SECONDS,
) -> Iterator[None]:
    """Hold the project's lock for the body; wait for another writer rather than race it.

    `what` names the command for a waiting writer's message. `waiting(message)` is
    called once when the lock is still taken after `notice_after` seconds (default:
    the package logger's warning channel).
    """
    path = lock_path(project)
    with _guard:
        gate = _gates.setdefault(path, threading.RLock())
    started = time.monotonic()
    told: list[bool] = []

    def tell() -> None:
        if not told:
            told.append(True)
            holder = _owner(project) or "another process"
            (waiting or log.warning)(f"waiting for another outreach command ({holder}) to finish…")

    if not gate.acquire(timeout=notice_after):
        tell()
        gate.acquire()
    try:
        if _depth.get(path, 0):  # this thread holds it already
            _depth[path] += 1
            try:
                yield
            finally:
                _depth[path] -= 1
            return
        lock = FileLock(str(path), is_singleton=False)
        try:
            lock.acquire(timeout=-1 if told else max(0.0, notice_after - (time.monotonic() - started)))
        except Timeout:
            tell()
            lock.acquire(timeout=-1)
        except OSError as exc:  # a read-only project, say: say so, rather than write unguarded
            raise ContentError([Problem(path, None, f"cannot take the project lock: {exc.strerror or exc}")], unusable=True) from None
        try:
            _depth[path], _holder[path] = 1, threading.get_ident()
            # Only a hint for waiting writers (a torn record reads as "another process"): written in place.
            (project.root / OWNER_NAME).write_text(json.dumps({"pid": os.getpid(), "what": what}) + "\n", encoding="utf-8")
            # Whatever a killed run left behind is ours to clean up now: nobody else is writing.
            recover_output(project.output)
            sweep_temp_files([project.output, project.translations])
            yield
        finally:
            _depth.pop(path, None)
            _holder.pop(path, None)
            lock.release()
    finally:
        gate.release()


P = ParamSpec("P")
R = TypeVar("R")


def holding_project_lock(what: str | Callable[..., str]) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a stage whose first argument has a `.project` (a Source) or is a Project: run it under the lock.

    `what` names the command, or is a function of the stage's arguments that does.
    """

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            first = args[0]
            project = first if isinstance(first, Project) else getattr(first, "project", None)
            if not isinstance(project, Project):
                raise TypeError(f"{function.__name__}: the first argument must be a Project or have one as .project")
            with project_lock(project, what(*args, **kwargs) if callable(what) else what):
                return function(*args, **kwargs)

        return wrapper

    return decorate


def holds_project_lock(project: Project) -> bool:
    """Whether the calling thread holds the project's lock now."""
    path = lock_path(project)
    return _depth.get(path, 0) > 0 and _holder.get(path) == threading.get_ident()
