"""Measure the review desk's live print preview: from an edit reaching the desk to its PNG page.

    python tests/tools/bench_desk.py [--card N] [--flyer N]

Runs the desk app in-process (Starlette's test client, the same app `outreach
serve` runs) on a throw-away copy of the shipped project, warms the renderer
once as the server does at start, then for each sample sends a text never sent
before (so nothing is cached) to the preview endpoint and fetches the PNG the
page would show. Reports median and 95th percentile, with the page script's
debounce added for "edit to preview", and writes them to docs/benchmarks.md
under its own heading (other sections are kept). The goals: a card within
1.5 s (p95) of an edit, a flyer page within 3 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
HEADING = "## Review desk preview (`make bench-desk`)"
PREVIEW_DEBOUNCE_MS = 250  # pipeline/desk/static/desk.js PREVIEW_DELAY_MS
GOALS_S = {"card": 1.5, "flyer-letter": 3.0}
CASES = (  # (language, edition, format, string)
    ("es", "es-US", "card", "give-naloxone"),
    ("es", "es-US", "flyer-letter", "both-slow-breathing"),
)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def throwaway_key(path: Path):
    """A fresh Ed25519 key that lives only in memory (the benchmark records no decision)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from pipeline.signing import SigningKey, public_line

    private = Ed25519PrivateKey.generate()
    return SigningKey(path, private, public_line(private.public_key()))


def measure(samples: dict[str, int]) -> list[tuple[str, str, int, float, float, float]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    from pipeline.desk import actions
    from pipeline.desk.app import Desk, create_app
    from pipeline.desk.security import Guard

    root = Path(tempfile.mkdtemp(prefix="outreach-bench-desk-")) / "project"
    try:
        for folder in ("source", "templates", "translations"):
            shutil.copytree(REPO / folder, root / folder)
        desk = Desk(root=root, key=throwaway_key(root.parent / "bench-key"), reviewer="bench")  # previews only: nothing is signed
        guard = Guard(host="127.0.0.1", port=8765)
        client = TestClient(create_app(desk, guard), base_url="http://127.0.0.1:8765")
        client.get(f"/?token={guard.token}", follow_redirects=False)
        started = time.perf_counter()
        desk.preview.warm(desk.source())
        warm_s = time.perf_counter() - started
        rows = []
        for language, edition, format_name, string_id in CASES:
            base = actions.current_translation(desk.source(), language, string_id)
            times = []
            for number in range(samples[format_name]):
                text = f"{base} ({number})"  # new every time: nothing cached
                t0 = time.perf_counter()
                response = client.post(f"/api/lang/{language}/string/{string_id}/preview",
                                       json={"text": text, "edition": edition, "format": format_name},
                                       headers={"X-CSRF-Token": guard.csrf})
                data = response.json()
                assert response.status_code == 200 and data["pages"] and not data["errors"], data
                for page in data["pages"]:
                    assert client.get(page["url"]).status_code == 200
                times.append(time.perf_counter() - t0)
            rows.append((format_name, string_id, len(times), statistics.median(times), percentile(times, 0.95), max(times)))
        return rows, warm_s
    finally:
        shutil.rmtree(root.parent, ignore_errors=True)


def report(rows, warm_s: float) -> str:
    lines = [
        HEADING,
        "",
        f"Measured {dt.date.today().isoformat()} on this project's 2-core machine (shared while measuring), "
        "in-process through the desk's own app: POST of a never-seen text to the preview endpoint, the proof "
        "drawn by the warm renderer with the string outlined, pages found and turned into PNG (PyMuPDF), and "
        "the PNG fetched. \"Edit to preview\" adds the page script's "
        f"{PREVIEW_DEBOUNCE_MS} ms debounce (the wait after the last key press).",
        "",
        f"Renderer warm-up at server start (fonts, stylesheets): {warm_s:.2f} s.",
        "",
        "| document | string | samples | median s | p95 s | max s | edit to preview p95 s | goal |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for format_name, string_id, count, median, p95, worst in rows:
        goal = GOALS_S["card" if format_name == "card" else "flyer-letter"]
        total = p95 + PREVIEW_DEBOUNCE_MS / 1000
        verdict = "met" if total <= goal else "MISSED"
        lines.append(f"| {format_name} | {string_id} | {count} | {median:.3f} | {p95:.3f} | {worst:.3f} | {total:.3f} | ≤ {goal:g} s: {verdict} |")
    return "\n".join(lines) + "\n"


def write_section(section: str) -> Path:
    """Replace this benchmark's section of docs/benchmarks.md, keeping every other section."""
    path = REPO / "docs" / "benchmarks.md"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(HEADING)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text).rstrip("\n") + "\n"
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text, encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--card", type=int, default=20, help="card previews to time")
    parser.add_argument("--flyer", type=int, default=10, help="flyer previews to time")
    args = parser.parse_args()
    rows, warm_s = measure({"card": args.card, "flyer-letter": args.flyer})
    section = report(rows, warm_s)
    print(section)
    print(f"written to {write_section(section).relative_to(REPO)}")


if __name__ == "__main__":
    main()
