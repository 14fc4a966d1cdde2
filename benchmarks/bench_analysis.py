"""analyze() on the meta device against building the real model and calling torchinfo.summary.

Baseline, named: ``build + torchinfo.summary``, the path a user would otherwise take to get a
per-layer table: ``resnet_core.build(spec)`` (real CPU weights, initialised) and then
``torchinfo.summary(model, input_size=(1, C, H, W))`` (a real forward pass with hooks).
Measured in this same process, rounds alternated (analyze, baseline, analyze, …) so drift in
machine load hits both alike; each figure is the median over rounds. ``analyze`` is timed
uncached (``analyze_uncached``) after one warm-up call, because torch's first meta operation
imports a lot lazily (reported separately as the cold first call).

Also: the peak-memory growth of analyze(resnet152) in a fresh process (the process's VmHWM
before/after, plus tracemalloc's peak of Python allocations), warm (after a one-block analysis)
and cold (the first call of the process, torch's lazy imports included), next to the baseline's;
and analysis time against depth for a custom net of 10, 100 and 1000 blocks (time per block should
be flat: growth linear in depth).

    .venv/bin/python benchmarks/bench_analysis.py [--rounds 3] [--skip-baseline]

Ratios > 1 mean analyze() is that many times faster than the baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

from resnet_core import PRESETS, ResNetSpec, build
from resnet_core.analysis import analyze_uncached

BASELINE = "build + torchinfo.summary"


def time_analyze(spec: ResNetSpec, size: int) -> float:
    t = time.perf_counter()
    analyze_uncached(spec, size)
    return time.perf_counter() - t


def time_baseline(spec: ResNetSpec, size: int) -> float:
    import torchinfo

    t = time.perf_counter()
    model = build(spec)
    torchinfo.summary(model, input_size=(1, spec.in_channels, size, size), verbose=0, device="cpu")
    elapsed = time.perf_counter() - t
    del model
    return elapsed


def speed(name: str, size: int, rounds: int) -> dict:
    spec = PRESETS[name]
    ours, theirs = [], []
    for _ in range(rounds):
        ours.append(time_analyze(spec, size))
        theirs.append(time_baseline(spec, size))
    a, b = statistics.median(ours), statistics.median(theirs)
    print(
        f"{name}@{size}: analyze {a:.3f} s, {BASELINE} {b:.3f} s (medians of {rounds}); "
        f"ratio {b / a:.1f}× faster (analyze = 1/{b / a:.0f} of the baseline)"
    )
    return {"arch": name, "input": size, "analyze_s": a, "baseline_s": b, "ratio": b / a}


def depth(rounds: int) -> None:
    print("\nanalysis time against depth (basic blocks, CIFAR stem, width 16, option A, input 32):")
    per_block = {}
    for n in (10, 100, 1000):
        spec = ResNetSpec(block="basic", layers=(n,), stem="cifar", width=16, shortcut="A", num_classes=10)
        times = [time_analyze(spec, 32) for _ in range(rounds)]
        t = statistics.median(times)
        per_block[n] = t / n
        print(
            f"  {n:>5} blocks: {t:8.3f} s  {1e3 * t / n:6.2f} ms/block  ({per_block[n] / per_block[10]:.2f}× the 10-block figure)"
        )
    print(f"  1000 vs 100 blocks, time per block: {per_block[1000] / per_block[100]:.2f}× (1.00 = perfectly linear)")


# -- peak memory in a fresh process ------------------------------------------------------------------

CHILD = r"""
import json, resource, sys, time, tracemalloc
sys.path.insert(0, {root!r})
import torch
from resnet_core import PRESETS, ResNetSpec, analyze, build

def maxrss_mb():
    # VmHWM, this process's own high-water mark. Not ru_maxrss: Linux carries that across
    # fork + exec, so a child would start with its parent's peak.
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux; elsewhere only

what = {what!r}
if what != "analyze-cold":
    # warm-up on a one-block net: torch's first meta ops import and initialise lazily; that
    # one-time cost belongs to the process, not to analysing resnet152
    analyze(ResNetSpec(block="bottleneck", layers=(1,), num_classes=10), 64)
before = maxrss_mb()
tracemalloc.start()
t = time.perf_counter()
if what.startswith("analyze"):
    a = analyze(PRESETS["resnet152"], 224)
else:
    import torchinfo
    model = build(PRESETS["resnet152"])
    torchinfo.summary(model, input_size=(1, 3, 224, 224), verbose=0, device="cpu")
elapsed = time.perf_counter() - t
_, peak = tracemalloc.get_traced_memory()
tracemalloc.stop()
print(json.dumps({{"before_mb": before, "after_mb": maxrss_mb(), "tracemalloc_peak_mb": peak / 2**20, "s": elapsed}}))
"""


def memory(what: str) -> dict:
    code = CHILD.format(root=str(Path(__file__).resolve().parents[1]), what=what)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3, help="alternated rounds per comparison (default 3)")
    p.add_argument("--skip-baseline", action="store_true", help="only analyze()'s own figures (fast)")
    args = p.parse_args(argv)

    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, load average {os.getloadavg()[0]:.1f}")
    t = time.perf_counter()
    analyze_uncached(PRESETS["resnet18"], 224)
    print(f"cold first analyze() in this process (torch's lazy meta imports): {time.perf_counter() - t:.2f} s\n")

    print("peak memory of one resnet152@224 call in a fresh process (after a one-block warm-up):")
    params_mb = sum(p.numel() for p in build(PRESETS["resnet152"], "meta").parameters()) * 4 / 2**20
    kinds = ("analyze", "analyze-cold", BASELINE)
    for what in kinds:
        m = memory("baseline" if what == BASELINE else what)
        growth = m["after_mb"] - m["before_mb"]
        print(
            f"  {what:<26} max RSS {m['before_mb']:7.1f} → {m['after_mb']:7.1f} MiB (growth {growth:6.1f} MiB), "
            f"tracemalloc peak {m['tracemalloc_peak_mb']:6.1f} MiB, {m['s']:.2f} s"
        )
        if what == "analyze":
            verdict = "met" if growth <= 50 else "NOT met"
            print(f"  goal growth ≤ 50 MB: {verdict} (the float32 weights alone would be {params_mb:.0f} MiB)")
        if what == "analyze-cold":
            print("  (analyze-cold: no warm-up, so the growth includes torch's one-time lazy imports)")

    if not args.skip_baseline:
        print(f"\nspeed, baseline = {BASELINE}:")
        r152 = speed("resnet152", 224, args.rounds)
        speed("resnet1202", 32, args.rounds)
        goal = "met" if r152["ratio"] >= 10 else "NOT met"
        print(f"goal analyze(resnet152) ≤ 1/10 of the baseline: {goal}")

    depth(args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
