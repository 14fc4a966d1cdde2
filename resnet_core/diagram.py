"""Block diagrams of a ResNet as Graphviz DOT text, drawn from an ``Analysis`` and nothing else.

Three levels (``DiagramOptions.level``):

* ``stage``: image → stem → layer1 … layerN → head, one node per stage;
* ``block``: one node per residual block, its shortcut an edge of its own that runs around the
  block into a ``+`` node where the two paths join; runs of identical blocks (equal
  ``BlockSummary.signature()``) fold into one node "× n" unless their stage is in ``unfold``;
* ``layer``: every conv / BN / ReLU / pooling / add the network runs, wired by each record's
  ``inputs``, one cluster per block (folded runs show one representative block).

Shortcut edges carry two attributes Graphviz ignores but a reader (or a test) can count:
``kind`` (``identity`` | ``zero-pad`` | ``projection`` | ``avgpool-projection``) and
``shortcuts`` (how many of the network's shortcuts the edge stands for: n for a folded run).
Summed over a diagram of the whole network they equal the number of blocks.

At the stage level each stage carries its shortcuts the same way: one loop around the stage's box
per shortcut kind it contains ("3 identity" on one side, "1 projection" on the other), with
``kind`` and ``shortcuts`` as above, so the sums hold at every level.

``block_figure(analysis, "layer1.1")`` draws one residual block op by op (node ids are the
records' names inside the block, ``conv1``, ``bn1``, ``downsample.0``, ``add``, with ``x`` for the
block's input and ``out`` for its output), for figures that explain a block;
``DiagramOptions(highlight=…)`` fills one node in yellow (any level; ``block_figure`` takes it too)
and ``compact=True`` sets large type for a slide, leaving the title and, op by op, the BatchNorm and
ReLU nodes out.

**For an interactive view** (``app.components.diagram_view``): blocks, folded runs and clusters carry
a DOT ``id`` equal to their name (``layer2.0``, a run its first block's, ``layer2`` for a stage's
frame), stages, the stem, the head and layers are named by theirs, so a link's ``sel=layer2.0`` is
the box's key. ``node_details(analysis, options)`` gives each box's tooltip rows (numbers human, the
exact value beside them) and what a click on it does (a folded run or a stage's frame folds or
unfolds its stage); ``node_of`` finds the box that shows any stage, block or layer (the run a folded
block is drawn in); ``param_arithmetic`` / ``param_sum`` write a parameter count as its sum.

**A node budget** (issue 15): ``node_count(analysis, options)`` counts the nodes a drawing would have
without building it, and ``within_budget(analysis, options, NODE_BUDGET[engine])`` returns the
nearest drawing that Graphviz lays out in seconds (stages folded again, the earliest unfolded first,
then a coarser level) with a sentence saying what it changed; ``render`` remembers failures, so a
diagram that crashed ``dot`` or timed out fails again at once instead of a minute later.

The graph is built with the ``graphviz`` package's ``Digraph`` (its quoting of names and
attributes, its subgraphs); labels are Graphviz HTML-like labels whose text goes through
``escape_html``. Colours are Okabe & Ito's colour-blind-safe palette; fonts are 14 pt or larger,
for a projector. ``render()`` lays the text out with Graphviz's ``dot`` (Debian package
``graphviz``) into SVG or PNG.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import html
import itertools
import re
import shutil
import subprocess
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal, get_args

import graphviz
from graphviz import quoting

from resnet_core.analysis import Analysis, BlockSummary, LayerRecord, StageSummary
from resnet_core.spec import describe
from resnet_core.units import count, shape_text

Level = Literal["stage", "block", "layer"]
RankDir = Literal["TB", "LR"]
LEVELS: tuple[str, ...] = get_args(Level)
RANKDIRS: tuple[str, ...] = get_args(RankDir)
#: What can be written on the diagram besides the structure: output shapes (on edges), parameters,
#: multiply-adds, receptive field.
ANNOTATIONS: tuple[str, ...] = ("shape", "params", "macs", "rf")
DEFAULT_ANNOTATIONS: frozenset[str] = frozenset({"shape", "params", "macs"})
#: The shortcut kinds of ``BlockSummary.shortcut``, in the legend's order; "none" is a plain block
#: (shortcut option "none"): nothing is drawn for it but a legend line.
SHORTCUT_KINDS: tuple[str, ...] = ("identity", "zero-pad", "projection", "avgpool-projection", "none")
#: The kinds drawn as a path around the block (every kind but "none").
DRAWN_SHORTCUTS: tuple[str, ...] = SHORTCUT_KINDS[:-1]
RENDER_FORMATS: tuple[str, ...] = ("svg", "png")
GRAPHVIZ_PACKAGE = "graphviz"

FONT = "Helvetica,Arial,sans-serif"
TITLE_PT = 18  # node titles
TEXT_PT = 15  # node detail lines
EDGE_PT = 14  # edge labels and the legend
SLIDE_SCALE = 1.4  # compact=True: type this much larger, for a slide

# Okabe & Ito (2008), "Color Universal Design": distinguishable under every common colour-vision deficiency.
GREY = "#555555"
ORANGE = "#E69F00"
DARK_ORANGE = "#A85C00"  # text on white: ORANGE itself is too light to read from the back
GREEN = "#009E73"
BLUE = "#0072B2"
VERMILLION = "#D55E00"

#: Edge style of each shortcut kind (Graphviz attributes) and its legend text.
SHORTCUT_STYLE: dict[str, dict[str, str]] = {
    "identity": {"color": GREY, "fontcolor": GREY, "style": "solid", "penwidth": "2.5"},
    "zero-pad": {"color": GREEN, "fontcolor": "#006B4F", "style": "dashed", "penwidth": "3.5"},
    "projection": {"color": VERMILLION, "fontcolor": "#A84400", "style": "bold", "penwidth": "4"},
    "avgpool-projection": {"color": BLUE, "fontcolor": BLUE, "style": "dotted", "penwidth": "4.5"},
    "none": {"color": GREY, "fontcolor": GREY, "style": "invis", "penwidth": "1"},  # legend text only
}
SHORTCUT_LEGEND: dict[str, str] = {
    "identity": "identity shortcut: x passes unchanged",
    "zero-pad": "option A: subsample, append zero channels (no params)",
    "projection": "projection: 1×1 conv (+ stride) and BN (options B, C; D at stride 1)",
    "avgpool-projection": "option D: average-pool, then 1×1 conv and BN",
    "none": "plain block: no shortcut, no addition (the paper's plain nets, §3.3)",
}

FILL_BLOCK = "#E8F1FA"
FILL_STRIDED = "#FDEBC8"
FILL_PLAIN = "#F2F2F2"
FILL_BN = "#FFF8D9"
FILL_RELU = "#E3F4EC"
FILL_SHORTCUT = "#FBE3D6"
FILL_HIGHLIGHT = "#FFD166"  # the one node a figure points at (``highlight``)
# Channel attention (SE/ECA), a side branch: Okabe & Ito's reddish purple, a darker shade for text.
PURPLE = "#CC79A7"
DARK_PURPLE = "#8E3F6E"
FILL_ATTENTION = "#F7E6EF"
#: Edge style of channel attention's side branch (into and out of its layers), and its legend.
ATTENTION_STYLE: dict[str, str] = {"color": PURPLE, "style": "dashed", "penwidth": "2.5"}
ATTENTION_BOX: dict[str, str] = {"fillcolor": FILL_ATTENTION, "color": PURPLE, "penwidth": "2"}
ATTENTION_LEGEND = (
    "channel attention: a side branch pools each channel, gates it (sigmoid) and rescales the block's output"
)


class GraphvizNotFound(RuntimeError):
    """Graphviz's ``dot`` is not on PATH: SVG/PNG export is off, DOT text still works."""

    def __init__(self) -> None:
        super().__init__(
            f"Graphviz's `dot` is not installed, so SVG/PNG export is off; DOT export still works "
            f"(install Debian's {GRAPHVIZ_PACKAGE} package: sudo apt-get install {GRAPHVIZ_PACKAGE})"
        )


class GraphvizError(RuntimeError):
    """``dot`` ran but failed (bad DOT, or it took too long)."""


@dataclass(frozen=True)
class DiagramOptions:
    """How to draw a diagram. Frozen and hashable, so the app can cache DOT text on it.

    ``unfold`` and ``stages`` name stages (``layer1`` …, ``stages`` also ``stem`` and ``head``);
    they are checked against the analysis when the diagram is built.
    """

    level: Level = "block"
    fold: bool = True  # fold runs of identical blocks into one "× n" node (block and layer levels)
    min_run: int = 3  # the shortest run that folds; shorter runs are drawn block by block
    unfold: tuple[str, ...] = ()  # stages drawn block by block even when folding
    stages: tuple[str, ...] = ()  # draw only these stages (empty: the whole network)
    annotations: frozenset[str] = DEFAULT_ANNOTATIONS
    rankdir: RankDir = "TB"
    legend: bool = True
    # the network's name in the title (None: the preset's name); input size and totals follow. "": no
    # title, for a page that shows its own above the diagram (in a left-to-right diagram a title is
    # centred over the whole width, off screen where a view opens on the left edge)
    title: str | None = None
    highlight: str | None = None  # the name of one node to fill in yellow (a stage, "block layer2.0", a layer)
    compact: bool = False  # a slide: larger type, no title, stages say only their blocks, no BN or ReLU nodes

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"level={self.level!r} is not allowed: choose one of {', '.join(LEVELS)}")
        if self.rankdir not in RANKDIRS:
            raise ValueError(f"rankdir={self.rankdir!r} is not allowed: choose TB (top to bottom) or LR")
        if not isinstance(self.min_run, int) or isinstance(self.min_run, bool) or self.min_run < 2:
            raise ValueError(f"min_run={self.min_run!r} is not allowed: an integer of at least 2 is expected")
        for name in ("unfold", "stages"):
            value = getattr(self, name)
            if isinstance(value, str):
                value = (value,)
            object.__setattr__(self, name, tuple(value))
        object.__setattr__(self, "annotations", frozenset(self.annotations))
        unknown = sorted(self.annotations - set(ANNOTATIONS))
        if unknown:
            raise ValueError(f"unknown annotation(s) {', '.join(unknown)}; choose from {', '.join(ANNOTATIONS)}")


# -- text helpers ------------------------------------------------------------------------------

_HTML_SPECIAL = re.compile(r"[&<>\"'\r\n]")


