"""Compare: two to four architectures side by side, and the paper's bottleneck against two 3×3 convs.

Each architecture is a preset plus overrides from the shared spec editor, with query parameters
prefixed ``a_`` … ``d_``; ``n`` says how many are shown, ``panel_width`` and ``panel_map`` set the
classic panel. Numbers come from ``resnet_core`` (``analyze`` and ``resnet_core.compare``).
"""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from pandas.io.formats.style import Styler

from app.widgets import get_analysis, show_error, spec_editor, url_param, write_url
from resnet_core import PRESETS, default_input_size
from resnet_core.compare import MAX_MAP_SIZE, BlockCount, Summary, check_panel_args, classic_panel, stage_split
from resnet_core.spec import MAX_WIDTH

LETTERS = ("A", "B", "C", "D")
PREFIXES = tuple(letter.lower() + "_" for letter in LETTERS)
DEFAULT_ARCHS = ("resnet18", "resnet34", "resnet50", "resnet101")
DEFAULT_N = 3
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")  # one per letter, in every chart
STAGE_COLORS = ("#7f7f7f", "#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#eeca3b", "#b279a2", "#ff9da6")
FONT = {"size": 16}
MORE, LESS = "rgba(245, 133, 24, 0.28)", "rgba(76, 120, 168, 0.28)"  # tints against A

#: Totals table rows: label, Summary field, how to show it.
METRICS: tuple[tuple[str, str, str], ...] = (
    ("Parameters", "params", "{:,.0f}"),
    ("MACs (G)", "macs", "gmacs"),
    ("FLOPs = 2 × MACs (G)", "flops", "gmacs"),
    ("Activation memory (MiB, float32)", "activation_bytes", "mib"),
    ("Weighted depth (conv + fc layers)", "weighted_depth", "{:,.0f}"),
    ("Receptive field of the last map (px)", "final_rf", "{:,.0f}"),
)


def _parse_count(text: str) -> int:
    if text not in ("2", "3", "4"):
        raise ValueError(f"{text!r} is not allowed: 2, 3 or 4 architectures")
    return int(text)


def _parse_width(text: str) -> int:
    try:
        width = int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not allowed: a multiple of 4 from 4 to {MAX_WIDTH}") from None
    check_panel_args(width, 56)
    return width


def _parse_map(text: str) -> int:
    try:
        size = int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not allowed: an integer from 1 to {MAX_MAP_SIZE}") from None
    check_panel_args(256, size)
    return size


def _show(value: float, how: str) -> str:
    if how == "gmacs":
        return f"{value / 1e9:,.3f}"
    if how == "mib":
        return f"{value / 2**20:,.1f}"
    return how.format(value)


def totals_table(labels: list[str], summaries: list[Summary]) -> tuple[pd.DataFrame, Styler]:
    """The numbers (metrics × architectures), and a Styler showing them with the ratio to A, tinted."""
    data = pd.DataFrame(
        {label: [getattr(s, f) for _, f, _ in METRICS] for label, s in zip(labels, summaries, strict=True)},
        index=[m[0] for m in METRICS],
    )
    base = data.columns[0]
    styler = data.style
    for row, _, how in METRICS:
        ref = data.loc[row, base]

        def show(value: int, how: str = how, ref: int = ref) -> str:
            text = _show(value, how)
            return text + f"  (×{value / ref:.2f})" if ref and value != ref else text

        styler = styler.format(show, subset=pd.IndexSlice[[row], data.columns[1:]])
        styler = styler.format(lambda v, how=how: _show(v, how), subset=pd.IndexSlice[[row], [base]])

    def tint(row: pd.Series) -> list[str]:
        ref = row[base]
        return [
            ""
            if col == base or value == ref
            else f"background-color: {MORE if value > ref else LESS}; font-weight: 600"
            for col, value in row.items()
        ]

    return data, styler.apply(tint, axis=1)


