"""Receptive field as a walk: layer by layer through the network, the field over an image and its growth.

The walk steps over the layers that change the field (convs and pools with a kernel or stride
above 1, and additions whose shortcut widened it: ``receptive_field_steps``); "All layers" adds
the BatchNorms, ReLUs, 1×1 convs and shortcut layers. Previous / Next (or the ← → keys), the slider,
or a click on a point of the growth curve choose the layer (the keys through ``app.keyboard``, which
never loses a press made faster than a rerun). It opens on the last layer of the first
residual stage, where the field is still well inside the image.

Query parameters: the shared editor's (``arch``, overrides, ``input``) plus ``layer``, ``all``
(all layers), ``row``, ``col`` (the output unit) and ``image`` (a shipped sample). Numbers come from
the traced analysis; "Measure by gradient" checks them against autograd on the real network.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import pandas as pd
import streamlit as st
import torch
from PIL import Image

from app.charts import Span, field_figure, growth_chart
from app.keyboard import step_keys
from app.sync import set_widget
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
from resnet_core.selection import Selection, parse_bool
from resnet_core.spec import ResNetSpec

UPLOAD = "your own image…"
FALLBACK_SAMPLE = "checkerboard (drawn here)"
BIG_NET_BLOCKS = 200
BIG_INPUT = 512
UNSET = -1  # a unit not given by the link: the layer's centre


def spatial_layers(analysis: Analysis) -> list[str]:
    """Layers with a spatial output map, in execution order (the head's pool and fc excluded)."""
    return [r.name for r in analysis.layers if r.stage != "head" and len(r.output_shape) == 4]


def growth_steps(analysis: Analysis) -> list[Step]:
    """The input, then every step along the main path to the last map that changes the field (its
    rf, jump or padding): the walk, and the points of the growth curve."""
    steps = receptive_field_steps(analysis, analysis.final_field.name)
    kept = [steps[0]]
    for step in steps[1:]:
        if (step.rf, step.jump, step.padding) != (kept[-1].rf, kept[-1].jump, kept[-1].padding):
            kept.append(step)
    return kept


def walk(analysis: Analysis, every: bool) -> list[str]:
    """The layers the slider and the buttons step through: those that change the field, or with
    ``every`` each layer with a spatial output (BatchNorm, ReLU, 1×1 convs, shortcuts too)."""
    return spatial_layers(analysis) if every else [s.name for s in growth_steps(analysis)[1:]]


def default_layer(analysis: Analysis) -> str:
    """The last field-changing layer of the first residual stage (ResNet-18: layer1.1.conv2, a 43 px
    field on a 224 px image), where the field's growth is plain to see; else the last map."""
    first_stage = next((s.name for s in analysis.stages if s.name not in ("stem", "head")), None)
    inside = [
        s.name for s in growth_steps(analysis) if s.name != "input" and analysis.layer(s.name).stage == first_stage
    ]
    return inside[-1] if inside else analysis.final_field.name


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
        set_widget(key, size // 2)
    if size == 1:
        st.markdown(f"**{label}:** 0 (the map is one unit {'tall' if axis == 'row' else 'wide'})")
        return 0
    return st.slider(label, 0, size - 1, key=key)


# -- the page ------------------------------------------------------------------------------------


def step_layer(names: list[str], delta: int) -> None:
    """Previous / Next: the layer ``delta`` places along the walk."""
    i = names.index(st.session_state["rf_layer"]) + delta
    set_widget("rf_layer", names[max(0, min(len(names) - 1, i))])


def go_to(names: list[str], index: int) -> None:
    """The ← → Home End keys: the layer at ``index`` of the walk."""
    set_widget("rf_layer", names[index])


def on_every(analysis: Analysis) -> None:
    """ "All layers" switched off on a layer that leaves the field as it is: go to the layer before
    it that set that field (the first of the walk when there is none)."""
    names = walk(analysis, False)
    layer = st.session_state["rf_layer"]
    if st.session_state["rf_every"] or layer in names:
        return
    spatial = spatial_layers(analysis)
    before = [n for n in spatial[: spatial.index(layer)] if n in set(names)]
    set_widget("rf_layer", before[-1] if before else names[0])


def on_curve_click(names: list[str]) -> None:
    """A click on a point of the growth curve selects that point's layer (the input point: the first)."""
    points = st.session_state["rf_growth"].selection.points
    if points:
        name = points[0].get("customdata")
        set_widget("rf_layer", name if name in names else names[0])


def layer_walk(analysis: Analysis, choice: Selection) -> tuple[str, list[str]]:
    """Previous, the slider over the walk, Next (← and → too) and "All layers"; state in ``layer``
    and ``all``. A link's layer off the field-changing walk turns "All layers" on; a layer the
    network no longer has falls back to the default."""
    spatial = spatial_layers(analysis)
    start = default_layer(analysis)
    url_param("rf_layer", "layer", start, layer_parser(spatial, choice.title))
    if st.session_state["rf_layer"] not in spatial:  # the architecture changed under the chosen layer
        set_widget("rf_layer", start)
    url_param("rf_every", "all", False, parse_bool)
    if st.session_state["rf_layer"] not in walk(analysis, False):
        set_widget("rf_every", True)
    names = walk(analysis, bool(st.session_state["rf_every"]))
    i = names.index(st.session_state["rf_layer"])
    back, slider, forward, every = st.columns([1.4, 5, 1.1, 1.6], vertical_alignment="bottom")
    with back:
        st.button(
            "Previous",
            key="rf_prev",
            disabled=i == 0,
            on_click=step_layer,
            args=(names, -1),
            help="The layer before (or the ← key; Home: the first).",
            width="stretch",
        )
    with forward:
        st.button(
            "Next",
            key="rf_next",
            disabled=i == len(names) - 1,
            on_click=step_layer,
            args=(names, 1),
            help="The layer after (or the → key; End: the last).",
            width="stretch",
        )
    with every:
        step_keys("rf_keys", i, len(names), functools.partial(go_to, names))
        st.toggle(
            "All layers",
            key="rf_every",
            on_change=on_every,
            args=(analysis,),
            help="Step through BatchNorm, ReLU, 1×1 convs and shortcut layers too (they leave the field as it is, "
            "or change it only on the shortcut's path).",
        )
    with slider:
        layer = st.select_slider(
            f"Layer {i + 1} of {len(names)} ({'all layers' if st.session_state['rf_every'] else 'the layers that change the field'})",
            names,
            key="rf_layer",
            help="In the order the network runs them; the last one feeds the global average pool.",
        )
    remember("rf_layer", "rf_every")
    write_url({"layer": layer, "all": "1" if st.session_state["rf_every"] else None})
    return layer, names


def unit_picker(analysis: Analysis, layer: str) -> tuple[int, int]:
    """The output unit (row, col) of ``layer``, state in ``row`` and ``col``; a new layer starts at its centre."""
    url_param("rf_row", "row", UNSET, _parse_int)
    url_param("rf_col", "col", UNSET, _parse_int)
    out_h, out_w = analysis.layer(layer).output_shape[2:]
    if st.session_state.get("rf_layer_seen") not in (None, layer):  # a new layer: start at its centre
        set_widget("rf_row", out_h // 2)
        set_widget("rf_col", out_w // 2)
    left, right = st.columns(2)
    with left:
        row = unit_control(f"Output row (0 … {out_h - 1})", "rf_row", out_h, layer, "row")
    with right:
        col = unit_control(f"Output column (0 … {out_w - 1})", "rf_col", out_w, layer, "column")
    st.session_state["rf_layer_seen"] = layer
    remember("rf_row", "rf_col")
    write_url({"row": str(row), "col": str(col)})
    return row, col


def whole_field(record: LayerRecord, unit: tuple[int, int]) -> tuple[Span, Span]:
    """The input rows and columns one output unit sees, padding included (may run past the image)."""
    return (
        Field(record.rf, record.jump, record.padding).span(unit[0]),
        Field(record.rf_w, record.jump_w, record.padding_w).span(unit[1]),
    )


def field_line(record: LayerRecord) -> None:
    """The field of ``record``'s output in one line (the first screen's numbers)."""
    out_h, out_w = record.output_shape[2:]
    st.markdown(
        f"**{record.name}** ({record.kind}): receptive field **{record.rf} × {record.rf_w} px** · "
        f"jump **{record.jump} × {record.jump_w} px** · effective padding {record.padding} × {record.padding_w} px · "
        f"output map {out_h} × {out_w}"
    )


def field_notes(
    record: LayerRecord, unit: tuple[int, int], whole: tuple[Span, Span], input_hw: tuple[int, int]
) -> None:
    """The unit's input rows and columns, and a note where its field leaves the image."""
    (r0, r1), (c0, c1) = whole
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


def field_chart(
    image: Image.Image, whole: tuple[Span, Span], inside: tuple[Span, Span], input_hw: tuple[int, int]
) -> None:
    shown = image.convert("RGB").resize((input_hw[1], input_hw[0]), Image.Resampling.BILINEAR)
    st.plotly_chart(field_figure(shown, whole, inside, input_hw, height=400), key="rf_field", width="stretch")
    st.caption(
        f"The image resized to the {input_hw[0]} × {input_hw[1]} input. Solid: the field inside the image; "
        "dashed: the whole field, padding included; ✕: its centre."
    )


def growth_section(analysis: Analysis, layer: str, names: list[str], input_hw: tuple[int, int]) -> None:
    """The growth curve over the whole walk, this layer marked; a click on a point selects its layer."""
    steps = growth_steps(analysis)
    chain = [s.name for s in receptive_field_steps(analysis, layer)]  # the main path up to this layer
    on_curve = [i for i, s in enumerate(steps) if s.name in chain]
    current = None if analysis.layer(layer).path == "shortcut" else on_curve[-1]  # a shortcut is off the curve
    stages = ["input"] + [analysis.layer(s.name).stage for s in steps[1:]]
    st.plotly_chart(
        growth_chart(steps, stages, input_hw, current),
        key="rf_growth",
        on_select=functools.partial(on_curve_click, names),
        selection_mode="points",
        width="stretch",
    )
    st.caption("The field's growth along the main path; click a point to go to that layer.")


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


def recurrence_section(analysis: Analysis, layer: str) -> None:
    """The recurrence, its last change in numbers and the table of steps."""
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
    st.caption(
        "Only layers that change the field are listed (convs, pools, and additions whose shortcut widened it); "
        "along the height axis, rows = columns for square kernels."
    )
    st.dataframe(steps_frame(steps), key="rf_steps", hide_index=True, height=420, width="stretch")


def main() -> None:
    """The receptive-field page: walk the layers; the field over an image beside its growth curve;
    the unit, the gradient check and the recurrence below."""
    st.title("Receptive field")
    choice = spec_editor("", default_arch="resnet18")
    try:
        analysis = get_analysis(choice.spec, choice.input_size)
    except ValueError as e:
        show_error(e, "change the input size or the layers in the sidebar.")
        return
    input_hw = (analysis.input_shape[2], analysis.input_shape[3])
    layer, names = layer_walk(analysis, choice)
    record = analysis.layer(layer)
    field_line(record)
    left, right = st.columns([1, 1.25])
    with right:
        growth_section(analysis, layer, names, input_hw)
    with left:
        field_slot = st.container()
        unit = unit_picker(analysis, layer)
        image = chosen_image(input_hw)
    whole = whole_field(record, unit)
    inside = computed_span(record, unit, input_hw)
    with field_slot:
        field_chart(image, whole, inside, input_hw)
    with right:
        field_notes(record, unit, whole, input_hw)
    gradient_check(choice, layer, unit, inside, input_hw)
    erf_panel(choice, layer, unit)  # issue 16: the effective field beside the theoretical one
    recurrence_section(analysis, layer)
