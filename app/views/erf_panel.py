"""The effective receptive field panel of the Receptive-field page (Luo et al. 2016, arXiv:1701.04128).

``erf_panel(choice, layer, unit)`` draws, beside the theoretical field the page computes: which
weights and inputs to use, the cost of the measurement checked against a budget before anything
runs, and on request the heatmap of |∂y/∂x| over the input (``resnet_core.erf``) with the
theoretical field and the square holding 95 % of the gradient drawn on it, the 95 % side next to
the theoretical ``rf``, and the weights that were used, in words.

Widget keys start with ``erf_``. CPU work runs on one intra-op thread of the script's own thread
(``app.cpu_threads``).
"""

from __future__ import annotations

import hashlib

import streamlit as st

from app.charts import erf_figure
from app.cpu_threads import on_device
from app.views.live import downloaded, published_state_dict  # one cache of published weights for both pages
from app.widgets import get_analysis, show_error, too_big_to_build
from resnet_core.erf import MASS, EffectiveField, effective_receptive_field
from resnet_core.images import ImageError, load_image, preprocess, sample_images
from resnet_core.model import build
from resnet_core.runtime import device_name, resolve_device
from resnet_core.selection import Selection
from resnet_core.spec import PRESETS, ResNetSpec
from resnet_core.units import count
from resnet_core.weights import (
    WeightsError,
    cache_dir,
    load_into,
    load_state_dict,
    published,
    published_for,
)

RANDOM, PUBLISHED, UPLOAD = "random initialisation", "torchvision's published weights", "an uploaded state_dict"
NOISE, IMAGE = "random N(0, 1) inputs", "a sample image"
CALIBRATION = 32  # BatchNorm statistics at initialisation: a batch of this many N(0, 1) inputs
SEED = 0
#: Multiply-adds one measurement may take (resnet20 at 32 px with 16 inputs: 4 G, about a second here).
BUDGET = {"cpu": 60 * 10**9, "cuda": 5 * 10**12}


def erf_cost(forward_macs: int, samples: int, calibrated: bool) -> int:
    """Multiply-adds of one measurement: a forward and a backward pass per input (the backward to the
    input costs about one forward), plus the calibration batch's forward pass at initialisation."""
    return forward_macs * (2 * samples + (CALIBRATION if calibrated else 0))


def weights_choice(choice: Selection) -> tuple[str, str, dict | None] | None:
    """(key of the weights, the words for them, state_dict or None for initialisation), or None while
    nothing usable is chosen (the reason is on the page)."""
    options = published_for(choice.arch) if choice.spec == PRESETS.get(choice.arch) else []
    kinds = [RANDOM, *([PUBLISHED] if options else []), UPLOAD]
    kind = st.radio("Weights", kinds, key="erf_weights", horizontal=True)
    if kind == RANDOM:
        return "init", f"{RANDOM}, seed {SEED}", None
    if kind == PUBLISHED:
        w = (
            options[0]
            if len(options) == 1
            else published(st.selectbox("Published weights", [o.id for o in options], key="erf_published"))
        )
        if not downloaded(
            w, "erf_download", lambda: st.info(f"{w.id} is not in the cache ({cache_dir() / w.filename}) yet.")
        ):
            return None
        try:
            return f"torchvision:{w.id}", f"torchvision's {w.id} (ImageNet-trained)", published_state_dict(w.id)
        except WeightsError as e:
            show_error(e)
            return None
    upload = st.file_uploader(
        "State dict (.pth / .pt)", type=["pth", "pt"], key="erf_weights_file", help="Read with weights_only=True."
    )
    if upload is None:
        st.info("Upload a state_dict of this network to use it.")
        return None
    data = upload.getvalue()
    try:
        state = load_state_dict(data)
    except WeightsError as e:
        show_error(e)
        return None
    return f"upload:{hashlib.sha256(data).hexdigest()}", f"the uploaded {upload.name}", state


@st.cache_data(show_spinner=False, max_entries=16, hash_funcs={ResNetSpec: repr})
def measured_erf(
    spec: ResNetSpec,
    layer: str,
    input_hw: tuple[int, int],
    unit: tuple[int, int] | None,
    samples: int,
    image_name: str | None,
    weights_key: str,
    weights_text: str,
    device: str,
    _state: dict | None,
) -> EffectiveField:
    """``effective_receptive_field`` once per (net, layer, unit, inputs, weights); ``_state`` is named by
    ``weights_key`` (not hashed)."""
    dev = resolve_device(device)
    model = None
    if _state is not None:
        model = build(spec)
        report = load_into(model, spec, _state)
        if not report.ok:
            raise WeightsError(report.summary())
        model = model.to(dev)
    image = None
    if image_name is not None:
        loaded = load_image(sample_images()[image_name]).image
        image = preprocess(loaded, resize=input_hw[0], crop=input_hw[0]).tensor
    with on_device(dev):
        return effective_receptive_field(
            spec,
            layer,
            input_hw,
            unit=unit,
            samples=samples,
            image=image,
            model=model,
            weights=weights_text,
            seed=SEED,
            calibration=CALIBRATION,
            device=str(dev),
        )