def readable(fig: go.Figure, height: int) -> go.Figure:
    """Fonts a projector can carry (Streamlit's theme would otherwise shrink the axes' text)."""
    fig.update_layout(font=FONT, height=height, margin={"t": 30, "b": 10, "l": 10, "r": 10}, legend={"font": FONT})
    fig.update_xaxes(tickfont=FONT, title_font=FONT)
    fig.update_yaxes(tickfont=FONT, title_font=FONT)
    return fig


def label_positions(points: list[tuple[float, float, str]], size: tuple[int, int] = (1200, 480)) -> list[str]:
    """A text position per point on log-log axes that keeps labels off each other and off every
    marker, placed greedily in the order given, in rough screen pixels."""
    logs = [(math.log10(x), math.log10(y)) for x, y, _ in points]
    xs, ys = [p[0] for p in logs], [p[1] for p in logs]
    sx = size[0] / max(max(xs) - min(xs), 0.5)
    sy = size[1] / max(max(ys) - min(ys), 0.5)
    char, line, gap = 8.5, 18.0, 9.0

    def box(x: float, y: float, text: str, dx: int, dy: int) -> tuple[float, float, float, float]:
        w, h = len(text) * char, line
        cx = math.log10(x) * sx + dx * (w / 2 + gap)
        cy = math.log10(y) * sy + dy * (h / 2 + gap)
        return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2

    def overlap(a: tuple[float, ...], b: tuple[float, ...]) -> float:
        return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))

    taken = [box(x, y, "●●", 0, 0) for x, y, _ in points]  # the markers
    candidates = {
        "middle right": (1, 0),
        "top center": (0, 1),
        "bottom center": (0, -1),
        "middle left": (-1, 0),
        "top right": (1, 1),
        "bottom left": (-1, -1),
        "top left": (-1, 1),
        "bottom right": (1, -1),
    }
    out = []
    for x, y, text in points:
        scored = [
            (sum(overlap(box(x, y, text, dx, dy), t) for t in taken), pos) for pos, (dx, dy) in candidates.items()
        ]
        best = min(scored, key=lambda t: t[0])[1]
        taken.append(box(x, y, text, *candidates[best]))
        out.append(best)
    return out


def stage_bars(labels: list[str], splits: list[dict[str, tuple[int, int]]], which: int, scale: float) -> go.Figure:
    """Stacked bars: one bar per architecture, one stack per stage (stem, layer1 …, head)."""
    stages: list[str] = []
    for split in splits:
        stages += [s for s in split if s not in stages and s != "head"]
    stages.append("head")
    fig = go.Figure()
    for i, stage in enumerate(stages):
        fig.add_bar(
            name=stage,
            x=labels,
            y=[split[stage][which] / scale if stage in split else 0 for split in splits],
            marker_color=STAGE_COLORS[i % len(STAGE_COLORS)],
            hovertemplate=f"{stage}: %{{y:,.3f}}<extra>%{{x}}</extra>",
        )
    fig.update_layout(barmode="stack", legend={"traceorder": "normal", "title": {"text": "stage"}})
    return readable(fig, 460)


