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
import html
import itertools
import re
import shutil
import subprocess
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
    title: str | None = None  # the network's name in the title (None: the preset's name); input size and totals follow
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


def op_text(r: LayerRecord) -> str:
    """One layer in words: '3×3 conv, 128, stride 2', 'BN', '3×3 max-pool, stride 2', 'fc, 1000'."""
    stride = f", stride {r.stride}" if r.stride and r.stride > 1 else ""
    if r.kind == "Conv2d":
        groups = r.attrs.get("groups", 1)
        g = f", {groups} groups" if groups > 1 else ""
        return f"{r.kernel}×{r.kernel} conv, {r.output_shape[1]}{g}{stride}"
    if r.kind == "BatchNorm2d":
        return "BN"
    if r.kind == "ReLU":
        return "ReLU"
    if r.kind == "ResidualAdd":
        return "+"
    if r.kind == "MaxPool2d":
        return f"{r.kernel}×{r.kernel} max-pool{stride}"
    if r.kind == "AvgPool2d":
        return f"{r.kernel}×{r.kernel} avg-pool{stride}"
    if r.kind == "AdaptiveAvgPool2d":
        return "global avg-pool"
    if r.kind == "Flatten":
        return "flatten"
    if r.kind == "Linear":
        return f"fc, {r.output_shape[-1]}"
    if r.kind == "ZeroPadShortcut":
        return f"zero-pad +{r.output_shape[1] - r.input_shape[1]} ch{stride}"
    return r.kind


def _op_lines(records: Iterable[LayerRecord]) -> list[str]:
    """Layers grouped as lines: a windowed layer starts a line, BN and ReLU join the line before."""
    lines: list[str] = []
    for r in records:
        text = op_text(r)
        if r.kind in ("BatchNorm2d", "ReLU", "Flatten") and lines:
            if r.kind != "Flatten":
                lines[-1] += f" · {text}"
        else:
            lines.append(text)
    return lines


def main_convs_text(block: BlockSummary) -> str:
    """The residual branch's convs: '1×1, 128 → 3×3, 128 → 1×1, 512'."""
    parts = []
    for r in block.layers:
        if r.kind == "Conv2d" and r.path == "main":
            groups = r.attrs.get("groups", 1)
            parts.append(f"{r.kernel}×{r.kernel}, {r.output_shape[1]}" + (f" ({groups} groups)" if groups > 1 else ""))
    return " → ".join(parts)


def stride_text(block: BlockSummary) -> str | None:
    """Where the residual branch subsamples: 'stride 2 on 3×3', 'stride 2 on 1×1', or None."""
    for r in block.layers:
        if r.path == "main" and r.kind == "Conv2d" and r.stride and r.stride > 1:
            return f"stride {r.stride} on {r.kernel}×{r.kernel}"
    return None


def shortcut_text(block: BlockSummary, annotations: frozenset[str] = DEFAULT_ANNOTATIONS, n: int = 1) -> str:
    """The shortcut in words: '× 35 identity', 'stride 2, +16 zero channels', '1×1 conv, stride 2, BN · 8.45 k params'."""
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
            parts.append(f"{r.kernel}×{r.kernel} conv" + (f", stride {r.stride}" if r.stride and r.stride > 1 else ""))
        elif r.kind == "BatchNorm2d":
            parts.append("BN")
        else:
            parts.append(op_text(r))
    text = many + ", ".join(parts)
    cost = _cost_line(block.shortcut_params, block.shortcut_macs, annotations)
    return f"{text}\n{cost}" if cost else text


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
        "ranksep": "0.45" if lr else "0.3",
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
    return canvas.subgraph(
        g,
        f"cluster_{name}",
        label=html_label(f"<B>{escape_html(label)}</B>"),
        fontsize="18",
        fontname=FONT,
        labeljust="l",
        style="rounded,filled",
        fillcolor=fill,
        color="#B0B0B0",
        penwidth="1.5",
        **extra,
    )


def _shortcut_edge(kind: str, label: str | None, n: int) -> dict[str, str | None]:
    attrs: dict[str, str | None] = dict(SHORTCUT_STYLE[kind])
    attrs.update(kind=kind, shortcuts=str(n), label=edge_label(label), weight="0")
    return attrs