@dataclass(frozen=True)
class _Type:
    """Point sizes of node titles, node detail lines and edge labels."""

    title: int = TITLE_PT
    text: int = TEXT_PT
    edge: int = EDGE_PT

    @staticmethod
    def of(compact: bool) -> _Type:
        if not compact:
            return _Type()
        return _Type(round(TITLE_PT * SLIDE_SCALE), round(TEXT_PT * SLIDE_SCALE), round(EDGE_PT * SLIDE_SCALE))


def html_label(body: str) -> str:
    """An HTML-like label: ``graphviz`` writes a string in ``<…>`` as it is, unquoted. ``body`` must
    already be escaped (``escape_html``)."""
    return f"<{body}>"


def escape_html(text: str) -> str:
    """Text for an HTML-like label: ``& < > " '`` as entities, newlines as line breaks."""
    if _HTML_SPECIAL.search(text) is None:
        return text
    return html.escape(text, quote=True).replace("\r", "").replace("\n", "<BR/>")


def _html_lines(title: str, lines: Iterable[tuple[str, str | None]] = (), type_: _Type = _Type()) -> str:
    """A bold title over detail lines, each (text, colour or None)."""
    parts = [f'<FONT POINT-SIZE="{type_.title}"><B>{escape_html(title)}</B></FONT>']
    for text, colour in lines:
        font = f'<FONT POINT-SIZE="{type_.text}"' + (f' COLOR="{colour}"' if colour else "") + ">"
        parts.append(f"{font}{escape_html(text)}</FONT>")
    return html_label("<BR/>".join(parts))


def edge_label(text: str | None) -> str | None:
    """An edge label, its lines left-aligned behind a small gap, so that the edge never runs through
    text whose rendered width exceeds Graphviz's estimate of it."""
    if text is None:
        return None
    return html_label("".join(f'&#160;{escape_html(line)}<BR ALIGN="LEFT"/>' for line in text.split("\n")))


def _cost_line(
    params: int, macs: int, annotations: frozenset[str], suffix: str = "", skip_zero: bool = False
) -> str | None:
    parts = []
    if "params" in annotations and (params or not skip_zero):
        parts.append(f"{count(params)} params")
    if "macs" in annotations and (macs or not skip_zero):
        parts.append(f"{count(macs)} MACs")
    return " · ".join(parts) + suffix if parts else None


def _rf_line(rf: int, jump: int, annotations: frozenset[str]) -> str | None:
    return f"receptive field {rf} px, jump {jump}" if "rf" in annotations else None


# -- what the records say, in words --------------------------------------------------------------


#: Normalisation and activation layers in words; on a line of layers they join the layer before them
#: ("3×3 conv, 64 · BN · ReLU").
NORM_TEXT: dict[str, str] = {"BatchNorm2d": "BN", "GroupNorm": "GroupNorm"}
ACTIVATION_TEXT: dict[str, str] = {"ReLU": "ReLU", "SiLU": "SiLU"}
WEIGHT_STANDARDISED = "weight-standardised"  # analysis.VARIANTS' word for a StdConv2d


def _ws(r: LayerRecord) -> str:
    """' (WS)' after a weight-standardised conv's kernel (Qiao et al., arXiv:1903.10520), else ''."""
    return " (WS)" if r.attrs.get("variant") == WEIGHT_STANDARDISED else ""


def _dilation(r: LayerRecord) -> str:
    return f", d={r.dilation}" if r.dilation and r.dilation > 1 else ""


def op_text(r: LayerRecord) -> str:
    """One layer in words: '3×3 conv, 128, stride 2', '3×3 conv, 512, d=2', 'BN', 'GroupNorm', 'SiLU',
    '3×3 max-pool, stride 2', '2×2 avg-pool, stride 2 (anti-alias)', 'drop path p=0.02 (training only)',
    'fc, 1000'. Read from the record alone (its kind, geometry and ``attrs``)."""
    stride = f", stride {r.stride}" if r.stride and r.stride > 1 else ""
    if r.kind == "Conv2d":
        groups = r.attrs.get("groups", 1)
        g = f", {groups} groups" if groups > 1 else ""
        return f"{r.kernel}×{r.kernel} conv{_ws(r)}, {r.output_shape[1]}{g}{_dilation(r)}{stride}"
    if r.kind in NORM_TEXT:
        return NORM_TEXT[r.kind]
    if r.kind in ACTIVATION_TEXT:
        return ACTIVATION_TEXT[r.kind]
    if r.kind == "ResidualAdd":
        return "+"
    if r.kind == "MaxPool2d":
        return f"{r.kernel}×{r.kernel} max-pool{stride}" + (", ceil" if r.attrs.get("ceil_mode") else "")
    # in a block's residual branch a strided pool is the anti-aliased downsampling (Zhang, arXiv:1904.11486)
    aa = " (anti-alias)" if r.block is not None and r.path == "main" and stride else ""
    if r.kind == "AvgPool2d":
        return f"{r.kernel}×{r.kernel} avg-pool{stride}{aa}"
    if r.kind == "BlurPool2d":
        return f"{r.kernel}×{r.kernel} blur-pool{stride}" + (aa or " (anti-alias)")
    if r.kind == "ConstantPad2d":
        return f"zero-pad {r.pad}"
    if r.kind == "AdaptiveAvgPool2d":
        return "global avg-pool" + (" (squeeze)" if r.path == "attention" else "")
    if r.kind == "Conv1d":  # ECA's conv across channels (Wang et al., arXiv:1910.03151)
        return f"1-D conv across channels, k={r.attrs.get('kernel_size', '?')}"
    if r.kind == "Sigmoid":
        return "sigmoid"
    if r.kind == "ChannelScale":
        return "× gate (scales each channel)"
    if r.kind == "DropPath":
        return f"drop path p={r.attrs.get('drop_probability', 0):.3g} (training only)"
    if r.kind == "Flatten":
        return "flatten"
    if r.kind == "Linear":
        return f"fc, {r.output_shape[-1]}"
    if r.kind == "ZeroPadShortcut":
        return f"zero-pad +{r.output_shape[1] - r.input_shape[1]} ch{stride}"
    return r.kind


def _joins_line(r: LayerRecord) -> bool:
    """A layer written on the line of the one before it: a norm, an activation (or a flatten, left out)."""
    return r.kind in NORM_TEXT or r.kind in ACTIVATION_TEXT or r.kind == "Flatten"


def _op_lines(records: Iterable[LayerRecord]) -> list[str]:
    """Layers grouped as lines: a windowed layer starts a line, norms and activations join the line before."""
    lines: list[str] = []
    for r in records:
        text = op_text(r)
        if _joins_line(r) and lines:
            if r.kind != "Flatten":
                lines[-1] += f" · {text}"
        else:
            lines.append(text)
    return lines


def main_convs_text(block: BlockSummary) -> str:
    """The residual branch's convs: '1×1, 128 → 3×3, 128 → 1×1, 512' ('3×3, 512, d=2' where dilated)."""
    parts = []
    for r in block.layers:
        if r.kind == "Conv2d" and r.path == "main":
            groups = r.attrs.get("groups", 1)
            parts.append(
                f"{r.kernel}×{r.kernel}, {r.output_shape[1]}"
                + (f" ({groups} groups)" if groups > 1 else "")
                + _dilation(r)
            )
    return " → ".join(parts)


def _stride_layer(block: BlockSummary) -> LayerRecord | None:
    """The residual branch's strided layer: a conv, or the pool of anti-aliased downsampling."""
    return next((r for r in block.layers if r.path == "main" and r.kernel and r.stride and r.stride > 1), None)


def stride_where(block: BlockSummary) -> str | None:
    """Where the residual branch subsamples, after 'stride 2': 'on 3×3', or with anti-aliasing (the
    3×3 at stride 1, a pool after it) 'by 2×2 avg-pool (anti-alias)'; None if it does not."""
    r = _stride_layer(block)
    if r is None:
        return None
    if r.kind == "Conv2d":
        return f"on {r.kernel}×{r.kernel}"
    return f"by {op_text(r).replace(f', stride {r.stride}', '')}"


def stride_text(block: BlockSummary) -> str | None:
    """Where the residual branch subsamples: 'stride 2 on 3×3', 'stride 2 on 1×1',
    'stride 2 by 2×2 avg-pool (anti-alias)', or None."""
    where = stride_where(block)
    return f"stride {_stride_layer(block).stride} {where}" if where else None  # type: ignore[union-attr]


def attention_records(block: BlockSummary) -> tuple[LayerRecord, ...]:
    """The block's channel attention (SE or ECA): its side branch and the scaling, in order; () if none."""
    return tuple(r for r in block.layers if r.path == "attention")


def attention_key(block: BlockSummary) -> str | None:
    """The attention module's name, the records' common prefix ('layer2.0.se'); None without attention."""
    records = attention_records(block)
    if not records:
        return None
    parts = [r.name.split(".") for r in records]
    common = []
    for level in zip(*parts, strict=False):
        if len(set(level)) > 1:
            break
        common.append(level[0])
    return ".".join(common)


def attention_kind(block: BlockSummary) -> str:
    """'ECA' (a 1-D conv across channels, Wang et al., arXiv:1910.03151) or 'SE' (two 1×1 convs, Hu et
    al., arXiv:1709.01507), read from the layers the attention branch has."""
    return "ECA" if any(r.kind == "Conv1d" for r in attention_records(block)) else "SE"


def attention_text(block: BlockSummary) -> str:
    """The attention branch in words: 'global pool → 1×1, 32 → ReLU → 1×1, 512 → sigmoid'."""
    parts = []
    for r in attention_records(block):
        if r.kind == "ChannelScale":
            continue
        if r.kind == "Conv2d":
            parts.append(f"{r.kernel}×{r.kernel}, {r.output_shape[1]}")
        elif r.kind == "AdaptiveAvgPool2d":
            parts.append("global pool")
        elif r.kind == "Conv1d":
            parts.append(f"1-D conv k={r.attrs.get('kernel_size', '?')}")
        else:
            parts.append(op_text(r))
    return " → ".join(parts)


def drop_path_text(run: tuple[BlockSummary, ...]) -> str | None:
    """Stochastic depth on the residual branch (Huang et al., arXiv:1603.09382): 'drop path p=0.02' or
    'p=0.02–0.05' over a folded run, 'training only'; None where the blocks have none."""
    ps = [r.attrs.get("drop_probability", 0.0) for b in run for r in b.layers if r.kind == "DropPath"]
    if not ps:
        return None
    lo, hi = min(ps), max(ps)
    p = f"{lo:.2g}" if f"{lo:.2g}" == f"{hi:.2g}" else f"{lo:.2g}–{hi:.2g}"
    return f"drop path p={p}, training only"


