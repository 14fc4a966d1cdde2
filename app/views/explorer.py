"""Architecture explorer: one network's numbers, its interactive diagram, its per-layer table, and downloads.

The sidebar (``app.widgets.spec_editor``) gives the spec; everything shown comes from
``resnet_core.analyze`` (cached on the spec) and ``resnet_core.diagram``. Page state beyond the
spec (diagram level, unfolded stages, annotations, the selected box, table options) lives in the
URL too, so a link such as ``/explorer?arch=resnet50&stride_on=1x1&unfold=layer3&sel=layer3.0``
restores the whole view, the selection included.

The picture comes first: one row of headline numbers, one row of diagram controls, then the
diagram (``app.components.diagram_view``: zoom, pan, hover, click) with the selection's details
beside it. Numbers are for people (``resnet_core.units``: 25.6 M, 143 MiB) with the exact value in
each tooltip; the table has an "Exact numbers" switch and the downloads are exact.
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

from app.components.diagram_view import DiagramEvent, diagram_view
from app.formatting import shape_text, size_text
from app.sync import set_widget
from app.widgets import (
    get_analysis,
    literal,
    parse_choice,
    parse_list,
    query_value,
    remember,
    show_error,
    spec_editor,
    url_param,
    write_url,
)
from resnet_core import diagram, export
from resnet_core.analysis import Analysis, LayerRecord
from resnet_core.geometry import Field, field_after
from resnet_core.memo import memoize
from resnet_core.receptive_field import Step, receptive_field_steps
from resnet_core.selection import Selection, format_input_size
from resnet_core.spec import PRESETS, ResNetSpec
from resnet_core.units import byte_size, count

CONVENTION = (
    "**MACs** = multiply-accumulates of conv + linear layers for one image; **FLOPs = 2 × MACs** "
    "(torchvision's “GFLOPS” and the paper's “FLOPs” are MACs). BatchNorm, ReLU, adds and pooling are "
    "counted apart (*other ops* in the table). **Depth**: conv + linear layers on the main path."
)
LEVELS = diagram.LEVELS
LEVEL_TEXT = {"stage": "stages", "block": "blocks", "layer": "layers"}
ANNOTATIONS = diagram.ANNOTATIONS
ANNOTATION_TEXT = {"shape": "output shape", "params": "parameters", "macs": "MACs", "rf": "receptive field"}
DEFAULT_LEVEL = "block"
RENDERERS = ("server", "browser")
RENDERER_TEXT = {"server": "dot (server)", "browser": "browser"}
DIRECTION_TEXT = {"TB": "↓ down", "LR": "→ across"}
DEFAULT_ANNOTATIONS = [a for a in ANNOTATIONS if a in diagram.DEFAULT_ANNOTATIONS]
DIAGRAM_KEY = "explorer_diagram"
SEL_KEY = "explorer_sel"  # the selected box's name (a stage, block or layer), or None
SEL_NOTICE_KEY = "explorer_sel_notice"
DRAWN_KEY = "explorer_drawn"  # the DiagramOptions drawn last run: what a click on a box refers to
#: Table columns that count things: shown as 25.6 M (or 143 MiB) unless "Exact numbers" is on.
COUNT_COLUMNS = ("params", "MACs", "other ops")
BYTES_COLUMN = "activation"
# Smaller metric values than Streamlit's 2.25 rem, so that the six headline numbers fit one row at
# 1280 px and the diagram starts high on the screen (issue 13: its top edge in the first 40 %).
PAGE_CSS = (
    "<style>[data-testid='stMetricValue'] { font-size: 1.6rem; }"
    " h1 { font-size: 2.1rem !important; padding: 0 0 0.4rem !important; }"
    " [data-testid='stCode'] code { font-size: 0.8rem; }</style>"
)


# -- cached derived data -------------------------------------------------------------------------


@memoize("explorer.layer_table")
def layer_table(spec: ResNetSpec, input_size: int | tuple[int, int], exact: bool) -> pd.DataFrame:
    """One row per leaf module, in execution order. ``exact``: numbers stay numbers (sortable, every
    digit); otherwise counts read 25.6 M and bytes 143 MiB (three significant digits)."""
    a = get_analysis(spec, input_size)
    params = [r.params for r in a.layers]
    macs = [r.macs for r in a.layers]
    other = [r.other_ops for r in a.layers]
    activation = [r.activation_bytes for r in a.layers]
    if not exact:
        params, macs, other = ([count(n) for n in column] for column in (params, macs, other))
        activation = [byte_size(n) for n in activation]
    return pd.DataFrame(
        {
            "#": [r.index for r in a.layers],
            "layer": [r.name for r in a.layers],
            "kind": [r.kind for r in a.layers],
            "stage": [r.stage for r in a.layers],
            "path": [r.path for r in a.layers],
            "output": [shape_text(r.output_shape) for r in a.layers],
            "params": params,
            "MACs": macs,
            "other ops": other,
            BYTES_COLUMN: activation,
            "kernel": pd.array([r.kernel for r in a.layers], dtype="Int64"),
            "stride": pd.array([r.stride for r in a.layers], dtype="Int64"),
            "RF": [r.rf for r in a.layers],
            "jump": [r.jump for r in a.layers],
        }
    )


@memoize("explorer.csv_text")
def csv_text(spec: ResNetSpec, input_size: int | tuple[int, int]) -> str:
    """One row per layer, in ``resnet_core.export``'s CSV schema (the CLI's, rows of level "layer" alone)."""
    return export.csv_text(export.layer_rows(get_analysis(spec, input_size)))


@memoize("explorer.json_text")
def json_text(spec: ResNetSpec, input_size: int | tuple[int, int], arch: str) -> str:
    """``resnet_core.export``'s JSON: byte for byte what ``python -m resnet_core summary … --format json`` prints."""
    return export.json_text(get_analysis(spec, input_size), arch)


