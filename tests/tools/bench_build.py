"""Benchmark `outreach build` (`make bench`): full, no-change, one changed string, 10x the editions.

On a copy of the shipped project:
  1. the in-process floor: one warm process with one FontConfiguration lays out
     and writes the same documents as HTML (compose_html), divided by the cores,
     and the same split over one such process per core run at once; and one
     `weasyprint` command per document. A sheet's HTML holds all its 16 cards
     (every_card: what WeasyPrint alone needs to make the document, the floor the
     issue set); a second floor takes the HTML the build itself lays out (one
     card per sheet side, repeated after layout), to show the build's own overhead;
  2. a full build from an empty output/ (`--jobs` = the cores), wall and CPU
     time, and again with `--force`;
  3. a build with nothing changed (median of 3);
  4. a build after one Spanish string changed, and which documents it rendered;
  5. synthetic projects with 3x and 10x the editions (each shipped edition
     copied under new ids), to show cost growing linearly, with the peak
     resident memory of any build process (the main one or a worker).
Figures go to stdout and to the "Build" section of docs/benchmarks.md. The
machine is shared, so only ratios measured in the same run mean anything.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "tools"))

from bench_report import write_section  # noqa: E402

from pipeline.build import Gate, default_workers  # noqa: E402
from pipeline.content import read_source  # noqa: E402
from pipeline.project import Project  # noqa: E402

CORES = default_workers()
ENV = {**os.environ, "PYTHONPATH": str(REPO)}
FLOOR = """
import sys, time, json
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from pipeline.document import FORMATS
templates, listing = sys.argv[1], sys.argv[2]
jobs = json.load(open(listing))
fonts = FontConfiguration()
sheets = {}
for spec in FORMATS.values():
    sheets[spec.name] = [CSS(string=spec.page_css, font_config=fonts)] + [
        CSS(filename=f"{templates}/{name}", font_config=fonts) for name in spec.stylesheets]
HTML(string=open(jobs[0][1]).read(), base_url=templates + "/").render(font_config=fonts, stylesheets=sheets[jobs[0][0]]).write_pdf()
start, cpu = time.perf_counter(), time.process_time()
for format_name, path in jobs:
    HTML(string=open(path).read(), base_url=templates + "/").render(
        font_config=fonts, stylesheets=sheets[format_name], pdf_variant="pdf/ua-1").write_pdf(pdf_variant="pdf/ua-1")
