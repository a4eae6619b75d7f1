"""Atomic file writes: a killed run leaves either the old file or the new one, never half."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from pipeline.errors import ContentError, Problem


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write `data` to `path` through a temporary file in the same folder and a rename."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            os.chmod(tmp_name, path.stat().st_mode & 0o777)
        else:
            os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, path)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise


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
