"""Re-sign the English sign-offs (translations/ledger/en.jsonl) with the maintainers' key.

    python tests/tools/resign_english.py --key /root/.outreach-maintainers/id_ed25519 [--project DIR]

Every record is rewritten in order with the same string, action, texts, reason
and time, re-chained and signed by the key, under the name its entry in
source/reviewers.yaml gives (it must be listed for `en`). Use it once after
merging branches that each appended unsigned or conflicting English records;
for new fact blocks afterwards, sign off as usual with
`outreach approve en ID... --key KEY` (which appends). Rewriting a committed
ledger is reported by `outreach check` until the rewrite is committed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path

from pipeline.errors import ContentError, Problem
from pipeline.fsutil import write_atomic
from pipeline.ledger import GENESIS, make_decision
from pipeline.project import Project
from pipeline.reviewers import read_reviewers
from pipeline.signing import PassphraseNeeded, SigningKey, load_signing_key

LANGUAGE = "en"


def resign_text(text: str, key: SigningKey, reviewer: str) -> str:
    """The ledger `text` with every record re-chained and signed by `key` as `reviewer`."""
    lines = []
    previous = GENESIS
    for line in text.splitlines():
        if not line.strip():
            continue
        old = json.loads(line)
        time = old["time"]
        decision = make_decision(
            previous, LANGUAGE, old["string_id"], old["action"], reviewer, old["english"], old["translation"],
            dt.datetime.fromisoformat(time), old.get("reason", ""), key, time=time,
        )
        lines.append(json.dumps(_fields(decision), ensure_ascii=False, sort_keys=True))
        previous = decision.hash
    return "".join(line + "\n" for line in lines)


def resign_english(project: Project, key: SigningKey) -> int:
    """Rewrite the project's English ledger signed by `key`; the number of records."""
    reviewers = read_reviewers(project)
    entry = reviewers.by_key(key.public_line)
    if entry is None or not entry.may_review(LANGUAGE):
        raise ContentError([Problem(reviewers.path, None, f"key {key.fingerprint} is not listed for {LANGUAGE}")])
    path = project.ledger_path(LANGUAGE)
    text = resign_text(path.read_text(encoding="utf-8"), key, entry.name)
    write_atomic(path, text)
    return len(text.splitlines())


def _fields(decision) -> dict:
    from dataclasses import asdict

    return asdict(decision)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--key", required=True, type=Path, help="the maintainers' private key (listed for en)")
    parser.add_argument("--project", type=Path, default=Path("."), help="folder holding source/ and translations/")
    args = parser.parse_args(argv)
    try:
        key = load_signing_key(args.key, os.environ.get("OUTREACH_KEY_PASSPHRASE"))
        count = resign_english(Project(args.project.resolve()), key)
    except PassphraseNeeded as exc:
        print(f"error: {exc} (set $OUTREACH_KEY_PASSPHRASE)", file=sys.stderr)
        return 2
    except ContentError as exc:
        for problem in exc.problems:
            print(f"error: {problem.format()}", file=sys.stderr)
        return 2
    print(f"re-signed {count} English records with {key.fingerprint}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