def preset_scatter(chosen: list[tuple[str, str, Summary]]) -> go.Figure:
    """Parameters against MACs for every preset (at its own input size), the chosen ones marked.

    A chosen architecture that sits exactly on a preset's point takes over that point's label."""
    names, params, macs = [], [], []
    for name, spec in PRESETS.items():
        a = get_analysis(spec, default_input_size(spec))
        names.append(name)
        params.append(a.totals.params / 1e6)
        macs.append(a.totals.macs / 1e9)
    picked = [(s.macs / 1e9, s.params / 1e6, f"{letter}: {short_title(title)}") for letter, title, s in chosen]
    on_picked = {(x, y) for x, y, _ in picked}
    labels = ["" if (x, y) in on_picked else n for x, y, n in zip(macs, params, names, strict=True)]
    positions = label_positions(picked + list(zip(macs, params, labels, strict=True)))
    fig = go.Figure()
    fig.add_scatter(
        name="presets",
        x=macs,
        y=params,
        text=labels,
        customdata=names,
        mode="markers+text",
        textposition=positions[len(picked) :],
        marker={"size": 9, "color": "#9a9a9a"},
        textfont={"size": 14, "color": "#555"},
        hovertemplate="%{customdata}<br>%{x:,.3f} GMACs<br>%{y:,.2f} M params<extra></extra>",
    )
    for (x, y, text), (letter, title, _), color, pos in zip(picked, chosen, COLORS, positions, strict=False):
        fig.add_scatter(
            name=f"{letter}: {title}",
            x=[x],
            y=[y],
            text=[text],
            mode="markers+text",
            textposition=pos,
            marker={"size": 18, "color": color, "line": {"width": 2, "color": "white"}, "symbol": "diamond"},
            textfont={"size": 17, "color": color},
            hovertemplate=f"{letter}: {title}<br>%{{x:,.3f}} GMACs<br>%{{y:,.2f}} M params<extra></extra>",
        )
    xs, ys = (
        [math.log10(v) for v in macs + [p[0] for p in picked]],
        [math.log10(v) for v in params + [p[1] for p in picked]],
    )
    fig.update_xaxes(type="log", title="multiply-adds per image (G, log scale)", range=[min(xs) - 0.2, max(xs) + 0.4])
    fig.update_yaxes(type="log", title="parameters (M, log scale)", range=[min(ys) - 0.15, max(ys) + 0.15], dtick="D2")
    return readable(fig, 600)


def short_title(title: str) -> str:
    """'resnet50' or 'resnet50*' for a modified one (the legend has the whole title)."""
    return title.split(" (modified")[0] + ("*" if "(modified" in title else "")


def block_panel(block: BlockCount) -> None:
    st.markdown(f"##### {block.label}")
    rows = "\n".join(f"  {c.name}  {c.params_arithmetic()}" for c in block.convs)
    macs = "\n".join(f"  {c.name}  {c.macs_arithmetic()}" for c in block.convs)
    h, w = block.convs[0].in_hw
    st.code(
        f"parameters (conv weights k·k·c_in·c_out):\n{rows}\n  total  {block.params_arithmetic()}\n\n"
        f"multiply-adds on a {h}×{w} map (weights × output pixels):\n{macs}\n"
        f"  total  {block.macs_arithmetic()}",
        language=None,
        wrap_lines=True,
    )
    st.caption(f"BatchNorm adds {block.bn_params:,} parameters (scale and shift per channel), not counted above.")


# -- the page ------------------------------------------------------------------------------------


