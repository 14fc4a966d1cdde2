"""GPU check, one run: correctness against the CPU, then resnet50 throughput on the GPU.

    python benchmarks/gpu_check.py [--arch resnet50] [--batches 1,32,256] [--budget-s 360] [--json out.json]

1. Correctness: the same weights and input on the CPU (float32, the reference) and on the GPU in
   each dtype; prints the max abs difference of the logits and a PASS/FAIL against the dtype's tolerance.
2. Throughput: batch 1, 32 and 256 × float32 / bfloat16 × channels_last off / on × compile off / on,
   each with warm-up then timed runs (CUDA events), printing latency median and p10–p90,
   images/s, achieved multiply-adds/s, share of the GPU's dense peak, and peak memory.
   Goal: resnet50 bfloat16 channels_last ≥ 10,000 images/s at batch 256 on an H100.
3. The degradation race (``resnet_core.race``): plain-20, plain-56, ResNet-20, ResNet-56 trained side
   by side on the built-in shapes10 data (bfloat16 autocast + channels_last on CUDA), printing training
   steps/s per net (against plain-20's, measured in the same race) and each net's final training loss.
   ``--race-steps 0`` leaves it out; it is skipped, saying so, once ``--budget-s`` is spent.

Sized to finish in about 8 minutes on an H100 (compiles dominate; ``--budget-s`` skips the rest
of the grid, saying so, once that much time has gone, or once the longest run of the same kind so
far would take it past). Built for one unattended run under a time limit: every line is flushed,
``--json`` is rewritten after each run (``"finished": false`` until the end), and an error in the
correctness part is printed and the grid runs anyway (exit 1). Without CUDA it prints why and
exits 0. ``--device cpu`` runs the whole script on the CPU, to test it:

    python benchmarks/gpu_check.py --device cpu --arch resnet18 --size 32 --batches 1 --repeats 2 --no-compile

(on the CPU the race defaults to 2 steps of batch 8 on 16×16 images: a check that it runs, not a figure).

Runs on any torch ≥ 2.4.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

from benchmarks.bench_race import race_table
from resnet_core.model import build
from resnet_core.race import RaceConfig, run_race
from resnet_core.runtime import (
    DeviceOutOfMemory,
    RunConfig,
    benchmark,
    environment,
    forward,
    make_input,
    prepare,
)
from resnet_core.spec import preset

#: Largest |GPU − CPU float32| allowed, relative to the largest |logit|. TF32 convolutions (PyTorch's
#: default on Ampere and later) keep 10 mantissa bits, like float16; bfloat16 keeps 7.
TOLERANCE = {"float32": 5e-3, "float16": 5e-3, "bfloat16": 3e-2}
GOAL_IPS = 10_000


def correctness(arch: str, device: torch.device, dtypes: list[str], batch: int = 4, size: int = 224) -> list[dict]:
    """Max abs difference of the logits between the CPU in float32 and ``device`` in each dtype."""
    spec = preset(arch)
    torch.manual_seed(0)
    cpu_model = build(spec).eval()
    # Random weights: the comparison is relative to the largest logit, so their scale does not matter.
    x = make_input(spec, batch, size, torch.device("cpu"))
    reference = forward(cpu_model, x, "float32")
    rows = []
    for dtype, channels_last in itertools.product(dtypes, (False, True)):
        model = prepare(build(spec, "cpu").eval(), device, channels_last=channels_last)
        model.load_state_dict(cpu_model.state_dict())
        xin = x.to(device)
        if channels_last:
            xin = xin.contiguous(memory_format=torch.channels_last)
        got = forward(model, xin, dtype).cpu()
        diff = (got - reference).abs().max().item()
        scale = reference.abs().max().item()
        ok = diff <= TOLERANCE[dtype] * scale
        rows.append(
            {
                "dtype": dtype,
                "channels_last": channels_last,
                "max_abs_diff": diff,
                "max_abs_logit": scale,
                "relative": diff / scale,
                "tolerance": TOLERANCE[dtype],
                "top1_agree": float((got.argmax(1) == reference.argmax(1)).float().mean()),
                "pass": ok,
            }
        )
        del model
    return rows


def race(args: argparse.Namespace, cuda: bool, started: float, report: dict, save) -> None:
    """Section 3: the default race's nets on this device; steps/s and final loss per net into the report."""
    steps = args.race_steps if args.race_steps is not None else (300 if cuda else 2)
    if steps <= 0:
        return
    if time.monotonic() - started > args.budget_s:
        report["skipped"].append("degradation race")
        say(f"\n== degradation race: skipped (over the {args.budget_s:g} s budget)")
        return
    small = {} if cuda else {"train_images": 200, "response_images": 32}  # the CPU dry run: a check, not a figure
    config = RaceConfig(
        device=args.device,
        steps=steps,
        batch=args.race_batch or (128 if cuda else 8),
        input_size=args.race_size or (32 if cuda else 16),
        **small,
    )
    say(
        f"\n== degradation race: {', '.join(map(str, config.nets))}, {steps} steps, batch {config.batch}, "
        f"{config.input_size}×{config.input_size} shapes10"
    )
    t0 = time.monotonic()
    try:
        result = run_race(config)
    except Exception as e:  # one failed section must not hide the others' results
        report["race_error"] = f"{type(e).__name__}: {e}"
        say(f"  race failed: {report['race_error']}")
        save()
        return
    for line in race_table(result):
        say(line)
    say(f"  race wall time {time.monotonic() - t0:.1f} s (data, training, Fig. 7 responses)")
    report["race"] = {
        "device": result.device,
        "device_name": result.device_name,
        "dtype": result.dtype,
        "channels_last": result.channels_last,
        "steps": result.steps_done,
        "batch": result.batch,
        "input_size": result.input_size,
        "nets": [
            {"label": n.label, "steps_per_s": n.steps_per_s, "final_loss": n.final_loss, "final_error": n.final_error}
            for n in result.nets
        ],
    }
    save()


