"""Architecture explorer: one network's numbers, its diagram, its per-layer table, and downloads.

The sidebar (``app.widgets.spec_editor``) gives the spec; everything shown comes from
``resnet_core.analyze`` (cached on the spec) and ``resnet_core.diagram``. Page state beyond the
spec (diagram level, unfolded stages, annotations, table filter) lives in the URL too, so a link
such as ``/explorer?arch=resnet50&stride_on=1x1&unfold=layer3`` restores the whole view.
"""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from app.formatting import fmt_bytes, fmt_giga, fmt_int, shape_text, size_text
from app.widgets import get_analysis, parse_choice, parse_list, remember, show_error, spec_editor, url_param, write_url
from resnet_core import diagram, export
from resnet_core.analysis import Analysis
from resnet_core.memo import memoize
from resnet_core.selection import Selection, format_input_size
from resnet_core.spec import PRESETS, ResNetSpec

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
DEFAULT_ANNOTATIONS = [a for a in ANNOTATIONS if a in diagram.DEFAULT_ANNOTATIONS]


# -- cached derived data -------------------------------------------------------------------------


@memoize("explorer.layer_table")
def layer_table(spec: ResNetSpec, input_size: int | tuple[int, int]) -> pd.DataFrame:
    """One row per leaf module, in execution order; numbers stay numbers (sortable)."""
    a = get_analysis(spec, input_size)
    return pd.DataFrame(
        {
            "#": [r.index for r in a.layers],
            "layer": [r.name for r in a.layers],
            "kind": [r.kind for r in a.layers],
            "stage": [r.stage for r in a.layers],
            "path": [r.path for r in a.layers],
            "output": [shape_text(r.output_shape) for r in a.layers],
            "params": [r.params for r in a.layers],
            "MACs": [r.macs for r in a.layers],
            "other ops": [r.other_ops for r in a.layers],
            "activation (bytes)": [r.activation_bytes for r in a.layers],
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


# -- the page ------------------------------------------------------------------------------------


def headline(a: Analysis, choice: Selection) -> None:
    t = a.totals
    h, w = a.input_shape[2:]
    rf = a.final_field.rf
    row1 = st.columns(3)
    row1[0].metric("Parameters", fmt_int(t.params), help=f"{t.params:,} trainable parameters")
    row1[1].metric("GMACs", fmt_giga(t.macs), help=f"{t.macs:,} multiply-accumulates (conv + linear, one image)")
    row1[2].metric("GFLOPs", fmt_giga(t.flops), help=f"{t.flops:,} = 2 × MACs")
    row2 = st.columns(3)
    row2[0].metric("Depth (weighted layers)", fmt_int(a.weighted_depth), help="conv + linear layers on the main path")
    row2[1].metric(
        "Final receptive field",
        f"{rf:,} px",
        help=f"receptive field of {a.final_field.name}'s output, the global pool's input",
    )
    row2[2].metric("Activation memory", fmt_bytes(t.activation_bytes), help=f"{t.activation_bytes:,} bytes, float32")
    note = ""
    if rf > max(h, w):
        note = f" The final receptive field ({rf:,} px) exceeds the {h}×{w} input: part of it lies in the padding."
    st.caption(CONVENTION + note)


def diagram_section(a: Analysis, choice: Selection) -> str:
    """The diagram's controls (state in the URL) and the diagram itself; returns its DOT text."""
    stages = [s.name for s in a.stages if s.blocks]
    url_param("level", "level", DEFAULT_LEVEL, parse_choice(LEVELS))
    url_param("unfold", "unfold", [], parse_list(stages))
    url_param("annot", "annot", list(DEFAULT_ANNOTATIONS), parse_list(ANNOTATIONS))
    url_param("rankdir", "dir", "TB", parse_choice(diagram.RANKDIRS))
    url_param("renderer", "draw", default_renderer(), parse_choice(RENDERERS))
    # stages that the current network lacks (layer4 after switching to a CIFAR net) drop out
    st.session_state["unfold"] = [s for s in st.session_state["unfold"] if s in stages]
    c1, c4, c2 = st.columns([3, 3, 4])
    level = c1.segmented_control(
        "Level",
        LEVELS,
        key="level",
        format_func=LEVEL_TEXT.get,
        required=True,
        help="one box per stage, per residual block, or per layer (conv, BN, ReLU, add, …)",
    )
    unfold = c2.multiselect(
        "Unfold stages",
        stages,
        key="unfold",
        placeholder="runs of identical blocks fold into “× n”",
        help="draw these stages block by block instead of folding identical blocks into one “× n” box",
    )
    c5, c6 = st.columns([7, 3])
    annotations = c5.pills(
        "Annotations",
        ANNOTATIONS,
        key="annot",
        selection_mode="multi",
        format_func=ANNOTATION_TEXT.get,
        help="what is written on each box and edge",
    )
    rankdir = c4.segmented_control(
        "Direction",
        diagram.RANKDIRS,
        key="rankdir",
        format_func={"TB": "↓ downwards", "LR": "→ across"}.get,
        required=True,
    )
    drawn_by = c6.segmented_control(
        "Laid out by",
        RENDERERS,
        key="renderer",
        format_func=RENDERER_TEXT.get,
        required=True,
        help="Graphviz's dot on the server (about 50 ms, needs Debian's graphviz) or Graphviz compiled to "
        "WebAssembly in the browser (seconds on a small laptop; always available)",
    )
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
    if level == "stage" and unfold:
        st.caption("Unfolding shows at the block and layer levels; the stage level draws one box per stage.")
    title = choice.title  # the diagram adds the input size and the totals
    dot = dot_text(choice.spec, choice.input_size, level, tuple(unfold), tuple(annotations), rankdir, title)
    if drawn_by == "server":
        try:
            st.markdown(svg_markup(dot), unsafe_allow_html=True)
            return dot
        except (diagram.GraphvizNotFound, diagram.GraphvizError) as e:
            show_error(e, "the browser draws it instead.")
    st.graphviz_chart(dot, width="stretch")
    return dot


def default_renderer() -> str:
    return "server" if diagram.dot_available() else "browser"


@memoize("explorer.svg_markup")
def svg_markup(dot: str) -> str:
    """The diagram as inline SVG for ``st.markdown``: laid out by ``dot``, shown at its natural size
    (fonts of 15–18 pt stay that size) or narrower when the column is narrower."""
    svg = diagram.render(dot, "svg").decode("utf-8")
    svg = re.sub(r"<!--.*?-->", "", svg[svg.index("<svg") :], flags=re.S)
    width_pt = float(re.search(r'<svg[^>]*\swidth="([\d.]+)pt"', svg).group(1))
    svg = re.sub(
        r'<svg([^>]*?)\swidth="[\d.]+pt"\s+height="[\d.]+pt"',
        rf'<svg\1 style="width: min(100%, {width_pt * 4 / 3:.0f}px); height: auto"',
        svg,
        count=1,
    )
    # one line, so Markdown keeps it a single HTML block and leaves its text alone
    return '<div class="resnet-diagram" data-testid="resnet-diagram">' + svg.replace("\n", " ") + "</div>"


@memoize("explorer.dot_text")
def dot_text(
    spec: ResNetSpec,
    input_size: int | tuple[int, int],
    level: str,
    unfold: tuple[str, ...],
    annotations: tuple[str, ...],
    rankdir: str,
    title: str,
) -> str:
    options = diagram.DiagramOptions(
        level=level, unfold=unfold, annotations=frozenset(annotations), rankdir=rankdir, title=title
    )
    return diagram.to_dot(get_analysis(spec, input_size), options)


@memoize("explorer.rendered")
def rendered(dot: str, fmt: str) -> bytes:
    return diagram.render(dot, fmt)


def table_section(choice: Selection) -> None:
    df = layer_table(choice.spec, choice.input_size)
    stages = list(dict.fromkeys(df["stage"]))
    url_param("stage_filter", "stage", "all stages", parse_choice(("all stages", *stages)))
    if st.session_state["stage_filter"] not in ("all stages", *stages):
        st.session_state["stage_filter"] = "all stages"
    left, right = st.columns([1, 3])
    stage = left.selectbox("Stage", ("all stages", *stages), key="stage_filter")
    remember("stage_filter")
    write_url({"stage": None if stage == "all stages" else stage})
    shown = df if stage == "all stages" else df[df["stage"] == stage]
    right.caption(
        f"{len(shown):,} of {len(df):,} layers. Click a column header to sort. RF = receptive field of the "
        "layer's output in input pixels; jump = input pixels between neighbouring output units."
    )
    number = st.column_config.NumberColumn
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        placeholder="",
        height=420,
        key="layer_table",
        column_config={
            "#": number("#", format="%d", width="small"),
            "params": number("params", format="localized"),
            "MACs": number("MACs", format="localized"),
            "other ops": number("other ops", format="localized", help="BatchNorm, ReLU, add, pooling"),
            "activation (bytes)": number("activation (bytes)", format="localized"),
            "kernel": number("kernel", format="%d", width="small"),
            "stride": number("stride", format="%d", width="small"),
            "RF": number("RF", format="localized", width="small"),
            "jump": number("jump", format="localized", width="small"),
        },
    )


def downloads(choice: Selection, dot: str) -> None:
    """CSV and JSON of the analysis, the diagram as DOT, and (with Graphviz's dot) as SVG and PNG.

    The files are made when a button is clicked (callables), so a rerun renders nothing.
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
    st.title(choice.title)
    st.caption(f"Architecture explorer · input {size_text(choice.input_size)} · one image, float32")
    try:
        a = get_analysis(choice.spec, choice.input_size)
    except ValueError as e:
        show_error(e, "change the input size or the network in the sidebar.")
        return
    headline(a, choice)
    st.subheader("Diagram")
    try:
        dot = diagram_section(a, choice)
    except ValueError as e:
        show_error(e)
        return
    st.subheader("Layers")
    table_section(choice)
    st.subheader("Downloads")
    downloads(choice, dot)
