"""``python -m resnet_core summary ARCH``: every layer's shape, parameters, MACs and receptive field.

Formatting only: the numbers are ``resnet_core.analyze``'s, traced from the module on the meta
device. The table reads like torchinfo's (a tree of stages, blocks and layers) with three
receptive-field columns added. The table is for people: parameters and MACs in the one human format
(``resnet_core.units``: 9.41 k, 118 M, 4.09 G), the totals also exact; JSON and CSV carry every number
exactly, for scripts.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from resnet_core.analysis import Analysis, analyze
from resnet_core.export import LEVELS, Row, csv_text, json_text, rows
from resnet_core.selection import from_args
from resnet_core.units import byte_size, count

HELP = "per-layer table: output shapes, parameters, MACs and receptive fields"

FORMATS = ("table", "json", "csv")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--level",
        choices=LEVELS,
        default="block",
        help="rows of the table and CSV: 'stage' (stem, layer1 … layerN, head), 'block' (default: each "
        "stage and its residual blocks, plus the stem's and head's own layers), or 'layer' (every "
        "operation, the residual add included). JSON always holds all three.",
    )
    p.add_argument("--format", choices=FORMATS, default="table", help="table (default), json or csv")


def _tree_names(table: Sequence[Row]) -> list[str]:
    """torchinfo's indentation: '├─' for a child with siblings after it, '└─' for the last one."""
    names = []
    for i, row in enumerate(table):
        if row.depth == 0:
            names.append(row.name)
            continue
        prefix = ""
        for level in range(1, row.depth + 1):
            # is there a later row at this level before the tree climbs above it?
            more = False
            for later in table[i + 1 :]:
                if later.depth < level:
                    break
                if later.depth == level:
                    more = True
                    break
            if level < row.depth:
                prefix += "│ " if more else "  "
            else:
                prefix += "├─" if more else "└─"
        names.append(prefix + row.name)
    return names


def _shape(shape: Sequence[int]) -> str:
    return "[" + ", ".join(str(n) for n in shape) + "]"


def _exactly(n: int) -> str:
    """'25.6 M (25,557,032)': the human number, then the exact one (a lone '0' when there is nothing)."""
    return count(n) if abs(n) < 1000 else f"{count(n)} ({n:,})"


def format_table(a: Analysis, level: str, title: str) -> str:
    table = rows(a, level)
    header = ("Layer", "Kind", "Output shape", "Params", "MACs", "RF", "Jump", "Pad")
    cells = [
        (name, r.kind, _shape(r.output_shape), count(r.params), count(r.macs), str(r.rf), str(r.jump), str(r.padding))
        for name, r in zip(_tree_names(table), table, strict=True)
    ]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(header)]
    left = 3  # Layer, Kind and Output shape are text; the rest are numbers

    def line(values: Sequence[str]) -> str:
        parts = [v.ljust(w) if i < left else v.rjust(w) for i, (v, w) in enumerate(zip(values, widths, strict=True))]
        return "  ".join(parts).rstrip()

    width = len(line(header))
    t = a.totals
    final = a.final_field
    h, w = a.input_shape[2:]
    out = [
        f"{title}: input {_shape(a.input_shape)}, {level} level",
        "=" * width,
        line(header),
        "=" * width,
        *(line(c) for c in cells),
        "=" * width,
        f"Total params: {_exactly(t.params)}",
        f"Trainable params: {_exactly(t.trainable_params)}",
        f"Non-trainable params: {_exactly(t.params - t.trainable_params)}",
        f"MACs (conv + linear, one image): {_exactly(t.macs)}",
        f"FLOPs (= 2 × MACs): {_exactly(t.flops)}",
        f"Other ops, not in MACs: {_exactly(t.other_ops)} (per output element: BatchNorm 2, ReLU 1,",
        "  add 1; pooling: 1 per window element)",
        "=" * width,
        f"Activation memory (all layer outputs, one image, {a.dtype_bytes} B each): "
        f"{byte_size(t.activation_bytes)} ({t.activation_bytes:,} B)",
        f"Receptive field of {final.name}: {final.rf}×{final.rf_w} px on a {h}×{w} input",
        "RF: field size in input pixels; Jump: input pixels between neighbouring units;",
        "Pad: unit 0's field starts Pad pixels before the image (along the rows)",
        "=" * width,
    ]
    return "\n".join(out)


def run(args: argparse.Namespace) -> int:
    chosen = from_args(args)
    a = analyze(chosen.spec, chosen.input_size)  # ValueError / InputTooSmallError → one line, exit 2 (cli.main)
    try:
        if args.format == "json":
            sys.stdout.write(json_text(a, args.arch))
        elif args.format == "csv":
            sys.stdout.write(csv_text(rows(a, args.level)))
        else:
            print(format_table(a, args.level, chosen.title))  # ARCH is always a preset
        sys.stdout.flush()
    except BrokenPipeError:  # `summary … | head`: the reader left; that is not an error
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps the interpreter's final flush quiet
    return 0