def main() -> None:
    """The Compare page: totals, per-stage bars and the preset scatter for 2–4 architectures, then the classic panel."""
    st.title("Compare architectures")
    st.caption(
        "params = trainable parameters · MACs = multiply-adds of conv and fc layers for one image "
        "(torchvision's 'GFLOPS', the paper's 'FLOPs') · FLOPs = 2 × MACs · tinted cells differ from A "
        "(orange: more, blue: less), with the ratio to A."
    )

    url_param("cmp_n", "n", DEFAULT_N, _parse_count)
    with st.sidebar:
        n = st.segmented_control("Architectures", [2, 3, 4], key="cmp_n", help="How many to compare side by side.")
    if n is None:  # a segmented control can be clicked off
        n = DEFAULT_N
    write_url({"n": str(n)})
    write_url({k: None for k in st.query_params if k[:2] in PREFIXES[n:]})

    choices = [
        spec_editor(prefix, default_arch=arch, title=f"{letter}")
        for letter, prefix, arch in zip(LETTERS[:n], PREFIXES[:n], DEFAULT_ARCHS[:n], strict=True)
    ]
    labels = [f"{letter}: {c.title}" for letter, c in zip(LETTERS, choices, strict=False)]

    analyses = []
    for label, choice in zip(labels, choices, strict=True):
        try:
            analyses.append(get_analysis(choice.spec, choice.input_size))
        except ValueError as e:
            show_error(e, f"change {label[0]}'s input size or layers in the sidebar.")
    if len(analyses) == n:
        summaries = [Summary.of(a) for a in analyses]
        st.subheader("Totals")
        _, styled = totals_table(labels, summaries)
        inputs = " · ".join(
            f"{lab[0]} at {s.input_hw[0]}×{s.input_hw[1]}" for lab, s in zip(labels, summaries, strict=True)
        )
        st.dataframe(styled, key="cmp_totals", width="stretch")
        st.caption(f"Input sizes: {inputs}.")

        st.subheader("Per stage")
        splits = [stage_split(a) for a in analyses]
        short = [f"{lab[0]}: {short_title(c.title)}" for lab, c in zip(labels, choices, strict=True)]
        left, right = st.columns(2)
        with left:
            st.markdown("**Parameters (M)**")
            st.plotly_chart(stage_bars(short, splits, 0, 1e6), key="cmp_stage_params", width="stretch")
        with right:
            st.markdown("**Multiply-adds (G)**")
            st.plotly_chart(stage_bars(short, splits, 1, 1e9), key="cmp_stage_macs", width="stretch")

        st.subheader("Parameters against multiply-adds, all presets")
        st.caption("Each preset at the input size it was designed for (ImageNet 224, CIFAR 32); A … D as chosen.")
        chosen = [(lab[0], c.title, s) for lab, c, s in zip(labels, choices, summaries, strict=True)]
        st.plotly_chart(preset_scatter(chosen), key="cmp_scatter", width="stretch")

    st.divider()
    st.subheader("The classic panel: a bottleneck block against two 3×3 convs")
    st.caption(
        "He et al. 2015, Fig. 5: the blocks are built from the library's own Bottleneck and BasicBlock "
        "modules (stride 1, identity shortcut); each count is read from conv.weight.numel()."
    )
    url_param("cmp_width", "panel_width", 256, _parse_width)
    url_param("cmp_map", "panel_map", 56, _parse_map)
    c1, c2, _ = st.columns([1, 1, 2])
    with c1:
        width = st.number_input(
            "Block width d (channels in and out)",
            min_value=4,
            max_value=MAX_WIDTH,
            step=4,
            key="cmp_width",
            help="A multiple of 4: the bottleneck narrows to d/4. The paper's example is 256.",
        )
    with c2:
        map_size = st.number_input(
            "Feature map side (pixels)",
            min_value=1,
            max_value=MAX_MAP_SIZE,
            step=1,
            key="cmp_map",
            help="56 is the paper's conv2_x stage (224-pixel input).",
        )
    write_url({"panel_width": str(width), "panel_map": str(map_size)})
    try:
        bottleneck, two_3x3, quarter = classic_panel(int(width), int(map_size))
    except ValueError as e:
        show_error(e, "pick a multiple of 4 for the width.")
    else:
        same_tab, paper_tab = st.tabs(
            [
                f"Same width: bottleneck vs two 3×3 at {width}-d",
                f"The paper's view: {width}-d bottleneck vs {width // 4}-d basic block",
            ]
        )
        for tab, other in ((same_tab, two_3x3), (paper_tab, quarter)):
            with tab:
                m1, m2, m3 = st.columns(3)
                m1.metric(f"{bottleneck.label}: parameters", f"{bottleneck.params:,}")
                m2.metric(f"{other.label}: parameters", f"{other.params:,}")
                m3.metric("ratio (other / bottleneck)", f"×{other.params / bottleneck.params:.2f}")
                left, right = st.columns(2)
                with left:
                    block_panel(bottleneck)
                with right:
                    block_panel(other)
        st.markdown(
            f"At the same {width}-d input and output, two 3×3 convs cost **×{two_3x3.macs / bottleneck.macs:.1f}** the "
            f"bottleneck's multiply-adds. The paper pairs the {width}-d bottleneck with a {width // 4}-d basic block "
            f'instead (×{quarter.macs / bottleneck.macs:.2f}): "similar time complexity", but the bottleneck '
            f"carries {width}-d features between blocks."
        )
