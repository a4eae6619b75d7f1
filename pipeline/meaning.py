"""Meaning invariants: what an instruction hinges on, counted in the English and in a translation.

Per-language lexicons (source/lexicon/<lang>.yaml) list, for each concept of
source/lexicon/en.yaml (units of time, drug names, body positions and directions,
words whose opposite would flip an instruction), the words that render it, and the
language's negation markers. Counting is pure: the same (lexicon, text) always gives
the same counts, so checks built on it are pure functions of their inputs.

Matching: text and forms are normalised alike (NFKC, case-folded, Arabic diacritics
and tatweel dropped, Arabic/Persian letter variants unified, ZWNJ read as a space);
forms are whole words (`match: words`) or substrings (`match: text`, for Chinese);
"word*" matches longer words, "*word" words ending in it; at each place the longest
form wins, so 卡芬太尼 (carfentanil) is not counted as 芬太尼 (fentanyl).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import Collector
from pipeline.yamlfile import Node, read_yaml, unknown_keys

KINDS = ("unit", "drug", "position", "antonym")
STRICT_KINDS = ("unit", "drug", "position")  # naming one the English does not name is an error
LEXICON_KEYS = ("language", "match", "proclitics", "letters", "concepts", "negation", "reduplication")
CONCEPT_KEYS = ("kind", "forms", "exclude", "confusables")
NEGATION_KEYS = ("core", "optional", "exclude")
CLAUSE_RE = re.compile(r"[,;:.!?،؛。，；：！？\n]")
_WORD_RE = re.compile(r"\w+")
SENTENCE_RE = re.compile(r"[.!?。！？\n]")
RUN_GAP_WORDS = 3  # words between two negations of one list
ARABIC_MARKS_RE = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
LETTER_VARIANTS = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک", "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "\u200c": " ", "’": "'", "‘": "'", "ʼ": "'"})


@dataclass(frozen=True, slots=True)
class Concept:
    id: str
    kind: str
    forms: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    confusables: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Negation:
    core: tuple[str, ...]
    optional: tuple[str, ...]
    exclude: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Lexicon:
    """One language's renderings of the concepts, its negation markers and reduplications."""

    language: str
    match: str  # "words" or "text"
    proclitics: str  # a regular expression for what may precede a form inside a word
    concepts: dict[str, Concept]
    negation: Negation
    reduplication: frozenset[str]
    path: Path
    letters: frozenset[str] = frozenset()  # letters of the language's alphabet beyond a-z


@dataclass(frozen=True, slots=True)
class Counts:
    """How often each concept, and negation, occurs in one text."""

    concepts: dict[str, int]
    negations: int  # verbal negations (must be rendered)
    optional_negations: int  # negative determiners (may or may not be rendered)
    negation_runs: int = 0  # negated clauses in a row counted once (a negation repeated over a list)


