"""The one export schema: the CLI's ``summary --format json|csv`` and the app's downloads write it.

**JSON** (``json_text``): one object,

* ``arch``: the preset the spec started from; ``spec``: every ``ResNetSpec`` field (``to_dict``);
* ``input_shape``: ``[1, C, H, W]``;
* ``totals``: ``params``, ``trainable_params``, ``macs``, ``flops`` (= 2 × macs), ``activation_bytes``,
  ``other_ops``;
* ``stages``: stem, layer1 … layerN, head, each ``name, output_shape, params, macs, other_ops,
  activation_bytes, rf, jump, padding``;
* ``blocks``: every residual block, the same keys plus ``stage``, ``shortcut`` (identity |
  zero-pad | projection | avgpool-projection) and ``stride``;
* ``layers``: every leaf operation in execution order, ``name, kind, stage, block, path, output_shape,
  params, macs, other_ops, activation_bytes, kernel, stride, rf, jump, padding``.

**CSV** (``csv_text``): a header of ``CSV_FIELDS``, then one row per stage, block or layer (``level``
says which) as a tree in execution order: ``rows(a, "stage")`` holds the stages, ``"block"`` adds
each stage's blocks (and the stem's and head's own layers), ``"layer"`` every operation inside the
blocks too; ``layer_rows(a)`` holds the operations alone (the app's per-layer CSV). ``output_shape``
is written ``1x64x56x56``, a missing ``block`` as an empty cell.

The counting conventions (``macs``, ``other_ops``, ``activation_bytes``, the receptive field) are
``resnet_core.analysis``'s; nothing here computes a number.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from resnet_core.analysis import Analysis, GroupSummary, LayerRecord

LEVELS = ("stage", "block", "layer")
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


@dataclass(frozen=True)
class Row:
    """One row of the CSV (and of the CLI's table), whatever its level."""

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
    if level not in LEVELS:
        raise ValueError(f"level={level!r} is not allowed: choose one of {', '.join(LEVELS)}")
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


def layer_rows(a: Analysis) -> list[Row]:
    """One row per leaf operation, in execution order (the rows of level "layer" of ``rows(a, "layer")``)."""
    return [row for row in rows(a, "layer") if row.level == "layer"]


def csv_text(table: Iterable[Row]) -> str:
    """The header line, then one line per row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for r in table:
        shape = "x".join(str(n) for n in r.output_shape)
        writer.writerow(
            (r.level, r.name, r.kind, r.stage, r.block or "", shape, r.params, r.macs, r.other_ops,
             r.activation_bytes, r.rf, r.jump, r.padding)
        )  # fmt: skip
    return out.getvalue()


def as_json(a: Analysis, arch: str) -> dict[str, Any]:
    """The one JSON object: arch, spec, input shape, totals, stages, blocks, layers."""
    return {
        "arch": arch,
        **a.as_dict(),
        "blocks": [{**b.as_dict(), "stage": b.stage, "shortcut": b.shortcut, "stride": b.stride} for b in a.blocks],
    }


def json_text(a: Analysis, arch: str) -> str:
    """``as_json`` on one line, and a newline: what ``summary --format json`` prints."""
    return json.dumps(as_json(a, arch)) + "\n"
