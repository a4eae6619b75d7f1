"""A long-lived writer process for the stateful race test: one JSON command a line in, one JSON reply a line out.

Run as `writer_process.py KEYFILE`: approvals and rejections are signed with that key.
Commands act on the project named in each command, as the command line would:
the stage runs under the project lock with the source read inside it. A source
edit is an author changing one English string in an editor: no lock.

    {"root": DIR, "op": "approve"|"reject", "id": ID}
    {"root": DIR, "op": "edit", "id": ID, "text": TEXT}
    {"root": DIR, "op": "translate"}
    {"root": DIR, "op": "source", "id": ID}          # toggles the string's English, " (new)" on or off

Replies: {"ok": true, "hashes": [...], "english": TEXT} or {"ok": false, "error": MESSAGE}.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from pathlib import Path

from pipeline.approval import decide
from pipeline.content import read_source
from pipeline.errors import ContentError
from pipeline.fsutil import write_atomic
from pipeline.lock import project_lock
from pipeline.project import Project
from pipeline.review import save_edit
from pipeline.signing import load_signing_key
from pipeline.translate import draft_language, load_engine

SUFFIX = " (new)"
_key: list = []  # the reviewer's signing key (its file is the first argument)
_engines: list = []  # the model, loaded once per process (as one `outreach translate` run does)


def engine(source):
    if not _engines:
        _engines.append(load_engine(source, "en", "es"))
    return _engines[0]


def toggle_english(project: Project, string_id: str) -> str:
    path = project.source / "strings.yaml"
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(rf"(  - id: {re.escape(string_id)}\n    text: )(.*)\n")
    match = pattern.search(text)
    english = match.group(2)
    new = english[: -len(SUFFIX)] if english.endswith(SUFFIX) else english + SUFFIX
    write_atomic(path, text[: match.start(2)] + new + text[match.end(2):])
    return new


def run(command: dict) -> dict:
    project = Project(Path(command["root"]))
    now = dt.datetime.now(dt.timezone.utc)
    op = command["op"]
    if op == "source":
        return {"ok": True, "hashes": [], "english": toggle_english(project, command["id"])}
    with project_lock(project, op):
        source = read_source(project)
        if op in ("approve", "reject"):
            outcome = decide(source, "es", [command["id"]], _key[0], op, now, "revisar" if op == "reject" else "")
            return {"ok": True, "hashes": [d.hash for d in outcome.decisions], "english": source.english(command["id"])}
        if op == "edit":
            save_edit(source, "es", command["id"], command["text"], "Esme Spanish", now)
            return {"ok": True, "hashes": [], "english": source.english(command["id"])}
        if op == "translate":
            draft_language(source, "es", lambda: engine(source), now)
            return {"ok": True, "hashes": []}
    raise ValueError(f"unknown op {op!r}")


def main() -> None:
    _key.append(load_signing_key(Path(sys.argv[1])))
    for line in sys.stdin:
        try:
            reply = run(json.loads(line))
        except ContentError as exc:
            reply = {"ok": False, "error": "; ".join(p.message for p in exc.problems)}
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    main()
