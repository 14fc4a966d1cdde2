"""The explainer's small block figures: one residual block (or the stages of a net) as DOT text.

``block_dot(key, highlight=None, rankdir="TB", compact=False) -> str`` is this module's one entry
point, and the explainer page calls it through one function (``app.views.explainer.block_figure``).
Its contract, which the annotated source (``app.teaching.sources``) and the tests rely on:

* ``key`` names an entry of ``DIAGRAMS`` (a spec and one of its blocks, or ``""`` for the stages);
* every record of that block is a node whose id is the record's name without the block prefix
  (``conv2``, ``bn1``, ``downsample.0``, ``add``; ``x`` is the block's input), written as
  ``"<id>" [label=…`` on its own line; the stage view's ids are the stage names (``layer2``, ``head``);
* ``highlight`` names one node id: its line, and only its line, carries ``FILL_HIGHLIGHT``;
* ``compact`` (a lecture slide) leaves out the BatchNorm and ReLU nodes, their edges passing
  through, and enlarges the type.

Today's drawing is this module's own DOT writer, moved as it was from ``resnet_core/explainer.py``;
it is meant to give way to ``resnet_core.diagram``'s one-block figure behind the same contract.
No Streamlit here.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.formatting import shape_text
from app.teaching.numbers import analysis_of, v1
from resnet_core.spec import PRESETS, ResNetSpec


@dataclass(frozen=True)
class DiagramSpec:
    title: str
    spec: ResNetSpec
    block: str  # "layer2.0"; "" for the stage-level view of the whole net


DIAGRAMS: dict[str, DiagramSpec] = {
    "residual": DiagramSpec("ResNet-34, block layer1.1 (identity shortcut)", PRESETS["resnet34"], "layer1.1"),
    "shortcut_A": DiagramSpec(
        "ResNet-34 with option A, block layer2.0", PRESETS["resnet34"].replace(shortcut="A"), "layer2.0"
    ),
    "shortcut_B": DiagramSpec("ResNet-34 (option B), block layer2.0", PRESETS["resnet34"], "layer2.0"),
    "shortcut_C": DiagramSpec(
        "ResNet-34 with option C, block layer2.1", PRESETS["resnet34"].replace(shortcut="C"), "layer2.1"
    ),
    "bottleneck": DiagramSpec("ResNet-50, block layer1.0 (64 → 256 channels)", PRESETS["resnet50"], "layer1.0"),
    "stride_v15": DiagramSpec("ResNet-50 (torchvision, v1.5), block layer2.0", PRESETS["resnet50"], "layer2.0"),
    "stride_v1": DiagramSpec("ResNet-50 as in the paper (v1), block layer2.0", v1(PRESETS["resnet50"]), "layer2.0"),
    "stages": DiagramSpec("ResNet-34, stage by stage", PRESETS["resnet34"], ""),
}

FILL_HIGHLIGHT = "#FFD166"
_KIND_FILL = {
    "Conv2d": "#E8F1FA",
    "BatchNorm2d": "#FFF8D9",
    "ReLU": "#E3F4EC",
    "ResidualAdd": "#FFFFFF",
    "ZeroPadShortcut": "#FBE3D6",
}


def _node_id(name: str) -> str:
    return '"' + name.replace('"', "") + '"'


def block_dot(key: str, highlight: str | None = None, rankdir: str = "TB", compact: bool = False) -> str:
    """DOT text of the figure ``DIAGRAMS[key]``, the node ``highlight`` filled in yellow; the node ids
    and what ``compact`` leaves out are this module's contract (see its docstring)."""
    d = DIAGRAMS[key]
    a = analysis_of(d.spec)
    lines = [
        "digraph G {",
        f"  rankdir={rankdir}; bgcolor=transparent; nodesep=0.35; ranksep=0.3;",
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=16, penwidth=1.5];',
        '  edge [fontname="Helvetica", fontsize=13, color="#555555"];',
        f"  label={_node_id(d.title)}; labelloc=t; fontsize=18; fontname=Helvetica;",
    ]

    def node(short: str, label: str, fill: str, extra: str = "") -> None:
        hl = short == highlight
        colour = FILL_HIGHLIGHT if hl else fill
        pen = ', penwidth=4, color="#A85C00"' if hl else ""
        lines.append(f'  {_node_id(short)} [label={_node_id(label)}, fillcolor="{colour}"{pen}{extra}];')

    if compact:  # a slide: large type; a block needs no title (the slide has one), the stages say whose
        lines[2] = lines[2].replace("fontsize=16", "fontsize=26")
        lines[3] = lines[3].replace("fontsize=13", "fontsize=20")
        lines[4] = lines[4].replace("fontsize=18", "fontsize=24") if not d.block else '  label="";'
    if not d.block:
        node("input", f"image {shape_text(a.input_shape)}", "#F2F2F2")
        prev = "input"
        for s in a.stages:
            label = s.name
            if s.name.startswith("layer"):
                label += f"  ×{len(s.blocks)} blocks\\n{shape_text(s.output_shape)}"
            else:
                label += f"\\n{shape_text(s.output_shape)}"
            node(s.name, label, "#E8F1FA")
            lines.append(f"  {_node_id(prev)} -> {_node_id(s.name)};")
            prev = s.name
        lines.append("}")
        return "\n".join(lines)

    records = [r for r in a.layers if r.block == d.block]
    prefix = d.block + "."
    skipped: dict[str, str] = {}  # compact: a left-out record → the record its edge comes from
    if compact:
        kept = []
        for r in records:
            if r.kind in ("BatchNorm2d", "ReLU") and r is not records[-1]:
                skipped[r.name] = skipped.get(r.inputs[0], r.inputs[0])
            else:
                kept.append(r)
        records = kept
    node("x", f"x  {shape_text(records[0].input_shape)}", "#F2F2F2", ", shape=ellipse")
    for r in records:
        short = r.name[len(prefix) :]
        if r.kind == "Conv2d":
            g = r.attrs.get("groups", 1)
            label = f"{short}: {r.kernel}×{r.kernel} conv, {r.attrs['out_channels']}" + (
                f", /{r.stride}" if r.stride and r.stride > 1 else ""
            )
            label += f", groups {g}" if g > 1 else ""
        elif r.kind == "ResidualAdd":
            label = "add  (+)"
        elif r.kind == "ZeroPadShortcut":
            label = f"{short}: subsample /{r.stride}, zero-pad to {r.output_shape[1]} ch"
        else:
            label = f"{short}: {r.kind.replace('BatchNorm2d', 'BN')}"
        if compact:
            label = label.split(": ", 1)[-1].replace("add  (+)", "+")
        extra = ", shape=circle" if r.kind == "ResidualAdd" else ""
        node(short, label, _KIND_FILL.get(r.kind, "#F2F2F2"), extra)
    for r in records:
        short = r.name[len(prefix) :]
        for src in r.inputs:
            src = skipped.get(src, src)
            src_short = src[len(prefix) :] if src.startswith(prefix) else "x"
            if r.kind == "ResidualAdd" and src_short == "x":
                lines.append(
                    f'  {_node_id("x")} -> {_node_id(short)} [label=" identity shortcut", style=bold, penwidth=2.5];'
                )
            else:
                attrs = ' [style=bold, penwidth=2.5, color="#D55E00"]' if r.path == "shortcut" else ""
                lines.append(f"  {_node_id(src_short)} -> {_node_id(short)}{attrs};")
    last = records[-1].name[len(prefix) :]
    lines.append(f'  out [label="{shape_text(records[-1].output_shape)}", shape=plaintext, fillcolor=none];')
    lines.append(f"  {_node_id(last)} -> out;")
    lines.append("}")
    return "\n".join(lines)