def layer_kinds_text(block: BlockSummary) -> str | None:
    """What differs from the default BN · ReLU block, in one line: 'WS convs · GroupNorm · SiLU'; None if nothing."""
    main = [r for r in block.layers if r.path in ("main", "join")]
    parts = []
    if any(_ws(r) for r in main):
        parts.append("WS convs")
    kinds = list(dict.fromkeys(r.kind for r in main))
    parts += [NORM_TEXT[k] for k in kinds if k in NORM_TEXT and k != "BatchNorm2d"]
    parts += [ACTIVATION_TEXT[k] for k in kinds if k in ACTIVATION_TEXT and k != "ReLU"]
    return " · ".join(parts) or None


def _shortcut_norm(block: BlockSummary) -> str | None:
    """The norm layer on the block's shortcut, in words ('BN', 'GroupNorm'), or None."""
    return next((NORM_TEXT[r.kind] for r in block.layers if r.path == "shortcut" and r.kind in NORM_TEXT), None)


def shortcut_text(block: BlockSummary, annotations: frozenset[str] = DEFAULT_ANNOTATIONS, n: int = 1) -> str:
    """The shortcut in words: '× 35 identity', 'stride 2, +16 zero channels', '1×1 conv, stride 2, BN · 8.45 k params'
    (a pre-activation projection: '1×1 conv, stride 2, no norm')."""
    records = [r for r in block.layers if r.path == "shortcut"]
    many = f"× {n} " if n > 1 else ""
    if block.shortcut == "identity":
        return f"{many}identity"
    if block.shortcut == "none":
        return f"{many}no shortcut"
    if block.shortcut == "zero-pad":
        r = records[0]
        stride = f"stride {r.stride}, " if r.stride and r.stride > 1 else ""
        return f"{many}{stride}+{r.output_shape[1] - r.input_shape[1]} zero channels"
    parts = []
    for r in records:
        if r.kind == "Conv2d":
            parts.append(
                f"{r.kernel}×{r.kernel} conv{_ws(r)}" + (f", stride {r.stride}" if r.stride and r.stride > 1 else "")
            )
        else:
            parts.append(op_text(r))
    if _shortcut_norm(block) is None:
        parts.append("no norm")
    text = many + ", ".join(parts)
    cost = _cost_line(block.shortcut_params, block.shortcut_macs, annotations)
    return f"{text}\n{cost}" if cost else text


def shortcut_legend(kind: str, blocks: Iterable[BlockSummary] = ()) -> str:
    """The legend's line for a shortcut kind, as the drawn ``blocks`` have it: a projection without a
    norm layer (pre-activation nets: the block's first BN comes before the split, He et al.,
    arXiv:1603.05027, and timm's ResNetV2) says so instead of "and BN"."""
    text = SHORTCUT_LEGEND[kind]
    if kind in ("projection", "avgpool-projection"):
        first = next((b for b in blocks if b.shortcut == kind), None)
        norm = _shortcut_norm(first) if first is not None else "BN"
        if norm is None:
            text = text.replace(" and BN", ", no norm (pre-activation: BN comes before the split)")
        elif norm != "BN":
            text = text.replace(" and BN", f" and {norm}")
    return text


def block_runs(stage: StageSummary, options: DiagramOptions) -> list[tuple[BlockSummary, ...]]:
    """The stage's blocks as drawn: runs of ``min_run`` or more equal signatures fold into one tuple."""
    runs: list[list[BlockSummary]] = []
    previous = None
    for b in stage.blocks:
        signature = b.signature()
        if runs and signature == previous:
            runs[-1].append(b)
        else:
            runs.append([b])
        previous = signature
    fold = options.fold and stage.name not in options.unfold
    out: list[tuple[BlockSummary, ...]] = []
    for run in runs:
        if fold and len(run) >= options.min_run:
            out.append(tuple(run))
        else:
            out.extend((b,) for b in run)
    return out


def _run_title(run: tuple[BlockSummary, ...]) -> str:
    return run[0].name if len(run) == 1 else f"{run[0].name} … {run[-1].name}  × {len(run)}"


def _check_stage_names(analysis: Analysis, options: DiagramOptions) -> None:
    residual = [s.name for s in analysis.stages if s.blocks]
    bad = [s for s in options.unfold if s not in residual]
    if bad:
        raise ValueError(f"cannot unfold {', '.join(map(repr, bad))}: stages with blocks are {', '.join(residual)}")
    every = [s.name for s in analysis.stages]
    bad = [s for s in options.stages if s not in every]
    if bad:
        raise ValueError(f"no stage {', '.join(map(repr, bad))}: stages are {', '.join(every)}")


# -- building the graph --------------------------------------------------------------------------


@functools.lru_cache(maxsize=1 << 15)
def quote(text: str) -> str:
    """``graphviz.quoting.quote(text)``: a DOT id or attribute value, quoted where DOT needs it.

    Remembered (``quote.cache_clear()`` forgets): module names and attribute values repeat across
    blocks and across redraws, and the package's quoting (five regular expressions) was the larger
    part of building the unfolded layer level of resnet152.
    """
    return quoting.quote(text)


@dataclass
class _Graph:
    """Where statements go: the graph's body (the ``Digraph``'s own list) at some depth of subgraphs.

    A statement at depth d is indented by d + 1 tabs, as ``Digraph`` indents the lines of a subgraph
    added to it (``Digraph.subgraph`` prefixes each with a tab), so nesting costs no copying.
    """

    body: list[str]
    indent: str = "\t"


@dataclass
class _Canvas:
    """One drawing in progress: its options and type sizes, the names of the nodes drawn so far (the
    highlight must be one), and what repeats.

    Statements go into the ``Digraph``'s body as the lines ``Digraph.node``, ``Digraph.edge`` and
    ``Digraph.subgraph`` write them (``tests/test_diagram.py`` holds it to that), quoted by
    ``graphviz.quoting`` (through ``quote``, which remembers), each attribute list assembled once per
    drawing, and a cluster is a list of lines, not a ``Digraph`` of its own: built through the ``Digraph`` API
    call by call, the unfolded layer level of resnet152 took about 4× as long as the hand-written
    writer it replaced, over 5 % of the analysis (``benchmarks/bench_diagram.py``).
    """

    opts: DiagramOptions
    type_: _Type
    names: set[str] = field(default_factory=set)
    cache: dict[object, tuple[dict[str, str | None], str]] = field(default_factory=dict)  # look-alike layers
    lists: dict[tuple[object, ...], str] = field(default_factory=dict)  # attributes → " [a=b …]"

    def attr_list(self, attrs: dict[str, str | None], label_first: bool = True) -> str:
        """What ``graphviz.quoting.attr_list`` writes for ``attrs``: None left out, the rest sorted,
        ``label`` first where the ``Digraph`` method takes it apart (``node``, ``edge``; ``attr`` does
        not), assembled from ``quote``'s texts, once per attribute set in a drawing."""
        key = (label_first, *attrs.items())
        text = self.lists.get(key)
        if text is None:
            label = attrs.get("label") if label_first else None
            parts = [f"label={quote(label)}"] if label is not None else []
            rest = sorted((k, v) for k, v in attrs.items() if v is not None and not (label_first and k == "label"))
            parts += [f"{quote(k)}={quote(v)}" for k, v in rest]
            text = self.lists[key] = f" [{' '.join(parts)}]" if parts else ""
        return text

    def node(self, g: _Graph, name: str, **attrs: str | None) -> None:
        self.node_with(g, name, attrs, self.attr_list(attrs))

    def node_with(self, g: _Graph, name: str, attrs: dict[str, str | None], attr_list: str) -> None:
        """A node whose attribute list (``attrs``, written out) the caller already has."""
        self.names.add(name)
        if name == self.opts.highlight:
            attr_list = self.attr_list({**attrs, "fillcolor": FILL_HIGHLIGHT, "color": DARK_ORANGE, "penwidth": "4"})
        g.body.append(f"{g.indent}{quote(name)}{attr_list}\n")  # what Digraph.node(name, **attrs) writes

    def edge(self, g: _Graph, tail: str, head: str, **attrs: str | None) -> None:
        self.edge_with(g, tail, head, self.attr_list(attrs))

    def edge_with(self, g: _Graph, tail: str, head: str, attr_list: str) -> None:
        g.body.append(f"{g.indent}{quote(tail)} -> {quote(head)}{attr_list}\n")  # what Digraph.edge(…) writes

    @contextlib.contextmanager
    def subgraph(self, g: _Graph, name: str | None = None, **attrs: str | None) -> Iterator[_Graph]:
        """``with canvas.subgraph(g, "cluster_x", label=…) as c:``, written as ``Digraph.subgraph(name=…)``
        with ``c.attr("graph", **attrs)`` writes it (no name: an anonymous ``{ … }`` with ``attrs`` in
        one plain statement, as ``c.attr(**attrs)`` writes it)."""
        sub = _Graph(g.body, g.indent + "\t")
        if name is not None:
            g.body.append(f"{g.indent}subgraph {quote(name)} {{\n")
            if attrs:
                g.body.append(f"{sub.indent}graph{self.attr_list(attrs, label_first=False)}\n")
        else:
            g.body.append(f"{g.indent}{{\n")
            g.body.append(sub.indent + " ".join(f"{quote(k)}={quote(v)}" for k, v in attrs.items() if v) + "\n")
        yield sub
        g.body.append(f"{g.indent}}}\n")

    def check_highlight(self) -> None:
        if self.opts.highlight is not None and self.opts.highlight not in self.names:
            some = ", ".join(sorted(self.names)[:12])
            raise ValueError(f"highlight={self.opts.highlight!r} is not a node of this diagram; its nodes: {some} …")


def _start(opts: DiagramOptions, title: str | None) -> tuple[_Canvas, graphviz.Digraph, _Graph]:
    """An empty graph with the diagram's defaults (fonts, colours, spacing) and ``title`` on top."""
    type_ = _Type.of(opts.compact)
    lr = opts.rankdir == "LR"
    graph = {
        "rankdir": opts.rankdir,
        "newrank": "true",
        "fontname": FONT,
        "fontsize": "24",
        "label": None if title is None or opts.compact else html_label(f"<B>{escape_html(title)}</B>"),
        "labelloc": "t",
        "nodesep": "0.3" if lr else "0.45",
        # a slide's top-down figure (compact) packs its rows closer, so a bottleneck fits a 720p slide whole
        "ranksep": "0.45" if lr else ("0.2" if opts.compact else "0.3"),
        "pad": "0.3",
        "bgcolor": "white",
    }
    node = {
        "fontname": FONT,
        "fontsize": str(type_.text),
        "shape": "box",
        "style": "rounded,filled",
        "fillcolor": FILL_BLOCK,
        "color": "#4D4D4D",
        "penwidth": "1.5",
        "margin": "0.18,0.08",
    }
    edge = {"fontname": FONT, "fontsize": str(type_.edge), "color": GREY, "penwidth": "2", "arrowsize": "0.9"}
    g = graphviz.Digraph(
        name="resnet", graph_attr={k: v for k, v in graph.items() if v is not None}, node_attr=node, edge_attr=edge
    )
    return _Canvas(opts, type_), g, _Graph(g.body)


