"""The explainer's small block figures: one residual block (or the stages of a net) as DOT text.

``block_dot(key, highlight=None, rankdir="TB", compact=False) -> str`` is this module's one entry
point, and the explainer page calls it through one function (``app.views.explainer.block_figure``).
Its contract, which the annotated source (``app.teaching.sources``) and the tests rely on:

* ``key`` names an entry of ``DIAGRAMS`` (a spec and one of its blocks, or ``""`` for the stages);
* every record of that block is a node whose id is the record's name without the block prefix
  (``conv2``, ``bn1``, ``downsample.0``, ``add``; ``x`` is the block's input), written as
  ``<id> [label=…`` on its own line (the id quoted where DOT needs it: ``"downsample.0"``); the
  stage view's ids are the stage names (``layer2``, ``head``);
* ``highlight`` names one node id: its line, and only its line, carries ``FILL_HIGHLIGHT``;
* ``compact`` (a lecture slide) leaves out the BatchNorm and ReLU nodes, their edges passing
  through, and enlarges the type.

The drawing is ``resnet_core.diagram``'s: ``block_figure`` for a block, the stage level of
``to_dot`` for the stages (each stage's shortcuts a loop around its box). No Streamlit here.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.teaching.numbers import analysis_of, v1
from resnet_core import diagram
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

FILL_HIGHLIGHT = diagram.FILL_HIGHLIGHT


def block_dot(key: str, highlight: str | None = None, rankdir: str = "TB", compact: bool = False) -> str:
    """DOT text of the figure ``DIAGRAMS[key]``, the node ``highlight`` filled in yellow; the node ids
    and what ``compact`` leaves out are this module's contract (see its docstring)."""
    d = DIAGRAMS[key]
    a = analysis_of(d.spec)
    if d.block:
        return diagram.block_figure(
            a,
            d.block,
            highlight=highlight,
            compact=compact,
            rankdir=rankdir,
            title=d.title,  # type: ignore[arg-type]
        )
    options = diagram.DiagramOptions(
        level="stage",
        annotations=frozenset({"shape"}),
        legend=False,
        title=d.title,
        highlight=highlight,
        compact=compact,
        rankdir=rankdir,  # type: ignore[arg-type]
    )
    return diagram.to_dot(a, options)
