"""Compare: a workbench of two to four architectures side by side, and a bottleneck against two 3×3 convs.

Each architecture is one compact row: a preset select and an "Edit" popover holding the shared spec
editor (query parameters prefixed ``a_`` … ``d_``); ``n`` says how many rows there are, and the
classic pairs (``resnet_core.compare.classic_pairs``) set them in one click. ``panel_width`` and
``panel_map`` set the bottleneck panel. Numbers come from ``resnet_core`` (``analyze`` and
``resnet_core.compare``) and are shown in the one human format (``resnet_core.units``), the exact
count in each cell's tooltip and in the CSV download.

The family scatter needs every preset analysed (seconds for ResNet-1202): that runs once per server
process on a background thread, started after the rest of the page is drawn; until it is done a
fragment shows its progress, and the page never waits for it.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd
import streamlit as st

from app.charts import COLORS, block_bars, preset_scatter, short_title, stage_bars_html
from app.components.diagram_view import diagram_view
from app.first_paint import first_screen_drawn
from app.sync import set_widget
from app.widgets import (
    get_analysis,
    link_notices,
    literal,
    set_choice,
    show_error,
    spec_editor,
    url_param,
    write_url,
)
from resnet_core import PRESETS, analyze, default_input_size
from resnet_core.analysis import Analysis
from resnet_core.compare import (
    DESIGNS,
    MAX_MAP_SIZE,
    PANEL_BLOCK,
    BlockCount,
    Pair,
    ShortcutCost,
    Summary,
    check_panel_args,
    classic_pairs,
    classic_panel,
    panel_network,
    shortcut_costs,
    stage_split,
)
from resnet_core.diagram import DiagramOptions, block_figure, figure_details, node_details
from resnet_core.selection import Selection, to_query
from resnet_core.spec import MAX_WIDTH
from resnet_core.units import byte_size, count, size_text

LETTERS = ("A", "B", "C", "D")
PREFIXES = tuple(letter.lower() + "_" for letter in LETTERS)
DEFAULT_ARCHS = ("resnet18", "resnet34", "resnet50", "resnet101")
DEFAULT_N = 3
FEATURED_PAIRS = 3  # buttons on the bar; the rest under "More pairs"
MORE, LESS = "rgba(245, 133, 24, 0.28)", "rgba(76, 120, 168, 0.28)"  # tints against A


@dataclass(frozen=True)
class Metric:
    """A row of the totals table: its label, the ``Summary`` field, the human text of a value and
    what the exact value counts (for the tooltip)."""

    label: str
    field: str
    show: Callable[[int], str]
    unit: str


METRICS: tuple[Metric, ...] = (
    Metric("Parameters", "params", count, "trainable parameters"),
    Metric("Multiply-adds (MACs)", "macs", count, "multiply-accumulates (conv + fc, one image)"),
    Metric("FLOPs = 2 × MACs", "flops", count, "floating-point operations"),
    Metric(
        "Other ops (adds, BatchNorm, ReLU, pooling)",
        "other_ops",
        count,
        "element-wise operations outside the MACs, one image (residual add 1, BatchNorm 2, ReLU 1 per element)",
    ),
    Metric("Activation memory (float32)", "activation_bytes", byte_size, "bytes of layer outputs, one image"),
    Metric("Weighted depth (conv + fc layers)", "weighted_depth", str, "conv + fc layers on the main path"),
    Metric("Receptive field of the last map", "final_rf", lambda v: f"{v} px", "input pixels"),
)

TABLE_CSS = """<style>
.cmp-scroll { overflow-x: auto; }
.cmp-totals { border-collapse: collapse; width: 100%; font-size: 1.25rem; font-variant-numeric: tabular-nums; }
.cmp-totals th, .cmp-totals td { padding: 0.35em 0.7em; border-bottom: 1px solid rgba(128, 128, 128, 0.3); }
.cmp-totals thead th { text-align: right; vertical-align: bottom; font-size: 0.8em; }
.cmp-totals thead th .cmp-title { display: block; font-weight: 400; opacity: 0.8; }
.cmp-totals tbody th { text-align: left; font-weight: 400; font-size: 0.8em; }
.cmp-totals td { text-align: right; font-weight: 600; white-space: nowrap; }
.cmp-totals td small { font-weight: 400; font-size: 0.7em; opacity: 0.85; margin-left: 0.4em; }
.cmp-shortcuts tbody th { white-space: nowrap; }
.cmp-shortcuts thead th:last-child { text-align: left; }
.cmp-totals td.cmp-where { text-align: left; font-weight: 400; font-size: 0.7em; white-space: normal; }
.cmp-panel-numbers p { font-size: 1.25rem; line-height: 1.35; }
.cmp-panel-numbers b { font-size: 1.5em; font-variant-numeric: tabular-nums; }
.cmp-letter { display: inline-block; min-width: 1.4em; text-align: center; border-radius: 0.3em;
  color: white; font-weight: 700; margin-right: 0.3em; }
