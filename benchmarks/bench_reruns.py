"""200 reruns in one session: the process's memory growth (issue 15: "growth < 50 MB: keep it").

    .venv/bin/python benchmarks/bench_reruns.py [--reruns 200]

One AppTest session of the explorer is run once (caches filled), then ``--reruns`` times, each rerun
changing what a user would change: the preset (resnet50, resnet18, resnet34 in turn) and the diagram's
level. The figure is the process's resident memory (VmRSS) after the reruns minus after the first run.
The baseline, measured the same way in the same process just before: the same number of reruns of a
no-op page (a title and a select box), i.e. what Streamlit's AppTest itself keeps per rerun.
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GOAL_MB = 50
NOOP = """import streamlit as st
st.selectbox("Preset", ["resnet50", "resnet18"], key="arch")
st.title("no-op")
"""


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def growth(at, step, reruns: int) -> float:
    """MB of resident memory added by ``reruns`` reruns of ``at`` (``step(at, i)`` changes widgets first)."""
    at.run()
    gc.collect()
    start = rss_mb()
    for i in range(reruns):
        step(at, i)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
    gc.collect()
    return rss_mb() - start


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reruns", type=int, default=200)
    args = parser.parse_args(argv)

    from streamlit.testing.v1 import AppTest

    from scripts.appview import open_page

    noop_path = Path(tempfile.mkdtemp()) / "noop.py"
    noop_path.write_text(NOOP)
    noop = AppTest.from_file(str(noop_path), default_timeout=120)
    base = growth(noop, lambda at, i: at.selectbox(key="arch").select(("resnet18", "resnet50")[i % 2]), args.reruns)
    print(f"baseline, {args.reruns} reruns of a no-op page: {base:+.1f} MB")

    presets, levels = ("resnet50", "resnet18", "resnet34"), ("block", "stage", "layer")

    def step(at, i: int) -> None:
        at.selectbox(key="arch").select(presets[i % 3])
        at.segmented_control(key="level").set_value(levels[(i // 3) % 3])

    explorer = open_page("explorer", {"arch": "resnet50"}, timeout=300)
    added = growth(explorer, step, args.reruns)
    verdict = "OK" if added < GOAL_MB else "MISSED"
    print(
        f"explorer, {args.reruns} reruns (preset and level changed each time): {added:+.1f} MB "
        f"(no-op {base:+.1f} MB); goal < {GOAL_MB} MB: {verdict}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
