"""``python -m resnet_core summary ARCH``: every layer's shape, parameters, MACs and receptive field.

Formatting only: the numbers are ``resnet_core.analyze``'s, traced from the module on the meta
device. The table reads like torchinfo's (a tree of stages, blocks and layers) with three
receptive-field columns added; JSON and CSV carry the same numbers for scripts.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from resnet_core.analysis import Analysis, GroupSummary, LayerRecord, analyze
from resnet_core.cli import command, parse_input_size, spec_from_args
from resnet_core.spec import default_input_size, describe

LEVELS = ("stage", "block", "layer")
FORMATS = ("table", "json", "csv")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--input", default=None, help="input size N or HxW (default: the spec's, 224 or 32 for CIFAR)")
    p.add_argument(
        "--level",
        choices=LEVELS,
        default="block",
        help="rows of the table and CSV: 'stage' (stem, layer1 … layerN, head), 'block' (default: each "
        "stage and its residual blocks, plus the stem's and head's own layers), or 'layer' (every "
        "operation, the residual add included). JSON always holds all three.",
    )
    p.add_argument("--format", choices=FORMATS, default="table", help="table (default), json or csv")


@dataclass(frozen=True)
class Row:
    """One line of the table or CSV, whatever its level."""

    depth: int  # 0 stage, 1 block (or a stem/head layer), 2 layer inside a block
    level: str  # "stage" | "block" | "layer"
    name: str
    kind: str
    stage: str
    block: str | None
    output_shape: tuple[int, ...]
    params: int
    macs: int
    other_ops: int
    activation_bytes: int
    rf: int
    jump: int
    padding: int

    @classmethod
    def of_layer(cls, r: LayerRecord, depth: int) -> Row:
        return cls(
            depth, "layer", r.name, r.kind, r.stage, r.block, r.output_shape, r.params, r.macs, r.other_ops,
            r.activation_bytes, r.rf, r.jump, r.padding,
        )  # fmt: skip

    @classmethod
    def of_group(cls, g: GroupSummary, level: str, kind: str, depth: int) -> Row:
        block = g.name if level == "block" else None
        return cls(
            depth, level, g.name, kind, g.stage, block, g.output_shape, g.params, g.macs, g.other_ops,
            g.activation_bytes, g.rf, g.jump, g.padding,
        )  # fmt: skip


#: How a block's Kind cell names a shortcut that is not a plain identity (kept short: the table
#: should fit a terminal; the layer level shows the shortcut's own rows).
SHORTCUT_TAGS = {"zero-pad": " +pad", "projection": " +proj", "avgpool-projection": " +pool+proj"}


def _block_kind(a: Analysis) -> str:
    return "BasicBlock" if a.spec.block == "basic" else "Bottleneck"


def _stage_kind(a: Analysis, name: str, blocks: int) -> str:
    if name in ("stem", "head"):
        return name.capitalize()
    return f"{blocks} × {_block_kind(a)}"


def rows(a: Analysis, level: str) -> list[Row]:
    """The rows of ``level``, in execution order, as a tree: stage → block → layer."""
    out: list[Row] = []
    for stage in a.stages:
        out.append(Row.of_group(stage, "stage", _stage_kind(a, stage.name, len(stage.blocks)), 0))
        if level == "stage":
            continue
        if not stage.blocks:  # the stem and the head: their layers are their units
            out.extend(Row.of_layer(r, 1) for r in stage.layers)
            continue
        for block in stage.blocks:
            kind = _block_kind(a) + SHORTCUT_TAGS.get(block.shortcut, "")
            out.append(Row.of_group(block, "block", kind, 1))
            if level == "layer":
                out.extend(Row.of_layer(r, 2) for r in block.layers)
    return out


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


def format_table(a: Analysis, level: str, title: str) -> str:
    table = rows(a, level)
    header = ("Layer", "Kind", "Output shape", "Params", "MACs", "RF", "Jump", "Pad")
    cells = [
        (name, r.kind, _shape(r.output_shape), f"{r.params:,}", f"{r.macs:,}", str(r.rf), str(r.jump), str(r.padding))
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
        f"Total params: {t.params:,}",
        f"Trainable params: {t.trainable_params:,}",
        f"Non-trainable params: {t.params - t.trainable_params:,}",
        f"MACs (conv + linear, one image): {t.macs:,} ({t.macs / 1e9:.3f} G)",
        f"FLOPs (= 2 × MACs): {t.flops:,} ({t.flops / 1e9:.3f} G)",
        f"Other ops, not in MACs: {t.other_ops:,} (per output element: BatchNorm 2, ReLU 1, add 1;",
        "  pooling: 1 per window element)",
        "=" * width,
        f"Activation memory (all layer outputs, one image, {a.dtype_bytes} B each): {t.activation_bytes / 1e6:,.2f} MB",
        f"Receptive field of {final.name}: {final.rf}×{final.rf_w} px on a {h}×{w} input",
        "RF: field size in input pixels; Jump: input pixels between neighbouring units;",
        "Pad: unit 0's field starts Pad pixels before the image (along the rows)",
        "=" * width,
    ]
    return "\n".join(out)


def as_json(a: Analysis, arch: str) -> dict:
    """The one JSON object: arch, spec, input shape, totals, stages, blocks, layers."""
    return {
        "arch": arch,
        **a.as_dict(),
        "blocks": [{**b.as_dict(), "stage": b.stage, "shortcut": b.shortcut, "stride": b.stride} for b in a.blocks],
    }


CSV_FIELDS = (
    "level",
    "name",
    "kind",
    "stage",
    "block",
    "output_shape",
    "params",
    "macs",
    "other_ops",
    "activation_bytes",
    "rf",
    "jump",
    "padding",
)


def write_csv(a: Analysis, level: str) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for r in rows(a, level):
        shape = "x".join(str(n) for n in r.output_shape)
        writer.writerow(
            (r.level, r.name, r.kind, r.stage, r.block or "", shape, r.params, r.macs, r.other_ops,
             r.activation_bytes, r.rf, r.jump, r.padding)
        )  # fmt: skip


@command("summary", "per-layer table: output shapes, parameters, MACs and receptive fields", add_arguments)
def run(args: argparse.Namespace) -> int:
    spec = spec_from_args(args)
    input_size = parse_input_size(args.input) if args.input else default_input_size(spec)
    a = analyze(spec, input_size)  # ValueError / InputTooSmallError → one line, exit 2 (cli.main)
    try:
        if args.format == "json":
            print(json.dumps(as_json(a, args.arch)))
        elif args.format == "csv":
            write_csv(a, args.level)
        else:
            print(format_table(a, args.level, describe(spec, base=args.arch)))  # ARCH is always a preset
        sys.stdout.flush()
    except BrokenPipeError:  # `summary … | head`: the reader left; that is not an error
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps the interpreter's final flush quiet
    return 0