def _cluster(
    canvas: _Canvas, g: _Graph, name: str, label: str, fill: str = "#FAFAFA", **extra: str
) -> contextlib.AbstractContextManager[_Graph]:
    """A cluster (a box with a title) inside ``g``: ``with _cluster(canvas, g, …) as c:``."""
    attrs = {"color": "#B0B0B0", "penwidth": "1.5", **extra}  # ``extra`` may recolour the frame
    return canvas.subgraph(
        g,
        f"cluster_{name}",
        label=html_label(f"<B>{escape_html(label)}</B>"),
        fontsize="18",
        fontname=FONT,
        labeljust="l",
        style="rounded,filled",
        fillcolor=fill,
        **attrs,
    )


def _shortcut_edge(kind: str, label: str | None, n: int) -> dict[str, str | None]:
    attrs: dict[str, str | None] = dict(SHORTCUT_STYLE[kind])
    attrs.update(kind=kind, shortcuts=str(n), label=edge_label(label), weight="0")
    return attrs


def _title(analysis: Analysis, options: DiagramOptions) -> str | None:
    if options.title == "":
        return None
    name = describe(analysis.spec) if options.title is None else options.title
    h, w = analysis.input_shape[2:]
    parts = [name, f"input {h}×{w}"]
    cost = _cost_line(analysis.totals.params, analysis.totals.macs, options.annotations)
    return " · ".join(parts + ([cost] if cost else []))


def _drawn_stages(analysis: Analysis, options: DiagramOptions) -> list[StageSummary]:
    return [s for s in analysis.stages if not options.stages or s.name in options.stages]


def to_dot(analysis: Analysis, options: DiagramOptions | None = None, **overrides: object) -> str:
    """DOT text of ``analysis`` drawn as ``options`` (or ``DiagramOptions(**overrides)``) say.

    ``to_dot(a, level="block", unfold=("layer3",), annotations={"shape", "rf"}, rankdir="LR")``.
    A ValueError names a stage that does not exist, or a highlight that is not drawn.
    """
    opts = options if options is not None else DiagramOptions()
    if overrides:
        opts = dataclasses.replace(opts, **overrides)  # type: ignore[arg-type]
    _check_stage_names(analysis, opts)
    canvas, digraph, g = _start(opts, _title(analysis, opts))
    draw = {"stage": _stage_level, "block": _block_level, "layer": _layer_level}[opts.level]
    drawn_runs = draw(analysis, canvas, g)
    if opts.legend:
        _legend(g, [run[0] for run in drawn_runs], folded=any(len(run) > 1 for run in drawn_runs), canvas=canvas)
    canvas.check_highlight()
    return digraph.source


def _draws_input(analysis: Analysis, opts: DiagramOptions) -> bool:
    return not opts.stages or analysis.stages[0].name in opts.stages


def _input_node(canvas: _Canvas, g: _Graph, analysis: Analysis) -> str:
    canvas.node(
        g,
        "input",
        label=_html_lines("input image", [(shape_text(analysis.input_shape), None)], canvas.type_),
        fillcolor=FILL_PLAIN,
        shape="box",
        style="filled",
    )
    return "input"


def _boundary_node(canvas: _Canvas, g: _Graph, stage_name: str, shape: tuple[int, ...]) -> str:
    """Stands for stages left out of the drawing (``options.stages``)."""
    name = f"from {stage_name}"
    canvas.node(
        g,
        name,
        label=_html_lines(f"from {stage_name}", [(shape_text(shape), None)], canvas.type_),
        style="dashed",
        fillcolor="white",
    )
    return name


def _shape_label(shape: tuple[int, ...], opts: DiagramOptions) -> str | None:
    return edge_label(shape_text(shape)) if "shape" in opts.annotations else None


def _shortcut_tally(blocks: Iterable[BlockSummary]) -> dict[str, int]:
    """How many blocks have each kind of shortcut, in the order they first appear."""
    tally: dict[str, int] = {}
    for b in blocks:
        tally[b.shortcut] = tally.get(b.shortcut, 0) + 1
    return tally


def _stage_lines(stage: StageSummary, opts: DiagramOptions) -> list[tuple[str, str | None]]:
    lines: list[tuple[str, str | None]] = []
    n = len(stage.blocks)
    if opts.compact:  # a slide: how many blocks, and the loops around the box say which shortcuts
        lines += [(f"{n} block{'s' if n > 1 else ''}", None)] if n else []
    elif stage.blocks:
        tally = _shortcut_tally(stage.blocks)
        lines.append((f"{n} block{'s' if n > 1 else ''}: " + ", ".join(f"{c} {k}" for k, c in tally.items()), None))
        where = stride_text(stage.blocks[0])
        if where:
            lines.append((where, DARK_ORANGE))
        dilations = sorted({r.dilation for r in stage.layers if r.kind == "Conv2d" and (r.dilation or 1) > 1})
        if dilations:
            lines.append((f"dilated 3×3 convs: d={', '.join(map(str, dilations))}", DARK_ORANGE))
        if attention_records(stage.blocks[0]):
            att = [r for b in stage.blocks for r in attention_records(b)]
            cost = _cost_line(sum(r.params for r in att), sum(r.macs for r in att), opts.annotations)
            lines.append(
                (f"{attention_kind(stage.blocks[0])} in each block" + (f": {cost}" if cost else ""), DARK_PURPLE)
            )
    else:
        lines += [(text, None) for text in _op_lines(stage.layers)]
    if "shape" in opts.annotations:
        lines.append((f"out {shape_text(stage.output_shape)}", None))
    cost = _cost_line(stage.params, stage.macs, opts.annotations)
    if cost:
        lines.append((cost, None))
    rf = _rf_line(stage.rf, stage.jump, opts.annotations)
    if rf and stage.name != "head":
        lines.append((rf, None))
    return lines


#: Stage level: where a stage's shortcut loops leave and re-enter its box (tail port, head port), in
#: the direction of flow: identity shortcuts down one side, the others down the other.
_LOOP_PORTS = {
    ("TB", True): ("nw", "sw"),
    ("TB", False): ("ne", "se"),
    ("LR", True): ("nw", "ne"),
    ("LR", False): ("sw", "se"),
}


def _stage_level(analysis: Analysis, canvas: _Canvas, g: _Graph) -> list[tuple[BlockSummary, ...]]:
    """One node per stage; per stage, one loop around its box for each kind of shortcut it has."""
    opts = canvas.opts
    prev = _input_node(canvas, g, analysis) if _draws_input(analysis, opts) else ""
    prev_stage: StageSummary | None = None
    drawn: list[tuple[BlockSummary, ...]] = []
    for stage in analysis.stages:
        if opts.stages and stage.name not in opts.stages:
            prev_stage, prev = stage, ""
            continue
        if not prev:
            prev = _boundary_node(canvas, g, prev_stage.name, prev_stage.output_shape)  # type: ignore[union-attr]
        strided = bool(stage.blocks) and stride_text(stage.blocks[0]) is not None
        canvas.node(
            g,
            stage.name,
            label=_html_lines(stage.name, _stage_lines(stage, opts), canvas.type_),
            fillcolor=FILL_STRIDED if strided else (FILL_BLOCK if stage.blocks else FILL_PLAIN),
            color=ORANGE if strided else None,
            penwidth="2.5" if strided else None,
        )
        canvas.edge(g, prev, stage.name)
        for kind, n in _shortcut_tally(stage.blocks).items():
            if kind not in DRAWN_SHORTCUTS:
                continue
            tail, head = _LOOP_PORTS[(opts.rankdir, kind == "identity")]
            canvas.edge(
                g, stage.name, stage.name, **_shortcut_edge(kind, f"{n} {kind}", n), tailport=tail, headport=head
            )
        drawn += [(b,) for b in stage.blocks]
        prev, prev_stage = stage.name, stage
    return drawn


def _block_node(canvas: _Canvas, g: _Graph, run: tuple[BlockSummary, ...]) -> None:
    b, n, opts = run[0], len(run), canvas.opts
    lines: list[tuple[str, str | None]] = [(main_convs_text(b), None)]
    kinds = layer_kinds_text(b)
    if kinds:
        lines.append((kinds, None))
    where = stride_text(b)
    if where:
        lines.append((where, DARK_ORANGE))
    drop = drop_path_text(run)
    if drop:
        lines.append((drop, GREY))
    if n > 1:
        cost = _cost_line(b.params * n, b.macs * n, opts.annotations, f" (all {n})")
    else:
        cost = _cost_line(b.params, b.macs, opts.annotations)
    if cost:
        lines.append((cost, None))
    rf = _rf_line(run[-1].rf, run[-1].jump, opts.annotations)
    if rf:
        lines.append((rf, None))
    canvas.node(
        g,
        f"block {b.name}",
        id=b.name,  # the key an interactive view and a link (sel=layer2.0) know it by
        label=_html_lines(_run_title(run), lines, canvas.type_),
        fillcolor=FILL_STRIDED if where else FILL_BLOCK,
        color=ORANGE if where else None,
        penwidth="2.5" if where else None,
        peripheries="2" if n > 1 else None,
    )


def _attention_node(canvas: _Canvas, g: _Graph, run: tuple[BlockSummary, ...]) -> str | None:
    """Channel attention beside its block, as the side branch it is (a dashed purple edge both ways):
    what it computes and its parameters and MACs (a folded run's: all n). None without attention."""
    b, n, opts = run[0], len(run), canvas.opts
    key = attention_key(b)
    if key is None:
        return None
    records = attention_records(b)
    params, macs = sum(r.params for r in records), sum(r.macs for r in records)
    cost = _cost_line(params * n, macs * n, opts.annotations, f" (all {n})" if n > 1 else "")
    lines = [(attention_text(b), None)] + ([(cost, None)] if cost else [])
    name = f"attention {b.name}"
    canvas.node(
        g,
        name,
        id=key,  # 'layer2.0.se': the module's name, what a link's sel= names
        label=_html_lines(f"{attention_kind(b)}: × each channel", lines, canvas.type_),
        peripheries="2" if n > 1 else None,
        **ATTENTION_BOX,
    )
    _same_rank(canvas, g, [f"block {b.name}", name])
    canvas.edge(g, f"block {b.name}", name, dir="both", arrowsize="0.7", **ATTENTION_STYLE)
    return name