def _title(analysis: Analysis, options: DiagramOptions) -> str:
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
        _legend(
            g,
            kinds={run[0].shortcut for run in drawn_runs},
            strided=any(stride_text(run[0]) for run in drawn_runs),
            folded=any(len(run) > 1 for run in drawn_runs),
            canvas=canvas,
        )
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
    where = stride_text(b)
    if where:
        lines.append((where, DARK_ORANGE))
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
        label=_html_lines(_run_title(run), lines, canvas.type_),
        fillcolor=FILL_STRIDED if where else FILL_BLOCK,
        color=ORANGE if where else None,
        penwidth="2.5" if where else None,
        peripheries="2" if n > 1 else None,
    )


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
        with _cluster(canvas, g, stage.name, f"{stage.name} · {n} block{'s' if n > 1 else ''}") as c:
            # A fork point inside the cluster, where x splits into the branch and the shortcut: every
            # shortcut edge then lies within its stage's box, and so does its label.
            entry = f"entry {stage.name}"
            canvas.node(c, entry, shape="point", width="0.12", color=GREY, label="")
            drawn += runs
            for run in runs:
                _block_node(canvas, c, run)
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
    # Blocks repeat: the same attributes serve every record that would be drawn alike.
    opts = canvas.opts
    key = (r.kind, r.path, r.block is None, r.kernel, r.stride, r.attrs.get("groups"), r.output_shape[1])
    key += (r.input_shape[1], r.params, r.macs) + ((r.rf, r.jump) if "rf" in opts.annotations else ())
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
    fill = {"BatchNorm2d": FILL_BN, "ReLU": FILL_RELU}.get(r.kind, FILL_BLOCK)
    if r.path == "shortcut":
        fill = FILL_SHORTCUT
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
            if r.kind in ("BatchNorm2d", "ReLU"):
                skipped[r.name] = skipped.get(r.inputs[0], r.inputs[0])
    return skipped


def _is_shortcut_edge(r: LayerRecord, position: int) -> bool:
    """Whether input ``position`` of ``r`` arrives along the shortcut (its layers, or the add's second input)."""
    return r.path == "shortcut" or (r.kind == "ResidualAdd" and position == 1)


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
        with _cluster(canvas, g, stage.name, stage.name) as c:
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
                with _cluster(canvas, c, rep.name, title, "white", peripheries="1") as block:
                    draw(block, rep.layers)
    boundary: dict[str, str] = {}
    block_last = {b.name: b.layers[-1].name for b in analysis.blocks}
    shapes = "shape" in opts.annotations
    plain_edge: dict[tuple[int, ...] | None, str] = {}  # shape (or None) → a main-path edge's attribute list
    for r in drawn.values():
        for position, source in enumerate(r.inputs):
            src = alias.get(source, source)
            src = skipped.get(src, src)
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
        if compact or r.kind == "ResidualAdd":
            _layer_node(canvas, g, r, short)
        else:  # the module's name over what it does, so a reader can find it in the code
            attrs = _layer_node_attrs(r, opts, canvas.type_)
            attrs["label"] = _html_lines(short, [(op_text(r), None)], canvas.type_)
            canvas.node(g, short, **attrs)
    for r in kept:
        for position, source in enumerate(r.inputs):
            source = left_out.get(source, source)
            src = source.removeprefix(prefix) if source.startswith(prefix) else "x"
            if not _is_shortcut_edge(r, position):
                canvas.edge(g, src, r.name.removeprefix(prefix))
            elif r.kind == "ResidualAdd":
                canvas.edge(g, src, "add", **_shortcut_edge(b.shortcut, shortcut_text(b, frozenset()), 1))
            else:
                canvas.edge(g, src, r.name.removeprefix(prefix), **SHORTCUT_STYLE[b.shortcut])
    canvas.node(g, "out", label=shape_text(b.output_shape), shape="plaintext", style="")
    canvas.edge(g, kept[-1].name.removeprefix(prefix), "out")
    canvas.check_highlight()
    return digraph.source


def _legend(g: _Graph, kinds: set[str], strided: bool, folded: bool, canvas: _Canvas) -> None:
    """Each shortcut style drawn as a short edge of its own with its meaning, then the node styles."""
    tb = canvas.opts.rankdir == "TB"
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
            style["label"] = edge_label(SHORTCUT_LEGEND[kind])
            if tb:  # an edge within one rank runs left to right
                _same_rank(canvas, c, [a, b])
            canvas.edge(c, a, b, minlen="3", **style)
            column.append(a)
        if strided:
            canvas.node(
                c,
                "legend strided",
                label=_html_lines("strided block", [("halves H×W; says where the stride sits", DARK_ORANGE)]),
                fillcolor=FILL_STRIDED,
                color=ORANGE,
                penwidth="2.5",
            )
            column.append("legend strided")
        if folded:
            canvas.node(
                c,
                "legend folded",
                label=_html_lines("folded run  × n", [("n identical blocks, drawn once", None)]),
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
    try:
        proc = subprocess.run(cmd, input=dot_text.encode("utf-8"), capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise GraphvizError(
            f"dot took longer than {timeout:g} s to lay this diagram out; fold it or draw fewer stages"
        ) from None
    if proc.returncode != 0:
        lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GraphvizError(f"dot failed (exit status {proc.returncode}): {lines[0] if lines else 'no message'}")
    return proc.stdout