@memoize("explorer.dot_text")
def dot_text(spec: ResNetSpec, input_size: int | tuple[int, int], options: diagram.DiagramOptions) -> str:
    return diagram.to_dot(get_analysis(spec, input_size), options)


@memoize("explorer.node_details")
def node_details(
    spec: ResNetSpec, input_size: int | tuple[int, int], options: diagram.DiagramOptions
) -> diagram.NodeDetails:
    return diagram.node_details(get_analysis(spec, input_size), options)


@memoize("explorer.rendered")
def rendered(dot: str, fmt: str) -> bytes:
    return diagram.render(dot, fmt)


# -- the headline ----------------------------------------------------------------------------------


def headline(a: Analysis) -> None:
    """The six headline numbers in one row, human-formatted; each metric's help holds the exact value."""
    t = a.totals
    rf = a.final_field.rf
    cols = st.columns(6, gap="small")
    cols[0].metric("Parameters", count(t.params), help=f"{t.params:,} trainable parameters")
    cols[1].metric("MACs", count(t.macs), help=f"{t.macs:,} multiply-accumulates (conv + linear, one image)")
    cols[2].metric("FLOPs", count(t.flops), help=f"{t.flops:,} = 2 × MACs")
    cols[3].metric("Depth", f"{a.weighted_depth:,}", help="weighted layers: conv + linear on the main path")
    cols[4].metric(
        "Receptive field", f"{rf:,} px", help=f"{rf:,} input pixels: the field of {a.final_field.name}'s output"
    )
    cols[5].metric(
        "Activations", byte_size(t.activation_bytes), help=f"{t.activation_bytes:,} bytes of layer outputs, float32"
    )


def conventions(a: Analysis, choice: Selection) -> None:
    h, w = a.input_shape[2:]
    rf = a.final_field.rf
    note = ""
    if rf > max(h, w):
        note = f" The final receptive field ({rf:,} px) exceeds the {h}×{w} input: part of it lies in the padding."
    st.caption(f"Input {size_text(choice.input_size)}, one image, float32. " + CONVENTION + note)


# -- the diagram -----------------------------------------------------------------------------------


def default_renderer() -> str:
    return "server" if diagram.dot_available() else "browser"