_ADD_NODE = {
    "label": "+",
    "shape": "circle",
    "style": "filled",
    "fillcolor": "white",
    "fontsize": "22",
    "width": "0.45",
    "height": "0.45",
    "fixedsize": "true",
    "margin": "0",
}


def _block_level(analysis: Analysis, canvas: _Canvas, g: _Graph) -> list[tuple[BlockSummary, ...]]:
    opts = canvas.opts
    drawn: list[tuple[BlockSummary, ...]] = []
    prev = _input_node(canvas, g, analysis) if _draws_input(analysis, opts) else ""
    prev_shape: tuple[int, ...] | None = None  # shape of prev's output, for the next main edge's label
    prev_stage: StageSummary | None = None
    for stage in analysis.stages:
        if opts.stages and stage.name not in opts.stages:
            prev_stage, prev = stage, ""
            continue
        if not prev:
            prev = _boundary_node(canvas, g, prev_stage.name, prev_stage.output_shape)  # type: ignore[union-attr]
            prev_shape = prev_stage.output_shape  # type: ignore[union-attr]
        if not stage.blocks:  # stem or head: one node of its layers
            lines = [(t, None) for t in _op_lines(stage.layers)] + _extra(stage, opts)
            canvas.node(g, stage.name, label=_html_lines(stage.name, lines, canvas.type_), fillcolor=FILL_PLAIN)
            canvas.edge(g, prev, stage.name, label=_shape_label(prev_shape, opts) if prev_shape else None)
            prev, prev_shape, prev_stage = stage.name, stage.output_shape, stage
            continue
        n = len(stage.blocks)
        runs = block_runs(stage, opts)
        with _cluster(canvas, g, stage.name, f"{stage.name} · {n} block{'s' if n > 1 else ''}", id=stage.name) as c:
            # A fork point inside the cluster, where x splits into the branch and the shortcut: every
            # shortcut edge then lies within its stage's box, and so does its label.
            entry = f"entry {stage.name}"
            canvas.node(c, entry, shape="point", width="0.12", color=GREY, label="")
            drawn += runs
            for run in runs:
                _block_node(canvas, c, run)
                _attention_node(canvas, c, run)
                if run[0].shortcut in DRAWN_SHORTCUTS:
                    canvas.node(c, f"add {run[0].name}", **_ADD_NODE)
            inner = entry
            for i, run in enumerate(runs):
                b = run[0]
                label = _shape_label(runs[i - 1][-1].output_shape, opts) if i else None
                canvas.edge(c, inner, f"block {b.name}", label=label)
                if b.shortcut not in DRAWN_SHORTCUTS:  # a plain block: the branch is the whole block
                    inner = f"block {b.name}"
                    continue
                canvas.edge(c, f"block {b.name}", f"add {b.name}")
                shortcut = _shortcut_edge(b.shortcut, shortcut_text(b, opts.annotations, len(run)), len(run))
                canvas.edge(c, inner, f"add {b.name}", **shortcut)
                inner = f"add {b.name}"
        canvas.edge(g, prev, entry, label=_shape_label(prev_shape, opts) if prev_shape else None, arrowhead="none")
        prev, prev_shape = inner, runs[-1][-1].output_shape
        prev_stage = stage
    return drawn


def _extra(stage: StageSummary, opts: DiagramOptions) -> list[tuple[str, str | None]]:
    """Params / MACs / receptive field lines of a stem or head node."""
    lines: list[tuple[str, str | None]] = []
    cost = _cost_line(stage.params, stage.macs, opts.annotations)
    if cost:
        lines.append((cost, None))
    rf = _rf_line(stage.rf, stage.jump, opts.annotations)
    if rf and stage.name != "head":
        lines.append((rf, None))
    return lines


def _layer_node(canvas: _Canvas, g: _Graph, r: LayerRecord, name: str | None = None) -> None:
    """``r`` as a node (named ``name``, by default the record's own name)."""
    if r.kind == "ResidualAdd":
        canvas.node(g, name or r.name, **_ADD_NODE)
        return
    if r.kind == "ChannelScale":  # where attention's gate multiplies the branch, as "+" is where paths add
        canvas.node(g, name or r.name, **{**_ADD_NODE, "label": "×", **ATTENTION_BOX, "fillcolor": "white"})
        return
    # Blocks repeat: the same attributes serve every record that would be drawn alike.
    opts = canvas.opts
    key = (r.kind, r.path, r.block is None, r.kernel, r.stride, r.dilation, tuple(sorted(r.attrs.items())))
    key += (r.output_shape[1], r.input_shape[1], r.params, r.macs)
    key += (r.rf, r.jump) if "rf" in opts.annotations else ()
    cached = canvas.cache.get(key)
    if cached is None:
        attrs = _layer_node_attrs(r, opts, canvas.type_)
        cached = canvas.cache[key] = (attrs, canvas.attr_list(attrs))
    canvas.node_with(g, name or r.name, *cached)


def _layer_node_attrs(r: LayerRecord, opts: DiagramOptions, type_: _Type) -> dict[str, str | None]:
    lines: list[tuple[str, str | None]] = []
    if r.params or r.macs:
        cost = _cost_line(r.params, r.macs, opts.annotations, skip_zero=True)
        if cost:
            lines.append((cost, None))
    if r.kernel is not None and r.kind != "AdaptiveAvgPool2d":
        rf = _rf_line(r.rf, r.jump, opts.annotations)
        if rf:
            lines.append((rf, None))
    text = op_text(r)
    strided = bool(r.stride and r.stride > 1 and r.path == "main" and r.block)
    fill = FILL_BN if r.kind in NORM_TEXT else FILL_RELU if r.kind in ACTIVATION_TEXT else FILL_BLOCK
    if r.path == "shortcut":
        fill = FILL_SHORTCUT
    elif r.path == "attention":
        fill = FILL_ATTENTION
    elif strided:
        fill = FILL_STRIDED
    if lines:
        label = _html_lines(text, lines, type_)
    else:
        label = html_label(f'<FONT POINT-SIZE="{type_.title if r.kernel else type_.text}">{escape_html(text)}</FONT>')
    return {
        "label": label,
        "fillcolor": fill,
        "color": ORANGE if strided else None,
        "penwidth": "2.5" if strided else None,
    }


def _left_out(records: tuple[LayerRecord, ...], compact: bool) -> dict[str, str]:
    """``compact``: the BatchNorm and ReLU records drawn no more (all but the last of ``records``), each
    → the record whose output it passed on, so that edges run through it."""
    skipped: dict[str, str] = {}
    if compact:
        for r in records[:-1]:
            if r.kind in NORM_TEXT or r.kind in ACTIVATION_TEXT:
                skipped[r.name] = skipped.get(r.inputs[0], r.inputs[0])
    return skipped


def _is_shortcut_edge(r: LayerRecord, position: int) -> bool:
    """Whether input ``position`` of ``r`` arrives along the shortcut (its layers, or the add's second input)."""
    return r.path == "shortcut" or (r.kind == "ResidualAdd" and position == 1)


def _is_attention_edge(r: LayerRecord, position: int) -> bool:
    """Whether input ``position`` of ``r`` runs along channel attention's side branch: into its layers,
    or the gate into the scaling (the scaling's first input is the branch it scales)."""
    return r.path == "attention" and (r.kind != "ChannelScale" or position == 1)


def _attention_cluster(
    canvas: _Canvas, g: _Graph, run: tuple[BlockSummary, ...]
) -> contextlib.AbstractContextManager[_Graph]:
    """The frame round attention's side branch at the layer level, named by the module ('layer2.0.se')
    and stating its parameters and MACs (one block's: the frame is drawn in one block)."""
    b = run[0]
    records = attention_records(b)
    cost = _cost_line(sum(r.params for r in records), sum(r.macs for r in records), canvas.opts.annotations)
    key = attention_key(b) or b.name
    return _cluster(
        canvas, g, key, f"{attention_kind(b)}" + (f" · {cost}" if cost else ""), FILL_ATTENTION, id=key, color=PURPLE
    )


def _layer_level(analysis: Analysis, canvas: _Canvas, g: _Graph) -> list[tuple[BlockSummary, ...]]:
    opts = canvas.opts
    drawn: dict[str, LayerRecord] = {}
    alias: dict[str, str] = {}  # records of folded blocks → the representative's record
    skipped: dict[str, str] = {}  # compact: records left out → the record their edges now come from
    run_of: dict[str, tuple[BlockSummary, ...]] = {}  # block name → its run, for representatives
    if _draws_input(analysis, opts):
        _input_node(canvas, g, analysis)

    def draw(c: _Graph, records: tuple[LayerRecord, ...]) -> None:
        left_out = _left_out(records, opts.compact)
        skipped.update(left_out)
        for r in records:
            if r.name not in left_out:
                _layer_node(canvas, c, r)
                drawn[r.name] = r

    for stage in _drawn_stages(analysis, opts):
        with _cluster(canvas, g, stage.name, stage.name, id=stage.name) as c:
            if not stage.blocks:
                draw(c, stage.layers)
                continue
            for run in block_runs(stage, opts):
                rep = run[0]
                run_of[rep.name] = run
                for other in run[1:]:
                    for mine, theirs in zip(rep.layers, other.layers, strict=True):
                        alias[theirs.name] = mine.name
                title = _run_title(run) + (f" ({stride_text(rep)})" if stride_text(rep) else "")
                with _cluster(canvas, c, rep.name, title, "white", peripheries="1", id=rep.name) as block:
                    side = tuple(r for r in attention_records(rep) if r.kind != "ChannelScale")
                    apart = {r.name for r in side}
                    draw(block, tuple(r for r in rep.layers if r.name not in apart))
                    if side:
                        with _attention_cluster(canvas, block, run) as frame:
                            draw(frame, side)
    boundary: dict[str, str] = {}
    block_last = {b.name: b.layers[-1].name for b in analysis.blocks}
    shapes = "shape" in opts.annotations
    plain_edge: dict[tuple[int, ...] | None, str] = {}  # shape (or None) → a main-path edge's attribute list
    for r in drawn.values():
        for position, source in enumerate(r.inputs):
            src = alias.get(source, source)
            src = skipped.get(src, src)
            src = alias.get(src, src)  # a left-out layer's input may lie in a folded block (pre-activation nets)
            if src != "input" and src not in drawn:
                if src not in boundary:
                    rec = analysis.layer(src)  # from a stage left out: rare, and one each
                    boundary[src] = _boundary_node(canvas, g, rec.stage, rec.output_shape)
                src = boundary[src]
            if _is_shortcut_edge(r, position):
                run = run_of[r.block]  # type: ignore[index]
                attrs: dict[str, str | None] = dict(SHORTCUT_STYLE[run[0].shortcut])
                if r.kind == "ResidualAdd":  # the edge that closes the shortcut stands for it
                    attrs = _shortcut_edge(run[0].shortcut, shortcut_text(run[0], frozenset(), len(run)), len(run))
                canvas.edge(g, src, r.name, **attrs)
                continue
            if _is_attention_edge(r, position):
                canvas.edge(g, src, r.name, **ATTENTION_STYLE)
                continue
            shape = None
            if shapes and src in drawn:
                s = drawn[src]
                if s.output_shape != s.input_shape or block_last.get(s.block or "") == s.name:
                    shape = s.output_shape
            if shape not in plain_edge:
                plain_edge[shape] = canvas.attr_list({"label": edge_label(shape_text(shape)) if shape else None})
            canvas.edge_with(g, src, r.name, plain_edge[shape])
    return list(run_of.values())