def normalize(text: str) -> str:
    """The form text and lexicon words are compared in."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return ARABIC_MARKS_RE.sub("", text).translate(LETTER_VARIANTS)


def _form_pattern(form: str, words: bool, proclitics: str) -> str:
    form = normalize(form)
    head, tail = form.startswith("*"), form.endswith("*") and len(form) > 1
    core = form.strip("*")
    body = r"\s+".join(re.escape(part) for part in core.split())
    if not words:
        return body
    start = r"\w*" if head else (proclitics if core[:1].isalnum() else "")
    end = r"\w*" if tail else ""
    before = r"(?<!\w)" if core[:1].isalnum() or head else ""
    after = r"(?!\w)" if core[-1:].isalnum() or tail else ""
    return f"{before}{start}{body}{end}{after}"


@functools.lru_cache(maxsize=16384)
def _compiled(form: str, words: bool, proclitics: str) -> re.Pattern[str]:
    return re.compile(_form_pattern(form, words, proclitics))


class _Scanner:
    """Every form of a lexicon with a literal to skip it cheaply; patterns compiled on first use."""

    def __init__(self, lexicon: Lexicon):
        words = lexicon.match == "words"
        self.words, self.proclitics = words, lexicon.proclitics
        self.forms = [
            (normalize(form).strip("*").split()[0], form, concept.id)
            for concept in lexicon.concepts.values()
            for form in concept.forms
            if normalize(form).strip("*")
        ]
        excludes = sorted({normalize(x) for c in lexicon.concepts.values() for x in c.exclude}, key=len, reverse=True)
        self.exclude = re.compile("|".join(_form_pattern(x, words, "") for x in excludes)) if excludes else None
        neg = lexicon.negation
        self.marks = [
            (normalize(m).strip("*").split()[0], m, kind)
            for kind, group in (("core", neg.core), ("optional", neg.optional))
            for m in group
            if normalize(m).strip("*")
        ]
        neg_excludes = sorted({normalize(x) for x in neg.exclude}, key=len, reverse=True)
        self.negation_exclude = re.compile("|".join(_form_pattern(x, words, "") for x in neg_excludes)) if neg_excludes else None

    def matches(self, text: str, forms: list[tuple[str, str, str]]) -> list[tuple[int, int, str]]:
        """Non-overlapping matches of the forms, the longest winning where they overlap."""
        found = [
            (m.start(), m.end(), label)
            for literal, form, label in forms
            if literal in text
            for m in _compiled(form, self.words, self.proclitics).finditer(text)
        ]
        found.sort(key=lambda f: (f[0], f[0] - f[1]))
        chosen: list[tuple[int, int, str]] = []
        for start, end, label in found:
            if chosen and start < chosen[-1][1]:
                continue
            chosen.append((start, end, label))
        return chosen


# Keyed by id(); each entry keeps its lexicon alive so that an id is never reused for another.
_SCANNERS: dict[int, tuple[Lexicon, _Scanner]] = {}


def _scanner(lexicon: Lexicon) -> _Scanner:
    entry = _SCANNERS.get(id(lexicon))
    if entry is None or entry[0] is not lexicon:
        if len(_SCANNERS) > 256:
            _SCANNERS.clear()
        entry = _SCANNERS[id(lexicon)] = (lexicon, _Scanner(lexicon))
    return entry[1]


def find_concepts(lexicon: Lexicon, text: str) -> list[tuple[str, str]]:
    """(concept id, matched text) for each concept mention, in text order."""
    scanner = _scanner(lexicon)
    text = normalize(text)
    if scanner.exclude is not None:
        text = scanner.exclude.sub(lambda m: " " * len(m.group(0)), text)
    return [(label, text[start:end]) for start, end, label in scanner.matches(text, scanner.forms)]


_DRUG_TERMS: dict[tuple[int, str], tuple[Lexicon, bool]] = {}


def names_drug(lexicon: Lexicon, term: str) -> bool:
    """Whether a word or phrase names a drug concept of the lexicon."""
    entry = _DRUG_TERMS.get((id(lexicon), term))
    if entry is None or entry[0] is not lexicon:
        entry = _DRUG_TERMS[(id(lexicon), term)] = (lexicon, any(lexicon.concepts[c].kind == "drug" for c, _ in find_concepts(lexicon, term)))
    return entry[1]


def count_negations(lexicon: Lexicon, text: str, rendered: frozenset[str] = frozenset()) -> tuple[int, int]:
    """(negations, optional negations) in a text.

    Optional markers are words that may or may not carry a negation of the English:
    negative determiners (ningún, aucun: "no change"), negative concord (nunca, هرگز)
    and lexical negators ("to avoid choking" for "so they don't choke"). A list joined by
    the Chinese enumeration comma (看不见、闻不到、尝不出来) counts as one negation.
    `rendered`: concepts whose words are not negations here because they render an English
    word ("بی خطر", "sans danger" for "safe").
    """
    core, optional, _ = _negation_counts(lexicon, text, rendered)
    return core, optional


def _negation_counts(lexicon: Lexicon, text: str, rendered: frozenset[str] = frozenset()) -> tuple[int, int, int]:
    """(negations, optional negations, runs): a run is a stretch of negated clauses in a row
    within one sentence ("que no se ve, no huele y no sabe a nada" for "cannot see, smell,
    or taste": three negations, one run)."""
    scanner = _scanner(lexicon)
    text = normalize(text)
    if scanner.negation_exclude is not None:
        # An excluded phrase inside a longer negation form stays (不过 "but" inside 醒不过来 "cannot wake").
        longer = [(start, end) for start, end, _ in scanner.matches(text, scanner.marks) if end - start > 1]

        def blank(m: re.Match[str]) -> str:
            inside = any(start <= m.start() and m.end() <= end and end - start > m.end() - m.start() for start, end in longer)
            return m.group(0) if inside else " " * len(m.group(0))

        text = scanner.negation_exclude.sub(blank, text)
    if rendered:
        forms = [f for f in scanner.forms if f[2] in rendered]
        for start, end, _ in scanner.matches(text, forms):
            text = text[:start] + " " * (end - start) + text[end:]
    core = optional = 0
    for clause in CLAUSE_RE.split(text):
        per_item = []
        for item in clause.split("、"):
            kinds = [label for _, _, label in scanner.matches(item, scanner.marks)]
            per_item.append((kinds.count("core"), kinds.count("optional")))
        clause_core = max(c for c, _ in per_item)
        core += clause_core
        if not clause_core:  # beside a negation, never/jamais/هرگز/أبدا are part of it
            optional += max(o for _, o in per_item)
    # Runs: a negation within a few words of the one before, in the same sentence, repeats
    # it over a list ("no se ve, no huele y no sabe", "لا تراه ولا تشمه", "نه ... نه").
    runs = 0
    for sentence in SENTENCE_RE.split(text):
        previous: int | None = None
        for start, end, label in scanner.matches(sentence, scanner.marks):
            if label != "core":
                continue
            gap = sentence[previous:start] if previous is not None else ""
            near = previous is not None and len(_WORD_RE.findall(gap)) <= RUN_GAP_WORDS and (lexicon.match == "words" or len(gap) <= RUN_GAP_WORDS + 1)
            if not near:
                runs += 1
            previous = end
    runs = min(runs, core)
    return core, optional, runs


def count(lexicon: Lexicon, text: str, rendered: frozenset[str] = frozenset()) -> Counts:
    concepts: dict[str, int] = {}
    for concept, _ in find_concepts(lexicon, text):
        concepts[concept] = concepts.get(concept, 0) + 1
    core, optional, runs = _negation_counts(lexicon, text, rendered)
    return Counts(concepts, core, optional, runs)


# ------------------------------------------------------------------ reading


def _strings(node: object) -> tuple[str, ...] | None:
    if node is None:
        return ()
    if isinstance(node, list) and all(isinstance(x, (str, int)) for x in node):
        return tuple(str(x) for x in node)
    return None


def _read_lexicon(path: Path, english: Lexicon | None, problems: Collector) -> Lexicon | None:
    data = read_yaml(path)
    if not isinstance(data, Node):
        problems.add(path, 1, "expected a mapping with 'language', 'concepts' and 'negation'")
        return None
    for line, message in unknown_keys(data, LEXICON_KEYS):
        problems.add(path, line, message)
    language = str(data.get("language") or "")
    if language != path.stem:
        problems.add(path, data.line_of("language"), f"language {language!r} must match the file name ({path.stem})")
    match = str(data.get("match") or "words")
    if match not in ("words", "text"):
        problems.add(path, data.line_of("match"), "match must be 'words' or 'text'")
    proclitics = str(data.get("proclitics") or "")
    try:
        re.compile(proclitics)
    except re.error as exc:
        problems.add(path, data.line_of("proclitics"), f"proclitics is not a regular expression: {exc}")
        proclitics = ""
    concepts: dict[str, Concept] = {}
    raw_concepts = data.get("concepts")
    if not isinstance(raw_concepts, Node):
        problems.add(path, data.line_of("concepts"), "expected a 'concepts' mapping")
        raw_concepts = Node()
        raw_concepts.key_lines = {}
    for concept_id, raw in raw_concepts.items():
        line = raw_concepts.line_of(concept_id)
        if not isinstance(raw, Node):
            problems.add(path, line, f"concept {concept_id}: expected a mapping with 'forms'")
            continue
        for key_line, message in unknown_keys(raw, CONCEPT_KEYS):
            problems.add(path, key_line, f"concept {concept_id}: {message}")
        forms, exclude, confusables = _strings(raw.get("forms")), _strings(raw.get("exclude")), _strings(raw.get("confusables"))
        if forms is None or exclude is None or confusables is None:
            problems.add(path, line, f"concept {concept_id}: forms, exclude and confusables must be lists of words")
            continue
        if english is None:
            kind = str(raw.get("kind") or "")
            if kind not in KINDS:
                problems.add(path, line, f"concept {concept_id}: kind must be one of {', '.join(KINDS)}")
                continue
        else:
            if concept_id not in english.concepts:
                problems.add(path, line, f"concept {concept_id} is not defined in {english.path.name}")
                continue
            kind = english.concepts[concept_id].kind
            confusables = confusables or english.concepts[concept_id].confusables
        concepts[str(concept_id)] = Concept(str(concept_id), kind, forms, exclude, confusables)
    for concept in concepts.values():
        for other in concept.confusables:
            if english is None and other not in raw_concepts:
                problems.add(path, raw_concepts.line_of(concept.id), f"concept {concept.id}: unknown confusable {other!r}")
    raw_negation = data.get("negation")
    if not isinstance(raw_negation, Node):
        problems.add(path, data.line_of("negation"), "expected a 'negation' mapping with 'core' markers")
        negation = Negation((), (), ())
    else:
        for key_line, message in unknown_keys(raw_negation, NEGATION_KEYS):
            problems.add(path, key_line, f"negation: {message}")
        core, optional, exclude = (_strings(raw_negation.get(k)) for k in ("core", "optional", "exclude"))
        if core is None or optional is None or exclude is None or not core:
            problems.add(path, raw_negation.line, "negation: core (not empty), optional and exclude must be lists of words")
            core, optional, exclude = core or (), optional or (), exclude or ()
        negation = Negation(core, optional, exclude)
    reduplication = _strings(data.get("reduplication"))
    if reduplication is None:
        problems.add(path, data.line_of("reduplication"), "reduplication must be a list of words")
        reduplication = ()
    letters = frozenset(str(data.get("letters") or "").casefold()) - {" "}
    return Lexicon(language, match, proclitics, concepts, negation, frozenset(normalize(w) for w in reduplication), path, letters)


def read_invariants(path: Path, node: object, line: int, problems: Collector) -> tuple[tuple[str, int], ...]:
    """A fact block's `invariants:` mapping: concept -> count, `negation` -> count or [least, most]."""
    if node is None:
        return ()
    if not isinstance(node, dict):
        problems.add(path, line, "invariants must map a concept (or 'negation') to how often the translation must render it")
        return ()
    found: list[tuple[str, int]] = []
    for key, value in node.items():
        if key == "negation" and isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value) and value[0] <= value[1]:
            found += [("negation", value[0]), ("negation-max", value[1])]
        elif isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            found.append((str(key), value))
        else:
            problems.add(path, line, f"invariants: {key}: expected a count (or, for negation, [least, most])")
    return tuple(found)


