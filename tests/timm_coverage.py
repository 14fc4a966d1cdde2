"""How many of timm's ResNet-family entry points a ResNetSpec expresses exactly.

The family: ``timm.list_models("*resne*", exclude_filters=["test_*"])``, 170 entry points in timm 1.0.31
(every registered name containing "resne": timm.models.resnet, resnetv2 and the legacy senet, and the
ResNet-named nets of byobnet, nfnet, resnest, sknet, cspnet, tresnet, byoanet, the ViT hybrids and
inception_resnet_v2; timm's own test nets left out). That is the issue's count; the table also gives
each module's share, so the narrower "resnet + resnetv2" family (100 entry points here) can be read off.

For each entry point, ``tests/timm_oracle.timm_spec`` translates the arguments timm hands to its model
class into a ``ResNetSpec`` (or says which argument it cannot express). A translated spec counts as
*exact* when all four agree with timm's own model:

* parameters (``analyze(spec).totals.params`` against timm's model on the meta device);
* MACs at 224×224 (the analysis against FlopCounterMode on timm's model: convolution and matrix
  multiply-adds for one image);
* every stage's output shape at 224×224 (timm's ``feature_info`` modules, hooked);
* logits: timm's model with every parameter and buffer drawn at random, its state_dict renamed by
  ``resnet_core.weights.from_timm`` and loaded through ``weights.load_into`` (``strict=True``), on a
  random 2×3×S×S input (S = 64 unless ``--size``), eval mode, float32: max |difference| ≤ 1e-5.

    .venv/bin/python -m tests.timm_coverage                   # the table and the count (≈ 10 min)
    .venv/bin/python -m tests.timm_coverage --only resnet50d seresnet50 --no-logits
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

from tests import timm_oracle as oracle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", help="entry points to check (default: the whole family)")
    parser.add_argument("--no-logits", action="store_true", help="skip the CPU forward passes")
    parser.add_argument("--size", type=int, default=64, help="input side for the logits check (default 64)")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args(argv)

    timm = oracle.import_timm()
    names = args.only or oracle.resnet_family()
    print(f"timm {timm.__version__}, torch {torch.__version__}: {len(names)} entry points")
    rows = []
    by_module: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    start = time.perf_counter()
    for name in names:
        t = oracle.timm_spec(name)
        exact, why, diff = False, t.reason, None
        if t.spec is not None:
            try:
                c = oracle.compare(name, t.spec, logits=not args.no_logits, size=args.size)
                exact, why, diff = not c.differences, "; ".join(c.differences), c.max_logit_diff
            except Exception as e:  # a spec that builds but does not run is a finding, not a crash
                exact, why = False, f"{type(e).__name__}: {e}"
        by_module[t.module][0] += exact
        by_module[t.module][1] += 1
        rows.append({"name": name, "module": t.module, "exact": exact, "why": why, "max_logit_diff": diff})
        mark = "exact" if exact else "—"
        print(f"{name:32} {t.module:27} {mark:6} {why}", flush=True)
    count = sum(r["exact"] for r in rows)
    print()
    for module, (n_exact, n) in sorted(by_module.items(), key=lambda kv: -kv[1][1]):
        print(f"  {module:27} {n_exact:3} of {n:3}")
    what = "parameters, MACs, stage shapes" + ("" if args.no_logits else f", logits (≤ {oracle.LOGIT_TOLERANCE:g})")
    print(f"\nexactly expressed ({what}): {count} of {len(rows)}  [{time.perf_counter() - start:.0f} s]")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
