"""Word diffs: what changed between two texts, word by word.

One owner for the diff a reviewer reads: what changed in the English since a
translation was written (`outreach review`, `outreach approve`, the review
desk), and how a back-translation differs from the English. `diff_words`
gives the pieces, for a page to mark up; `word_diff` the text a terminal shows.
"""

from __future__ import annotations

import difflib

SAME, DELETED, INSERTED = "same", "del", "ins"


def diff_words(old: str, new: str) -> list[tuple[str, str]]:
    """Word diff as (kind, words) pieces: kind is SAME, DELETED or INSERTED; a replacement is a deletion, then an insertion."""
    before, after = old.split(), new.split()
    pieces = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=before, b=after, autojunk=False).get_opcodes():
        if op == "equal":
            pieces.append((SAME, " ".join(before[i1:i2])))
            continue
        if op in ("delete", "replace"):
            pieces.append((DELETED, " ".join(before[i1:i2])))
        if op in ("insert", "replace"):
            pieces.append((INSERTED, " ".join(after[j1:j2])))
    return pieces


def word_diff(old: str, new: str) -> str:
    """The new text with removed words as [-...-] and added words as {+...+} (as wdiff shows them)."""
    marks = {SAME: "{}", DELETED: "[-{}-]", INSERTED: "{{+{}+}}"}
    return " ".join(marks[kind].format(words) for kind, words in diff_words(old, new))
