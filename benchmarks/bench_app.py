"""How fast the explorer answers, server-side (AppTest) and in a real browser, against named baselines.

    .venv/bin/python benchmarks/bench_app.py [--no-browser]

Goals (issue 5): a server-side rerun of the explorer for resnet152 ≤ 0.3 s with a warm cache and
≤ 2 s cold (caches cleared, process already running); in the browser, from choosing a preset to
the new diagram drawn ≤ 1.5 s. Baselines: the same measurement on a no-op page (a select box and a
title), i.e. what Streamlit itself costs on this machine.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from resnet_core.analysis import analyze  # noqa: E402

#: The explorer view as the app runs it (app/streamlit_app.py imports the view and calls main()).
EXPLORER = "from app.views.explorer import main\n\nmain()\n"
NOOP = """
import streamlit as st
arch = st.selectbox("Preset", ["resnet50", "resnet152", "resnet18", "resnet101", "resnet34", "resnet20"], key="arch")
st.title(arch)
"""
REPEATS = 5


def clear_caches() -> None:
    st.cache_data.clear()
    st.cache_resource.clear()
    analyze.cache_clear()


def timed_run(at: AppTest) -> float:
    t = time.perf_counter()
    at.run()
    dt = time.perf_counter() - t
    assert not at.exception, at.exception
    return dt


def server_side(noop_path: str) -> None:
    print("== server side (AppTest), resnet152, input 224")
    warm = AppTest.from_string(EXPLORER, default_timeout=300)
    warm.query_params["arch"] = "resnet18"
    process_cold = timed_run(warm)  # torch import, first meta trace: once per process
    cold = []
    for _ in range(3):
        clear_caches()
        at = AppTest.from_string(EXPLORER, default_timeout=300)
        at.query_params["arch"] = "resnet152"
        cold.append(timed_run(at))
    warm_runs = [timed_run(at) for _ in range(REPEATS)]
    noop = AppTest.from_file(noop_path, default_timeout=60)
    timed_run(noop)
    noop_runs = [timed_run(noop) for _ in range(REPEATS)]
    c, w, n = statistics.median(cold), statistics.median(warm_runs), statistics.median(noop_runs)
    print(f"first run in a fresh process (resnet18, imports torch): {process_cold:.2f} s")
    print(f"cold (caches cleared), median of 3: {c:.3f} s   goal ≤ 2 s   {'OK' if c <= 2 else 'MISSED'}")
    print(f"warm rerun, median of {REPEATS}:          {w:.3f} s   goal ≤ 0.3 s {'OK' if w <= 0.3 else 'MISSED'}")
    print(f"baseline: no-op page rerun:        {n:.3f} s   explorer warm / no-op = {w / n:.1f}×")


def browser_side(noop_path: str) -> None:
    from scripts.harness import chromium, streamlit_server, warm_up

    print("== browser (Debian's Chromium via Playwright, 1280×800): choose a preset → new diagram drawn")
    sequence = ["resnet152", "resnet18", "resnet101", "resnet34", "resnet152", "resnet18", "resnet101", "resnet34"]
    diagram = "[data-testid='resnet-diagram'] svg text, [data-testid='stGraphVizChart'] svg text"

    def choose(page, arch: str, done) -> float:
        t = time.perf_counter()
        page.get_by_role("combobox", name="Preset").click()
        page.get_by_role("option", name=arch, exact=True).click()
        done(arch)
        return time.perf_counter() - t

    with chromium() as browser:
        with streamlit_server() as base:
            warm_up(browser, base)
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(base + "/explorer?arch=resnet50")
            page.locator(diagram, has_text="resnet50 · input").first.wait_for(timeout=120_000)
            times = [
                choose(page, a, lambda a: page.locator(diagram, has_text=f"{a} · input").first.wait_for(timeout=60_000))
                for a in sequence
            ]
            page.close()
        with streamlit_server(script=noop_path) as base:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(base)
            page.locator("h1", has_text="resnet50").wait_for(timeout=60_000)
            noop = [
                choose(page, a, lambda a: page.locator("h1", has_text=a).wait_for(timeout=60_000)) for a in sequence
            ]
            page.close()
    first, again = times[:4], times[4:]
    print("first time each preset (server computes it): " + ", ".join(f"{t:.2f}" for t in first) + " s")
    print("second time (server cache warm):             " + ", ".join(f"{t:.2f}" for t in again) + " s")
    m = statistics.median(again)
    print(
        f"median warm: {m:.2f} s   goal ≤ 1.5 s {'OK' if m <= 1.5 else 'MISSED'}   worst first time: {max(first):.2f} s"
    )
    print(f"baseline: no-op page, same select → title: median {statistics.median(noop):.2f} s")


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        noop_path = str(Path(tmp) / "noop.py")
        Path(noop_path).write_text(NOOP)
        server_side(noop_path)
        if "--no-browser" not in argv:
            browser_side(noop_path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
