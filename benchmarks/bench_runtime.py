"""CPU: bfloat16 and channels_last against float32 eager, resnet50 at batch 8 (224×224).

Baseline, named: ``float32 eager`` (NCHW, no autocast, no compile), measured in this same run.
Each variant is timed with ``resnet_core.runtime.benchmark`` (warm-up, then repeated runs,
median); rounds are interleaved (baseline, variants, baseline, …) so drift in machine load hits
every configuration alike, and the ratio uses the median over rounds.

    .venv/bin/python benchmarks/bench_runtime.py [--arch resnet50] [--batch 8] [--rounds 3] [--repeats 5]

Ratios > 1 mean faster than the baseline. On a CPU without native bfloat16 (no AVX512-BF16 / AMX)
autocast to bfloat16 is expected to be *slower*: the ratio says so rather than hiding it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from resnet_core.runtime import RunConfig, benchmark, cpu_threads_note, device_name
from resnet_core.spec import preset

BASELINE = "float32 eager"
VARIANTS: dict[str, dict] = {
    BASELINE: {"dtype": "float32"},
    "float32 channels_last": {"dtype": "float32", "channels_last": True},
    "bfloat16 autocast": {"dtype": "bfloat16"},
    "bfloat16 autocast + channels_last": {"dtype": "bfloat16", "channels_last": True},
}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--arch", default="resnet50")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--input", type=int, default=224)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args(argv)

    import torch

    spec = preset(args.arch)
    print(
        f"{args.arch}, batch {args.batch}, {args.input}×{args.input}, CPU {device_name(torch.device('cpu'))}, "
        f"{cpu_threads_note()}, torch {torch.__version__}"
    )
    medians: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for r in range(args.rounds):
        for name, opts in VARIANTS.items():
            m = benchmark(
                spec,
                RunConfig(
                    device="cpu",
                    batch=args.batch,
                    input_size=args.input,
                    warmup=args.warmup,
                    repeats=args.repeats,
                    stage_timing=False,
                    **opts,
                ),
                arch=args.arch,
            )
            medians[name].append(m.latency_ms_median)
            print(f"  round {r + 1}: {name:<34} {m.latency_ms_median:9.1f} ms  ({m.images_per_s:6.1f} img/s)")

    base = statistics.median(medians[BASELINE])
    print(f"\nratio = speed against '{BASELINE}' (median of {args.rounds} rounds; > 1 is faster)")
    print(f"{'configuration':<34} {'median ms':>10} {'img/s':>8} {'ratio':>7}")
    for name, values in medians.items():
        ms = statistics.median(values)
        print(f"{name:<34} {ms:>10.1f} {args.batch * 1e3 / ms:>8.1f} {base / ms:>6.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