print(time.perf_counter() - start, time.process_time() - cpu)
"""


def copy_project(where: Path, copies: int = 1) -> Path:
    root = where / f"project-{copies}x"
    for folder in ("source", "translations", "templates"):
        shutil.copytree(REPO / folder, root / folder)
    if copies > 1:
        editions = root / "source" / "editions.yaml"
        text = editions.read_text()
        head, body = text.split("editions:\n", 1)
        blocks = re.split(r"\n(?=  - id: )", body.strip("\n"))
        copied = [re.sub(r"  - id: (\S+)", rf"  - id: \1-x{n}", b) if n else b for n in range(copies) for b in blocks]
        editions.write_text(head + "editions:\n" + "\n\n".join(copied) + "\n")
    return root


def build(root: Path, *args: str) -> tuple[float, str, int, float]:
    """Wall seconds, output, peak RSS (KB) of the largest process, CPU seconds of all processes of one build."""
    code = (
        "import resource, subprocess, sys\n"
        "r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "sys.stdout.write(r.stdout + r.stderr)\n"
        "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print('PEAK_KB', u.ru_maxrss, 'CPU', u.ru_utime + u.ru_stime)\n"
    )
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", code, sys.executable, "-m", "pipeline", "--project", str(root), "build", "--jobs", str(CORES), *args],
        capture_output=True, text=True, env=ENV,
    )
    seconds = time.perf_counter() - start
    found = re.search(r"PEAK_KB (\d+) CPU ([\d.]+)", result.stdout)
    assert found, result.stdout
    return seconds, result.stdout, int(found.group(1)), float(found.group(2))


def run_check(root: Path) -> tuple[float, int]:
    """Wall seconds and peak RSS (KB) of one `outreach check` on the project (every check, nothing cached)."""
    code = (
        "import resource, subprocess, sys\n"
        "subprocess.run(sys.argv[1:], capture_output=True)\n"
        "print('PEAK_KB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", code, sys.executable, "-m", "pipeline", "--project", str(root), "check"],
                            capture_output=True, text=True, env=ENV)
    seconds = time.perf_counter() - start
    found = re.search(r"PEAK_KB (\d+)", result.stdout)
    assert found, result.stdout
    return seconds, int(found.group(1))


def rendered(output: str) -> list[str]:
    return re.findall(r"^\[\d+/\d+\] (\w+ \S+ \S+)$", output, re.M)


def floor(root: Path, work: Path, every_card: bool = True) -> tuple[float, float, float, float, int]:
    """In-process floor: one warm process, and one per core at once; one weasyprint process per document.

    `every_card` False: only the in-process figures, on the HTML the build lays out (one card per sheet side).
    """
    from pipeline.document import FORMATS
    from pipeline.render import compose_html

    source = read_source(Project(root))
    gate = Gate(source)
    listing = []
    for edition in source.editions.values():
        for format_name in edition.formats:
            job = gate.final_job(edition, format_name) if gate.allows(edition, format_name) else gate.proof_job(edition, format_name)
            path = work / f"{edition.id}-{format_name}.html"
            path.write_text(compose_html(job, source.project.templates, every_card=every_card), encoding="utf-8")
            listing.append((format_name, str(path)))
    (work / "jobs.json").write_text(json.dumps(listing))
    result = subprocess.run([sys.executable, "-c", FLOOR, str(source.project.templates), str(work / "jobs.json")],
                            capture_output=True, text=True, env=ENV, check=True)
    in_process, in_process_cpu = map(float, result.stdout.strip().splitlines()[-1].split())
    if not every_card:
        return in_process, in_process_cpu, 0.0, 0.0, len(listing)
    # The same documents split over one warm process per core, run at the same time (same contention as a build).
    parts: list[list[tuple[str, str]]] = [[] for _ in range(CORES)]
    loads = [0.0] * CORES
    for format_name, path in sorted(listing, key=lambda item: -FORMATS[item[0]].cost):
        target = loads.index(min(loads))
        parts[target].append((format_name, path))
        loads[target] += FORMATS[format_name].cost
    processes = []
    for n, part in enumerate(parts):
        (work / f"jobs-{n}.json").write_text(json.dumps(part))
        processes.append(subprocess.Popen([sys.executable, "-c", FLOOR, str(source.project.templates), str(work / f"jobs-{n}.json")],
                                          stdout=subprocess.PIPE, text=True, env=ENV))
    parallel = max(float(p.communicate()[0].strip().splitlines()[-1].split()[0]) for p in processes)
    weasyprint = Path(sys.executable).with_name("weasyprint")
    start = time.perf_counter()
    for format_name, path in listing:
        spec = FORMATS[format_name]
        (work / "page.css").write_text(spec.page_css)
        styles = [arg for name in spec.stylesheets for arg in ("-s", str(source.project.templates / name))]
        subprocess.run([str(weasyprint), "-q", "-u", f"{source.project.templates}/", "-s", str(work / "page.css"), *styles,
                        path, str(work / "out.pdf")], check=True, capture_output=True)
    per_process = time.perf_counter() - start
    return in_process, in_process_cpu, parallel, per_process, len(listing)


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="outreach-bench-build-"))
    root = copy_project(work)
    # The floor first: it reads every font and template once, so the build after it is not
    # charged for a cold disk cache the floor did not pay.
    in_process, in_process_cpu, parallel, per_process, floor_documents = floor(root, work)
    own, own_cpu, _, _, _ = floor(root, work, every_card=False)
    checks = [run_check(root) for _ in range(5)]
    full, output, full_peak, full_cpu = build(root)
    documents = len(rendered(output))
    forced, _, _, forced_cpu = build(root, "--force")
    floor_per_core = in_process / CORES
    no_change = [build(root)[0] for _ in range(3)]
    po = root / "translations" / "es.po"
    text = po.read_text(encoding="utf-8")
    po.write_text(text.replace("llegue rápido", "llegue muy rápido", 1), encoding="utf-8")
    changed_seconds, changed_output, _, _ = build(root)
    changed = rendered(changed_output)
    scaled = {}
    for copies in (3, 10):
        scaled_root = copy_project(work, copies)
        seconds, out, peak, _ = build(scaled_root)
        scaled[copies] = (seconds, len(rendered(out)), peak)

    rows = "\n".join(
        f"| {copies}× editions | {n} | {s:.1f} | {s / n * 1000:.0f} ms | {peak / 1024:.0f} MB |"
        for copies, (s, n, peak) in [(1, (full, documents, full_peak)), *scaled.items()]
    )
    report = f"""## Build (`make bench`)

