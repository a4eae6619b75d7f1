"""House walls checked on the code itself: only catalog.py owns PO entries."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import REPO

# Attributes of a polib entry that say what a translation is and where it stands.
ENTRY_FIELDS = {"msgstr", "flags", "tcomment", "previous_msgid", "msgid", "msgctxt", "obsolete", "linenum"}


def po_entry_touches(path: Path) -> list[str]:
    """Imports of polib and uses of a PO entry's fields in one module, as `line: what`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import) and any(alias.name.split(".")[0] == "polib" for alias in node.names):
            found.append(f"{node.lineno}: imports polib")
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "polib":
            found.append(f"{node.lineno}: imports from polib")
        if isinstance(node, ast.Attribute) and node.attr in ENTRY_FIELDS:
            found.append(f"{node.lineno}: .{node.attr}")
    found.sort(key=lambda item: int(item.split(":")[0]))
    return found


def test_only_catalog_touches_po_entries():
    offenders = {
        path.name: po_entry_touches(path)
        for path in sorted((REPO / "pipeline").rglob("*.py"))
        if path.name != "catalog.py" and po_entry_touches(path)
    }
    assert offenders == {}


def test_the_wall_check_sees_an_entry_being_poked(tmp_path):
    module = tmp_path / "approval.py"
    module.write_text("import polib\n\ndef approve(entry):\n    entry.flags.remove('fuzzy')\n    entry.previous_msgid = None\n")
    assert sorted(po_entry_touches(module)) == ["1: imports polib", "4: .flags", "5: .previous_msgid"]
