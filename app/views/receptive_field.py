"""Receptive field: the recurrence step by step, its growth with depth, one unit's field over an image.

Query parameters: the shared editor's (``arch``, overrides, ``input``) plus ``layer``, ``row``,
``col`` (the output unit) and ``image`` (a shipped sample). Numbers come from the traced analysis;
"Measure by gradient" checks them against autograd on the real network.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import streamlit as st
import torch
from PIL import Image

from app.charts import Span, field_figure, growth_chart
from app.views.erf_panel import erf_panel
from app.widgets import (
    get_analysis,
    parse_choice,
    remember,
    show_error,
    spec_editor,
    too_big_to_build,
    url_param,
    write_url,
)
from resnet_core.analysis import Analysis, LayerRecord
from resnet_core.budget import OverBudget, check_gradient
from resnet_core.geometry import Field
from resnet_core.images import ImageError, load_image, sample_images
from resnet_core.memo import memoize
from resnet_core.receptive_field import Step, computed_span, measure_receptive_field, receptive_field_steps
from resnet_core.runtime import holding
from resnet_core.selection import Selection
from resnet_core.spec import ResNetSpec

UPLOAD = "your own image…"
FALLBACK_SAMPLE = "checkerboard (drawn here)"
BIG_NET_BLOCKS = 200
BIG_INPUT = 512
UNSET = -1  # a unit not given by the link: the layer's centre


def spatial_layers(analysis: Analysis) -> list[str]:
    """Layers with a spatial output map, in execution order (the head's pool and fc excluded)."""
    return [r.name for r in analysis.layers if r.stage != "head" and len(r.output_shape) == 4]


def steps_frame(steps: list[Step]) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "step": range(len(steps)),
            "layer": [s.name for s in steps],
            "kind": [s.kind for s in steps],
            "kernel k": [s.kernel for s in steps],
            "stride s": [s.stride for s in steps],
            "dilation d": [s.dilation for s in steps],
            "pad": [s.pad for s in steps],
            "rf": [s.rf for s in steps],
            "jump j": [s.jump for s in steps],
            "padding p": [s.padding for s in steps],
            "note": [s.note for s in steps],
        }
    )
    if (frame["dilation d"] == 1).all():
        frame = frame.drop(columns="dilation d")
    return frame


