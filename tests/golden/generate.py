"""Write the golden CLI outputs that ``tests/test_golden.py`` compares today's outputs with.

Run once, from the code whose outputs are the reference (``.venv/bin/python tests/golden/generate.py``);
it rewrites ``tests/golden/*.out`` from ``COMMANDS`` and nothing else. Each file holds the exact
bytes ``python -m resnet_core ARGS`` wrote to standard output. Diagrams are kept as DOT text: the
test compares the graph dot reads from them (and the SVG dot lays out from them), so a change of
whitespace or attribute order in the DOT text is allowed, a change of a node, an edge or an
attribute value is not.
"""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

#: file stem → CLI arguments. The README's documented commands first, then one per level and format.
COMMANDS: dict[str, list[str]] = {
    # README, "CLI"
    "summary_resnet50": ["summary", "resnet50"],
    "summary_resnet50_layer": ["summary", "resnet50", "--level", "layer"],
    "summary_resnet50_v1_224x160_json": ["summary", "resnet50", "--stride-on", "1x1", "--input", "224x160", "--format", "json"],
    "summary_resnet56_custom_csv_stage": ["summary", "resnet56", "--layers", "3,3,3", "--width", "32", "--format", "csv", "--level", "stage"],
    "diagram_resnet50": ["diagram", "resnet50"],
    "diagram_resnet152_layer_layer3": ["diagram", "resnet152", "--level", "layer", "--stage", "layer3"],
    # every level and format once more, on other networks and flags
    "summary_resnet20_stage": ["summary", "resnet20", "--level", "stage"],
    "summary_resnet18_csv_block": ["summary", "resnet18", "--format", "csv"],
    "summary_resnet20_csv_layer": ["summary", "resnet20", "--format", "csv", "--level", "layer"],
    "summary_resnext50_json": ["summary", "resnext50_32x4d", "--format", "json"],
    "summary_resnet34_shortcut_a_preact": ["summary", "resnet34", "--shortcut", "A", "--preact", "--in-channels", "1", "--classes", "10"],
    "summary_resnet50_deep_d_json": ["summary", "resnet50", "--stem", "deep", "--shortcut", "D", "--width-per-group", "128", "--zero-init-residual", "--format", "json"],
    "diagram_resnet50_stage": ["diagram", "resnet50", "--level", "stage"],
    "diagram_resnet18_layer_rf_lr": ["diagram", "resnet18", "--level", "layer", "--rf", "--lr"],
    "diagram_resnet34_c_unfold": ["diagram", "resnet34", "--shortcut", "C", "--unfold", "layer2,layer3", "--no-macs"],
    "diagram_resnet20_a_nofold": ["diagram", "resnet20", "--no-fold", "--no-legend", "--no-shapes"],
    "diagram_resnet50_d_stages": ["diagram", "resnet50", "--shortcut", "D", "--stage", "layer2,layer3", "--no-params"],
    "diagram_resnet110_stage_lr": ["diagram", "resnet110", "--level", "stage", "--lr", "--rf"],
}  # fmt: skip


def output_of(argv: list[str]) -> bytes:
    """What ``python -m resnet_core ARGV`` writes to standard output (status 0 required)."""
    from resnet_core.cli import main

    buffer = io.BytesIO()
    text = io.TextIOWrapper(buffer, encoding="utf-8", newline="")
    with contextlib.redirect_stdout(text):
        status = main(argv)
        text.flush()
    if status != 0:
        raise RuntimeError(f"{' '.join(argv)} exited with status {status}")
    return buffer.getvalue()


def main() -> int:
    for stem, argv in COMMANDS.items():
        data = output_of(argv)
        (HERE / f"{stem}.out").write_bytes(data)
        print(f"{stem}.out: {len(data):,} bytes  <- python -m resnet_core {' '.join(argv)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