def diagram_controls(a: Analysis) -> diagram.DiagramOptions:
    """One row of controls (the rarer ones in a popover); their state is in the URL. Returns what was asked."""
    stages = [s.name for s in a.stages if s.blocks]
    url_param("level", "level", DEFAULT_LEVEL, parse_choice(LEVELS))
    url_param("unfold", "unfold", [], parse_list(stages))
    url_param("annot", "annot", list(DEFAULT_ANNOTATIONS), parse_list(ANNOTATIONS))
    url_param("rankdir", "dir", "TB", parse_choice(diagram.RANKDIRS))
    url_param("renderer", "draw", default_renderer(), parse_choice(RENDERERS))
    # stages that the current network lacks (layer4 after switching to a CIFAR net) drop out
    kept = [s for s in st.session_state["unfold"] if s in stages]
    if kept != st.session_state["unfold"]:
        set_widget("unfold", kept)
    # One row, labels hidden (the options say what they are; each keeps its label for screen readers).
    c_level, c_dir, c_unfold, c_more = st.columns([3.3, 2.6, 4.1, 1.9], vertical_alignment="center")
    level = c_level.segmented_control(
        "Level", LEVELS, key="level", format_func=LEVEL_TEXT.get, required=True, label_visibility="collapsed"
    )
    rankdir = c_dir.segmented_control(
        "Direction",
        diagram.RANKDIRS,
        key="rankdir",
        format_func=DIRECTION_TEXT.get,
        required=True,
        label_visibility="collapsed",
    )
    unfold = c_unfold.multiselect(
        "Unfold stages",
        stages,
        key="unfold",
        placeholder="Unfold stages (runs of identical blocks fold into “× n”)",
        label_visibility="collapsed",
    )
    with c_more.popover("Options", icon=":material/tune:", width="stretch"):
        annotations = st.pills(
            "Annotations",
            ANNOTATIONS,
            key="annot",
            selection_mode="multi",
            format_func=ANNOTATION_TEXT.get,
            help="what is written on each box and edge",
        )
        drawn_by = st.segmented_control(
            "Laid out by",
            RENDERERS,
            key="renderer",
            format_func=RENDERER_TEXT.get,
            required=True,
            help="Graphviz's dot on the server (needs Debian's graphviz) or Graphviz compiled to WebAssembly "
            "in the browser (slower; always available)",
        )
    # A required control can still read None for a moment under rapid clicks (issue 15): keep the default.
    level = level or DEFAULT_LEVEL
    rankdir = rankdir or "TB"
    drawn_by = drawn_by or default_renderer()
    remember("level", "unfold", "annot", "rankdir", "renderer")
    write_url(
        {
            "level": None if level == DEFAULT_LEVEL else level,
            "unfold": ",".join(unfold) or None,
            "annot": None if list(annotations) == DEFAULT_ANNOTATIONS else ",".join(annotations),
            "dir": None if rankdir == "TB" else rankdir,
            "draw": None if drawn_by == default_renderer() else drawn_by,
        }
    )
    return diagram.DiagramOptions(
        level=level,  # type: ignore[arg-type]
        unfold=tuple(unfold),
        annotations=frozenset(annotations),
        rankdir=rankdir,  # type: ignore[arg-type]
        legend=False,
        title="",  # the page's title is above the diagram
    )


def selection_from_link(a: Analysis) -> None:
    """On a session's first run, the selection comes from the link's ``sel=``; a name the network does
    not have is dropped with a notice that quotes it as it was typed."""
    if SEL_KEY in st.session_state:
        return
    wanted = query_value("sel")
    st.session_state[SEL_KEY] = None
    if wanted is None:
        return
    if diagram.find(a, wanted) is None:
        st.session_state[SEL_NOTICE_KEY] = (
            f"Ignored sel from the link: “{literal(wanted)}” is not a stage, block or layer of this network "
            f"(stages are {', '.join(s.name for s in a.stages)}; blocks read like {a.blocks[0].name}, "
            f"layers like {a.blocks[0].layers[0].name})."
        )
    else:
        st.session_state[SEL_KEY] = wanted


def current_selection(a: Analysis) -> str | None:
    """The selection, or None; one the network no longer has (another preset was chosen) is dropped."""
    sel = st.session_state.get(SEL_KEY)
    if sel is not None and diagram.find(a, sel) is None:
        sel = st.session_state[SEL_KEY] = None
    return sel


def on_diagram_event(event: DiagramEvent) -> None:
    """A click in the diagram, before the rerun: select the box, or fold / unfold its stage (the
    "Unfold stages" control's own state, so the two stay one)."""
    st.session_state.pop(SEL_NOTICE_KEY, None)
    if event.kind == "select":
        st.session_state[SEL_KEY] = event.node
        return
    drawn: diagram.DiagramOptions | None = st.session_state.get(DRAWN_KEY)
    details: diagram.NodeDetails | None = st.session_state.get(DRAWN_KEY + "_details")
    if drawn is None or details is None or event.node not in details.toggles:
        return
    stage = details.toggles[event.node]
    unfold = [s for s in st.session_state.get("unfold", []) if s != stage]
    if stage not in drawn.unfold:
        unfold.append(stage)  # the latest unfolded stage is the last one the node budget folds again
    set_widget("unfold", unfold)


