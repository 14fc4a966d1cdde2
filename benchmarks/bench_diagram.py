"""Diagram cost: building the DOT against the analysis it draws, and Graphviz's layout time and SVG size.

Baseline, named: ``analyze() warm-uncached`` — ``resnet_core.analysis.analyze_uncached`` (the
trace on the meta device without its cache), after one warm-up call, best of ``--rounds``.
The DOT build (``to_dot``) is timed the same way (best of 4 × rounds), so ``build / analysis`` is the share of the
analysis's cost that drawing adds (goal: under 5 % for resnet152 at every level). Two build columns:
``warm``, the drawing redrawn (as the app redraws on every change of level, fold or annotation; the
names and attribute values are already quoted, ``diagram.quote`` remembers them), and ``cold``, with
that memory emptied before each build (the first drawing in a fresh process). Times are CPU time of
this thread (``time.thread_time``), so other processes on a shared machine disturb them less.

Layout: ``dot -Tsvg`` wall time (one process, median of ``--rounds``; the unfolded layer level of
resnet152 once) and the SVG's size. Goal: the default view (block level, folded) of every preset
lays out in under 1 s.

Node budget (``--budget``; issue 15): ``dot -Tsvg`` wall time against the number of nodes, for
drawings on both sides of ``diagram.NODE_BUDGET`` (block level of CIFAR nets with n blocks a stage,
every stage unfolded; ResNet-1202's layer level with one stage unfolded), each once; baseline, named:
``resnet1202 block unfolded`` (1,206 nodes, the largest drawing the explorer promises), so the ratios
say how much longer than that a drawing near the budget takes.

    .venv/bin/python benchmarks/bench_diagram.py [--rounds 5] [--quick] [--budget]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

from resnet_core.analysis import analyze, analyze_uncached
from resnet_core.diagram import NODE_BUDGET, DiagramOptions, dot_available, node_count, quote, render, to_dot
from resnet_core.spec import PRESETS, ResNetSpec, default_input_size

BASELINE = "analyze() warm-uncached"


def best_time(
    fn: Callable[[], object], rounds: int, before: Callable[[], object] = lambda: None
) -> tuple[float, object]:
    """Best of ``rounds`` after a warm-up (timeit's convention: the minimum is the least disturbed run);
    ``before`` runs ahead of each, untimed."""
    result = fn()  # warm-up
    times = []
    for _ in range(rounds):
        before()
        t = time.thread_time()
        result = fn()
        times.append(time.thread_time() - t)
    return min(times), result


def analysis_of(name: str, rounds: int):
    spec = PRESETS[name]
    return best_time(lambda: analyze_uncached(spec, default_input_size(spec)), rounds)


def layout(text: str, rounds: int) -> tuple[float, int]:
    """Wall time of ``dot -Tsvg`` (another process: its CPU time is not this thread's)."""
    times, size = [], 0
    for _ in range(rounds):
        t = time.perf_counter()
        size = len(render(text, "svg", timeout=300))
        times.append(time.perf_counter() - t)
    return statistics.median(times), size


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--quick", action="store_true", help="skip the unfolded layer level of resnet152 (several s)")
    p.add_argument("--budget", action="store_true", help="only the node budget: dot time against nodes (minutes)")
    args = p.parse_args(argv)
    if args.budget:
        return node_budget()
    has_dot = dot_available()
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, Graphviz dot {'found' if has_dot else 'MISSING'}")
    print(f"baseline: {BASELINE}, best of {args.rounds}; load average {os.getloadavg()[0]:.1f}\n")

    views: list[tuple[str, DiagramOptions, bool]] = [
        ("stage", DiagramOptions(level="stage"), True),
        ("block (folded, default)", DiagramOptions(level="block"), True),
        ("block unfolded", DiagramOptions(level="block", fold=False), True),
        ("layer (folded)", DiagramOptions(level="layer"), True),
        ("layer unfolded", DiagramOptions(level="layer", fold=False), not args.quick),
    ]
    header = (
        f"{'network / view':<36} {'build ms warm':>13} {'cold':>6} {'analysis ms':>11} {'warm/analysis':>13} "
        f"{'cold/analysis':>13} {'dot s':>7} {'SVG KiB':>8}"
    )
    print(header)
    print("-" * len(header))
    worst = {"warm": 0.0, "cold": 0.0}
    for name, chosen in (("resnet152", views), ("resnet1202", views[1:2])):
        t_analysis, a = analysis_of(name, args.rounds)
        for label, options, do_layout in chosen:
            t_warm, text = best_time(lambda o=options, a=a: to_dot(a, o), 4 * args.rounds)
            t_cold, _ = best_time(lambda o=options, a=a: to_dot(a, o), 4 * args.rounds, quote.cache_clear)
            if name == "resnet152":
                worst = {
                    "warm": max(worst["warm"], t_warm / t_analysis),
                    "cold": max(worst["cold"], t_cold / t_analysis),
                }
            t_dot, size = (
                layout(text, 1 if "unfolded" in label else args.rounds) if has_dot and do_layout else (None, 0)
            )
            dot_s = f"{t_dot:7.2f}" if t_dot is not None else f"{'—':>7}"
            print(
                f"{name + ' / ' + label:<36} {t_warm * 1e3:13.2f} {t_cold * 1e3:6.2f} {t_analysis * 1e3:11.1f} "
                f"{t_warm / t_analysis:13.2%} {t_cold / t_analysis:13.2%} {dot_s} {size / 1024:8.0f}"
            )
    for kind, ratio in worst.items():
        print(
            f"resnet152, worst {kind} build/analysis over the levels: {ratio:.2%} (goal < 5 %: {'met' if ratio < 0.05 else 'MISSED'})"
        )

    if not has_dot:
        print("dot is missing: layout times skipped (install Debian's graphviz)")
        return 0
    print("\ndefault view (block level, folded) of every preset: dot -Tsvg wall time")
    slowest = ("", 0.0)
    for name, spec in PRESETS.items():
        a = analyze(spec, default_input_size(spec))
        t_dot, size = layout(to_dot(a), args.rounds)
        slowest = max(slowest, (name, t_dot), key=lambda x: x[1])
        print(f"  {name:<20} {t_dot:6.2f} s {size / 1024:6.0f} KiB")
    print(f"slowest: {slowest[0]} {slowest[1]:.2f} s (goal < 1 s: {'met' if slowest[1] < 1 else 'MISSED'})")
    return 0


def node_budget() -> int:
    """``dot -Tsvg`` wall time against node count, around ``NODE_BUDGET``, against the named baseline."""
    if not dot_available():
        print("dot is missing: nothing to time (install Debian's graphviz)")
        return 0
    print(f"node budget {NODE_BUDGET}; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} (noisy if high)")

    def cifar(n: int) -> ResNetSpec:
        return ResNetSpec(block="basic", layers=(n,) * 3, stem="cifar", width=16, shortcut="A", num_classes=10)

    every = ("layer1", "layer2", "layer3")
    cases = [
        ("resnet1202 block unfolded (baseline)", PRESETS["resnet1202"], DiagramOptions(level="block", unfold=every)),
        ("cifar 3×100 block unfolded", cifar(100), DiagramOptions(level="block", unfold=every)),
        ("resnet1202 layer, layer3 unfolded", PRESETS["resnet1202"], DiagramOptions(level="layer", unfold=("layer3",))),
        ("cifar 3×250 block unfolded", cifar(250), DiagramOptions(level="block", unfold=every)),
        ("cifar 3×330 block unfolded", cifar(330), DiagramOptions(level="block", unfold=every)),
    ]
    baseline = None
    for label, spec, options in cases:
        a = analyze(spec, 32)
        options = dataclasses.replace(options, legend=False)
        nodes = node_count(a, options)
        t, size = layout(to_dot(a, options), 1)
        baseline = baseline or t
        over = "  over the budget" if nodes > NODE_BUDGET["server"] else ""
        print(
            f"  {label:<40} {nodes:6,} nodes   dot {t:6.1f} s   × baseline {t / baseline:5.2f}   {size / 2**20:5.2f} MiB{over}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