Measured {dt.date.today().isoformat()} on this project's machine ({CORES} cores, shared with other work), one run.
`outreach build --jobs {CORES}` on a copy of the shipped project ({documents} documents: finals and proofs).

| what | seconds | note |
|---|---|---|
| full build from an empty output/ (check, plan, lay out, write, bundle) | {full:.2f} | {documents} documents laid out |
| in-process floor: one warm process, one FontConfiguration, the same {floor_documents} documents as HTML (a sheet with its 16 cards) | {in_process:.2f} | {floor_per_core:.2f} s per core |
| **full build / floor per core** | **{full / floor_per_core:.2f}×** | goal ≤ 1.15× |
| in-process floor, {CORES} warm processes at once (each a share of the documents, balanced by cost), slowest | {parallel:.2f} | same contention as the build |
| **full build / parallel floor** | **{full / parallel:.2f}×** | |
| full build again (`--force`) | {forced:.2f} | {forced / floor_per_core:.2f}× the floor per core |
| **CPU time: full build (every process: start-up, checks, plan, compose, lay out, fit checks, spread, write, PDF/X) / floor loop** | **{forced_cpu:.1f} / {in_process_cpu:.1f} s = {forced_cpu / in_process_cpu:.2f}×** | the ratio least disturbed by other work on the machine |
| in-process floor on the HTML the build lays out (a sheet: one card per side, which the build repeats after layout) | {own:.2f} | {own / CORES:.2f} s per core |
| full build / that floor per core; CPU time | {full / (own / CORES):.2f}×; {forced_cpu / own_cpu:.2f}× | the build's own overhead: process start-up, checks, the regular-style try of cards that need the compact one, spread, PDF/X |
| one `weasyprint` process per document, one after another | {per_process:.2f} | full build is {per_process / full:.1f}× faster |
| no-change build (median of 3) | {statistics.median(no_change):.2f} | {statistics.median(no_change) / full * 100:.1f}% of the full build (goal < 5%); lays out nothing, never imports WeasyPrint |
| one Spanish string changed | {changed_seconds:.2f} | rendered: {', '.join(changed) or 'nothing'} |
| `outreach check` on the shipped project (median of 5, every check run, nothing cached) | {statistics.median(s for s, _ in checks):.2f} | peak memory {max(k for _, k in checks) / 1024:.0f} MB (goals: < 1.5 s, < 400 MB) |

Each document is laid out once (a card whose text does not fit the regular style once more, in
the compact one): the spread over the empty foot moves the laid-out boxes instead of laying the
document out again (`pipeline/render/fill.py`), and a sheet lays out one card per side and repeats
it at its other places. So the build can beat the issue's floor, which lays out all 16 cards of a
sheet; the second floor, on the HTML the build itself lays out, shows what the build adds.

Synthetic projects: every shipped edition copied under new ids (same content), built from empty.

| project | documents | seconds | per document | peak memory of any build process |
|---|---|---|---|---|
{rows}
"""
    print(report)
    write_section(REPO / "docs" / "benchmarks.md", "## Build", report)
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_NOFILE, resource.getrlimit(resource.RLIMIT_NOFILE))
    sys.exit(main())