def checkerboard(h: int, w: int, square: int = 16) -> Image.Image:
    yy, xx = np.mgrid[0:h, 0:w]
    board = ((yy // square + xx // square) % 2).astype(np.uint8)
    return Image.fromarray(np.stack([board * 200 + 30] * 3, axis=-1))


@memoize("receptive_field.measured")
def measured(
    spec: ResNetSpec, layer: str, input_hw: tuple[int, int], unit: tuple[int, int]
) -> tuple[tuple[int, int], tuple[int, int]]:
    with holding(torch.device("cpu")):  # one job at a time on the server's CPU, as Live's passes
        return measure_receptive_field(spec, layer, input_hw, unit)


def layer_parser(names: list[str], title: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in names:
            raise ValueError(
                f"{text!r} is not a layer of {title} with a spatial output; names run {names[0]} … {names[-1]}, "
                "as in the layer list"
            )
        return text

    return parse


def _parse_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not allowed: a whole number (a row or column of the layer's map)") from None


def unit_control(label: str, key: str, size: int, layer: str, axis: str) -> int:
    """A slider over 0 … size-1 (a fixed 0 where the map is one unit wide); out-of-range values reset."""
    value = st.session_state.get(key)
    if not isinstance(value, int) or not 0 <= value < size:
        if isinstance(value, int) and value != UNSET:
            st.warning(f"{axis} {value} is outside {layer}'s map (0 … {size - 1}); showing the centre, {size // 2}.")
        st.session_state[key] = size // 2
    if size == 1:
        st.markdown(f"**{label}:** 0 (the map is one unit {'tall' if axis == 'row' else 'wide'})")
        return 0
    return st.slider(label, 0, size - 1, key=key)


# -- the page ------------------------------------------------------------------------------------


def unit_picker(analysis: Analysis, choice: Selection) -> tuple[str, tuple[int, int]]:
    """The layer and the output unit (row, col) chosen, state in ``layer``, ``row`` and ``col``; a new
    layer starts at its centre, and a layer the network no longer has falls back to the last map."""
    names = spatial_layers(analysis)
    default_layer = analysis.final_field.name
    url_param("rf_layer", "layer", default_layer, layer_parser(names, choice.title))
    if st.session_state["rf_layer"] not in names:  # the architecture changed under the chosen layer
        st.session_state["rf_layer"] = default_layer
    url_param("rf_row", "row", UNSET, _parse_int)
    url_param("rf_col", "col", UNSET, _parse_int)

    top = st.columns([2, 1, 1])
    with top[0]:
        layer = st.selectbox(
            "Layer (its output map)",
            names,
            key="rf_layer",
            help="Every layer with a spatial output, in the order the network runs them. "
            "The last one feeds the global average pool.",
        )
    out_h, out_w = analysis.layer(layer).output_shape[2:]
    if st.session_state.get("rf_layer_seen") not in (None, layer):  # a new layer: start at its centre
        st.session_state["rf_row"], st.session_state["rf_col"] = out_h // 2, out_w // 2
    with top[1]:
        row = unit_control(f"Output row (0 … {out_h - 1})", "rf_row", out_h, layer, "row")
    with top[2]:
        col = unit_control(f"Output column (0 … {out_w - 1})", "rf_col", out_w, layer, "column")
    st.session_state["rf_layer_seen"] = layer
    remember("rf_layer", "rf_row", "rf_col")
    write_url({"layer": layer, "row": str(row), "col": str(col)})
    return layer, (row, col)


def whole_field(record: LayerRecord, unit: tuple[int, int]) -> tuple[Span, Span]:
    """The input rows and columns one output unit sees, padding included (may run past the image)."""
    return (
        Field(record.rf, record.jump, record.padding).span(unit[0]),
        Field(record.rf_w, record.jump_w, record.padding_w).span(unit[1]),
    )


def field_summary(
    record: LayerRecord, unit: tuple[int, int], whole: tuple[Span, Span], input_hw: tuple[int, int]
) -> None:
    """The field's numbers, the unit's input rows and columns, and a note where it leaves the image."""
    (r0, r1), (c0, c1) = whole
    out_h, out_w = record.output_shape[2:]
    m = st.columns(4)
    m[0].metric("Receptive field", f"{record.rf} × {record.rf_w} px")
    m[1].metric("Jump (effective stride)", f"{record.jump} × {record.jump_w} px")
    m[2].metric("Effective padding", f"{record.padding} × {record.padding_w} px")
    m[3].metric("Output map", f"{out_h} × {out_w}")
    st.markdown(
        f"Unit (row {unit[0]}, col {unit[1]}) of **{record.name}** sees input rows **{r0} … {r1}** and columns "
        f"**{c0} … {c1}** (negative or ≥ the input size: zero padding)."
    )
    if record.rf > input_hw[0] or record.rf_w > input_hw[1]:
        st.warning(
            f"This unit sees {record.rf} × {record.rf_w} px of a {input_hw[0]} × {input_hw[1]} px input: the field is "
            "larger than the image; the part outside is zero padding.",
            icon=":material/open_in_full:",
        )
    elif r0 < 0 or c0 < 0 or r1 >= input_hw[0] or c1 >= input_hw[1]:
        st.info("Part of this unit's field lies outside the image (zero padding): units near the border see less.")


def chosen_image(input_hw: tuple[int, int]) -> Image.Image:
    """A shipped sample (state in ``image``), an upload, or the checkerboard; as it was chosen, any size."""
    samples = sample_images()
    options = [*samples, UPLOAD] if samples else [FALLBACK_SAMPLE, UPLOAD]
    url_param("rf_image", "image", options[0], parse_choice([o for o in options if o != UPLOAD]))
    source = st.selectbox("Image", options, key="rf_image", help="Shipped samples are CC0; uploads stay in memory.")
    remember("rf_image")
    write_url({"image": source if source != UPLOAD else None})
    image = None
    if source == UPLOAD:
        upload = st.file_uploader("PNG, JPEG or WebP", type=["png", "jpg", "jpeg", "webp"], key="rf_upload")
        if upload is not None:
            try:
                image = load_image(upload.getvalue()).image
            except ImageError as e:
                show_error(e)
        if image is None:
            st.caption("No image yet: showing the checkerboard.")
    elif source in samples:
        image = load_image(samples[source]).image
    return checkerboard(*input_hw) if image is None else image


def image_section(whole: tuple[Span, Span], inside: tuple[Span, Span], input_hw: tuple[int, int]) -> None:
    st.subheader("The field over an image")
    image = chosen_image(input_hw)
    shown = image.convert("RGB").resize((input_hw[1], input_hw[0]), Image.Resampling.BILINEAR)
    st.plotly_chart(field_figure(shown, whole, inside, input_hw), key="rf_field", width="stretch")
    st.caption(
        f"The image resized to the {input_hw[0]} × {input_hw[1]} input. Solid: the field inside the image; "
        "dashed: the whole field, padding included; ✕: its centre."
    )


def agreement_table(measured: tuple[Span, Span], computed: tuple[Span, Span]) -> pd.DataFrame:
    """Measured against computed spans, rows and columns, and whether each pair agrees."""
    (rows_m, cols_m), (rows_c, cols_c) = measured, computed
    return pd.DataFrame(
        {
            "measured": [f"{rows_m[0]} … {rows_m[1]}", f"{cols_m[0]} … {cols_m[1]}"],
            "computed": [f"{rows_c[0]} … {rows_c[1]}", f"{cols_c[0]} … {cols_c[1]}"],
            "agree": ["yes" if rows_m == rows_c else "NO", "yes" if cols_m == cols_c else "NO"],
        },
        index=["rows", "columns"],
    )


def gradient_check(
    choice: Selection, layer: str, unit: tuple[int, int], inside: tuple[Span, Span], input_hw: tuple[int, int]
) -> None:
    """The button that measures the unit's field by autograd on the real network, and, once pressed for
    this unit, the comparison with ``inside`` (the computed field clipped to the image)."""
    st.subheader("Check it with autograd")
    st.markdown(
        "With every weight positive, BatchNorm an identity, the ReLUs removed and max-pooling made an average, "
        "an output unit's input gradient is non-zero exactly on the pixels it sees."
    )
    if sum(choice.spec.layers) > BIG_NET_BLOCKS or max(input_hw) > BIG_INPUT:
        st.warning("A big network or input: measuring builds the real model in float64 and may take a few seconds.")
    if too_big_to_build(choice, "the gradient check builds"):
        return  # too_big_to_build said why
    try:
        check_gradient(choice.spec, input_hw, layer)  # its memory, estimated before anything is built
    except OverBudget as e:
        show_error(e)
        return
    key = repr((choice.spec, layer, input_hw, unit))
    if st.button("Measure by gradient", key="rf_measure", type="primary"):
        st.session_state.setdefault("rf_measured", set()).add(key)
    if key not in st.session_state.get("rf_measured", set()):
        st.caption("Press the button to run it for this unit.")
        return
    try:
        with st.spinner("Running forward and backward on the real network…"):
            found = measured(choice.spec, layer, input_hw, unit)
    except (ValueError, RuntimeError) as e:
        show_error(e, "try a smaller input or network.")
        return
    st.dataframe(agreement_table(found, inside), key="rf_measured_table", width="stretch")
    st.caption("First … last input pixel the unit sees, clipped to the image.")
    if found == inside:
        st.success(
            "The gradient touches exactly the pixels the recurrence predicts (clipped to the image).",
            icon=":material/check_circle:",
        )
    else:
        st.error(
            "Measured and computed fields differ: please report this architecture and layer.", icon=":material/error:"
        )


def last_change(steps: list[Step]) -> None:
    """The last step that changed the field (rf or jump), its recurrence written out in numbers."""
    changed = [i for i in range(1, len(steps)) if (steps[i].rf, steps[i].jump) != (steps[i - 1].rf, steps[i - 1].jump)]
    if not changed:
        return
    last, prev = steps[changed[-1]], steps[changed[-1] - 1]
    if last.kind == "ResidualAdd":
        st.markdown(f"Last step that changed the field, **{last.name}**: {last.note}, rf {prev.rf} → {last.rf}.")
        return
    grow = (last.kernel - 1) * last.dilation * prev.jump
    st.markdown(f"The last step that changed the field, **{last.name}** ({last.kind}), in numbers:")
    st.latex(
        rf"r = {prev.rf} + ({last.kernel} - 1)\cdot {last.dilation}\cdot {prev.jump} = {prev.rf + grow},"
        rf"\quad j = {prev.jump}\cdot {last.stride} = {prev.jump * last.stride},"
        rf"\quad p = {prev.padding} + {last.pad}\cdot {prev.jump} = {prev.padding + last.pad * prev.jump}"
    )


def recurrence_section(analysis: Analysis, layer: str, input_hw: tuple[int, int]) -> None:
    """The recurrence, its last change in numbers, the growth chart and the table of steps."""
    st.subheader(f"The recurrence, input → {layer}")
    st.latex(
        r"r_l = r_{l-1} + (k_l - 1)\, d_l\, j_{l-1} \qquad j_l = j_{l-1}\, s_l \qquad p_l = p_{l-1} + \mathrm{pad}_l\, j_{l-1}"
    )
    st.latex(
        r"\text{unit } i \text{ sees input pixels } [\, i\, j_l - p_l,\; i\, j_l - p_l + r_l - 1 \,]"
        r"\qquad \text{at an add: the union of both paths' intervals}"
    )
    steps = receptive_field_steps(analysis, layer)
    last_change(steps)
    g1, g2 = st.columns([3, 2])
    with g1:
        st.plotly_chart(growth_chart(steps, input_hw), key="rf_growth", width="stretch")
    with g2:
        st.caption(
            "Only layers that change the field are listed (convs, pools, and additions whose shortcut widened it); "
            "along the height axis, rows = columns for square kernels."
        )
        st.dataframe(steps_frame(steps), key="rf_steps", hide_index=True, height=420, width="stretch")


def main() -> None:
    """The receptive-field page: a layer and an output unit, its field over an image, the gradient check, the recurrence."""
    st.title("Receptive field")
    choice = spec_editor("")
    try:
        analysis = get_analysis(choice.spec, choice.input_size)
    except ValueError as e:
        show_error(e, "change the input size or the layers in the sidebar.")
        return
    input_hw = (analysis.input_shape[2], analysis.input_shape[3])
    layer, unit = unit_picker(analysis, choice)
    record = analysis.layer(layer)
    whole = whole_field(record, unit)
    inside = computed_span(record, unit, input_hw)
    field_summary(record, unit, whole, input_hw)
    left, right = st.columns([3, 2])
    with left:
        image_section(whole, inside, input_hw)
    with right:
        gradient_check(choice, layer, unit, inside, input_hw)
    erf_panel(choice, layer, unit)  # issue 16: the effective field beside the theoretical one
    recurrence_section(analysis, layer, input_hw)
