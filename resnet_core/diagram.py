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

Colours are Okabe & Ito's colour-blind-safe palette; fonts are 14 pt or larger, for a projector.
``render()`` lays the text out with Graphviz's ``dot`` (Debian package ``graphviz``) into SVG or PNG.
"""

from __future__ import annotations

import dataclasses
import html
import itertools
import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, get_args

from resnet_core.analysis import Analysis, BlockSummary, LayerRecord, StageSummary
from resnet_core.spec import describe

Level = Literal["stage", "block", "layer"]
RankDir = Literal["TB", "LR"]
LEVELS: tuple[str, ...] = get_args(Level)
RANKDIRS: tuple[str, ...] = get_args(RankDir)
#: What can be written on the diagram besides the structure: output shapes (on edges), parameters,
#: multiply-adds, receptive field.
ANNOTATIONS: tuple[str, ...] = ("shape", "params", "macs", "rf")
DEFAULT_ANNOTATIONS: frozenset[str] = frozenset({"shape", "params", "macs"})
#: The shortcut kinds of ``BlockSummary.shortcut``, in the legend's order.
SHORTCUT_KINDS: tuple[str, ...] = ("identity", "zero-pad", "projection", "avgpool-projection")
RENDER_FORMATS: tuple[str, ...] = ("svg", "png")
GRAPHVIZ_PACKAGE = "graphviz"

FONT = "Helvetica,Arial,sans-serif"
TITLE_PT = 18  # node titles
TEXT_PT = 15  # node detail lines
EDGE_PT = 14  # edge labels and the legend

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
}
SHORTCUT_LEGEND: dict[str, str] = {
    "identity": "identity shortcut: x passes unchanged",
    "zero-pad": "option A: subsample, append zero channels (no params)",
    "projection": "projection: 1×1 conv (+ stride) and BN (options B, C; D at stride 1)",
    "avgpool-projection": "option D: average-pool, then 1×1 conv and BN",
}

FILL_BLOCK = "#E8F1FA"
FILL_STRIDED = "#FDEBC8"
FILL_PLAIN = "#F2F2F2"
FILL_BN = "#FFF8D9"
FILL_RELU = "#E3F4EC"
FILL_SHORTCUT = "#FBE3D6"


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


class _Html(str):
    """An HTML-like label body: emitted as ``<…>``, already escaped."""


_DOT_SPECIAL = re.compile(r'[\\"\r\n]')
_HTML_SPECIAL = re.compile(r"[&<>\"'\r\n]")


def quote(text: str) -> str:
    """A DOT quoted string: backslashes and double quotes escaped, newlines as Graphviz's ``\\n``."""
    if _DOT_SPECIAL.search(text) is None:  # the common case: names and numbers
        return f'"{text}"'
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "").replace("\n", "\\n") + '"'


def escape_html(text: str) -> str:
    """Text for an HTML-like label: ``& < > " '`` as entities, newlines as line breaks."""
    if _HTML_SPECIAL.search(text) is None:
        return text
    return html.escape(text, quote=True).replace("\r", "").replace("\n", "<BR/>")


def _html_lines(title: str, lines: Iterable[tuple[str, str | None]] = ()) -> _Html:
    """A bold title over detail lines, each (text, colour or None)."""
    parts = [f'<FONT POINT-SIZE="{TITLE_PT}"><B>{escape_html(title)}</B></FONT>']
    for text, colour in lines:
        font = f'<FONT POINT-SIZE="{TEXT_PT}"' + (f' COLOR="{colour}"' if colour else "") + ">"
        parts.append(f"{font}{escape_html(text)}</FONT>")
    return _Html("<BR/>".join(parts))


def edge_label(text: str | None) -> _Html | None:
    """An edge label, its lines left-aligned behind a small gap, so that the edge never runs through
    text whose rendered width exceeds Graphviz's estimate of it."""
    if text is None:
        return None
    return _Html("".join(f'&#160;{escape_html(line)}<BR ALIGN="LEFT"/>' for line in text.split("\n")))


def _attrs(attrs: dict[str, object]) -> str:
    out = []
    for key, value in attrs.items():
        if value is None:
            continue
        if isinstance(value, _Html):
            out.append(f"{key}=<{value}>")
        else:
            out.append(f"{key}={quote(str(value))}")
    return "[" + ", ".join(out) + "]" if out else ""


