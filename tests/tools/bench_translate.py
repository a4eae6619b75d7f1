"""Benchmark the translate stage against bare CTranslate2, in one run (`make bench-translate`).

Drafts 200 English strings into 3 languages with tiny genuine Argos models
(tests/tools/make_tiny_model.py), then translates the same tokenised sentences
with a bare `ctranslate2.Translator.translate_batch` using the same settings,
and reports strings/second for both and their ratio. Then re-runs the pipeline
on the unchanged project, which must do no model work. Figures go to stdout and
to docs/benchmarks.md. Times are medians of a few repeats; the machine is shared,
so only ratios measured in the same run mean anything.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
WORK = Path(tempfile.mkdtemp(prefix="outreach-bench-"))
os.environ["ARGOS_PACKAGES_DIR"] = str(WORK / "argos")
os.environ["XDG_DATA_HOME"] = str(WORK / "data")
os.environ["XDG_CACHE_HOME"] = str(WORK / "cache")
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "tools"))

from bench_report import write_section  # noqa: E402
from make_tiny_model import build_tiny_model  # noqa: E402

from pipeline import models, translate  # noqa: E402
from pipeline.content import read_source  # noqa: E402
from pipeline.project import Project  # noqa: E402

LANGUAGES = ("es", "fr", "vi")
STRINGS = 200
REPEATS = 3
NOW = dt.datetime(2026, 11, 21, tzinfo=dt.timezone.utc)
SUBJECTS = ["Naloxone", "A friend", "The nurse", "Your body", "Fentanyl", "The test strip", "Help", "A person", "The card", "Breathing"]
VERBS = ["can stop", "may change", "will help", "does not fix", "can slow", "should reach", "might hide", "can save"]
OBJECTS = ["a life in 3 minutes", "your breathing", "the overdose", "someone near you", "the pills", "a person who won't wake", "the call for {emergency}", "them fast"]


def make_project(root: Path) -> Project:
    shutil.copytree(REPO / "source", root / "source")
    (root / "translations").mkdir()
    lines = ["facts:"]
    for n in range(STRINGS):
        text = f"{SUBJECTS[n % 10]} {VERBS[n % 8]} {OBJECTS[(n * 3) % 8]}, says note {n}."
        lines += [f"  - id: bench-{n:03d}", "    topic: risk", f"    text: \"{text}\"",
                  "    citations: [{title: benchmark, url: 'https://example.org'}]",
                  "    review: {by: benchmark, date: '2026-11-21'}"]
    (root / "source" / "facts.yaml").write_text("\n".join(lines) + "\n")
    layouts = (root / "source" / "layouts.yaml").read_text()
    import re

    layouts = re.sub(r"blocks: \[[^\]]*\]", "blocks: [bench-000]", layouts)
    (root / "source" / "layouts.yaml").write_text(layouts)
    strings = (root / "source" / "strings.yaml").read_text()
    (root / "source" / "strings.yaml").write_text(re.sub(r"\n    based_on: \[[^\]]*\]", "", strings))
    return Project(root)


def median_time(function) -> float:
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    for seed, language in enumerate(LANGUAGES):
        argos = read_argos_code(language)
        models.install_file(build_tiny_model(WORK / f"{language}.argosmodel", "en", argos, seed=seed))

    engines = {}

    def pipeline_run(project_root: Path) -> None:
        project = make_project(project_root)
        source = read_source(project)
        for language in LANGUAGES:
            translate.draft_language(source, language, lambda: translate.load_engine(source, "en", language), NOW)  # noqa: B023

    runs = iter(range(100))
    pipeline_seconds = median_time(lambda: pipeline_run(WORK / f"p{next(runs)}"))

    # Bare CTranslate2: the same tokenised sentences, same settings, models already loaded.
    project = make_project(WORK / "bare")
    source = read_source(project)
    tokenised = {}
    for language in LANGUAGES:
        engine = translate.load_engine(source, "en", language)
        engines[language] = engine
        sentences = [s for string in source.strings.values() for s in translate.split_sentences(translate.protect(string.text, source, language).text)]
        tokenised[language] = engine.tokenize(sentences)

    def bare_run() -> None:
        for language in LANGUAGES:
            engines[language].translate_tokens(tokenised[language])

    bare_seconds = median_time(bare_run)
    total = len(source.strings) * len(LANGUAGES)

    # No-change re-run: everything drafted already.
    rerun_root = WORK / "rerun"
    pipeline_run(rerun_root)
    rerun_source = read_source(Project(rerun_root))

    def rerun() -> None:
        for language in LANGUAGES:
            translate.draft_language(rerun_source, language, _must_not_load, NOW)

    rerun_seconds = median_time(rerun)
    ratio = pipeline_seconds / bare_seconds
    report = f"""## Translate stage (`make bench-translate`)

Measured {dt.date.today().isoformat()} on this project's 2-core machine, one run, medians of {REPEATS}.
{total} drafts ({len(source.strings)} strings × {len(LANGUAGES)} languages: {', '.join(LANGUAGES)}) with tiny
genuine Argos models built by tests/tools/make_tiny_model.py (their output is gibberish of bounded length).

| what | seconds | strings/second |
|---|---|---|
| pipeline: `draft_language` for every language (read source, sync PO, load model, protect, split, tokenise, translate, restore, check, write PO) | {pipeline_seconds:.3f} | {total / pipeline_seconds:.0f} |
| bare CTranslate2 `translate_batch` over the same tokenised sentences, same settings, models preloaded | {bare_seconds:.3f} | {total / bare_seconds:.0f} |
| ratio pipeline / bare | {ratio:.2f}× | goal ≤ 1.3× |
| no-change re-run of all three languages (no model loaded) | {rerun_seconds:.3f} | goal < 1 s |
"""
    print(report)
    write_section(REPO / "docs" / "benchmarks.md", "## Translate stage", report)
    shutil.rmtree(WORK, ignore_errors=True)
    return 0


def _must_not_load():
    raise AssertionError("a no-change re-run loaded a model")


def read_argos_code(language: str) -> str:
    source = read_source(Project(REPO))
    return source.languages[language].argos


if __name__ == "__main__":
    sys.exit(main())