def read_lexicons(folder: Path, problems: Collector) -> dict[str, Lexicon]:
    """Every source/lexicon/<lang>.yaml, checked against en.yaml's concepts. None: no folder."""
    if not folder.is_dir():
        return {}
    english_path = folder / "en.yaml"
    if not english_path.is_file():
        problems.add(english_path, None, "the English lexicon defines the concepts: it is needed when source/lexicon/ exists")
        return {}
    english = _read_lexicon(english_path, None, problems)
    if english is None:
        return {}
    lexicons = {"en": english}
    for path in sorted(folder.glob("*.yaml")):
        if path.stem != "en":
            lexicon = _read_lexicon(path, english, problems)
            if lexicon is not None:
                lexicons[path.stem] = lexicon
    return lexicons


# ------------------------------------------------------------------ comparing


_COMPARED: dict[tuple[object, ...], tuple[Lexicon, Lexicon, list[tuple[str, str]]]] = {}


def compare(english: Lexicon, target: Lexicon, source_text: str, translation: str, overrides: dict[str, int]) -> list[tuple[str, str]]:
    """Cached `find_problems`: several checks read the same comparison."""
    key = (id(english), id(target), source_text, translation, tuple(sorted(overrides.items())))
    entry = _COMPARED.get(key)
    if entry is None or entry[0] is not english or entry[1] is not target:
        if len(_COMPARED) > 4096:
            _COMPARED.clear()
        entry = _COMPARED[key] = (english, target, find_problems(english, target, source_text, translation, overrides))
    return list(entry[2])


