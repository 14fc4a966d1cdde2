"""The default degradation race (plain-20, plain-56, ResNet-20, ResNet-56 on the built-in shapes10 data):
training steps per second per net, final training loss per net, and whether plain-56 ended above plain-20.

Baseline, named: ``plain20``'s steps/s, measured in the same race (every net trains on the same batches,
one after another within each step, so load changes hit all four alike). The whole race's wall time is
set against the 3-minute budget the default must fit on a 2-core CPU.

    .venv/bin/python benchmarks/bench_race.py [--device cpu] [--threads N] [--steps 100] [--json out.json]

On a shared machine the figures move with the other processes' load; the script prints the load average
before and after, and torch's intra-op thread count (``--threads 1`` avoids OpenMP's threads waiting on
each other when another process holds a core).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

from resnet_core.race import RaceConfig, RaceResult, RaceStep, run_race

BASELINE = "plain20"
BUDGET_S = 180.0


def race_table(result: RaceResult, baseline: str = BASELINE) -> list[str]:
    """Lines: per net its depth, steps/s (and ratio to ``baseline``), first and final training loss and error."""
    base = result.net(baseline).steps_per_s if baseline in {n.label for n in result.nets} else None
    lines = [
        f"  {'net':<10} {'depth':>5} {'steps/s':>8} {'× ' + baseline if base else '':>10} "
        f"{'first loss':>10} {'final loss':>10} {'final error':>11}"
    ]
    for n in result.nets:
        ratio = f"{n.steps_per_s / base:>10.2f}" if base else f"{'':>10}"
        lines.append(
            f"  {n.label:<10} {n.depth:>5} {n.steps_per_s:>8.2f} {ratio} {n.loss[0]:>10.3f} "
            f"{n.final_loss:>10.3f} {n.final_error:>11.1%}"
        )
    lines.append(
        f"  final = mean of the last {max(1, result.steps_done // 10)} of {result.steps_done} steps; "
        f"{result.device} ({result.device_name}), {result.dtype}, channels_last {'on' if result.channels_last else 'off'}, "
        f"batch {result.batch}, {result.input_size}×{result.input_size}, lr {result.lr:g}, seed {result.seed}"
    )
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda", "auto"))
    p.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's own)")
    p.add_argument("--steps", type=int, default=None, help="default: the race's default")
    p.add_argument("--json", default=None, help="also write the result to this file")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    config = RaceConfig(device=args.device) if args.steps is None else RaceConfig(device=args.device, steps=args.steps)
    print(
        f"default race: {', '.join(str(n) for n in config.nets)} on {config.data}, {config.steps} steps, batch "
        f"{config.batch}, {config.input_size}×{config.input_size}; torch {torch.__version__}, "
        f"{torch.get_num_threads()} intra-op thread(s) of {os.cpu_count()} CPUs; load average before "
        f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}",
        flush=True,
    )
    started = time.perf_counter()

    def progress(step: RaceStep) -> None:
        if step.step % 20 == 0 or step.step == config.steps:
            losses = ", ".join(f"{k} {v:.3f}" for k, v in step.loss.items())
            print(f"  step {step.step:>4}  {time.perf_counter() - started:6.1f} s  loss: {losses}", flush=True)

    result = run_race(config, progress=progress)
    wall = time.perf_counter() - started
    for line in race_table(result):
        print(line)
    above = result.ended_above("plain56", "plain20")
    p20, p56 = result.net("plain20").final_loss, result.net("plain56").final_loss
    print(f"plain-56 ended above plain-20: {'yes' if above else 'no'} (final training loss {p56:.3f} vs {p20:.3f})")
    r56 = result.net("resnet56").final_loss
    print(f"ResNet-56 ended below plain-56: {'yes' if r56 < p56 else 'no'} ({r56:.3f} vs {p56:.3f})")
    for r in result.responses:
        print(f"  Fig. 7 {r.label:<9} mean response std {sum(r.std) / len(r.std):.3f} over {len(r.std)} 3×3 layers")
    verdict = "within" if wall <= BUDGET_S else "OVER"
    print(
        f"wall time {wall:.1f} s (data, {result.steps_done} steps of 4 nets, Fig. 7): {verdict} the {BUDGET_S:.0f} s "
        f"budget; load average after {' '.join(f'{v:.2f}' for v in os.getloadavg())}"
    )
    if args.json:
        report = {
            "wall_s": wall,
            "threads": torch.get_num_threads(),
            "load_after": os.getloadavg(),
            "plain56_above_plain20": above,
            "nets": [
                {"label": n.label, "steps_per_s": n.steps_per_s, "final_loss": n.final_loss, "loss": list(n.loss)}
                for n in result.nets
            ],
            "responses": [asdict(r) for r in result.responses],
        }
        Path(args.json).write_text(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