def diagram_section(a: Analysis, choice: Selection) -> diagram.DiagramOptions:
    """Controls, the diagram and the selection's details beside it; returns the options drawn."""
    asked = diagram_controls(a)
    renderer = st.session_state.get("renderer") or default_renderer()
    layout = "server" if renderer == "server" and diagram.dot_available() else "browser"
    budget = diagram.within_budget(a, asked, diagram.NODE_BUDGET[layout])
    if budget.note:
        st.info(budget.note, icon=":material/account_tree:")
    drawn = budget.options
    details = node_details(choice.spec, choice.input_size, drawn)
    st.session_state[DRAWN_KEY] = drawn
    st.session_state[DRAWN_KEY + "_details"] = details
    selection_from_link(a)
    if SEL_NOTICE_KEY in st.session_state:
        st.warning(st.session_state[SEL_NOTICE_KEY], icon=":material/link:")
    sel = current_selection(a)
    write_url({"sel": sel})
    if asked.level == "stage" and asked.unfold:
        st.caption("Unfolding shows at the block and layer levels; the stage level draws one box per stage.")

    # The diagram as wide as 1280 px allows with the details beside it: ResNet-50's block level (596 pt
    # wide) then fits across at its legible scale, with no sideways scrolling.
    left, right = st.columns([7, 3], gap="small")
    with left:
        dot = dot_text(choice.spec, choice.input_size, drawn)
        try:
            diagram_view(
                dot=dot,
                key=DIAGRAM_KEY,
                nodes=details.rows,
                toggles=details.hints,
                selected=diagram.node_of(a, drawn, sel) if sel else None,
                legend=details.legend(),
                layout=layout,
                on_event=on_diagram_event,
            )
        except diagram.GraphvizError as e:
            show_error(e, "choose fewer unfolded stages or a coarser level.")
    with right:
        details_panel(a, sel)
    return drawn


# -- the selection's details -------------------------------------------------------------------------


def details_panel(a: Analysis, sel: str | None) -> None:
    """What the selected box is: its numbers, its layers' parameter arithmetic, its receptive-field steps."""
    found = diagram.find(a, sel) if sel else None
    if found is None:
        st.markdown(
            "**Click a box** to see its layers, how its parameters add up and how it grows the receptive field."
        )
        st.caption("Click a “× n” box or a stage's frame to unfold or fold it. Drag to pan; wheel or +/− to zoom.")
        return
    kind, item = found
    rows: dict[str, str]
    if kind == "stage":
        rows = diagram.stage_rows(item)  # type: ignore[arg-type]
        records = item.layers
    elif kind == "block":
        rows = diagram.run_rows((item,))  # type: ignore[arg-type]
        records = item.layers
    elif kind == "branch":  # a block's channel attention (SE/ECA)
        rows = diagram.attention_rows((item.of,))  # type: ignore[union-attr]
        records = item.layers
    else:
        block = next((b for b in a.blocks if b.name == item.block), None)  # type: ignore[union-attr]
        rows = diagram.layer_rows(item, block)  # type: ignore[arg-type]
        records = (item,)
    st.markdown(f"**{kind} `{sel}`**  \n" + "  \n".join(f"{label}: {literal(value)}" for label, value in rows.items()))
    st.markdown("**Parameters**")
    st.code(parameter_arithmetic(a, kind, item), language=None, wrap_lines=True)
    st.markdown("**Receptive field**")
    st.code(
        field_arithmetic(a, records, f"{sel}." if kind in ("block", "branch") else ""), language=None, wrap_lines=True
    )
    st.button("Clear selection", key="clear_sel", on_click=lambda: st.session_state.update({SEL_KEY: None}))


def parameter_arithmetic(a: Analysis, kind: str, item) -> str:
    """The selection's parameter count as a sum: one line per layer with parameters ("conv1 3×3:
    64·64·3·3 = 36,864"), for a stage one line per run of identical blocks; then the total."""
    lines: list[str] = []
    if kind == "stage" and item.blocks:
        for run in diagram.block_runs(item, diagram.DiagramOptions()):
            b, n = run[0], len(run)
            head = b.name if n == 1 else f"{b.name} … {run[-1].name}"
            lines.append(f"{head}: " + (f"{n:,} × {b.params:,} = " if n > 1 else "") + f"{n * b.params:,}")
        total = item.params
    else:
        records = item.layers if kind != "layer" else (item,)
        prefix = f"{item.name}." if kind in ("block", "branch") else ""
        for name, formula, n in diagram.param_sum(records):
            lines.append(f"{name.removeprefix(prefix)}: " + (f"{formula} = " if formula else "") + f"{n:,}")
        total = sum(r.params for r in records)
    if not lines:
        return "no parameters"
    if len(lines) > 1:
        lines.append(f"sum = {total:,} ({count(total)})")
    return "\n".join(lines)