def block_figure(
    analysis: Analysis,
    block: str,
    *,
    highlight: str | None = None,
    compact: bool = False,
    rankdir: RankDir = "TB",
    title: str | None = None,
) -> str:
    """DOT text of one residual block op by op, for a figure that explains it.

    Node ids are the records' names inside the block (``conv1``, ``bn1``, ``relu1``, ``downsample.0``,
    ``add``, …), ``x`` is the block's input and ``out`` its output, so a caller can ``highlight``
    the node a line of code builds; each node shows that name over what the module does. The
    shortcut is drawn as at the layer level (styled by kind, the edge into ``add`` carrying ``kind``
    and ``shortcuts=1``). ``compact``, for a slide: larger type, no title, only what the module does,
    no BatchNorm or ReLU nodes (edges run through them). ``title`` defaults to the network and block.
    """
    b = next((b for b in analysis.blocks if b.name == block), None)
    if b is None:
        names = [b.name for b in analysis.blocks]
        raise ValueError(f"no block {block!r}: blocks run from {names[0]!r} to {names[-1]!r}")
    opts = DiagramOptions(level="layer", annotations=frozenset(), rankdir=rankdir, legend=False)
    opts = dataclasses.replace(opts, highlight=highlight, compact=compact)
    canvas, digraph, g = _start(opts, title if title is not None else f"{describe(analysis.spec)}, block {block}")
    prefix = block + "."
    left_out = _left_out(b.layers, compact)
    kept = [r for r in b.layers if r.name not in left_out]
    canvas.node(
        g,
        "x",
        label=_html_lines("x", [(shape_text(b.input_shape), None)], canvas.type_),
        shape="ellipse",
        fillcolor=FILL_PLAIN,
    )
    for r in kept:
        short = r.name.removeprefix(prefix)
        if compact or r.kind in ("ResidualAdd", "ChannelScale"):
            _layer_node(canvas, g, r, short)
        else:  # the module's name over what it does, so a reader can find it in the code
            attrs = _layer_node_attrs(r, opts, canvas.type_)
            attrs["label"] = _html_lines(short, [(op_text(r), None)], canvas.type_)
            canvas.node(g, short, **attrs)
    for r in kept:
        for position, source in enumerate(r.inputs):
            source = left_out.get(source, source)
            src = source.removeprefix(prefix) if source.startswith(prefix) else "x"
            if _is_attention_edge(r, position):
                canvas.edge(g, src, r.name.removeprefix(prefix), **ATTENTION_STYLE)
            elif not _is_shortcut_edge(r, position):
                canvas.edge(g, src, r.name.removeprefix(prefix))
            elif r.kind == "ResidualAdd":
                canvas.edge(g, src, "add", **_shortcut_edge(b.shortcut, shortcut_text(b, frozenset()), 1))
            else:
                canvas.edge(g, src, r.name.removeprefix(prefix), **SHORTCUT_STYLE[b.shortcut])
    canvas.node(g, "out", label=shape_text(b.output_shape), shape="plaintext", style="")
    canvas.edge(g, kept[-1].name.removeprefix(prefix), "out")
    canvas.check_highlight()
    return digraph.source


def _legend(g: _Graph, blocks: list[BlockSummary], folded: bool, canvas: _Canvas) -> None:
    """Each shortcut style of ``blocks`` drawn as a short edge of its own with its meaning, then the
    node styles (strided, channel attention, folded)."""
    tb = canvas.opts.rankdir == "TB"
    kinds = {b.shortcut for b in blocks}
    strided = any(stride_text(b) for b in blocks)
    attention = next((b for b in blocks if attention_records(b)), None)
    with _cluster(canvas, g, "legend", "legend", "white") as c:
        column: list[str] = []  # the entries, stacked one under the other
        for kind in SHORTCUT_KINDS:
            if kind not in kinds:
                continue
            if kind not in DRAWN_SHORTCUTS:
                canvas.node(c, f"legend {kind}", label=_html_lines("no shortcut", [(SHORTCUT_LEGEND[kind], None)]))
                column.append(f"legend {kind}")
                continue
            a, b = f"legend {kind} from", f"legend {kind} to"
            for end in (a, b):
                canvas.node(c, end, shape="point", width="0.1", color=SHORTCUT_STYLE[kind]["color"], label="")
            style: dict[str, str | None] = dict(SHORTCUT_STYLE[kind])
            style["label"] = edge_label(shortcut_legend(kind, blocks))
            if tb:  # an edge within one rank runs left to right
                _same_rank(canvas, c, [a, b])
            canvas.edge(c, a, b, minlen="3", **style)
            column.append(a)
        if strided:
            canvas.node(
                c,
                "legend strided",
                label=_html_lines(STRIDED_LEGEND[0], [(STRIDED_LEGEND[1], DARK_ORANGE)]),
                fillcolor=FILL_STRIDED,
                color=ORANGE,
                penwidth="2.5",
            )
            column.append("legend strided")
        if attention is not None:
            canvas.node(
                c,
                "legend attention",
                label=_html_lines(attention_kind(attention), [(ATTENTION_LEGEND, DARK_PURPLE)]),
                **ATTENTION_BOX,
            )
            column.append("legend attention")
        if folded:
            canvas.node(
                c,
                "legend folded",
                label=_html_lines(FOLDED_LEGEND[0], [(FOLDED_LEGEND[1], None)]),
                peripheries="2",
            )
            column.append("legend folded")
        if tb:
            for upper, lower in itertools.pairwise(column):
                canvas.edge(c, upper, lower, style="invis")
        else:
            _same_rank(canvas, c, column)


def _same_rank(canvas: _Canvas, g: _Graph, names: list[str]) -> None:
    """``{rank=same; a; b; …}``: these nodes side by side across the flow."""
    with canvas.subgraph(g, rank="same") as row:
        row.body += [f"{row.indent}{quote(name)}\n" for name in names]  # what Digraph.node(name) writes


# -- an interactive view: what each box is, what a click on it does, how many boxes there are ----

#: Box styles (Graphviz attributes) of a strided block and of a folded run, as ``_block_node`` draws
#: them, for a legend drawn outside the diagram.
STRIDED_STYLE: dict[str, str] = {"fillcolor": FILL_STRIDED, "color": ORANGE, "penwidth": "2.5"}
FOLDED_STYLE: dict[str, str] = {"fillcolor": FILL_BLOCK, "color": "#4D4D4D", "peripheries": "2"}
STRIDED_LEGEND = ("strided block", "halves H×W; says where the stride sits")
FOLDED_LEGEND = ("folded run  × n", "n identical blocks, drawn once")


@dataclass(frozen=True)
class Branch:
    """A block's channel attention (SE or ECA) as one selectable thing: the module's name
    (``layer2.0.se``), its block and stage, and its layers (the side branch and the scaling)."""

    name: str
    of: BlockSummary
    layers: tuple[LayerRecord, ...]

    @property
    def block(self) -> str:
        return self.of.name

    @property
    def stage(self) -> str:
        return self.of.stage

    @property
    def params(self) -> int:
        return sum(r.params for r in self.layers)


#: What a name names: ("stage", a StageSummary), ("block", a BlockSummary), ("layer", a LayerRecord)
#: or ("branch", a Branch: a block's channel attention).
Found = tuple[str, StageSummary | BlockSummary | LayerRecord | Branch]


def find(analysis: Analysis, name: str) -> Found | None:
    """What ``name`` names in ``analysis``: ``("stage", StageSummary)`` for ``layer2`` (or ``stem``,
    ``head``), ``("block", BlockSummary)`` for ``layer2.0``, ``("layer", LayerRecord)`` for
    ``layer2.0.conv1`` or ``fc``, ``("branch", Branch)`` for a block's attention module
    (``layer2.0.se``); None for anything else."""
    for s in analysis.stages:
        if s.name == name:
            return "stage", s
    for b in analysis.blocks:
        if b.name == name:
            return "block", b
    for r in analysis.layers:
        if r.name == name:
            return "layer", r
    for b in analysis.blocks:
        if name.startswith(b.name + ".") and attention_key(b) == name:
            return "branch", Branch(name, b, attention_records(b))
    return None


def _run_of(stage: StageSummary, options: DiagramOptions, block: str) -> tuple[BlockSummary, ...]:
    return next(run for run in block_runs(stage, options) if any(b.name == block for b in run))


def node_of(analysis: Analysis, options: DiagramOptions, name: str) -> str | None:
    """The key of the box that shows ``name`` (a stage, block or layer; see ``find``) in the drawing
    ``options`` describe: the box itself, or the one it is folded into (a folded run, its block at
    the block level, its stage at the stage level). None when ``name`` names nothing or its stage is
    not drawn. Keys are what ``node_details`` and an interactive view use (see there)."""
    found = find(analysis, name)
    if found is None:
        return None
    kind, item = found
    stage_name = item.name if kind == "stage" else item.stage
    if options.stages and stage_name not in options.stages:
        return None
    if options.level == "stage" or kind == "stage":
        return stage_name
    stage = analysis.stage(stage_name)
    if not stage.blocks:  # a layer of the stem or the head
        return stage_name if options.level == "block" else item.name
    block = item.name if kind == "block" else item.block
    run = _run_of(stage, options, block)  # type: ignore[arg-type]
    if kind == "branch":  # its box beside the block, its frame at the layer level: the run's first block's
        return attention_key(run[0])
    if options.level == "block" or kind == "block":
        return run[0].name
    # a layer at the layer level: a folded run draws its first block's records only
    rep, own = run[0], next(b for b in run if b.name == block)
    drawn = rep.layers[own.layers.index(item)]  # type: ignore[arg-type]
    return rep.name if drawn.name in _left_out(rep.layers, options.compact) else drawn.name