def say(*args: object) -> None:
    """print, flushed at once: an unattended run that is cut off keeps everything it printed."""
    print(*args, flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--arch", default="resnet50")
    p.add_argument("--batches", default="1,32,256")
    p.add_argument("--dtypes", default="float32,bfloat16")
    p.add_argument("--no-compile", action="store_true", help="skip the torch.compile half of the grid")
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--size", type=int, default=224, help="input size (default 224)")
    p.add_argument("--budget-s", type=float, default=360.0, help="stop starting new runs after this many seconds")
    p.add_argument("--json", default=None, help="also write every result to this file (rewritten after each run)")
    p.add_argument(
        "--race-steps", type=int, default=None, help="race steps (default 300 on CUDA, 2 on the CPU; 0: no race)"
    )
    p.add_argument("--race-batch", type=int, default=None, help="race batch (default 128 on CUDA, 8 on the CPU)")
    p.add_argument("--race-size", type=int, default=None, help="race input size (default 32 on CUDA, 16 on the CPU)")
    p.add_argument(
        "--device",
        choices=("cuda", "cpu"),
        default="cuda",
        help="cpu: a dry run of the whole script on the CPU, to test it (with e.g. --arch resnet18 --size 32)",
    )
    args = p.parse_args(argv)

    if args.device == "cuda" and not torch.cuda.is_available():
        say(f"gpu_check: no CUDA device here (torch {torch.__version__}); nothing to check. Run it on a GPU machine.")
        return 0

    started = time.monotonic()
    device = torch.device(args.device)
    cuda = device.type == "cuda"
    env = environment()
    if cuda:
        say(
            f"device {torch.cuda.get_device_name(device)} · torch {env['torch']} · CUDA {env['cuda']} "
            f"· cuDNN {env['cudnn']}"
        )
        torch.backends.cudnn.benchmark = True  # pick the fastest conv algorithm per shape (timed after warm-up)
    else:
        say(f"device cpu ({env['cpu']}) · torch {env['torch']} · a dry run of the script, not a GPU check")
    dtypes = [d.strip() for d in args.dtypes.split(",")]
    batches = [int(b) for b in args.batches.split(",")]
    report: dict = {
        "environment": env,
        "args": vars(args),
        "correctness": [],
        "correctness_error": None,
        "runs": [],
        "failed": [],
        "skipped": [],
        "race": None,
        "race_error": None,
        "finished": False,
    }

    def save() -> None:
        """Rewrite the JSON now (atomically): a run cut off by a time limit keeps what it has done."""
        if not args.json:
            return
        report["elapsed_s"] = time.monotonic() - started
        path = Path(args.json)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(report))
        os.replace(tmp, path)

    say(f"\n== correctness against the CPU (float32 reference), batch 4, {args.size}×{args.size}")
    try:
        checks = correctness(args.arch, device, dtypes, size=args.size)
    except Exception as e:  # the throughput grid still runs: one unattended run must report both
        checks = []
        report["correctness_error"] = f"{type(e).__name__}: {e}"
        say(f"  correctness check failed with an error; the throughput grid runs anyway:\n{traceback.format_exc()}")
    for c in checks:
        say(
            f"  {c['dtype']:<9} channels_last={'on ' if c['channels_last'] else 'off'} "
            f"max|Δ| {c['max_abs_diff']:.3e} (of max|logit| {c['max_abs_logit']:.3g}, relative {c['relative']:.1e}, "
            f"tolerance {c['tolerance']:.0e}) top-1 agree {c['top1_agree']:.0%}  {'PASS' if c['pass'] else 'FAIL'}"
        )
    report["correctness"] = checks
    save()

    timer = "CUDA events" if cuda else "perf_counter"
    say(
        f"\n== throughput, {args.arch}, {args.size}×{args.size}, warm-up {args.warmup}, "
        f"{args.repeats} timed runs ({timer})"
    )
    say(
        f"  {'dtype':<9} {'ch_last':>7} {'compile':>7} {'batch':>5} {'median ms':>10} {'p10–p90 ms':>15} "
        f"{'img/s':>9} {'TMAC/s':>7} {'peak %':>7} {'mem GiB':>8}"
    )
    spec = preset(args.arch)
    runs = []
    grid = [(False, d, cl, b) for d, cl, b in itertools.product(dtypes, (False, True), batches)]
    if not args.no_compile:
        # Compiling is what takes the time: the goal's configuration first, in case the budget runs out.
        compiled = [(True, d, cl, b) for d, cl, b in itertools.product(dtypes, (False, True), batches)]
        grid += sorted(compiled, key=lambda g: (g[1] != "bfloat16", not g[2], -g[3]))
    longest = {False: 0.0, True: 0.0}  # the longest run so far, eager and compiled: what the next may take
    for compile_, dtype, channels_last, batch in grid:
        label = f"{dtype} channels_last={channels_last} compile={compile_} batch={batch}"
        if time.monotonic() - started + longest[compile_] > args.budget_s:
            report["skipped"].append(label)
            continue
        config = RunConfig(
            device=args.device,
            dtype=dtype,
            batch=batch,
            input_size=args.size,
            channels_last=channels_last,
            compile=compile_,
            warmup=args.warmup,
            repeats=args.repeats,
            stage_timing=False,
        )
        if compile_:
            say(f"  {label}: compiling …")
        t0 = time.monotonic()
        try:
            m = benchmark(spec, config, arch=args.arch)
        except DeviceOutOfMemory as e:
            say(f"  {label}: {e}")
            report["failed"].append({"config": label, "error": str(e)})
            save()
            continue
        except Exception as e:  # a compile failure on one configuration must not hide the others
            say(f"  {label}: failed ({type(e).__name__}: {str(e).splitlines()[0][:160] if str(e) else ''})")
            report["failed"].append({"config": label, "error": f"{type(e).__name__}: {e}"})
            save()
            continue
        finally:
            longest[compile_] = max(longest[compile_], time.monotonic() - t0)
        runs.append(m)
        report["runs"].append(m.to_dict())
        save()
        share = "—" if m.share_of_peak is None else f"{m.share_of_peak:.1%}"
        say(
            f"  {dtype:<9} {'on' if channels_last else 'off':>7} {'on' if compile_ else 'off':>7} {batch:>5} "
            f"{m.latency_ms_median:>10.3f} {m.latency_ms_p10:>7.3f}–{m.latency_ms_p90:<7.3f} {m.images_per_s:>9.0f} "
            f"{m.macs_per_s / 1e12:>7.1f} {share:>7} {(m.peak_memory_bytes or 0) / 2**30:>8.2f}"
        )
        if cuda:
            torch.cuda.empty_cache()
    if report["skipped"]:
        say(f"  skipped (over the {args.budget_s:g} s budget): {'; '.join(report['skipped'])}")
    if runs and runs[0].peak_flops:
        say(f"  peak % = 2 × MAC/s against the dense peak for the math used ({runs[0].peak_flops_mode} etc.)")

    race(args, cuda, started, report, save)

    goal = [m for m in runs if m.dtype == "bfloat16" and m.channels_last and m.batch == 256]
    if goal and cuda:
        best = max(goal, key=lambda m: m.images_per_s)
        verdict = "MET" if best.images_per_s >= GOAL_IPS else "NOT MET"
        say(
            f"\ngoal: {args.arch} bfloat16 channels_last batch 256 ≥ {GOAL_IPS:,} img/s: best "
            f"{best.images_per_s:,.0f} img/s (compile={'on' if best.compiled else 'off'}) → {verdict}"
        )
    ok = report["correctness_error"] is None and all(c["pass"] for c in checks)
    if not ok:
        say("correctness: " + (report["correctness_error"] or "FAIL (see above)"))
    say(f"total {time.monotonic() - started:.0f} s")
    report["finished"] = True
    save()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
