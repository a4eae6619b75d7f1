"""Who may approve what: source/reviewers.yaml, the public keys allowed to sign ledger records.

    reviewers:
      - name: Ana Ruiz
        languages: [es]            # language codes, or [all]
        key: ssh-ed25519 AAAAC3Nza... ana@example.org

A ledger record counts only while its signing key is listed here for its
language, so removing an entry (or a language from it) revokes that reviewer's
approvals. `add_reviewer` appends an entry as text, keeping the file's comments.
`allowed_signers_line` writes an entry as OpenSSH's `ssh-keygen -Y verify` reads
it, so an auditor can check ledger signatures without this code.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import Collector, ContentError, Problem
from pipeline.fsutil import write_atomic
from pipeline.project import Project
from pipeline.signing import NAMESPACE, fingerprint, parse_public_key
from pipeline.yamlfile import Node, parse_yaml, read_yaml, unknown_keys

ALL = "all"
ENTRY_KEYS = ("name", "languages", "key")
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
# Characters an OpenSSH allowed_signers principal cannot hold as plain text: it is written in
# double quotes (no escape for one inside), read as a comma-separated list of patterns
# where * and ? are wildcards and a leading ! negates.
PRINCIPAL_SPECIAL = {'"': "a double quote", ",": "a comma", "*": "a '*' wildcard", "?": "a '?' wildcard"}
HEADER = """\
# Who may approve or reject which language's strings, by the public half of
# their SSH Ed25519 key. See README, "Setting up reviewers".
reviewers:
"""


@dataclass(frozen=True, slots=True)
class Reviewer:
    name: str
    languages: tuple[str, ...]  # codes, or ("all",)
    key: str  # "ssh-ed25519 AAAA..." without its comment
    line: int

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.key)

    def may_review(self, language: str) -> bool:
        return ALL in self.languages or language in self.languages

    @property
    def principal_problem(self) -> str:
        """Why this name cannot be an OpenSSH allowed_signers principal matching only itself ("" if it can)."""
        for character, what in PRINCIPAL_SPECIAL.items():
            if character in self.name:
                return f"the name holds {what}"
        if self.name.startswith("!"):
            return "the name starts with '!' (a negation)"
        if any(ord(character) < 0x20 or ord(character) == 0x7F for character in self.name):
            return "the name holds a control character"
        return ""

    def allowed_signers_line(self) -> str:
        """This reviewer as a line of an OpenSSH allowed_signers file, for ledger signatures only."""
        if self.principal_problem:
            raise ValueError(f"{self.name!r} cannot be an OpenSSH principal: {self.principal_problem}")
        return f'"{self.name}" namespaces="{NAMESPACE}" {self.key}'


@dataclass(frozen=True, slots=True)
class Reviewers:
    path: Path
    entries: tuple[Reviewer, ...]

    def by_key(self, key: str) -> Reviewer | None:
        for reviewer in self.entries:
            if reviewer.key == key:
                return reviewer
        return None


def reviewers_path(project: Project) -> Path:
    return project.source / "reviewers.yaml"


def read_reviewers(project: Project) -> Reviewers:
    """Load and validate source/reviewers.yaml, reporting every problem as file:line."""
    path = reviewers_path(project)
    return _parse(path, read_yaml(path))


def _parse(path: Path, data: object) -> Reviewers:
    problems = Collector()
    if data is None:
        data = Node(reviewers=[])
    if not isinstance(data, Node) or "reviewers" not in data:
        raise ContentError([Problem(path, getattr(data, "line", None) or 1, "expected a mapping with a 'reviewers:' list")], unusable=True)
    for line, message in unknown_keys(data, ("reviewers",)):
        problems.add(path, line, message)
    items = data["reviewers"]
    if items is None:
        items = []
    if not isinstance(items, list):
        raise ContentError([Problem(path, data.line_of("reviewers"), "'reviewers' must be a list of entries (- name: ...)")], unusable=True)
    entries: list[Reviewer] = []
    seen_names: dict[str, int] = {}
    seen_keys: dict[str, int] = {}
    for item in items:
        if not isinstance(item, Node):
            problems.add(path, data.line_of("reviewers"), f"each reviewer is a mapping with {', '.join(ENTRY_KEYS)}; got {item!r}")
            continue
        for line, message in unknown_keys(item, ENTRY_KEYS):
            problems.add(path, line, message)
        missing = [k for k in ENTRY_KEYS if k not in item]
        if missing:
            problems.add(path, item.line, f"reviewer entry lacks {', '.join(missing)}")
            continue
        name, languages, key = item["name"], item["languages"], item["key"]
        ok = True
        if not isinstance(name, str) or not name.strip():
            problems.add(path, item.line_of("name"), "name must be a non-empty text")
            ok = False
        elif name.strip() in seen_names:
            problems.add(path, item.line_of("name"), f"{name!r} is listed twice (first at line {seen_names[name.strip()]})")
            ok = False
        if not isinstance(languages, list) or not languages or not all(isinstance(code, str) for code in languages):
            problems.add(path, item.line_of("languages"), "languages must be a list of language codes, e.g. [es, fr], or [all]")
            ok = False
        else:
            for code in languages:
                if code != ALL and not LANGUAGE_CODE.match(code):
                    problems.add(path, item.line_of("languages"), f"{code!r} is not a language code (e.g. es, zh-Hans) or 'all'")
                    ok = False
        normalised = ""
        if not isinstance(key, str):
            problems.add(path, item.line_of("key"), "key must be a public key line: ssh-ed25519 AAAA... comment")
            ok = False
        else:
            try:
                normalised = parse_public_key(key)
            except ValueError as exc:
                problems.add(path, item.line_of("key"), f"key: {exc}")
                ok = False
            else:
                if normalised in seen_keys:
                    problems.add(path, item.line_of("key"), f"this key is already listed at line {seen_keys[normalised]}; one key, one reviewer")
                    ok = False
        if ok:
            seen_names[name.strip()] = item.line
            seen_keys[normalised] = item.line_of("key")
            entries.append(Reviewer(name.strip(), tuple(languages), normalised, item.line))
    problems.raise_if_errors()
    return Reviewers(path, tuple(entries))


def add_reviewer(project: Project, name: str, languages: list[str], key_text: str) -> Reviewer:
    """Append an entry to source/reviewers.yaml as text (comments kept); nothing written if the result is invalid."""
    path = reviewers_path(project)
    try:
        key = parse_public_key(key_text)
    except ValueError as exc:
        raise ContentError([Problem(path, None, f"cannot add {name!r}: {exc}")], unusable=True) from None
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    current = _parse(path, parse_yaml(path, text))
    for entry in current.entries:
        if entry.name == name.strip():
            raise ContentError([Problem(path, entry.line, f"{name!r} is already listed; edit or remove that entry instead")])
        if entry.key == key:
            raise ContentError([Problem(path, entry.line, f"this key is already listed for {entry.name!r}")])
    if not current.entries:
        # An empty list written inline (`reviewers: []`) becomes a block list to append to.
        text = re.sub(r"(?m)^reviewers:\s*\[\s*\]\s*$", "reviewers:", text)
    indent = _entry_indent(text)
    comment = " ".join(key_text.split()[2:])
    block = (
        f"{indent}- name: {json.dumps(name.strip(), ensure_ascii=False)}\n"
        f"{indent}  languages: [{', '.join(languages)}]\n"
        f"{indent}  key: {json.dumps((key + ' ' + comment).strip(), ensure_ascii=False)}\n"
    )
    if text and not text.endswith("\n"):
        text += "\n"
    new_text = text + block
    added = _parse(path, parse_yaml(path, new_text))
    if len(added.entries) != len(current.entries) + 1:
        raise ContentError([Problem(path, None, "could not append an entry to this file's layout; add it by hand")])
    write_atomic(path, new_text)
    return added.entries[-1]


def _entry_indent(text: str) -> str:
    match = re.search(r"(?m)^( *)- name:", text)
    return match.group(1) if match else "  "