@dataclass(frozen=True)
class NodeDetails:
    """What an interactive view of one drawing needs, each keyed as the view knows the box: by its DOT
    ``id`` (blocks and folded runs: the block's name, ``layer2.0``, a run its first block's; clusters:
    the stage's or block's name) or else its DOT name (stage-level stages, stem and head, layers).

    ``rows``: key → tooltip rows (label → text, numbers human-formatted with the exact value beside
    them). ``toggles``: key → the stage a click on it folds or unfolds; ``hints`` says which, in
    words. ``kinds``, ``strided``, ``folded``: what the drawing's legend has to explain.
    """

    rows: dict[str, dict[str, str]]
    toggles: dict[str, str]
    hints: dict[str, str]
    kinds: tuple[str, ...]
    strided: bool
    folded: bool
    #: shortcut kind → its legend line as the drawn blocks have it (``shortcut_legend``)
    kind_texts: dict[str, str] = field(default_factory=dict)
    attention: str | None = None  # "SE" or "ECA" where the blocks have channel attention

    def legend(self) -> list[tuple[dict[str, str], str, str]]:
        """The legend as (Graphviz style, short text, explanation): shortcut kinds drawn, then box styles."""
        items = [
            (SHORTCUT_STYLE[k], k, self.kind_texts.get(k, SHORTCUT_LEGEND[k]))
            for k in SHORTCUT_KINDS
            if k in self.kinds
        ]
        if self.strided:
            items.append((STRIDED_STYLE, "strided", f"{STRIDED_LEGEND[0]}: {STRIDED_LEGEND[1]}"))
        if self.attention:
            items.append((ATTENTION_BOX, self.attention, ATTENTION_LEGEND))
        if self.folded:
            items.append((FOLDED_STYLE, "× n", f"folded run: {FOLDED_LEGEND[1]}; click one to unfold its stage"))
        return items


def exact(n: int) -> str:
    """A number for a tooltip: human (``units.count``) with the exact value beside it, 75 k (75,008)."""
    return count(n) if count(n) == f"{n:,}" else f"{count(n)} ({n:,})"


def field_text(rf: int, jump: int) -> str:
    return f"{rf:,} px, jump {jump:,}"


def _group_rows(g: StageSummary | BlockSummary, params: int, macs: int) -> dict[str, str]:
    return {
        "output": shape_text(g.output_shape),
        "parameters": exact(params),
        "MACs": exact(macs),
        "receptive field": field_text(g.rf, g.jump),
    }


def _stride_of(records: Iterable[LayerRecord]) -> int:
    """The stride of a chain of records: the product of the main path's strides."""
    stride = 1
    for r in records:
        if r.stride and r.path in ("main", "join"):  # not a shortcut's, nor attention's global pool
            stride *= r.stride
    return stride


def _stride_words(b: BlockSummary, stride: int) -> str:
    """'2 (on the 3×3)', '2 (by 2×2 avg-pool (anti-alias))' where the block's residual branch
    subsamples, else '1'."""
    where = stride_where(b)
    return f"{stride} ({where.replace('on ', 'on the ', 1)})" if where else str(stride)


def _shortcut_words(b: BlockSummary) -> str:
    return b.shortcut if b.shortcut == "identity" else f"{b.shortcut}: {shortcut_text(b, frozenset())}"


def stage_rows(stage: StageSummary) -> dict[str, str]:
    """Tooltip rows of a stage (stem and head included)."""
    rows: dict[str, str] = {}
    if stage.blocks:
        tally = _shortcut_tally(stage.blocks)
        n = len(stage.blocks)
        rows["blocks"] = f"{n:,}"
        rows |= _group_rows(stage, stage.params, stage.macs)
        rows["stride"] = _stride_words(stage.blocks[0], _stride_of(stage.layers))
        rows["shortcuts"] = ", ".join(f"{c:,} {k}" for k, c in tally.items())
        return rows
    rows["layers"] = " → ".join(_op_lines(stage.layers))
    rows |= _group_rows(stage, stage.params, stage.macs)
    if stage.name == "head":
        del rows["receptive field"]  # the global pool sees the whole image
    else:
        rows["stride"] = str(_stride_of(stage.layers))
    return rows


def run_rows(run: tuple[BlockSummary, ...]) -> dict[str, str]:
    """Tooltip rows of a block, or of a folded run of identical blocks (its sums, and one block's)."""
    b, last, n = run[0], run[-1], len(run)
    rows: dict[str, str] = {}
    if n > 1:
        rows["blocks"] = f"{b.name} … {last.name} ({n:,} identical)"
    rows["convs"] = main_convs_text(b)
    rows |= _group_rows(last, b.params * n, b.macs * n)
    if n > 1:
        rows["parameters"] += f" = {n:,} × {exact(b.params)}"
        rows["MACs"] += f" = {n:,} × {exact(b.macs)}"
    rows["stride"] = _stride_words(b, b.stride)
    rows["shortcut"] = _shortcut_words(b)
    kinds = layer_kinds_text(b)
    if kinds:
        rows["layers"] = kinds
    if attention_records(b):
        att = attention_records(b)
        rows["attention"] = (
            f"{attention_kind(b)} side branch: {exact(sum(r.params for r in att))} params, "
            f"{exact(sum(r.macs for r in att))} MACs per block"
        )
    drop = drop_path_text(run)
    if drop:
        rows["drop path"] = drop + " (at inference the branch always runs)"
    return rows


def attention_rows(run: tuple[BlockSummary, ...]) -> dict[str, str]:
    """Tooltip rows of a block's channel attention (of a folded run: all n, and one block's)."""
    b, n = run[0], len(run)
    records = attention_records(b)
    params, macs = sum(r.params for r in records), sum(r.macs for r in records)
    rows = {"branch": f"{attention_kind(b)} channel attention, a side branch of {_run_title(run)}"}
    rows["layers"] = attention_text(b) + " → × each channel"
    gate = next((r for r in records if r.kind == "Sigmoid"), None)
    if gate is not None:
        rows["gate"] = shape_text(gate.output_shape) + " (one weight per channel)"
    rows["output"] = shape_text(records[-1].output_shape)
    rows["parameters"] = exact(params * n) + (f" = {n:,} × {exact(params)}" if n > 1 else "")
    rows["MACs"] = exact(macs * n) + (f" = {n:,} × {exact(macs)}" if n > 1 else "")
    rows["receptive field"] = "the gate sees the whole map (global pool); the output keeps the branch's field"
    return rows


def layer_rows(r: LayerRecord, block: BlockSummary | None = None) -> dict[str, str]:
    """Tooltip rows of one layer (``block``: the block it belongs to, for its shortcut's kind)."""
    rows = {"operation": op_text(r), "output": shape_text(r.output_shape)}
    arithmetic = param_arithmetic(r)
    rows["parameters"] = exact(r.params) + (f" = {arithmetic}" if arithmetic and r.params else "")
    rows["MACs"] = exact(r.macs)
    if len(r.output_shape) == 4:
        rows["receptive field"] = field_text(r.rf, r.jump)
    if r.stride:
        rows["stride"] = str(r.stride)
    if block is not None:
        rows["path"] = {"main": "residual branch", "shortcut": "shortcut", "join": "after the addition"}.get(
            r.path, r.path
        )
        rows["shortcut"] = block.shortcut
    return rows


def param_arithmetic(r: LayerRecord) -> str | None:
    """How ``r``'s parameter count comes about, from its record: '64·64·3·3' for a 3×3 conv from 64 to
    64 channels (out · in/groups · k · k, then '+ 64' for a bias), '2·64' for a norm layer's scale and
    shift, '2048·1000 + 1000' for the fc layer. None where the record does not say (the count is then
    shown alone), and never a formula that does not give ``r.params``."""
    a = r.attrs
    if r.kind == "Conv2d" and r.kernel and "out_channels" in a:
        out, fan_in = a["out_channels"], a["in_channels"] // a.get("groups", 1)
        weights = out * fan_in * r.kernel * r.kernel
        text = f"{out}·{fan_in}·{r.kernel}·{r.kernel}"
        if weights == r.params:
            return text
        if weights + out == r.params:
            return f"{text} + {out}"
        return None
    if r.kind == "Linear" and "out_features" in a:
        out, fan_in = a["out_features"], a["in_features"]
        if out * fan_in == r.params:
            return f"{fan_in}·{out}"
        if out * fan_in + out == r.params:
            return f"{fan_in}·{out} + {out}"
        return None
    channels = r.output_shape[1] if len(r.output_shape) > 1 else 0
    if r.params and r.params == 2 * channels and "Norm" in r.kind:  # a scale and a shift per channel
        return f"2·{channels}"
    return None


def param_sum(records: Iterable[LayerRecord]) -> list[tuple[str, str, int]]:
    """The rows of a parameter count's arithmetic, one per record with parameters: (its name with a
    conv's kernel, 'conv1 3×3'; the arithmetic or ''; its count). They add up to the group's ``params``."""
    out: list[tuple[str, str, int]] = []
    for r in records:
        if r.params:
            name = f"{r.name} {r.kernel}×{r.kernel}" if r.kind == "Conv2d" and r.kernel else r.name
            out.append((name, param_arithmetic(r) or "", r.params))
    return out