def count(n: int | float) -> str:
    """Human number: 512, 8.45 k, 25.6 M, 4.09 G."""
    for scale, suffix in ((1e9, " G"), (1e6, " M"), (1e3, " k")):
        if abs(n) >= scale:
            return f"{n / scale:.3g}{suffix}"
    return f"{n:g}"


def shape_text(shape: tuple[int, ...]) -> str:
    """Output shape without the batch: 256×56×56, or 1000 for a vector."""
    return "×".join(str(d) for d in shape[1:])


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


# -- the DOT writer ------------------------------------------------------------------------------


class _Dot:
    def __init__(self, options: DiagramOptions, title: str) -> None:
        self.lines: list[str] = []
        self.cache: dict[object, str] = {}  # attribute strings shared by look-alike nodes
        self.indent = "  "
        lr = options.rankdir == "LR"
        graph = {
            "rankdir": options.rankdir,
            "newrank": "true",
            "fontname": FONT,
            "fontsize": "24",
            "label": _Html(f"<B>{escape_html(title)}</B>"),
            "labelloc": "t",
            "nodesep": "0.3" if lr else "0.45",
            "ranksep": "0.45" if lr else "0.3",
            "pad": "0.3",
            "bgcolor": "white",
        }
        node = {
            "fontname": FONT,
            "fontsize": str(TEXT_PT),
            "shape": "box",
            "style": "rounded,filled",
            "fillcolor": FILL_BLOCK,
            "color": "#4D4D4D",
            "penwidth": "1.5",
            "margin": "0.18,0.08",
        }
        edge = {"fontname": FONT, "fontsize": str(EDGE_PT), "color": GREY, "penwidth": "2", "arrowsize": "0.9"}
        self.lines += [
            "digraph resnet {",
            f"  graph {_attrs(graph)};",
            f"  node {_attrs(node)};",
            f"  edge {_attrs(edge)};",
        ]

    def node(self, name: str, **attrs: object) -> None:
        self.lines.append(f"{self.indent}{quote(name)} {_attrs(attrs)};")

    def edge(self, tail: str, head: str, **attrs: object) -> None:
        self.lines.append(f"{self.indent}{quote(tail)} -> {quote(head)} {_attrs(attrs)};")

    def open_cluster(self, name: str, **attrs: object) -> None:
        self.lines.append(f"{self.indent}subgraph {quote('cluster_' + name)} {{")
        self.indent += "  "
        self.lines.append(f"{self.indent}graph {_attrs(attrs)};")

    def close_cluster(self) -> None:
        self.indent = self.indent[:-2]
        self.lines.append(f"{self.indent}}}")

    def text(self) -> str:
        return "\n".join([*self.lines, "}", ""])


def _cluster_attrs(label: str, fill: str = "#FAFAFA") -> dict[str, object]:
    return {
        "label": _Html(f"<B>{escape_html(label)}</B>"),
        "fontsize": "18",
        "fontname": FONT,
        "labeljust": "l",
        "style": "rounded,filled",
        "fillcolor": fill,
        "color": "#B0B0B0",
        "penwidth": "1.5",
    }


