"""The first visitor after a server start: `python -m app.serve` (warmed) against plain `streamlit run`.

    .venv/bin/python benchmarks/bench_serve.py [--reps N] [--wait S] [PAGE]

Each repetition starts a fresh server on 127.0.0.1, waits ``--wait`` seconds after it answers its
health check (a lecturer opening the link; long enough for the warm-up, which logs its own time),
then opens PAGE (default: compare) in a new Chromium tab at 1280×800 and times, from navigation:
the title, the page's main visual (``scripts/layout.MAIN_VISUAL``) and, where the page has one, its
first chart drawn (``scripts/layout.FIRST_CHART``). The baseline is the same server started with
plain `streamlit run app/streamlit_app.py`, measured in the same run, alternating. Timing on a shared
machine is noisy: read the ratios.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.harness import chromium, streamlit_process  # noqa: E402
from scripts.layout import FIRST_CHART, MAIN_VISUAL  # noqa: E402


def first_visit(browser, base: str, page: str) -> dict[str, float]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    tab = context.new_page()
    try:
        marks: dict[str, float] = {}
        t = time.perf_counter()
        tab.goto(f"{base}/{page}", wait_until="commit")
        tab.locator("h1").first.wait_for(state="visible", timeout=300_000)
        marks["title"] = time.perf_counter() - t
        tab.locator(MAIN_VISUAL[page]).first.wait_for(state="visible", timeout=300_000)
        marks["main visual"] = time.perf_counter() - t
        if page in FIRST_CHART:
            tab.locator(FIRST_CHART[page]).first.wait_for(state="visible", timeout=300_000)
            marks["first chart"] = time.perf_counter() - t
        return marks
    finally:
        context.close()


def warm_up_seconds(log: Path) -> str:
    for line in log.read_text().splitlines():
        if line.startswith("ResNet Explorer: torch warmed up"):
            return line.split(" in ")[-1]
    return "not logged"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", nargs="?", default="compare", choices=sorted(MAIN_VISUAL))
    parser.add_argument("--reps", type=int, default=3, help="fresh servers per launcher (median)")
    parser.add_argument("--wait", type=float, default=10.0, help="seconds between the health check and the visit")
    args = parser.parse_args(argv)
    print("Timing on a shared machine is noisy: read the warmed/plain ratio, measured in the same run.")
    results: dict[str, list[dict[str, float]]] = {"plain streamlit run": [], "python -m app.serve": []}
    with chromium() as browser:
        for rep in range(args.reps):
            for name, warm in (("plain streamlit run", False), ("python -m app.serve", True)):
                with streamlit_process(warm=warm) as (base, _proc, log):
                    time.sleep(args.wait)
                    marks = first_visit(browser, base, args.page)
                    results[name].append(marks)
                    extra = f", warm-up {warm_up_seconds(log)}" if warm else ""
                    shown = ", ".join(f"{k} {v:.2f} s" for k, v in marks.items())
                    print(f"  rep {rep + 1}, {name}: {shown}{extra}", flush=True)
    print(f"== /{args.page}, first visit to a fresh server ({args.wait:.0f} s after it answers), median of {args.reps}")
    keys = list(results["plain streamlit run"][0])
    print(f"{'':22}" + "".join(f"{k:>14}" for k in keys))
    medians = {name: {k: statistics.median(m[k] for m in runs) for k in keys} for name, runs in results.items()}
    for name, med in medians.items():
        print(f"{name:22}" + "".join(f"{med[k]:>12.2f} s" for k in keys))
    plain, warmed = medians["plain streamlit run"], medians["python -m app.serve"]
    print(f"{'warmed / plain':22}" + "".join(f"{warmed[k] / plain[k]:>13.2f}×" for k in keys))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