def field_arithmetic(a: Analysis, records: tuple[LayerRecord, ...], prefix: str = "") -> str:
    """How the receptive field grows through ``records`` (a layer, a block or a stage), step by step:
    rf' = rf + (k − 1)·d·jump and jump' = jump·s from the field before (``resnet_core.geometry``);
    an addition that widens it takes the union with the shortcut's field. Names lose ``prefix``."""
    names = {r.name for r in records}
    steps = receptive_field_steps(a, records[-1].name)
    first = next((i for i, s in enumerate(steps) if s.name in names), None)
    if first is None:
        return f"unchanged: rf {records[-1].rf:,} px, jump {records[-1].jump:,}"
    before = steps[first - 1]
    lines = [f"before: rf {before.rf:,} px, jump {before.jump:,}"]
    previous = before
    for step in steps[first:]:
        lines.append(step_text(previous, step, step.name.removeprefix(prefix)))
        previous = step
    if len(lines) > 40:  # a long stage: its first and last steps
        lines = [*lines[:20], f"… {len(lines) - 40:,} more steps …", *lines[-20:]]
    return "\n".join(lines)


def step_text(before: Step, step: Step, short: str) -> str:
    """One step of the receptive field's recurrence (``short``: the layer's name as shown), its numbers
    filled in from the step before."""
    if step.note:  # an addition: the union of the two paths' fields
        return f"{short}: {step.note} → rf {step.rf:,}, jump {step.jump:,}"
    computed = field_after(
        Field(before.rf, before.jump, before.padding), step.kernel, step.stride, step.dilation, step.pad
    )
    k_eff = step.dilation * (step.kernel - 1) + 1
    window = f"{step.kernel}×{step.kernel}" + (f" s{step.stride}" if step.stride > 1 else "")
    window += f" d{step.dilation}" if step.dilation > 1 else ""
    if (computed.rf, computed.jump) != (step.rf, step.jump):  # never expected: show the records' numbers alone
        return f"{short} {window}: rf {step.rf:,}, jump {step.jump:,}"
    return f"{short} {window}: {before.rf:,} + {k_eff - 1}·{before.jump:,} = {step.rf:,}" + (
        f", jump {before.jump:,}·{step.stride} = {step.jump:,}" if step.stride > 1 else ""
    )


# -- the table and the downloads -------------------------------------------------------------------


def selected_layers(a: Analysis, sel: str) -> set[str]:
    """The layer names the table shows for a selection: a stage's or a block's layers, a layer's block."""
    kind, item = diagram.find(a, sel)  # type: ignore[misc]
    if kind == "layer":
        group = next((b for b in a.blocks if b.name == item.block), None) or a.stage(item.stage)  # type: ignore[union-attr]
        return {r.name for r in group.layers}
    return {r.name for r in item.layers}  # type: ignore[union-attr]