def _shortcut_edge(kind: str, label: str | None, n: int) -> dict[str, object]:
    attrs: dict[str, object] = dict(SHORTCUT_STYLE[kind])
    attrs.update(kind=kind, shortcuts=n, label=edge_label(label), weight="0")
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
    A ValueError names a stage that does not exist.
    """
    opts = options if options is not None else DiagramOptions()
    if overrides:
        opts = dataclasses.replace(opts, **overrides)  # type: ignore[arg-type]
    _check_stage_names(analysis, opts)
    dot = _Dot(opts, _title(analysis, opts))
    if opts.level == "stage":
        _stage_level(analysis, opts, dot)
    else:
        draw = _block_level if opts.level == "block" else _layer_level
        drawn_runs = draw(analysis, opts, dot)
        if opts.legend:
            _legend(
                dot,
                kinds={run[0].shortcut for run in drawn_runs},
                strided=any(stride_text(run[0]) for run in drawn_runs),
                folded=any(len(run) > 1 for run in drawn_runs),
                opts=opts,
            )
    return dot.text()


def _draws_input(analysis: Analysis, opts: DiagramOptions) -> bool:
    return not opts.stages or analysis.stages[0].name in opts.stages


def _input_node(dot: _Dot, analysis: Analysis) -> str:
    dot.node(
        "input",
        label=_html_lines("input image", [(shape_text(analysis.input_shape), None)]),
        fillcolor=FILL_PLAIN,
        shape="box",
        style="filled",
    )
    return "input"


def _boundary_node(dot: _Dot, analysis: Analysis, stage_name: str, shape: tuple[int, ...]) -> str:
    """Stands for stages left out of the drawing (``options.stages``)."""
    name = f"from {stage_name}"
    dot.node(
        name,
        label=_html_lines(f"from {stage_name}", [(shape_text(shape), None)]),
        style="dashed",
        fillcolor="white",
    )
    return name


def _shape_label(shape: tuple[int, ...], opts: DiagramOptions) -> _Html | None:
    return edge_label(shape_text(shape)) if "shape" in opts.annotations else None


def _stage_lines(stage: StageSummary, opts: DiagramOptions) -> list[tuple[str, str | None]]:
    lines: list[tuple[str, str | None]] = []
    if stage.blocks:
        tally: dict[str, int] = {}
        for b in stage.blocks:
            tally[b.shortcut] = tally.get(b.shortcut, 0) + 1
        n = len(stage.blocks)
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


def _stage_level(analysis: Analysis, opts: DiagramOptions, dot: _Dot) -> None:
    prev = _input_node(dot, analysis) if _draws_input(analysis, opts) else ""
    prev_stage: StageSummary | None = None
    for stage in analysis.stages:
        if opts.stages and stage.name not in opts.stages:
            prev_stage, prev = stage, ""
            continue
        if not prev:
            prev = _boundary_node(dot, analysis, prev_stage.name, prev_stage.output_shape)  # type: ignore[union-attr]
        strided = bool(stage.blocks) and stride_text(stage.blocks[0]) is not None
        dot.node(
            stage.name,
            label=_html_lines(stage.name, _stage_lines(stage, opts)),
            fillcolor=FILL_STRIDED if strided else (FILL_BLOCK if stage.blocks else FILL_PLAIN),
            color=ORANGE if strided else None,
            penwidth="2.5" if strided else None,
        )
        dot.edge(prev, stage.name)
        prev, prev_stage = stage.name, stage


def _block_node(dot: _Dot, run: tuple[BlockSummary, ...], opts: DiagramOptions) -> None:
    b, n = run[0], len(run)
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
    dot.node(
        f"block {b.name}",
        label=_html_lines(_run_title(run), lines),
        fillcolor=FILL_STRIDED if where else FILL_BLOCK,
        color=ORANGE if where else None,
        penwidth="2.5" if where else None,
        peripheries="2" if n > 1 else None,
    )


def _add_node(dot: _Dot, name: str) -> None:
    dot.node(
        name,
        label="+",
        shape="circle",
        style="filled",
        fillcolor="white",
        fontsize="22",
        width="0.45",
        height="0.45",
        fixedsize="true",
        margin="0",
    )


def _block_level(analysis: Analysis, opts: DiagramOptions, dot: _Dot) -> list[tuple[BlockSummary, ...]]:
    drawn: list[tuple[BlockSummary, ...]] = []
    prev = _input_node(dot, analysis) if _draws_input(analysis, opts) else ""
    prev_shape: tuple[int, ...] | None = None  # shape of prev's output, for the next main edge's label
    prev_stage: StageSummary | None = None
    for stage in analysis.stages:
        if opts.stages and stage.name not in opts.stages:
            prev_stage, prev = stage, ""
            continue
        if not prev:
            prev = _boundary_node(dot, analysis, prev_stage.name, prev_stage.output_shape)  # type: ignore[union-attr]
            prev_shape = prev_stage.output_shape  # type: ignore[union-attr]
        if not stage.blocks:  # stem or head: one node of its layers
            dot.node(
                stage.name,
                label=_html_lines(stage.name, [(t, None) for t in _op_lines(stage.layers)] + _extra(stage, opts)),
                fillcolor=FILL_PLAIN,
            )
            dot.edge(prev, stage.name, label=_shape_label(prev_shape, opts) if prev_shape else None)
            prev, prev_shape, prev_stage = stage.name, stage.output_shape, stage
            continue
        n = len(stage.blocks)
        runs = block_runs(stage, opts)
        dot.open_cluster(stage.name, **_cluster_attrs(f"{stage.name} · {n} block{'s' if n > 1 else ''}"))
        # A fork point inside the cluster, where x splits into the branch and the shortcut: every
        # shortcut edge then lies within its stage's box, and so does its label.
        entry = f"entry {stage.name}"
        dot.node(entry, shape="point", width="0.12", color=GREY, label="")
        drawn += runs
        for run in runs:
            b = run[0]
            _block_node(dot, run, opts)
            _add_node(dot, f"add {b.name}")
        inner = entry
        for i, run in enumerate(runs):
            b = run[0]
            label = _shape_label(runs[i - 1][-1].output_shape, opts) if i else None
            dot.edge(inner, f"block {b.name}", label=label)
            dot.edge(f"block {b.name}", f"add {b.name}")
            shortcut = _shortcut_edge(b.shortcut, shortcut_text(b, opts.annotations, len(run)), len(run))
            dot.edge(inner, f"add {b.name}", **shortcut)
            inner = f"add {b.name}"
        dot.close_cluster()
        dot.edge(prev, entry, label=_shape_label(prev_shape, opts) if prev_shape else None, arrowhead="none")
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


def _layer_node(dot: _Dot, r: LayerRecord, opts: DiagramOptions) -> None:
    if r.kind == "ResidualAdd":
        _add_node(dot, r.name)
        return
    # Blocks repeat: the same attributes serve every record that would be drawn alike.
    key = (r.kind, r.path, r.block is None, r.kernel, r.stride, r.attrs.get("groups"), r.output_shape[1])
    key += (r.input_shape[1], r.params, r.macs) + ((r.rf, r.jump) if "rf" in opts.annotations else ())
    attrs = dot.cache.get(key)
    if attrs is None:
        attrs = dot.cache[key] = _attrs(_layer_node_attrs(r, opts))
    dot.lines.append(f"{dot.indent}{quote(r.name)} {attrs};")


def _layer_node_attrs(r: LayerRecord, opts: DiagramOptions) -> dict[str, object]:
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
    label: object
    if lines:
        label = _html_lines(text, lines)
    else:
        label = _Html(f'<FONT POINT-SIZE="{TITLE_PT if r.kernel else TEXT_PT}">{escape_html(text)}</FONT>')
    return {
        "label": label,
        "fillcolor": fill,
        "color": ORANGE if strided else None,
        "penwidth": "2.5" if strided else None,
    }


def _layer_level(analysis: Analysis, opts: DiagramOptions, dot: _Dot) -> list[tuple[BlockSummary, ...]]:
    drawn: dict[str, LayerRecord] = {}
    alias: dict[str, str] = {}  # records of folded blocks → the representative's record
    run_of: dict[str, tuple[BlockSummary, ...]] = {}  # block name → its run, for representatives
    if _draws_input(analysis, opts):
        _input_node(dot, analysis)
    for stage in _drawn_stages(analysis, opts):
        if not stage.blocks:
            dot.open_cluster(stage.name, **_cluster_attrs(stage.name))
            for r in stage.layers:
                _layer_node(dot, r, opts)
                drawn[r.name] = r
            dot.close_cluster()
            continue
        dot.open_cluster(stage.name, **_cluster_attrs(stage.name))
        for run in block_runs(stage, opts):
            rep = run[0]
            run_of[rep.name] = run
            for other in run[1:]:
                for mine, theirs in zip(rep.layers, other.layers, strict=True):
                    alias[theirs.name] = mine.name
            title = _run_title(run) + (f" ({stride_text(rep)})" if stride_text(rep) else "")
            dot.open_cluster(rep.name, **_cluster_attrs(title, "white"), peripheries="1")
            for r in rep.layers:
                _layer_node(dot, r, opts)
                drawn[r.name] = r
            dot.close_cluster()
        dot.close_cluster()
    by_name = {r.name: r for r in analysis.layers}
    boundary: dict[str, str] = {}
    block_last = {b.name: b.layers[-1].name for b in analysis.blocks}
    shapes = "shape" in opts.annotations
    plain_edge = {}  # shape (or None) → attribute string of a main-path edge
    for r in drawn.values():
        for position, source in enumerate(r.inputs):
            src = alias.get(source, source)
            if src != "input" and src not in drawn:
                if src not in boundary:
                    rec = by_name[src]
                    boundary[src] = _boundary_node(dot, analysis, rec.stage, rec.output_shape)
                src = boundary[src]
            if r.path == "shortcut" or (r.kind == "ResidualAdd" and position == 1):
                run = run_of[r.block]  # type: ignore[index]
                attrs = dict(SHORTCUT_STYLE[run[0].shortcut])
                if r.kind == "ResidualAdd":  # the edge that closes the shortcut stands for it
                    attrs = _shortcut_edge(run[0].shortcut, shortcut_text(run[0], frozenset(), len(run)), len(run))
                dot.edge(src, r.name, **attrs)
                continue
            shape = None
            if shapes and src in drawn:
                s = drawn[src]
                if s.output_shape != s.input_shape or block_last.get(s.block or "") == s.name:
                    shape = s.output_shape
            attrs_text = plain_edge.get(shape)
            if attrs_text is None:
                label = edge_label(shape_text(shape)) if shape else None
                attrs_text = plain_edge[shape] = _attrs({"label": label})
            dot.lines.append(f"{dot.indent}{quote(src)} -> {quote(r.name)} {attrs_text};")
    return list(run_of.values())


def _legend(dot: _Dot, kinds: set[str], strided: bool, folded: bool, opts: DiagramOptions) -> None:
    """Each shortcut style drawn as a short edge of its own with its meaning, then the node styles."""
    dot.open_cluster("legend", **_cluster_attrs("legend", "white"))
    tb = opts.rankdir == "TB"
    column: list[str] = []  # the entries, stacked one under the other
    for kind in SHORTCUT_KINDS:
        if kind not in kinds:
            continue
        a, b = f"legend {kind} from", f"legend {kind} to"
        for end in (a, b):
            dot.node(end, shape="point", width="0.1", color=SHORTCUT_STYLE[kind]["color"], label="")
        style = dict(SHORTCUT_STYLE[kind])
        style["label"] = edge_label(SHORTCUT_LEGEND[kind])
        if tb:  # an edge within one rank runs left to right
            dot.lines.append(f"{dot.indent}{{rank=same; {quote(a)}; {quote(b)};}}")
        dot.edge(a, b, minlen="3", **style)
        column.append(a)
    if strided:
        dot.node(
            "legend strided",
            label=_html_lines("strided block", [("halves H×W; says where the stride sits", DARK_ORANGE)]),
            fillcolor=FILL_STRIDED,
            color=ORANGE,
            penwidth="2.5",
        )
        column.append("legend strided")
    if folded:
        dot.node(
            "legend folded",
            label=_html_lines("folded run  × n", [("n identical blocks, drawn once", None)]),
            peripheries="2",
        )
        column.append("legend folded")
    if tb:
        for upper, lower in itertools.pairwise(column):
            dot.edge(upper, lower, style="invis")
    else:
        dot.lines.append(f"{dot.indent}{{rank=same; " + " ".join(f"{quote(c)};" for c in column) + "}")
    dot.close_cluster()


# -- rendering -----------------------------------------------------------------------------------


def dot_available() -> bool:
    """Whether Graphviz's ``dot`` is on PATH (SVG/PNG export needs it; DOT text does not)."""
    return shutil.which("dot") is not None


def render(dot_text: str, fmt: str = "svg", *, timeout: float = 60.0, dpi: int | None = None) -> bytes:
    """Lay ``dot_text`` out with Graphviz's ``dot`` into SVG or PNG bytes.

    Raises ``GraphvizNotFound`` when ``dot`` is missing and ``GraphvizError`` when it fails or runs
    past ``timeout`` seconds.
    """
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