def erf_panel(choice: Selection, layer: str, unit: tuple[int, int] | None = None) -> None:
    """The effective field of ``unit`` (row, col; default the map's centre) of ``layer`` of ``choice``."""
    st.subheader("The effective receptive field: which pixels actually move this unit")
    st.markdown(
        "The theoretical field is every pixel the unit *can* see. Luo et al. (2016, arXiv:1701.04128) measure "
        "how much each pixel *does* move it — |∂y/∂x|, y the unit's output summed over its channels, averaged "
        "over inputs — and argue it falls off roughly like a Gaussian from the centre, filling only part of the "
        "theoretical field."
    )
    st.caption(
        "Trained vs random weights: the paper argues that the effective field grows during training (its CIFAR-10 "
        "and CamVid experiments compare the field at initialisation and after training), so a field measured at "
        "random initialisation is the untrained one, not what a trained net uses. It also argues that skip "
        "connections make the effective field smaller. Which weights were used is stated with every result."
    )
    if too_big_to_build(choice, "the effective-field measurement builds"):
        return
    try:
        analysis = get_analysis(choice.spec, choice.input_size)
    except ValueError as e:
        show_error(e)
        return
    input_hw = (analysis.input_shape[2], analysis.input_shape[3])
    device = resolve_device("auto")
    chosen = weights_choice(choice)
    c1, c2 = st.columns(2)
    inputs = c1.radio("Inputs", [NOISE, IMAGE], key="erf_inputs", horizontal=True)
    image_name = None
    samples = 1
    if inputs == NOISE:
        samples = int(
            c2.number_input("K: how many inputs to average", min_value=1, max_value=256, value=16, key="erf_k")
        )
    else:
        names = list(sample_images())
        if not names:
            st.info("No sample images are installed (assets/samples); use random inputs.")
            return
        if input_hw[0] != input_hw[1]:
            st.info(f"A sample image needs a square input; this one is {input_hw[0]}×{input_hw[1]}.")
            return
        image_name = c2.selectbox("Sample image", names, key="erf_image")
    if chosen is None:
        return
    weights_key, weights_text, state = chosen
    cost = erf_cost(analysis.totals.macs, samples, state is None)
    budget = BUDGET["cuda" if device.type == "cuda" else "cpu"]
    where = f"{device.type.upper()} ({device_name(device)})"
    over = cost > budget
    if over:
        # Not an error: nothing was asked yet. The button stays off until the measurement fits.
        st.info(
            f"Measuring this takes about {count(cost)} multiply-adds ({samples} input(s) through {choice.title} at "
            f"{input_hw[0]}×{input_hw[1]}), over this page's budget on the {where} of {count(budget)}: lower K "
            "or the input size (in the sidebar) to measure it.",
            icon=":material/speed:",
        )
    key = repr((choice.spec, layer, input_hw, unit, samples, image_name, weights_key))
    if st.button(
        "Measure the effective field",
        key="erf_run",
        type="primary",
        disabled=over,
        help=f"About {count(cost)} multiply-adds",
    ):
        st.session_state.setdefault("erf_measured", set()).add(key)
    if over:
        return
    if key not in st.session_state.get("erf_measured", set()):
        st.caption(f"Press the button to measure it on the {where}: about {count(cost)} multiply-adds.")
        return
    try:
        with st.spinner("Forward and backward passes…"):
            field = measured_erf(
                choice.spec, layer, input_hw, unit, samples, image_name, weights_key, weights_text, str(device), state
            )
    except (ValueError, RuntimeError, ImageError, WeightsError) as e:
        show_error(e, "try fewer inputs, a smaller input size or another layer.")
        return
    show_field(field, image_name)


def show_field(field: EffectiveField, image_name: str | None = None) -> None:
    h, w = field.input_size
    m = st.columns(3)
    m[0].metric(
        "Theoretical receptive field",
        f"{field.rf} × {field.rf_w} px",
        help="Every input pixel the unit can see (the analysis's rf), padding included: not clipped to the image.",
    )
    m[1].metric(
        f"Square holding {MASS:.0%} of |∂y/∂x|",
        f"{field.side_95:g} × {field.side_95:g} px",
        help=f"Side 2r + 1 of the smallest square around the field's centre holding {MASS:.0%} of the gradient's "
        f"mass (r = {field.half_side_95:g} px, Chebyshev distance).",
    )
    m[2].metric(
        "Gradient mass inside the theoretical field",
        f"{field.mass_in_theoretical:.1%}",
        help="None can lie outside: a check of the two computations against each other.",
    )
    inputs = f"the sample image “{image_name}”" if image_name else f"{field.samples} random N(0, 1) input(s)"
    st.markdown(
        f"**Weights used:** {field.weights}. **Inputs:** {inputs} at {h}×{w}; unit (row {field.unit[0]}, "
        f"col {field.unit[1]}) of **{field.layer}**."
    )
    if field.rf > h or field.rf_w > w:
        st.caption(
            f"The theoretical field ({field.rf} px) is larger than the {h}×{w} input, so the {MASS:.0%} square is "
            "bounded by the image too; the heatmap shows where inside the image the gradient is."
        )
    st.plotly_chart(erf_figure(field), key="erf_heatmap", width="stretch")
    st.caption(
        "Heatmap: each input pixel's share of |∂y/∂x| (summed over colour channels, averaged over the inputs, "
        f"normalised to sum to 1). Solid orange: the theoretical field inside the image; dashed white: the "
        f"square holding {MASS:.0%} of the mass; ✕: the field's centre."
    )
