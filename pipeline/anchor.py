"""Ledgers only grow: each must extend the version committed in git (at HEAD, or a release tag).

The hash chain and signatures protect every record that has a successor, and
each record's own content; removing records from the end leaves a valid
shorter ledger. Git remembers what was committed: the committed lines of every
ledger must be an exact prefix of the current file. Outside a git work tree
there is nothing to compare with, and nothing is reported.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from pipeline.errors import ContentError, Problem
from pipeline.project import Project


def check_ledgers_anchored(project: Project, ref: str = "HEAD") -> list[Problem]:
    """A problem for each ledger whose committed records (at `ref`) were rewritten or removed."""
    root = project.root
    if not root.is_dir() or _git(root, "rev-parse", "--is-inside-work-tree") != "true":
        return []
    commit = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if commit is None:
        if ref == "HEAD":
            return []  # a repository without commits yet
        raise ContentError([Problem(root, None, f"--since {ref}: no such git commit, branch or tag")], unusable=True)
    listing = _git(root, "ls-tree", "-r", "--name-only", commit, "--", "translations/ledger/")
    problems = []
    for name in (listing or "").splitlines():
        if not name.endswith(".jsonl"):
            continue
        relative = name if name.startswith("translations/") else name[name.index("translations/"):]
        committed = _git(root, "show", f"{commit}:./{relative}", strip=False)
        if committed is None:
            continue
        problem = _compare(root / relative, committed, ref)
        if problem:
            problems.append(problem)
    return problems


def _compare(path: Path, committed: str, ref: str) -> Problem | None:
    """The first line where the file stops extending its committed version."""
    old = committed.splitlines()
    try:
        new = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return Problem(path, None, f"ledger deleted: it holds {len(old)} records at {ref}; a ledger is never removed")
    except (OSError, UnicodeDecodeError) as exc:
        return Problem(path, None, f"cannot compare with {ref}: {exc}")
    for number, line in enumerate(old, start=1):
        if number > len(new):
            return Problem(path, number, f"record deleted: line {number} of the ledger at {ref} is gone (a ledger only grows; restore it with `git checkout {ref} -- {path.parent.name}/{path.name}` and append a new decision)")
        if new[number - 1] != line:
            return Problem(path, number, f"record rewritten: line {number} differs from the ledger at {ref} (a ledger only grows; append a new decision instead)")
    return None


def _git(root: Path, *args: str, strip: bool = True) -> str | None:
    """Run git in `root`; its output, or None if it failed or git is missing."""
    try:
        result = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, encoding="utf-8", errors="replace", check=False)
    except OSError:
        return None
    if result.returncode != 0:
        return None
    return result.stdout.strip() if strip else result.stdout
