"""``python -m resnet_core bench ARCH``: time the forward pass for each dtype × batch size."""

from __future__ import annotations

import argparse
import json
import sys

from resnet_core.runtime import DEVICES, DTYPES, DeviceOutOfMemory, Measurement, RunConfig, benchmark, environment
from resnet_core.selection import UsageError, from_args

HELP = "time the forward pass: latency, images/s, multiply-adds/s, peak memory"


def _int_list(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise UsageError(f"--batch {text!r}: expected batch sizes separated by commas, e.g. 1,8,64") from None
    if not values or any(not 1 <= v <= 4096 for v in values):
        raise UsageError(f"--batch {text!r}: each batch size must be from 1 to 4096")
    return values


def _dtype_list(text: str) -> list[str]:
    values = [part.strip() for part in text.split(",") if part.strip()]
    bad = [v for v in values if v not in DTYPES]
    if not values or bad:
        raise UsageError(f"--dtype {text!r}: choose from {', '.join(DTYPES)}, separated by commas")
    return values


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", choices=DEVICES, default="auto", help="auto: CUDA when present, else the CPU")
    p.add_argument("--batch", default="1,8", help="batch sizes, comma separated (default 1,8)")
    p.add_argument("--dtype", default="float32", help=f"comma separated, from {', '.join(DTYPES)} (autocast)")
    p.add_argument("--channels-last", action="store_true", dest="channels_last", help="NHWC memory format")
    p.add_argument("--compile", action="store_true", help="torch.compile the model first (slow to start)")
    p.add_argument("--warmup", type=int, default=3, help="untimed runs first (default 3)")
    p.add_argument("--repeats", type=int, default=10, help="timed runs (default 10)")
    p.add_argument("--format", choices=("table", "json"), default="table")


def _mib(n: int | None) -> str:
    return "—" if n is None else f"{n / 2**20:,.0f}"


def run(args: argparse.Namespace) -> int:
    chosen = from_args(args)
    spec, input_size = chosen.spec, chosen.input_size
    batches = _int_list(args.batch)
    dtypes = _dtype_list(args.dtype)
    runs = []
    error: DeviceOutOfMemory | None = None
    for dtype in dtypes:
        for batch in batches:
            config = RunConfig(
                device=args.device,
                dtype=dtype,
                batch=batch,
                input_size=input_size,
                channels_last=args.channels_last,
                compile=args.compile,
                warmup=args.warmup,
                repeats=args.repeats,
            )
            try:
                runs.append(benchmark(spec, config, arch=args.arch))
            except DeviceOutOfMemory as e:
                error = e
                break
        if error is not None:
            break
    # The runs that completed are shown even when a later one ran out of memory.
    if args.format == "json":
        out = {"arch": args.arch, "environment": environment(), "runs": [m.to_dict() for m in runs]}
        if error is not None:
            out["error"] = str(error)
        print(json.dumps(out))
    elif runs:
        _print_table(args.arch, runs)
    if error is not None:
        sys.stdout.flush()
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


def _print_table(arch: str, runs: list[Measurement]) -> None:
    first = runs[0]
    print(f"{arch} on {first.device} ({first.device_name}), input {first.input_size[0]}×{first.input_size[1]}")
    header = (
        f"{'dtype':<9} {'batch':>5} {'ch_last':>7} {'compile':>7} {'median ms':>10} {'p10':>8} {'p90':>8} "
        f"{'img/s':>9} {'GMAC/s':>9} {'peak':>6} {'mem MiB':>8}"
    )
    print(header)
    print("-" * len(header))
    for m in runs:
        share = "—" if m.share_of_peak is None else f"{m.share_of_peak:.0%}"
        print(
            f"{m.dtype:<9} {m.batch:>5} {'yes' if m.channels_last else 'no':>7} {'yes' if m.compiled else 'no':>7} "
            f"{m.latency_ms_median:>10.2f} {m.latency_ms_p10:>8.2f} {m.latency_ms_p90:>8.2f} "
            f"{m.images_per_s:>9.1f} {m.macs_per_s / 1e9:>9.1f} {share:>6} {_mib(m.peak_memory_bytes):>8}"
        )
    print(f"memory: {first.peak_memory_kind}; peak = share of the device's dense peak FLOP/s (2 × MAC/s)")
