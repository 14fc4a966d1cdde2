"""Compare: two to four architectures side by side, and the paper's bottleneck against two 3×3 convs.

Each architecture is a preset plus overrides from the shared spec editor, with query parameters
prefixed ``a_`` … ``d_``; ``n`` says how many are shown, ``panel_width`` and ``panel_map`` set the
classic panel. Numbers come from ``resnet_core`` (``analyze`` and ``resnet_core.compare``).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

from app.charts import preset_scatter, short_title, stage_bars
from app.widgets import get_analysis, show_error, spec_editor, url_param, write_url
from resnet_core import PRESETS, default_input_size
from resnet_core.analysis import Analysis
from resnet_core.compare import MAX_MAP_SIZE, BlockCount, Summary, check_panel_args, classic_panel, stage_split
from resnet_core.selection import Selection
from resnet_core.spec import MAX_WIDTH

LETTERS = ("A", "B", "C", "D")
PREFIXES = tuple(letter.lower() + "_" for letter in LETTERS)
DEFAULT_ARCHS = ("resnet18", "resnet34", "resnet50", "resnet101")
DEFAULT_N = 3
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


def totals_table(labels: list[str], summaries: list[Summary]) -> Styler:
    """The numbers (metrics × architectures; the Styler's ``data``), shown with the ratio to A, tinted."""
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

    return styler.apply(tint, axis=1)


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


def chosen_architectures() -> list[Selection]:
    """How many to compare (``n``, in the sidebar) and one spec editor per architecture, A first;
    the query parameters of the editors no longer shown leave the URL."""
    url_param("cmp_n", "n", DEFAULT_N, _parse_count)
    with st.sidebar:
        n = st.segmented_control("Architectures", [2, 3, 4], key="cmp_n", help="How many to compare side by side.")
    if n is None:  # a segmented control can be clicked off
        n = DEFAULT_N
    write_url({"n": str(n)})
    write_url({k: None for k in st.query_params if k[:2] in PREFIXES[n:]})
    return [
        spec_editor(prefix, default_arch=arch, title=f"{letter}")
        for letter, prefix, arch in zip(LETTERS[:n], PREFIXES[:n], DEFAULT_ARCHS[:n], strict=True)
    ]


def analyses_of(labels: list[str], choices: list[Selection]) -> list[Analysis] | None:
    """Every choice's analysis, or None (each failure shown as an error naming its letter)."""
    analyses = []
    for label, choice in zip(labels, choices, strict=True):
        try:
            analyses.append(get_analysis(choice.spec, choice.input_size))
        except ValueError as e:
            show_error(e, f"change {label[0]}'s input size or layers in the sidebar.")
    return analyses if len(analyses) == len(choices) else None


def totals_section(labels: list[str], summaries: list[Summary]) -> None:
    st.subheader("Totals")
    inputs = " · ".join(
        f"{lab[0]} at {s.input_hw[0]}×{s.input_hw[1]}" for lab, s in zip(labels, summaries, strict=True)
    )
    st.dataframe(totals_table(labels, summaries), key="cmp_totals", width="stretch")
    st.caption(f"Input sizes: {inputs}.")


def stages_section(labels: list[str], choices: list[Selection], analyses: list[Analysis]) -> None:
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


def preset_summaries() -> dict[str, Summary]:
    """Every preset's totals at the input size it was designed for (each analysis cached)."""
    return {name: Summary.of(get_analysis(spec, default_input_size(spec))) for name, spec in PRESETS.items()}


def scatter_section(labels: list[str], choices: list[Selection], summaries: list[Summary]) -> None:
    st.subheader("Parameters against multiply-adds, all presets")
    st.caption("Each preset at the input size it was designed for (ImageNet 224, CIFAR 32); A … D as chosen.")
    chosen = [(lab[0], c.title, s) for lab, c, s in zip(labels, choices, summaries, strict=True)]
    st.plotly_chart(preset_scatter(preset_summaries(), chosen), key="cmp_scatter", width="stretch")


def panel_controls() -> tuple[int, int]:
    """The classic panel's block width and map side (state in ``panel_width`` / ``panel_map``)."""
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
    return int(width), int(map_size)


def classic_panel_section() -> None:
    st.subheader("The classic panel: a bottleneck block against two 3×3 convs")
    st.caption(
        "He et al. 2015, Fig. 5: the blocks are built from the library's own Bottleneck and BasicBlock "
        "modules (stride 1, identity shortcut); each count is read from conv.weight.numel()."
    )
    width, map_size = panel_controls()
    try:
        bottleneck, two_3x3, quarter = classic_panel(width, map_size)
    except ValueError as e:
        show_error(e, "pick a multiple of 4 for the width.")
        return
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


def main() -> None:
    """The Compare page: totals, per-stage bars and the preset scatter for 2–4 architectures, then the classic panel."""
    st.title("Compare architectures")
    st.caption(
        "params = trainable parameters · MACs = multiply-adds of conv and fc layers for one image "
        "(torchvision's 'GFLOPS', the paper's 'FLOPs') · FLOPs = 2 × MACs · tinted cells differ from A "
        "(orange: more, blue: less), with the ratio to A."
    )
    choices = chosen_architectures()
    labels = [f"{letter}: {c.title}" for letter, c in zip(LETTERS, choices, strict=False)]
    analyses = analyses_of(labels, choices)
    if analyses is not None:
        summaries = [Summary.of(a) for a in analyses]
        totals_section(labels, summaries)
        stages_section(labels, choices, analyses)
        scatter_section(labels, choices, summaries)
    st.divider()
    classic_panel_section()
