"""Memory estimates (resnet_core.budget) against measured peaks: the calibration of their two factors.

    .venv/bin/python benchmarks/bench_memory.py [--quick]

Each case runs in a fresh interpreter, which measures its own peak resident memory (Linux VmHWM,
reset through /proc/self/clear_refs just before the work) above what it held before building the
model, and prints it beside ``budget.inference_estimate`` / ``gradient_estimate``. Printed per case:
measured MiB, estimated MiB, and the activation factor the measurement implies (peak minus weights
and input, divided by the activations the estimate counts); ``INFERENCE_FACTOR`` and
``GRADIENT_FACTOR`` are the largest implied factors, rounded up, so the estimate is never below a
measured peak. Each child first runs one small pass of each kind, as a server has before (thread pools,
one-time kernel buffers). Baseline, named: the estimate itself (ratio measured ÷ estimated, ≤ 1 wanted).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from resnet_core.budget import (  # noqa: E402
    GRADIENT_FACTOR,
    INFERENCE_FACTOR,
    gradient_estimate,
    inference_estimate,
)
from resnet_core.spec import ResNetSpec, preset  # noqa: E402

#: Specs that are not presets, by the label the cases use.
CUSTOM = {
    "resnet50_groupnorm": preset("resnet50").replace(norm="groupnorm"),
    "resnet50_silu": preset("resnet50").replace(activation="silu"),
}


def spec_of(label: str) -> ResNetSpec:
    return CUSTOM[label] if label in CUSTOM else preset(label)


CHILD = """
import json, sys
sys.path.insert(0, {root!r})
import torch
from resnet_core.spec import ResNetSpec, preset

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024

def reset():
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")

from resnet_core.model import build
from resnet_core.receptive_field import measure_receptive_fields

spec = ResNetSpec.from_dict(json.loads({spec!r}))
# A server has run passes before: its thread pools and kernels' one-time buffers exist already.
with torch.inference_mode():
    build(preset("resnet20")).eval()(torch.randn(2, 3, 32, 32))
measure_receptive_fields(preset("resnet20"), [("layer3.2.add", None)], 32)
before = status("VmRSS:")
if {kind!r} == "inference":
    model = build(spec).eval()
    x = torch.randn({batch}, spec.in_channels, {size}, {size})
    reset()
    with torch.inference_mode():
        model(x)
else:
    reset()
    measure_receptive_fields(spec, [({layer!r}, None)] * {batch}, {size})
print(json.dumps({{"peak": status("VmHWM:") - before}}))
"""

INFERENCE_CASES = [
    ("resnet18", 224, 1),
    ("resnet18", 224, 8),
    ("resnet18", 224, 32),
    ("resnet50", 224, 1),
    ("resnet50", 224, 8),
    ("resnet50", 224, 16),
    ("resnet101", 224, 4),
    ("resnext50_32x4d", 224, 8),
    ("resnet56", 32, 64),
    ("resnet18", 512, 4),
    # the family's fields: dilation keeps the resolution (os8: layer3 and layer4 at 1/8), attention's
    # side branch, the tiered stem, pre-activation, GroupNorm and SiLU
    ("resnet50_os8", 224, 1),
    ("resnet50_os8", 224, 8),
    ("resnet50_os16", 224, 8),
    ("seresnet50", 224, 8),
    ("ecaresnet50t", 224, 8),
    ("resnetaa50d", 224, 8),
    ("resnetv2_50", 224, 8),
    ("resnet50_groupnorm", 224, 8),
    ("resnet50_silu", 224, 8),
]
GRADIENT_CASES = [
    ("resnet56", 64, "layer3.8.add", 1),
    ("resnet56", 128, "layer3.8.add", 1),
    ("resnet18", 224, "layer4.1.add", 1),
    ("resnet18", 448, "layer4.1.add", 1),
    ("resnet50", 224, "layer4.2.add", 1),
    ("resnet50", 448, "layer3.5.add", 1),
    ("resnet50", 224, "layer1.0.conv1", 1),
    ("resnet56", 64, "layer3.8.add", 4),
    ("resnet50_os8", 224, "layer4.2.add", 1),
    ("resnet50_os8", 320, "layer3.5.add", 1),
    ("seresnet50", 224, "layer4.2.add", 1),
    ("resnet50_groupnorm", 224, "layer4.2.add", 1),
]
#: The first case of each kind that uses a field of the timm family (``--family`` runs only those on).
FAMILY_INFERENCE = next(i for i, c in enumerate(INFERENCE_CASES) if c[0] == "resnet50_os8")
FAMILY_GRADIENT = next(i for i, c in enumerate(GRADIENT_CASES) if c[0] == "resnet50_os8")
QUICK = 3


def measure(kind: str, arch: str, size: int, batch: int, layer: str | None = None) -> int:
    spec = json.dumps(spec_of(arch).to_dict())
    code = CHILD.format(root=str(ROOT), kind=kind, spec=spec, size=size, batch=batch, layer=layer)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])["peak"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help=f"the first {QUICK} cases of each kind")
    p.add_argument("--family", action="store_true", help="only the cases of the timm family's fields")
    args = p.parse_args(argv)
    inference = INFERENCE_CASES[FAMILY_INFERENCE:] if args.family else INFERENCE_CASES[: QUICK if args.quick else None]
    gradient = GRADIENT_CASES[FAMILY_GRADIENT:] if args.family else GRADIENT_CASES[: QUICK if args.quick else None]
    from resnet_core import analyze

    mib = 2**20
    print(f"== inference (INFERENCE_FACTOR = {INFERENCE_FACTOR}); a shared machine")
    implied = []
    for arch, size, batch in inference:
        a = analyze(spec_of(arch), size)
        est = inference_estimate(a, batch)
        peak = measure("inference", arch, size, batch)
        acts = est.activations - batch * 3 * size * size * 4  # the factored part
        factor = (peak - est.weights - batch * 3 * size * size * 4) / (acts / INFERENCE_FACTOR)
        implied.append(factor)
        print(
            f"  {arch:<18} {size:>4} px batch {batch:>3}: measured {peak / mib:8.1f} MiB, estimated "
            f"{est.total / mib:8.1f} MiB (measured ÷ estimated {peak / est.total:4.2f}), implied factor {factor:5.2f}"
        )
    print(f"  largest implied factor: {max(implied):.2f}")
    print(f"== gradient measurement (GRADIENT_FACTOR = {GRADIENT_FACTOR}), float64")
    implied = []
    for arch, size, layer, batch in gradient:
        a = analyze(spec_of(arch), size)
        est = gradient_estimate(a, layer, batch)
        peak = measure("gradient", arch, size, batch, layer)
        factor = (peak - est.weights) / (est.activations / GRADIENT_FACTOR)
        implied.append(factor)
        print(
            f"  {arch:<18} {size:>4} px to {layer:<15} batch {batch}: measured {peak / mib:8.1f} MiB, estimated "
            f"{est.total / mib:8.1f} MiB (measured ÷ estimated {peak / est.total:4.2f}), implied factor {factor:5.2f}"
        )
    print(f"  largest implied factor: {max(implied):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
