"""Two writer processes at once, in random sequences: nothing is lost, the chain holds.

A hypothesis state machine drives two long-lived processes (tests/tools/
writer_process.py). Each step hands one operation to each and lets them run at
the same moment: approve, reject, a person's edit (the review path), machine
drafts with the tiny genuine Argos model, and, from the first process only, an
author editing the English of a string. After each sequence: every ledger record
a process reported is in the ledger and nothing else, the chain verifies, and every
person's text is still in the PO, as a stale draft with `#| msgid` when its
English changed since. 200 sequences of up to 2 steps by default; `make soak` runs
5,000 of up to 4 (OUTREACH_SOAK_EXAMPLES, OUTREACH_SOAK_STEPS).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import polib
import pytest
from conftest import REPO, TOOLS
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    rule,
    run_state_machine_as_test,
)
from make_tiny_model import build_tiny_model

from pipeline import models
from pipeline.catalog import read_catalog, sync_catalog
from pipeline.content import read_source
from pipeline.ledger import read_ledger
from pipeline.project import Project

POOLS = (("ui.section.danger", "ui.section.signs"), ("ui.section.what-to-do", "ui.section.naloxone"))
TEXTS = ("El peligro", "Señales de alerta", "Qué hacer", "La naloxona salva vidas", "Pide ayuda")
EDITION = """editions:
  - id: es-US
    language: es
    region: US
    formats: [card]
    hotlines: [emergency, drug_alcohol_helpline, poison_centre]
"""
REGIONS = ("United States", "Canada", "Mexico", "United Kingdom", "Ireland", "Australia", "New Zealand")
EXAMPLES = int(os.environ.get("OUTREACH_SOAK_EXAMPLES", "200"))
STEPS = int(os.environ.get("OUTREACH_SOAK_STEPS", "2"))  # at most, per sequence; each step runs two operations at once
# Projects live in memory where there is a tmpfs: the same code runs, without a disk's fsync per write.
SCRATCH = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None


def ops(pool: tuple[str, ...], author: bool):
    """One operation: (kind, string id, text); the id and text matter only to the kinds that use them."""
    kinds = ["approve", "reject", "edit", "translate"] + (["source"] if author else [])
    ids = POOLS[0] + POOLS[1] if author else pool  # the author edits any string's English
    return st.tuples(st.sampled_from(kinds), st.sampled_from(ids), st.sampled_from(TEXTS)).map(
        lambda op: op if op[0] == "source" or op[1] in pool else (op[0], pool[ids.index(op[1]) % len(pool)], op[2])
    )


@pytest.fixture(scope="module")
def template(tmp_path_factory, signed_files) -> Path:
    """Source and the Spanish drafts, the strings the processes work on left untranslated."""
    root = tmp_path_factory.mktemp("stateful") / "template"
    shutil.copytree(REPO / "source", root / "source")
    # Only what these strings need, so each step reads little: one edition, the registry's regions facts name.
    (root / "source" / "editions.yaml").write_text(EDITION)
    registry = (root / "source" / "hotlines.yaml").read_text(encoding="utf-8")
    head, rest = registry.split("\n  - region: ", 1)
    regions, tail = rest.split("\ndo_not_print:", 1)
    kept = [r for r in regions.split("\n  - region: ") if r.startswith(REGIONS)]
    (root / "source" / "hotlines.yaml").write_text(head + "".join("\n  - region: " + r for r in kept) + "\ndo_not_print:" + tail)
    (root / "translations" / "ledger").mkdir(parents=True)
    (root / "source" / "reviewers.yaml").write_text(signed_files["reviewers.yaml"], encoding="utf-8")
    (root / "translations" / "ledger" / "en.jsonl").write_text(signed_files["en.jsonl"], encoding="utf-8")
    po = polib.pofile(str(REPO / "translations" / "es.po"), wrapwidth=0)
    for entry in po:
        if entry.msgctxt in POOLS[0] + POOLS[1]:
            entry.msgstr = ""
    po.save(str(root / "translations" / "es.po"))
    return root


@pytest.fixture(scope="module")
def writers(tmp_path_factory, key_files):
    """Two writer processes, started once; the tiny Argos model installed for them."""
    if models.find_model("en", "es") is None:
        models.install_file(build_tiny_model(tmp_path_factory.mktemp("model") / "en_es.argosmodel", "en", "es", seed=0))
    # One thread for CTranslate2: the two processes share the cores.
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join([str(REPO), str(TOOLS), os.environ.get("PYTHONPATH", "")])}
    processes = [
        subprocess.Popen([sys.executable, str(TOOLS / "writer_process.py"), str(key_files["Esme Spanish"])], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True)
        for _ in range(2)
    ]
    yield processes
    for process in processes:
        process.stdin.close()
        process.wait(timeout=30)


class TwoWriters(RuleBasedStateMachine):
    template: Path
    writers: list[subprocess.Popen]

    @initialize()
    def fresh_project(self):
        self.root = Path(tempfile.mkdtemp(prefix="outreach-race-", dir=SCRATCH)) / "project"
        shutil.copytree(self.template, self.root)
        self.recorded: set[str] = set()
        self.person: dict[str, tuple[str, str]] = {}  # id -> (text, the English it answers)

    @rule(first=ops(POOLS[0], author=True), second=ops(POOLS[1], author=False))
    def at_once(self, first, second):
        for writer, op in zip(self.writers, (first, second)):
            command = {"root": str(self.root), "op": op[0], "id": op[1], "text": op[2]}
            writer.stdin.write(json.dumps(command) + "\n")
            writer.stdin.flush()
        for writer, op in zip(self.writers, (first, second)):
            reply = json.loads(writer.stdout.readline())
            if not reply["ok"]:
                continue  # refused (nothing to approve, an error finding...): refused cleanly, nothing written
            self.recorded.update(reply["hashes"])
            if op[0] == "edit":
                self.person[op[1]] = (op[2], reply["english"])
            elif op[0] == "approve" and reply["hashes"] and op[1] in self.person:
                self.person[op[1]] = (self.person[op[1]][0], reply["english"])  # approved for this English

    def teardown(self):
        if not hasattr(self, "root"):
            return
        try:
            project = Project(self.root)
            ledger = read_ledger(project, "es")
            assert ledger.problems == ()
            assert [d.hash for d in ledger.decisions if d.hash not in self.recorded] == []
            assert len(ledger.decisions) == len(self.recorded), "a reported ledger record was lost"
            # The PO as the next writer will see it: synced with the English as it now stands.
            source = read_source(project)
            catalog = read_catalog(project, "es")
            sync_catalog(source, catalog)
            views = catalog.views()
            for string_id, (text, english) in self.person.items():
                entry = views[string_id]
                assert entry.translation == text, f"{string_id}: a person's text was lost"
                if source.english(string_id) != english:
                    assert entry.fuzzy and entry.previous_english == english, f"{string_id}: not kept as a stale draft"
        finally:
            shutil.rmtree(self.root.parent)


def test_two_writers_lose_nothing(template, writers):
    TwoWriters.template = template
    TwoWriters.writers = writers
    run_state_machine_as_test(
        TwoWriters,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