def node_details(analysis: Analysis, options: DiagramOptions) -> NodeDetails:
    """Tooltip rows and click actions of every box the drawing ``options`` describe can show (its
    stages, blocks and folded runs, layers; see ``NodeDetails`` for the keys).

    A folded run toggles its stage (unfold), and so does a stage's box at the block and layer levels
    when folding changes the stage (fold if it is unfolded); everything else is selected by a click.
    """
    rows: dict[str, dict[str, str]] = {}
    toggles: dict[str, str] = {}
    hints: dict[str, str] = {}
    kinds: set[str] = set()
    strided = folded = False
    level = options.level
    blocks: list[BlockSummary] = []
    for stage in _drawn_stages(analysis, options):
        rows[stage.name] = stage_rows(stage)
        blocks += stage.blocks
        if not stage.blocks:
            if level == "layer":
                rows |= {
                    r.name: layer_rows(r)
                    for r in stage.layers
                    if r.name not in _left_out(stage.layers, options.compact)
                }
            continue
        kinds |= {b.shortcut for b in stage.blocks}
        strided = strided or any(stride_text(b) for b in stage.blocks)
        if level == "stage":
            continue
        runs = block_runs(stage, options)
        foldable = options.fold and any(
            len(run) > 1 for run in block_runs(stage, dataclasses.replace(options, unfold=()))
        )
        if foldable:
            toggles[stage.name] = stage.name
            unfolded = stage.name in options.unfold
            hints[stage.name] = f"click to {'fold' if unfolded else 'unfold'} {stage.name}" + (
                " (runs of identical blocks into one box)" if unfolded else " (every block drawn)"
            )
        for run in runs:
            rep = run[0]
            rows[rep.name] = run_rows(run)
            if len(run) > 1:
                folded = True
                toggles[rep.name] = stage.name
                hints[rep.name] = f"click to unfold {stage.name} ({len(stage.blocks):,} blocks drawn one by one)"
            key = attention_key(rep)
            if key is not None:  # its box beside the block, or its frame at the layer level
                rows[key] = attention_rows(run)
            if level == "layer":
                skipped = _left_out(rep.layers, options.compact)
                rows |= {r.name: layer_rows(r, rep) for r in rep.layers if r.name not in skipped}
    drawn = tuple(k for k in SHORTCUT_KINDS if k in kinds)
    with_attention = next((b for b in blocks if attention_records(b)), None)
    return NodeDetails(
        rows,
        toggles,
        hints,
        drawn,
        strided,
        folded,
        kind_texts={k: shortcut_legend(k, blocks) for k in drawn},
        attention=attention_kind(with_attention) if with_attention is not None else None,
    )


def figure_details(analysis: Analysis, block: str, compact: bool = False) -> dict[str, dict[str, str]]:
    """Tooltip rows of ``block_figure(analysis, block, compact=compact)``'s nodes, by their ids there:
    each layer's (``conv1``, ``downsample.0``, ``add``…), the block's input ``x`` and its output ``out``."""
    b = next((b for b in analysis.blocks if b.name == block), None)
    if b is None:
        raise ValueError(
            f"no block {block!r}: blocks run from {analysis.blocks[0].name!r} to {analysis.blocks[-1].name!r}"
        )
    left_out = _left_out(b.layers, compact)
    rows = {r.name.removeprefix(block + "."): layer_rows(r, b) for r in b.layers if r.name not in left_out}
    rows["x"] = {"input of": block, "shape": shape_text(b.input_shape)}
    rows["out"] = {"output of": block, "shape": shape_text(b.output_shape), "receptive field": field_text(b.rf, b.jump)}
    return rows


# -- the node budget: what Graphviz can lay out in seconds ------------------------------------------


def node_count(analysis: Analysis, options: DiagramOptions) -> int:
    """How many nodes ``to_dot(analysis, options)`` draws (legend included), counted from the
    analysis without building the DOT: what decides how long ``dot`` takes to lay it out."""
    level = options.level
    drawn = 1 if _draws_input(analysis, options) else 0
    previous = drawn > 0
    kinds: set[str] = set()
    strided = folded = attention = False
    for stage in analysis.stages:
        if options.stages and stage.name not in options.stages:
            previous = False
            continue
        attention = attention or any(attention_records(b) for b in stage.blocks)
        if not previous:
            drawn += 1  # "from layer2": the stages left out
        previous = True
        kinds |= {b.shortcut for b in stage.blocks}
        if level == "stage" or (level == "block" and not stage.blocks):
            drawn += 1
            strided = strided or any(stride_text(b) for b in stage.blocks)
            continue
        if not stage.blocks:  # the layer level's stem or head
            drawn += len(stage.layers) - len(_left_out(stage.layers, options.compact))
            continue
        runs = block_runs(stage, options)
        folded = folded or any(len(run) > 1 for run in runs)
        strided = strided or any(stride_text(run[0]) for run in runs)
        if level == "block":
            # the stage's entry point; per run its box, its "+" (none in a plain block) and its attention
            drawn += 1 + sum(1 + (run[0].shortcut in DRAWN_SHORTCUTS) + bool(attention_records(run[0])) for run in runs)
        else:
            drawn += sum(len(run[0].layers) - len(_left_out(run[0].layers, options.compact)) for run in runs)
    if options.legend:  # two ends of a short edge per shortcut kind drawn, a box for "none" and each style
        drawn += 2 * len(kinds & set(DRAWN_SHORTCUTS)) + ("none" in kinds) + strided + attention + folded
    return drawn


#: Nodes a diagram may have to be laid out in seconds, per layout engine (issue 15: a 4 × 1000-block
#: network drawn layer by layer crashed ``dot``, and block by block took it past its 60 s timeout on
#: every rerun). Measured on this project's 2-core machine while shared (load average 11-14;
#: ``benchmarks/bench_diagram.py --budget`` prints them): ``dot`` lays out ResNet-1202's unfolded block
#: level (1,206 nodes, the largest drawing the explorer promises) in 5.1 s, its layer level with one
#: stage unfolded (1,430 nodes) in 7.3 s, 1,506 block-level nodes in 12.8 s and 1,986 in 43 s (time
#: grows with the square of the nodes and more). The browser's WebAssembly Graphviz is the same
#: program: ``benchmarks/bench_diagram_view.py`` times it on ResNet-1202.
NODE_BUDGET: dict[str, int] = {"server": 1500, "browser": 1500}


@dataclass(frozen=True)
class Budgeted:
    """A drawing that fits a node budget: ``options`` to draw, ``asked`` and ``drawn`` node counts,
    and ``note``, a sentence saying what was summarised and why (None: drawn as asked)."""

    options: DiagramOptions
    asked: int
    drawn: int
    note: str | None = None


def _names(names: Iterable[str]) -> str:
    items = list(names)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def within_budget(analysis: Analysis, options: DiagramOptions, budget: int) -> Budgeted:
    """``options`` if their drawing has at most ``budget`` nodes; else the nearest drawing that has:
    the unfolded stages folded again, the earliest unfolded first (the last one unfolded is what the
    user looks at), then the next coarser level (layer → block → stage). Never raises."""
    asked = node_count(analysis, options)
    if asked <= budget:
        return Budgeted(options, asked, asked)
    levels = LEVELS[: LEVELS.index(options.level) + 1][::-1]
    for level in levels:
        opts = dataclasses.replace(options, level=level, fold=True)  # type: ignore[arg-type]
        unfold = list(options.unfold) if level != "stage" else []
        while True:
            opts = dataclasses.replace(opts, unfold=tuple(unfold))
            n = node_count(analysis, opts)
            if n <= budget or not unfold:
                break
            unfold.pop(0)
        if n <= budget:
            return Budgeted(opts, asked, n, _budget_note(options, opts, asked, budget))
    opts = dataclasses.replace(options, level="stage", unfold=(), fold=True)
    n = node_count(analysis, opts)
    return Budgeted(opts, asked, n, _budget_note(options, opts, asked, budget))


def _budget_note(asked: DiagramOptions, drawn: DiagramOptions, nodes: int, budget: int) -> str:
    what = f"the {asked.level} level"
    if asked.unfold and asked.level != "stage":
        what += f" with {_names(asked.unfold)} unfolded"
    elif not asked.fold:
        what += " with every block drawn"
    instead = []
    if drawn.level != asked.level:
        instead.append(f"the {drawn.level} level")
    refolded = [s for s in asked.unfold if s not in drawn.unfold] if drawn.level != "stage" else []
    if refolded:
        instead.append(f"{_names(refolded)} folded (× n)")
    if drawn.unfold and drawn.level != "stage":
        instead.append(f"{_names(drawn.unfold)} unfolded")
    return (
        f"Drawing {what} takes {nodes:,} boxes, more than the {budget:,} that Graphviz lays out in a few "
        f"seconds; shown instead: {', '.join(instead) or 'folded'}."
    )


# -- rendering -----------------------------------------------------------------------------------


def dot_available() -> bool:
    """Whether Graphviz's ``dot`` is on PATH (SVG/PNG export needs it; DOT text does not)."""
    return shutil.which("dot") is not None


def render(dot_text: str, fmt: str = "svg", *, timeout: float = 60.0, dpi: int | None = None) -> bytes:
    """Lay ``dot_text`` out with Graphviz's ``dot`` into SVG or PNG bytes.

    Raises ``GraphvizNotFound`` when ``dot`` is missing and ``GraphvizError`` when it fails or runs
    past ``timeout`` seconds.
    """
    # Not graphviz.Digraph.pipe(): in the graphviz package 0.21 it has no timeout (its subprocess
    # call in graphviz/backend/execute.py takes none), and a huge unfolded diagram can keep dot busy
    # for minutes on a server that other users share. So dot runs here, bounded, with our messages.
    if fmt not in RENDER_FORMATS:
        raise ValueError(f"format {fmt!r} is not allowed: choose one of {', '.join(RENDER_FORMATS)}")
    exe = shutil.which("dot")
    if exe is None:
        raise GraphvizNotFound()
    cmd = [exe, f"-T{fmt}"] + ([f"-Gdpi={int(dpi)}"] if dpi else [])
    data = dot_text.encode("utf-8")
    key = (hashlib.sha256(data).hexdigest(), fmt, dpi, timeout)
    if key in _FAILURES:  # failed before: fail again at once (a timeout would cost the same minute again)
        _FAILURES.move_to_end(key)
        raise GraphvizError(_FAILURES[key])
    try:
        proc = subprocess.run(cmd, input=data, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        message = f"dot took longer than {timeout:g} s to lay this diagram out; fold it or draw fewer stages"
        raise GraphvizError(_remember_failure(key, message)) from None
    if proc.returncode != 0:
        lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        message = f"dot failed (exit status {proc.returncode}): {lines[0] if lines else 'no message'}"
        raise GraphvizError(_remember_failure(key, message))
    return proc.stdout


#: ``render``'s failures, per (SHA-256 of the DOT, format, dpi, timeout), the most recent last: a diagram
#: that crashed ``dot`` or ran past the timeout fails again at once on the next rerun, not a minute later
#: (issue 15). ``forget_render_failures()`` empties it.
_FAILURES: OrderedDict[tuple[str, str, int | None, float], str] = OrderedDict()
FAILURES_KEPT = 64


def _remember_failure(key: tuple[str, str, int | None, float], message: str) -> str:
    _FAILURES[key] = message
    while len(_FAILURES) > FAILURES_KEPT:
        _FAILURES.popitem(last=False)
    return message


def forget_render_failures() -> None:
    """Forget every failure ``render`` remembered (after installing another Graphviz, say)."""
    _FAILURES.clear()
