"""Atomic file writes and folder swaps: a killed run leaves either the old version or the new one, never half.

`write_atomic` writes through a temporary file `.NAME.XXXXXXXX.tmp` in the same
folder and one rename; while it writes, it holds an flock on the temporary file,
so `sweep_temp_files` (run by the next writer under the project lock) removes
only the temporaries of runs that died. `swap_in` replaces a whole folder (the
release) with one staged beside it: one atomic exchange where the kernel offers
it (Linux renameat2), else two renames through `.NAME.old`, which
`recover_output` puts back if a run died between them.

`OUTREACH_FAULT=<point>[#N]` makes the process exit at that point (`os._exit`),
for the fault-injection tests: a kill at the most delicate instant.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from pipeline.errors import ContentError, Problem

FAULT_ENV = "OUTREACH_FAULT"
FAULT_EXIT_CODE = 70
# mkstemp's names: prefix, 8 characters from [a-z0-9_], suffix.
TEMP_FILE = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")
STAGING = re.compile(r"^\.(?P<name>.+)\.(?:tmp|trash)-[a-z0-9_]{8}$")
SWAPPED_OUT = re.compile(r"^\.(?P<name>.+)\.old$")


_passed: dict[str, int] = {}


def fault_point(name: str) -> None:
    """Exit at once, as a kill would, when OUTREACH_FAULT names this point (tests only).

    `NAME` exits the first time the point is reached, `NAME#N` the N-th time.
    """
    wanted = os.environ.get(FAULT_ENV)
    if not wanted or not wanted.startswith(name):
        return
    _passed[name] = _passed.get(name, 0) + 1
    if wanted in (name if _passed[name] == 1 else "", f"{name}#{_passed[name]}"):
        os._exit(FAULT_EXIT_CODE)


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write `data` to `path` through a temporary file in the same folder and a rename."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    for attempt in (1, 2):
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)  # ours while we live: the sweeper leaves it alone
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
                if path.exists():
                    os.chmod(tmp_name, path.stat().st_mode & 0o777)
                else:
                    os.chmod(tmp_name, 0o644)
                fault_point("write-before-replace")
                os.replace(tmp_name, path)
            return
        except BaseException as exc:
            try:
                os.unlink(tmp_name)
            except FileNotFoundError:
                pass
            # Swept in the instant before our flock (another writer's cleanup): write again, once.
            if not (isinstance(exc, FileNotFoundError) and attempt == 1 and path.parent.is_dir()):
                raise


def _held_by_live_process(path: Path) -> bool:
    """Whether a running write_atomic still holds this temporary file."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return True  # gone already, or not ours to judge: leave it
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # closing drops our probe lock
    return False


def sweep_temp_files(folders: Iterable[Path], recursive: bool = True) -> list[Path]:
    """Remove `write_atomic` temporaries left by killed runs; return what was removed."""
    removed = []
    for folder in folders:
        if not folder.is_dir():
            continue
        candidates = folder.rglob(".*.tmp") if recursive else folder.glob(".*.tmp")
        for path in sorted(candidates):
            if TEMP_FILE.match(path.name) and path.is_file() and not path.is_symlink() and not _held_by_live_process(path):
                path.unlink(missing_ok=True)
                removed.append(path)
    return removed


def make_staging(target: Path) -> Path:
    """An empty folder beside `target` to build its next version in (`.NAME.tmp-XXXXXXXX`)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; the release is not
    return staging


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(a))


def swap_in(staging: Path, target: Path) -> None:
    """Make the complete folder `staging` become `target`, replacing the old one in one step.

    At any instant `target` is the old complete folder or the new one: one atomic
    exchange where the kernel offers it. Elsewhere the old folder is first renamed
    to `.NAME.old`; a run killed before the second rename leaves no `target`, and
    `recover_output` renames the old one back.
    """
    fault_point("swap-before")
    if not target.exists():
        os.rename(staging, target)
        fault_point("swap-after")
        return
    if _exchange(staging, target):
        fault_point("swap-after")
        shutil.rmtree(staging)  # now the old version
        return
    old = target.parent / f".{target.name}.old"
    if old.exists():
        shutil.rmtree(old)
    os.rename(target, old)
    fault_point("swap-between")
    os.rename(staging, target)
    fault_point("swap-after")
    shutil.rmtree(old)


def withdraw(target: Path) -> None:
    """Remove a folder in one step: rename it aside (`.NAME.trash-XXXXXXXX`), then delete it."""
    if not target.exists():
        return
    trash = Path(tempfile.mkdtemp(prefix=f".{target.name}.trash-", dir=target.parent))
    os.rename(target, trash / "x")  # atomic: the folder is there, or gone
    shutil.rmtree(trash)


def recover_output(folder: Path) -> list[str]:
    """Finish or undo what a killed run left in `folder` (call with the project lock held).

    A `.NAME.old` is an old version whose swap was interrupted: put back if `NAME`
    is missing, deleted otherwise. Staging (`.NAME.tmp-*`) and trash folders are
    half-built or half-deleted: deleted. Returns what was done, for the log.
    """
    done: list[str] = []
    if not folder.is_dir():
        return done
    for path in sorted(folder.iterdir()):
        if not path.is_dir() or path.is_symlink():
            continue
        old = SWAPPED_OUT.match(path.name)
        if old:
            target = folder / old.group("name")
            if target.exists():
                shutil.rmtree(path)
                done.append(f"removed {path.name}")
            else:
                os.rename(path, target)
                done.append(f"restored {target.name}")
    for path in sorted(folder.iterdir()):
        if path.is_dir() and not path.is_symlink() and STAGING.match(path.name):
            shutil.rmtree(path)
            done.append(f"removed {path.name}")
    return done


def guard_path(path: Path, root: Path) -> Path:
    """`path` itself, once sure that it lies inside `root` with `..` and symlinks resolved.

    Every file the pipeline writes or deletes goes through this first (output/
    for documents, translations/ for catalogs and ledgers), so an edition id,
    a language code or a symlink can never point a write or a delete elsewhere.
    """
    try:
        resolved, base = path.resolve(), root.resolve()
    except (OSError, ValueError) as exc:  # a NUL byte, a symlink loop
        raise ContentError([Problem(root, None, f"refused to use path {str(path)!r}: {exc}")], unusable=True) from None
    if resolved != base and not resolved.is_relative_to(base):
        raise ContentError([Problem(root, None, f"refused to write or delete {str(path)!r}: it resolves to {resolved}, outside {base}")], unusable=True)
    return path


def read_text_file(path: Path) -> str:
    """A UTF-8 text file's text; a missing file, a folder or other bytes raise an unusable ContentError."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ContentError([Problem(path, None, "file not found")], unusable=True) from None
    except IsADirectoryError:
        raise ContentError([Problem(path, None, "is a folder, not a file")], unusable=True) from None
    except OSError as exc:
        raise ContentError([Problem(path, None, f"cannot read: {exc.strerror or exc}")], unusable=True) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ContentError([Problem(path, line, f"not UTF-8 text: byte 0x{data[exc.start]:02x} ({exc.reason}); save the file as UTF-8")], unusable=True) from None