def table_section(choice: Selection, a: Analysis, sel: str | None) -> None:
    url_param("exact_numbers", "exact", False, parse_flag)
    stages = [s.name for s in a.stages]
    url_param("stage_filter", "stage", "all stages", parse_choice(("all stages", *stages)))
    if st.session_state["stage_filter"] not in ("all stages", *stages):
        set_widget("stage_filter", "all stages")
    left, middle, right = st.columns([2, 2, 5], vertical_alignment="bottom")
    stage = left.selectbox("Stage", ("all stages", *stages), key="stage_filter", disabled=sel is not None)
    exact = middle.toggle(
        "Exact numbers",
        key="exact_numbers",
        help="every digit, and columns that sort by value; off: three significant digits and a unit "
        f"({count(a.totals.params)}, {byte_size(a.totals.activation_bytes)})",
    )
    remember("stage_filter", "exact_numbers")
    write_url({"stage": None if stage == "all stages" else stage, "exact": "1" if exact else None})
    df = layer_table(choice.spec, choice.input_size, exact)
    if sel is not None:
        shown = df[df["layer"].isin(selected_layers(a, sel))]
        what = f"the layers of {sel}" if diagram.find(a, sel)[0] != "layer" else f"the block around {sel}"  # type: ignore[index]
        right.caption(f"{len(shown):,} of {len(df):,} layers: {what}, the selection. Clear it to see every layer.")
    else:
        shown = df if stage == "all stages" else df[df["stage"] == stage]
        right.caption(
            f"{len(shown):,} of {len(df):,} layers. RF = receptive field of the layer's output in input pixels; "
            "jump = input pixels between neighbouring output units."
            + ("" if exact else " Switch on exact numbers to sort by value.")
        )
    number = st.column_config.NumberColumn
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        placeholder="",
        height=min(420, 38 + 35 * len(shown)),
        key="layer_table",
        column_config={
            "#": number("#", format="%d", width="small"),
            "params": count_column("params", exact),
            "MACs": count_column("MACs", exact),
            "other ops": count_column("other ops", exact, "BatchNorm, ReLU, add, pooling"),
            BYTES_COLUMN: count_column(BYTES_COLUMN, exact, "bytes of the layer's output for one image, float32"),
            "kernel": number("kernel", format="%d", width="small"),
            "stride": number("stride", format="%d", width="small"),
            "RF": number("RF", format="localized", width="small"),
            "jump": number("jump", format="localized", width="small"),
        },
    )


def count_column(name: str, exact: bool, help_text: str | None = None):
    """A count's column: every digit, sortable by value (``exact``), or the human text as it is."""
    if exact:
        return st.column_config.NumberColumn(name, format="localized", help=help_text)
    return st.column_config.TextColumn(name, help=(help_text + "; " if help_text else "") + "exact: switch on above")


def parse_flag(text: str) -> bool:
    """A ``url_param`` parse for a switch written ``1`` in the link when on."""
    if text != "1":
        raise ValueError(f"{text!r} is not allowed: 1 (on) or leave it out (off)")
    return True


def downloads(choice: Selection, dot: str) -> None:
    """CSV and JSON of the analysis, the diagram as DOT, and (with Graphviz's dot) as SVG and PNG.

    The files are made when a button is clicked (callables), so a rerun renders nothing; they hold
    exact numbers, and the diagram files carry its title and legend.
    """
    spec, size = choice.spec, choice.input_size
    stem = choice.arch + ("_modified" if spec != PRESETS[choice.arch] else "") + f"_{format_input_size(size)}"
    cols = st.columns(5)
    cols[0].download_button(
        "CSV (layers)", lambda: csv_text(spec, size), f"{stem}_layers.csv", "text/csv", key="dl_csv", on_click="ignore"
    )
    cols[1].download_button(
        "JSON (all)",
        lambda: json_text(spec, size, choice.arch),
        f"{stem}.json",
        "application/json",
        key="dl_json",
        on_click="ignore",
    )
    cols[2].download_button("DOT", dot, f"{stem}.gv", "text/vnd.graphviz", key="dl_dot", on_click="ignore")
    if diagram.dot_available():
        cols[3].download_button(
            "SVG", lambda: rendered(dot, "svg"), f"{stem}.svg", "image/svg+xml", key="dl_svg", on_click="ignore"
        )
        cols[4].download_button(
            "PNG", lambda: rendered(dot, "png"), f"{stem}.png", "image/png", key="dl_png", on_click="ignore"
        )
    else:
        st.info(
            "SVG and PNG export need Graphviz's `dot` (Debian package graphviz), which is not installed here; "
            "the DOT file opens in any Graphviz viewer."
        )


def main() -> None:
    choice = spec_editor()
    st.html(PAGE_CSS)
    st.title(choice.title)
    try:
        a = get_analysis(choice.spec, choice.input_size)
    except ValueError as e:
        show_error(e, "change the input size or the network in the sidebar.")
        return
    headline(a)
    try:
        drawn = diagram_section(a, choice)
    except ValueError as e:
        show_error(e)
        return
    conventions(a, choice)
    st.subheader("Layers")
    table_section(choice, a, current_selection(a))
    st.subheader("Downloads")
    dot = dot_text(choice.spec, choice.input_size, diagram_file_options(drawn, choice))
    downloads(choice, dot)


def diagram_file_options(drawn: diagram.DiagramOptions, choice: Selection) -> diagram.DiagramOptions:
    """The drawing on screen as a file: with the title and the legend a file needs on its own."""
    return dataclasses.replace(drawn, legend=True, title=choice.title)