</style>"""


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


def letter_badge(i: int) -> str:
    return f'<span class="cmp-letter" style="background: {COLORS[i]}">{LETTERS[i]}</span>'


def totals_frame(labels: list[str], summaries: list[Summary]) -> pd.DataFrame:
    """The exact numbers: one row per metric, one column per architecture (the CSV download)."""
    return pd.DataFrame(
        {label: [getattr(s, m.field) for m in METRICS] for label, s in zip(labels, summaries, strict=True)},
        index=[m.label for m in METRICS],
    )


def totals_html(labels: list[str], summaries: list[Summary]) -> str:
    """The totals as a large HTML table: human numbers, the ratio to A, tinted where they differ from
    A (orange more, blue less); each cell's tooltip holds the exact value. Titles are escaped."""
    head = "".join(
        f'<th>{letter_badge(i)}<span class="cmp-title">{html.escape(label.split(": ", 1)[1])}</span></th>'
        for i, label in enumerate(labels)
    )
    rows = []
    for m in METRICS:
        values = [getattr(s, m.field) for s in summaries]
        ref = values[0]
        cells = []
        for i, v in enumerate(values):
            ratio = v / ref if ref else None
            tip = f"{v:,} {m.unit}" + (f"; ×{ratio:.3f} of A's {ref:,}" if i and ratio is not None else "")
            style, extra = "", ""
            if i and v != ref:
                style = f' style="background: {MORE if v > ref else LESS}"'
                extra = f"<small>×{ratio:.2f}</small>" if ratio is not None else ""
            cells.append(f'<td title="{html.escape(tip)}"{style}>{html.escape(m.show(v))}{extra}</td>')
        rows.append(f"<tr><th>{html.escape(m.label)}</th>{''.join(cells)}</tr>")
    return (
        f'<table class="cmp-totals" data-testid="cmp-totals"><thead><tr><th></th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def arithmetic_text(block: BlockCount) -> str:
    """Every conv's count written out, exactly: weights k·k·c_in·c_out, then × output pixels."""
    rows = "\n".join(f"  {c.name}  {c.params_arithmetic()}" for c in block.convs)
    macs = "\n".join(f"  {c.name}  {c.macs_arithmetic()}" for c in block.convs)
    h, w = block.convs[0].in_hw
    return (
        f"{block.label}\nparameters (conv weights k·k·c_in·c_out):\n{rows}\n  total  {block.params_arithmetic()}\n\n"
        f"multiply-adds on a {h}×{w} map (weights × output pixels):\n{macs}\n  total  {block.macs_arithmetic()}\n"
        f"BatchNorm adds {block.bn_params:,} parameters (scale and shift per channel), not counted above."
    )


# -- the architectures ---------------------------------------------------------------------------


def preset_choice(arch: str) -> Selection:
    spec = PRESETS[arch]
    return Selection(arch, spec, default_input_size(spec))


def apply_pair(pair: Pair) -> None:
    """A classic pair's button: as many rows as it has members, each set to its member."""
    members = pair.specs()
    set_widget("cmp_n", len(members))
    for prefix, (arch, spec) in zip(PREFIXES, members, strict=False):
        choice = Selection(arch, spec, default_input_size(spec))
        set_choice(prefix, choice)
        # A row not drawn yet in this session starts its editor from the URL: the member goes there too.
        write_url({k: None for k in st.query_params if k.startswith(prefix)} | to_query(choice, prefix))


def on_row_preset(prefix: str) -> None:
    """A row's preset select: the editor starts again from that preset."""
    set_choice(prefix, preset_choice(st.session_state[f"cmp_{prefix}preset"]))


def pairs_bar() -> None:
    """How many rows, a button for each of the first classic pairs, and the others under "More pairs"
    (one line at 1280 wide, so four rows and the table's top still fit a projector's 720 px)."""
    pairs = classic_pairs()
    with st.container(horizontal=True, vertical_alignment="center", gap="small"):
        st.markdown("**Side by side:**", width="content")
        st.segmented_control(
            "Architectures",
            [2, 3, 4],
            key="cmp_n",
            label_visibility="collapsed",
            help="How many to compare side by side (A is the reference).",
        )
        st.markdown("**Pairs:**", width="content")
        for i, pair in enumerate(pairs[:FEATURED_PAIRS]):
            st.button(pair.label, key=f"cmp_pair_{i}", help=pair.why, on_click=apply_pair, args=(pair,))
        if len(pairs) > FEATURED_PAIRS:
            with st.popover("More pairs", icon=":material/more_horiz:"):
                for i, pair in enumerate(pairs[FEATURED_PAIRS:], start=FEATURED_PAIRS):
                    st.button(
                        pair.label,
                        key=f"cmp_pair_{i}",
                        help=pair.why,
                        on_click=apply_pair,
                        args=(pair,),
                        width="stretch",
                    )


def architecture_row(i: int, default_arch: str) -> Selection:
    """Row ``i``: its letter, a preset select, the "Edit" popover with the whole editor, and what is shown."""
    prefix = PREFIXES[i]
    badge, preset_col, edit_col, info_col = st.columns([0.25, 1.7, 1.1, 3.3], vertical_alignment="center")
    with edit_col, st.popover("Edit", icon=":material/tune:", width="stretch", help="Every field of the spec."):
        choice = spec_editor(prefix, sidebar=False, default_arch=default_arch, title=f"{LETTERS[i]}: every field")
    key = f"cmp_{prefix}preset"
    if st.session_state.get(key) != choice.arch:  # follows the editor (its own preset select, a pair, a link)
        set_widget(key, choice.arch)
    with badge:
        st.html(letter_badge(i))
    with preset_col:
        st.selectbox(
            f"{LETTERS[i]}: preset",
            list(PRESETS),
            key=key,
            on_change=on_row_preset,
            args=(prefix,),
            label_visibility="collapsed",
            help="A named architecture; Edit changes any field on top of it.",
        )
    with info_col:
        st.html(f'<div class="cmp-row-title">{html.escape(choice.title)} · input {size_text(choice.input_size)}</div>')
    for notice in link_notices(prefix):
        st.warning(literal(f"{LETTERS[i]}: {notice}"), icon=":material/link:")
    return choice


def chosen_architectures() -> list[Selection]:
    """The pairs bar and one row per architecture, A first; the query parameters of rows no
    longer shown leave the URL."""
    url_param("cmp_n", "n", DEFAULT_N, _parse_count)
    pairs_bar()
    n = st.session_state.get("cmp_n") or DEFAULT_N  # a segmented control can be clicked off
    write_url({"n": str(n)})
    write_url({k: None for k in st.query_params if k[:2] in PREFIXES[n:]})
    with st.container(gap="xsmall"):  # four rows and the table's top on a 1280×720 screen
        return [architecture_row(i, arch) for i, arch in enumerate(DEFAULT_ARCHS[:n])]


def analyses_of(labels: list[str], choices: list[Selection]) -> list[Analysis] | None:
    """Every choice's analysis, or None (each failure shown as an error naming its letter)."""
    analyses = []
    for label, choice in zip(labels, choices, strict=True):
        try:
            analyses.append(get_analysis(choice.spec, choice.input_size))
        except ValueError as e:
            show_error(e, f"change {label[0]}'s input size or layers (its Edit button).")
    return analyses if len(analyses) == len(choices) else None


def totals_section(labels: list[str], summaries: list[Summary]) -> None:
    # On a narrow window (presentation size, sidebar open) the table scrolls sideways instead of being cut.
    st.html(TABLE_CSS + f'<div class="cmp-scroll">{totals_html(labels, summaries)}</div>')
    inputs = " · ".join(f"{lab[0]} at {size_text(s.input_hw)}" for lab, s in zip(labels, summaries, strict=True))
    left, right = st.columns([4, 1], vertical_alignment="center")
    left.caption(
        f"Input sizes: {inputs}. MACs = multiply-adds of conv and fc layers for one image (torchvision's "
        "'GFLOPS', the paper's 'FLOPs'); tinted cells differ from A (orange more, blue less), with the ratio "
        "to A. Point at a number for its exact value."
    )
    right.download_button(
        "Totals (CSV, exact)",
        totals_frame(labels, summaries).to_csv(index_label="metric"),
        file_name="compare_totals.csv",
        mime="text/csv",
        key="cmp_totals_csv",
        icon=":material/download:",
    )


def cost_cells(delta: int, unit: str) -> str:
    """One cell of the shortcut-cost table: the signed human difference, the exact one in its tooltip."""
    text = "0" if delta == 0 else ("+" if delta > 0 else "−") + count(abs(delta))
    return f'<td title="{html.escape(f"{delta:+,} {unit}")}">{html.escape(text)}</td>'


def shortcut_html(costs: list[tuple[int, int, ShortcutCost]]) -> str:
    """Each residual row against its plain counterpart: what the totals gained, and from where."""
    rows = []
    for plain, residual, cost in costs:
        where = [f"{cost.adds} additions (one per element of each block's output), no weights"]
        if cost.projections:
            where.append(
                f"{cost.projections} projection shortcuts (1×1 conv + BatchNorm): exactly their "
                f"{count(cost.shortcut_params)} parameters and {count(cost.shortcut_macs)} multiply-adds"
            )
        elif cost.shortcut_other_ops == 0:
            where.append("identity and zero-padding shortcuts: nothing to count")
        if not cost.explained:  # ShortcutCost.of says what the difference is made of; it should add up
            where.append("the totals differ by more than the adds and shortcuts: please report this pair")
        rows.append(
            f"<tr><th>{letter_badge(residual)} − {letter_badge(plain)}</th>"
            + cost_cells(cost.params, "parameters")
            + cost_cells(cost.macs, "multiply-adds")
            + cost_cells(cost.other_ops, "other ops")
            + f'<td class="cmp-where">{html.escape("; ".join(where))}</td></tr>'
        )
    return (
        '<table class="cmp-totals cmp-shortcuts" data-testid="cmp-shortcuts"><thead><tr><th></th>'
        "<th>Parameters</th><th>Multiply-adds</th><th>Other ops</th><th>Where the difference is</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def shortcut_section(analyses: list[Analysis]) -> None:
    """When a plain net and the same net with shortcuts are both chosen: what the shortcuts cost."""
    costs = shortcut_costs(analyses)
    if not costs:
        return
    st.subheader("What the shortcuts cost")
    st.html(shortcut_html(costs))
    st.caption(
        "Differences of the totals above, each read from the two analyses. He et al. 2015 (arXiv:1512.03385), "
        '§4.1: with option A "the ResNets have no extra parameter compared to their plain counterparts"; '
        "option B (§3.3) projects only where the shape changes, and those projections are all it adds."
    )


def stages_section(labels: list[str], choices: list[Selection], analyses: list[Analysis]) -> None:
    st.subheader("Per stage")
    splits = [stage_split(a) for a in analyses]
    short = [f"{lab[0]}: {short_title(c.title)}" for lab, c in zip(labels, choices, strict=True)]
    with st.container(key="cmp_stage_bars"):
        st.html(stage_bars_html(short, splits, ((0, "Parameters", "parameters"), (1, "Multiply-adds", "MACs"))))
    st.caption(
        "Each bar is one architecture split by stage, to the scale of the longest; point at a stage for its count."
    )


# -- the family scatter, computed off the page's first paint ------------------------------------


@dataclass
class Family:
    """Every preset's totals at the input size it was designed for, filled in by a background thread."""

    names: tuple[str, ...]
    summaries: dict[str, Summary] = field(default_factory=dict)
    error: str | None = None

    def run(self) -> None:
        try:
            for name in self.names:
                spec = PRESETS[name]
                self.summaries[name] = Summary.of(analyze(spec, default_input_size(spec)))
        except Exception as e:  # shown on the page instead of dying with the thread
            self.error = f"{type(e).__name__}: {e}"

    @property
    def done(self) -> bool:
        return self.error is not None or len(self.summaries) == len(self.names)


@st.cache_resource(show_spinner=False)
def family(names: tuple[str, ...]) -> Family:
    """One job per server process (and per set of presets), shared by every session."""
    job = Family(names)
    # Not a daemon (a new thread would inherit the script thread's daemon flag): a daemon thread still
    # inside torch when the interpreter exits aborts the process, so exit waits for the job (seconds).
    threading.Thread(target=job.run, name="compare-family", daemon=False).start()
    return job


@st.fragment(run_every=0.5)
def family_progress(names: tuple[str, ...]) -> None:
    """While the presets are analysed: their progress, polled; when done, the page runs again and draws the chart."""
    job = family(names)
    if job.done:
        st.rerun()
    st.progress(
        len(job.summaries) / len(names),
        text=f"Analysing every preset for the scatter: {len(job.summaries)} of {len(names)} done…",
    )


def scatter_section(labels: list[str], choices: list[Selection], summaries: list[Summary]) -> None:
    st.subheader("The family: parameters against multiply-adds")
    st.caption("Each preset at the input size it was designed for (ImageNet 224, CIFAR 32); A … D as chosen.")
    names = tuple(PRESETS)
    job = family(names)
    if not job.done:
        family_progress(names)
        return
    if job.error:
        st.error(f"The presets could not all be analysed: {job.error}", icon=":material/error:")
        family.clear()  # try again on the next run
        return
    chosen = [(lab[0], c.title, s) for lab, c, s in zip(labels, choices, summaries, strict=True)]
    st.plotly_chart(preset_scatter(job.summaries, chosen), key="cmp_scatter", width="stretch")


# -- the bottleneck panel ------------------------------------------------------------------------


def panel_controls() -> tuple[int, int]:
    """The panel's block width and map side (state in ``panel_width`` / ``panel_map``)."""
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


def block_drawing(design: str, width: int, map_size: int, title: str) -> None:
    """One design drawn op by op from the analysis of ``panel_network`` (BatchNorm and every ReLU but
    the last left out, ``block_figure(compact=True)``), in the
    diagram view the explainer uses: laid out by ``dot`` on the server where it is installed (the
    labels at the sizes the layout was made for), each box's numbers on hover, zoom and fullscreen."""
    a = get_analysis(panel_network(design, width), map_size)
    st.markdown(f"**{title}**")
    kind = next(b.shortcut for b in a.blocks if b.name == PANEL_BLOCK)
    legend = [item for item in node_details(a, DiagramOptions(level="stage")).legend() if item[1] == kind]
    diagram_view(
        dot=block_figure(a, PANEL_BLOCK, compact=True),
        key=f"cmp_block_{design}",
        nodes=figure_details(a, PANEL_BLOCK, compact=True),
        legend=legend,
        selectable=False,
    )


def classic_panel_section() -> None:
    st.subheader("A bottleneck block against two 3×3 convs")
    width, map_size = panel_controls()
    try:
        blocks = classic_panel(width, map_size)
    except ValueError as e:
        show_error(e, "pick a multiple of 4 for the width.")
        return
    by_design = dict(zip(DESIGNS, blocks, strict=True))
    bottleneck, two_3x3, quarter = by_design["bottleneck"], by_design["two_3x3"], by_design["basic_quarter"]
    # The two drawings beside the numbers they make, so the panel's point fits one screen.
    left, middle, numbers = st.columns([1, 1, 1.2], vertical_alignment="center")
    with left:
        block_drawing("bottleneck", width, map_size, f"Bottleneck, {width}-d")
    with middle:
        block_drawing("two_3x3", width, map_size, f"Two 3×3 convs, {width}-d")
    with numbers:
        st.html(
            TABLE_CSS + f'<div class="cmp-panel-numbers"><p>Parameters<br><b>{count(bottleneck.params)}</b> against '
            f"<b>{count(two_3x3.params)}</b> (×{two_3x3.params / bottleneck.params:.1f})</p>"
            f"<p>Multiply-adds on a {map_size}×{map_size} map<br><b>{count(bottleneck.macs)}</b> against "
            f"<b>{count(two_3x3.macs)}</b> (×{two_3x3.macs / bottleneck.macs:.1f})</p></div>"
        )
    st.plotly_chart(block_bars(blocks), key="cmp_block_bars", width="stretch")
    st.caption(
        f"Sources: He et al. 2015 (arXiv:1512.03385), §4.1 and Fig. 5, draw a 64-d basic block (left) beside "
        f"a 256-d bottleneck (right) and say the two have similar time complexity; here that pair is the "
        f"{width}-d bottleneck and the {width // 4}-d basic block. The two 3×3 convs at {width}-d are this "
        f"project's own comparison, not a figure of the paper: the bottleneck's saving at the same width. "
        f"Each count is read from the library's own Bottleneck and BasicBlock modules (conv.weight.numel()); "
        f"the {width}-d bottleneck carries {width}-d features between blocks at ×{quarter.macs / bottleneck.macs:.2f} "
        f"the {width // 4}-d basic block's multiply-adds."
    )
    with st.expander("The arithmetic, conv by conv"):
        for block in blocks:
            st.code(arithmetic_text(block), language=None, wrap_lines=True)


def main() -> None:
    """The Compare page: the workbench rows, the totals, per-stage bars, the bottleneck panel, the family scatter."""
    st.title("Compare architectures")
    choices = chosen_architectures()
    labels = [f"{letter}: {c.title}" for letter, c in zip(LETTERS, choices, strict=False)]
    analyses = analyses_of(labels, choices)
    summaries = [Summary.of(a) for a in analyses] if analyses is not None else None
    if analyses is not None and summaries is not None:
        totals_section(labels, summaries)
        shortcut_section(analyses)
        stages_section(labels, choices, analyses)
    if not first_screen_drawn("compare"):  # the panel's drawings and the charts load big libraries: after
        st.caption("The bottleneck panel and the family scatter follow in a moment…")
        return
    st.divider()
    classic_panel_section()
    if analyses is not None and summaries is not None:
        st.divider()
        scatter_section(labels, choices, summaries)