def find_problems(english: Lexicon, target: Lexicon, source_text: str, translation: str, overrides: dict[str, int]) -> list[tuple[str, str]]:
    """(kind, message) for each meaning invariant the translation breaks.

    kind is the concept kind (unit, drug, position, antonym) or "negation". `overrides`
    (an `invariants:` block in facts.yaml) sets a concept's or negation's required count
    where the English wording alone does not show it.
    """
    want = count(english, source_text)
    wanted = dict(want.concepts)
    for key, value in overrides.items():
        if key != "negation":
            wanted[key] = value
    # A word that renders a concept of the English (بی خطر, sans danger: "safe") is not a negation.
    got = count(target, translation, frozenset(c for c, n in wanted.items() if n and c in target.concepts))
    problems: list[tuple[str, str]] = []
    for concept_id, concept in english.concepts.items():
        if concept_id not in target.concepts:
            continue
        need, have = wanted.get(concept_id, 0), got.concepts.get(concept_id, 0)
        swapped = [c for c in concept.confusables if got.concepts.get(c, 0) > wanted.get(c, 0)]
        if have < need and (concept.kind in STRICT_KINDS or swapped):
            named = f" and names {', '.join(repr(s) for s in swapped)} instead" if swapped else ""
            problems.append((concept.kind, f"the English names {concept_id!r} {need}×, the translation {have}×{named}"))
        elif concept.kind in STRICT_KINDS and have > 0 and need == 0 and not any(concept_id in english.concepts[c].confusables and wanted.get(c, 0) and got.concepts.get(c, 0) < wanted[c] for c in english.concepts):
            problems.append((concept.kind, f"the translation names {concept_id!r}, which the English does not"))
    low, high = want.negations, want.negations + want.optional_negations
    if "negation" in overrides:
        low, high = overrides["negation"], overrides.get("negation-max", overrides["negation"])
    # Added: more runs of negated clauses than the English has negations; a negation said
    # again over each item of a list is one run.
    least, most = got.negation_runs, got.negations + got.optional_negations
    if most < low:
        problems.append(("negation", f"the English has {low} negation{'s' if low != 1 else ''} (not, never, no...), the translation {most}: a negation is missing"))
    elif least > high:
        problems.append(("negation", f"the English has {high} negation{'s' if high != 1 else ''} (not, never, no...), the translation {least}: a negation was added"))
    return problems
