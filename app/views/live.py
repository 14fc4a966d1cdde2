"""Live forward pass: real weights, an image, top-5, activation maps, timing and a batch-size sweep.

Everything is computed by ``resnet_core.runtime`` / ``weights`` / ``images``; this page reads
widgets, calls them and draws. Top to bottom: the shape flow (stem → last stage, channels × size),
then Predict (weights and image in one row; the top-5 and the activation maps side by side; the
preprocessing step by step below) and Timing.

What costs time is computed once and kept in the process's byte-bounded cache
(``resnet_core.memo``) for every session: the model per (spec, weights, device), the fit report
per (spec, weights), the prediction per (spec, weights, device, dtype, image, sizes, layer). A
rerun (another widget, another session on the same choice) recomputes nothing and takes no lock.
Forward passes queue for the device (``runtime.holding``: first come, first served, a place shown
while waiting, a refusal past ``runtime.MAX_WAITING``); the lock is held for one pass or one
timing run, never across a rerun. A timing run fits a time budget (``RunConfig.time_budget_s``),
shows its progress and can be cancelled; its memory is estimated first (``resnet_core.budget``).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import streamlit as st
import torch

from app.charts import activation_figure, stage_time_chart, sweep_figure
from app.download_bar import download_bar
from app.widgets import get_analysis, literal, show_error, spec_editor, too_big_to_build
from resnet_core import ResNetSpec, build
from resnet_core.analysis import Analysis
from resnet_core.budget import OverBudget, check_inference
from resnet_core.images import ImageError, Prediction, class_names, load_image, preprocess, sample_images, top_k
from resnet_core.memo import CACHE, memoize
from resnet_core.runtime import (
    DTYPES,
    MIN_TIMED,
    ActivationMaps,
    DeviceBusy,
    DeviceOutOfMemory,
    Measurement,
    Progress,
    RunConfig,
    activation_layers,
    available_devices,
    benchmark,
    environment,
    predict_with_activations,
    resolve_device,
    sweep,
)
from resnet_core.units import byte_size, count, duration, rate, shape_text, size_text
from resnet_core.weights import (
    MismatchReport,
    PublishedWeights,
    WeightsError,
    cache_dir,
    check_fit,
    download_published,
    load_into,
    load_state_dict,
    published,
    published_for,
)

RANDOM, PUBLISHED, UPLOAD = "Random (untrained)", "torchvision's published", "Upload a .pth / .pt"
SWEEP_BATCHES = [1, 2, 4, 8, 16, 32, 64, 128, 256]
HISTORY = "live_history"
#: Seconds of forward passes a timing run aims at (warm-up and timed passes; the model's build and the
#: estimate come on top): the default run, resnet50 on this 2-core CPU, ends within 10 s.
TIME_BUDGET_S = 5.0
UNTRAINED = "untrained weights — the classes are meaningless"


# -- weights -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Weights:
    """The chosen weights: an id naming them for the caches, how to load them, the preprocessing sizes."""

    id: str  # "random", "torchvision:resnet50.IMAGENET1K_V2", "upload:<sha256>"
    load: Callable[[], dict | None]  # the state_dict (None: random initialisation)
    resize: int
    crop: int

    @property
    def trained(self) -> bool:
        return self.id != "random"


def fit_report(spec: ResNetSpec, weights: Weights) -> MismatchReport:
    """``check_fit`` of the weights against the spec, once per (spec, weights) for all sessions."""
    return CACHE.get_or_compute(("live.fit", spec, weights.id), lambda: check_fit(spec, weights.load()))


def live_model(spec: ResNetSpec, weights: Weights, device: str) -> torch.nn.Module:
    """The eval-mode model with these weights on ``device``, once per (spec, weights, device).

    Random weights are drawn from a fixed seed, so a model rebuilt after the cache let it go
    predicts what it predicted before."""

    def make() -> torch.nn.Module:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            model = build(spec)
        state = weights.load()
        if state is not None:
            report = load_into(model, spec, state)
            if not report.ok:  # checked before calling; kept as a guard for the cache
                raise WeightsError(report.summary())
        return model.eval().to(device)

    return CACHE.get_or_compute(("live.model", spec, weights.id, device), make)


@memoize("live.published_state_dict")
def published_state_dict(weights_id: str) -> dict:
    """A published file from the download cache (its sha256 checked), loaded weights-only: one copy for
    this page and the receptive-field page's ERF panel, held by the byte-bounded cache."""
    return load_state_dict(download_published(published(weights_id)))


def downloaded(w: PublishedWeights, key: str, not_yet: Callable[[], object]) -> bool:
    """Whether published weights ``w`` are in the download cache, fetching them (with a progress bar)
    when the user presses the Download button ``key``; ``not_yet()`` shows what is missing until then."""
    if (cache_dir() / w.filename).exists():
        return True
    if not st.button(f"Download {w.filename}", key=key):
        not_yet()
        return False
    try:
        download_published(w, progress=download_bar())
    except WeightsError as e:
        show_error(e)
        return False
    return True


def weights_section(spec: ResNetSpec, arch: str, crop: int) -> Weights | None:
    """The weights chosen by the user, or None when nothing usable is chosen (the reason shown).

    The image is cropped to the network's input size and first resized by 256/224 of it (the ImageNet
    ratio), except for published weights, which bring their own evaluation sizes.
    """
    source = st.radio("Weights", [RANDOM, PUBLISHED, UPLOAD], key="live_weights_source", horizontal=True)
    resize = round(crop * 256 / 224)
    if source == RANDOM:
        return Weights("random", lambda: None, resize, crop)
    if source == PUBLISHED:
        options = published_for(arch)
        if not options:
            st.info(f"torchvision publishes no weights for {arch}; they exist for the ImageNet presets.")
            return None
        tag = st.selectbox(
            "Published weights",
            [w.id for w in options],
            key="live_published",
            format_func=lambda i: f"{i} (top-1 {published(i).acc1:.1f} %)",
        )
        w = published(tag)
        target = cache_dir() / w.filename
        st.caption(literal(f"{w.url} · sha256 {w.sha256_prefix}… · cache: {target}"))
        if not downloaded(
            w, "live_download", lambda: st.info("Not downloaded yet; about 45–500 MB depending on the network.")
        ):
            return None
        chosen = Weights(f"torchvision:{w.id}", lambda: published_state_dict(w.id), w.resize_size, w.crop_size)
    else:
        upload = st.file_uploader(
            "State dict (.pth / .pt)",
            type=["pth", "pt"],
            key="live_weights_file",
            help=(
                "Written by torch.save(model.state_dict(), path), with torchvision's or timm's names (timm's "
                "ResNet, ResNetV2 and legacy SENet layouts are renamed to this project's). Read with "
                "weights_only=True: no code runs."
            ),
        )
        if upload is None:
            st.info("Upload a state_dict to use it; until then nothing is run.")
            return None
        data = upload.getvalue()
        chosen = Weights(f"upload:{hashlib.sha256(data).hexdigest()}", lambda: load_state_dict(data), resize, crop)
    try:
        report = fit_report(spec, chosen)
    except WeightsError as e:
        show_error(e, "upload a state_dict saved with torch.save(model.state_dict(), path).")
        return None
    if not report.ok:
        show_error(WeightsError(report.summary()))
        st.dataframe(pd.DataFrame(report.rows()), hide_index=True, width="stretch")
        return None
    # the summary of a fitting file names no key of it: nothing of the user's is echoed here
    st.success(f"Weights loaded: {chosen.id.split(':', 1)[0]} · {report.summary()}.")
    return chosen


# -- prediction ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Predicted:
    """What one image gives: its top-5 and the most active channels of one layer."""

    top5: tuple[Prediction, ...]
    maps: ActivationMaps

    def approx_bytes(self) -> int:
        return self.maps.maps.nbytes + 4096


def image_choice(container) -> tuple[bytes, str] | None:
    """The image (bytes, name): a shipped sample or an upload."""
    with container:
        left, right = st.columns([2, 3])
        source = left.radio("Image", ["Sample", "Upload"], key="live_image_source", horizontal=True)
        if source == "Sample":
            samples = sample_images()
            name = right.selectbox(
                "Sample image", list(samples), key="live_sample", help="CC0, see assets/samples/LICENSE.md"
            )
            return samples[name].read_bytes(), name
        upload = right.file_uploader(
            "Image (PNG, JPEG or WebP)", type=["png", "jpg", "jpeg", "webp"], key="live_image_file"
        )
    if upload is None:
        st.info("Upload an image to classify it.")
        return None
    return upload.getvalue(), upload.name


def predicted(
    spec: ResNetSpec, weights: Weights, device: str, dtype: str, pixels: torch.Tensor, digest: str, layer: str, wait
) -> Predicted:
    """The top-5 and activation maps, once per (spec, weights, device, dtype, image, sizes, layer)."""

    def run() -> Predicted:
        model = live_model(spec, weights, device)
        logits, maps = predict_with_activations(model, pixels, layer, dtype, on_wait=wait)
        names = class_names() if spec.num_classes == 1000 else None
        return Predicted(tuple(top_k(logits[0], 5, names)), maps)

    key = ("live.predict", spec, weights.id, device, dtype, digest, weights.resize, weights.crop, layer)
    return CACHE.get_or_compute(key, run, Predicted.approx_bytes)


def queue_note(placeholder) -> Callable[[int, float], None]:
    """``on_wait`` for a job: its place in the device's queue, in the placeholder."""

    def note(ahead: int, waited: float) -> None:
        placeholder.info(
            f"Waiting for the device: {ahead} job{'s' if ahead > 1 else ''} ahead of this one "
            f"(other sessions' forward passes, one at a time) · {duration(waited)} so far",
            icon=":material/hourglass_top:",
        )

    return note


def top5_table(preds: tuple[Prediction, ...], trained: bool) -> None:
    frame = pd.DataFrame(
        [{"rank": p.rank, "class": p.label, "index": p.index, "p": 100 * p.probability} for p in preds]
    )
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        column_config={
            # narrow number columns, so the class name and the bar fit a 1280-wide projector's column;
            # the heading above says when the classes are meaningless (untrained weights)
            "rank": st.column_config.NumberColumn("#", width=36),
            "class": st.column_config.TextColumn("class" if trained else "class (untrained)"),
            "index": st.column_config.NumberColumn("index", width=56),
            "p": st.column_config.ProgressColumn(
                "probability", format="%.1f %%", min_value=0, max_value=100, width=120
            ),
        },
    )


def predict_section(spec: ResNetSpec, arch: str, size: int | tuple[int, int], device: str, dtype: str) -> None:
    crop = size if isinstance(size, int) else min(size)  # predictions use a square crop
    wcol, icol = st.columns([1, 1], gap="large")
    with wcol:
        weights = weights_section(spec, arch, crop)
    chosen = image_choice(icol)
    if weights is None or chosen is None:
        return
    data, name = chosen
    try:
        loaded = load_image(data)
        pre = preprocess(loaded.image, resize=weights.resize, crop=weights.crop)
    except ImageError as e:
        show_error(e)
        return
    if spec.in_channels != 3:
        st.info(f"This network takes {spec.in_channels}-channel input; images are RGB, so nothing is predicted.")
        return
    layers = activation_layers_of(spec)
    left, right = st.columns([5, 7], gap="large")
    with right:
        layer = st.selectbox(
            "Activation maps of layer",
            layers,
            index=layers.index("layer1.0") if "layer1.0" in layers else 0,
            key="live_layer",
            help="The 16 channels with the largest mean |activation| for this image, one colour scale for all.",
        )
    waiting = st.empty()
    digest = hashlib.sha256(data).hexdigest()
    try:
        result = predicted(spec, weights, device, dtype, pre.tensor, digest, layer, queue_note(waiting))
    except (ValueError, DeviceBusy, DeviceOutOfMemory, RuntimeError) as e:
        waiting.empty()
        show_error(e, "try float32 or the CPU.")
        return
    waiting.empty()
    with left:
        if weights.trained:
            st.markdown(f"**Top-5** · {dtype} on {device}")
        else:
            st.markdown(f"**Top-5** · {UNTRAINED}")
        top5_table(result.top5, weights.trained)
        if spec.num_classes != 1000:
            st.caption(f"{spec.num_classes} classes: not ImageNet's, so shown by index.")
        if not weights.trained:
            st.caption(
                "Random initialisation (Delving Deep into Rectifiers, arXiv:1502.01852): the shapes and the numbers of the pass are real, the "
                "ranking is noise. Choose published weights or upload a file to see what a trained network sees."
            )
    with right:
        c, h, w = result.maps.shape
        st.plotly_chart(activation_figure(result.maps), width="stretch", key="live_activations")
        st.caption(
            f"{layer}: {c} channels of {h}×{w}; the {len(result.maps.channels)} most active, brighter = stronger."
        )
    with st.expander("Preprocessing, step by step (torchvision's ImageNet evaluation transform)"):
        for note in loaded.notes:
            st.caption(literal(f"{name}: {note}"))
        cols = st.columns(len(pre.steps))
        for col, step in zip(cols, pre.steps, strict=True):
            with col:
                st.markdown(f"**{step.name}**")
                if step.image is not None:
                    st.image(step.image, width="stretch")
                else:
                    st.markdown(f"values from **{step.values[0]:.2f}** to **{step.values[1]:.2f}**")
                st.caption(f"{step.description} · shape {' × '.join(map(str, step.shape))}")


def activation_layers_of(spec: ResNetSpec) -> list[str]:
    """The layers whose maps can be shown, from the meta model (no weights built for the list)."""
    return CACHE.get_or_compute(("live.layers", spec), lambda: activation_layers(build(spec, "meta")))


# -- the shape flow ------------------------------------------------------------------------------


def shape_flow(analysis: Analysis) -> None:
    """Stem → last stage as a strip of boxes, each its stage's output: channels × height × width.

    A box's height follows the map's side (relative to the largest), its width the channels (on a
    log scale): the map shrinks as the channels grow, as in CNN Explainer's overview."""
    stages = [s for s in analysis.stages if s.name != "head"]
    sides = [s.output_shape[2] for s in stages]
    chans = [s.output_shape[1] for s in stages]
    big, few, many = max(sides), min(chans), max(chans)
    _, c_in, h_in, w_in = analysis.input_shape
    cells = [_flow_cell("input", f"{c_in} × {h_in}×{w_in}", 1.0, 0.0, f"the image: {c_in} channels of {h_in}×{w_in}")]
    for s, side, ch in zip(stages, sides, chans, strict=True):
        span = (
            0.0 if many == few else (ch.bit_length() - few.bit_length()) / max(1, many.bit_length() - few.bit_length())
        )
        exact = f"{s.name}: {ch:,} channels of {s.output_shape[2]}×{s.output_shape[3]} ({count(s.params)} parameters)"
        cells.append(_flow_cell(s.name, shape_text(s.output_shape), side / big, span, exact))
    classes = analysis.layers[-1].output_shape[1]
    cells.append(_flow_cell("fc", f"{classes:,} classes", 0.0, 0.0, f"the classifier: {classes:,} outputs"))
    arrow = '<span class="lf-arrow">→</span>'
    st.html(
        "<style>"
        ".lf-strip{display:flex;align-items:flex-end;gap:.35rem;flex-wrap:wrap;margin:.1rem 0 .4rem 0}"
        ".lf-cell{display:flex;flex-direction:column;align-items:center;gap:.15rem}"
        ".lf-box{border-radius:4px;background:rgba(255,75,75,.55);border:1px solid rgba(128,128,128,.5)}"
        ".lf-name{font-size:.9rem;font-weight:600;line-height:1.1}"
        ".lf-shape{font-size:.85rem;opacity:.85;white-space:nowrap;line-height:1.1}"
        ".lf-arrow{font-size:1.2rem;opacity:.6;padding-bottom:1.2rem}"
        "</style>"
        f'<div class="lf-strip" data-testid="live-shape-flow">{arrow.join(cells)}</div>'
    )


def _flow_cell(name: str, shape: str, height: float, width: float, title: str) -> str:
    box_h = 8 + round(40 * height)
    box_w = 14 + round(46 * width)
    return (
        f'<div class="lf-cell" title="{title}"><div class="lf-box" style="height:{box_h}px;width:{box_w}px"></div>'
        f'<div class="lf-name">{name}</div><div class="lf-shape">{shape}</div></div>'
    )


# -- timing --------------------------------------------------------------------------------------


def measurement_row(m: Measurement) -> dict:
    """One row of the session's runs: numbers for people, exact ones in the downloads of the CLI."""
    return {
        "arch": m.arch,
        "device": m.device_name,
        "dtype": m.dtype,
        "batch": m.batch,
        "input": size_text(m.input_size),
        "channels_last": m.channels_last,
        "compiled": m.compiled,
        "median": duration(m.latency_ms_median / 1e3),
        "median ms": round(m.latency_ms_median, 3),
        "p10–p90": f"{duration(m.latency_ms_p10 / 1e3)} – {duration(m.latency_ms_p90 / 1e3)}",
        "images/s": round(m.images_per_s, 1),
        "passes": f"{m.warmup} + {m.repeats}",
        "share of peak": None if m.share_of_peak is None else f"{m.share_of_peak:.1%}",
        "peak memory": "—" if m.peak_memory_bytes is None else byte_size(m.peak_memory_bytes),
    }


def show_measurement(m: Measurement) -> None:
    cols = st.columns(5)
    cols[0].metric(
        "median latency",
        duration(m.latency_ms_median / 1e3),
        help=f"{m.latency_ms_median:,.3f} ms per batch of {m.batch}; p10 {m.latency_ms_p10:,.3f} ms, "
        f"p90 {m.latency_ms_p90:,.3f} ms over {m.repeats} timed passes after {m.warmup} warm-up",
    )
    # the labels carry the units, so the values fit five columns at 1280 px without being cut off
    cols[1].metric("images / s", count(m.images_per_s), help=f"{m.images_per_s:,.2f} images per second")
    cols[2].metric(
        "multiply-adds / s",
        count(m.macs_per_s),
        help=f"{m.macs_per_s:,.0f} MAC/s; {m.macs_per_image:,} multiply-adds per image, from the analysis",
    )
    cols[3].metric(
        "share of peak",
        "—" if m.share_of_peak is None else f"{m.share_of_peak:.1%}",
        help="2 × MAC/s against the device's dense peak"
        + (
            f" ({m.peak_flops / 1e12:.1f} TFLOP/s {m.peak_flops_mode})"
            if m.peak_flops
            else "; this device is not in the table"
        ),
    )
    cols[4].metric(
        "peak memory",
        "—" if m.peak_memory_bytes is None else byte_size(m.peak_memory_bytes),
        help=m.peak_memory_kind + ("" if m.peak_memory_bytes is None else f": {m.peak_memory_bytes:,} bytes"),
    )
    if m.stage_ms:
        st.plotly_chart(stage_time_chart(m.stage_ms), width="stretch", key="live_stage_chart")


def progress_text(p: Progress, what: str) -> str:
    left = "" if p.left_s is None else f" · about {duration(p.left_s)} left"
    return f"{what}: {p.phase} pass {min(p.done + 1, p.planned)} of {p.planned}{left}"


def memory_ok(analysis: Analysis, config: RunConfig, batch: int) -> bool:
    """On the CPU, the estimate of the pass against one job's budget (GPU memory has its own guard)."""
    if not config.device.startswith("cpu"):
        return True
    try:
        check_inference(analysis, batch, config.dtype, doing=f"timing batch {batch:,}")
    except OverBudget as e:
        show_error(e)
        return False
    return True


def timing_section(choice, analysis: Analysis, config: RunConfig) -> None:
    if st.session_state.get("live_cancel"):
        st.info("Timing cancelled; nothing was kept from the interrupted run.", icon=":material/cancel:")
    single, many = st.columns(2)
    with single:
        run_one = st.button(f"Time batch {config.batch}", key="live_time", type="primary")
    with many:
        batches = st.multiselect("Sweep batch sizes", SWEEP_BATCHES, default=[1, 2, 4, 8], key="live_sweep_batches")
        run_sweep = st.button("Run sweep", key="live_sweep", disabled=not batches)
    errors = (ValueError, DeviceBusy, RuntimeError)
    if run_one and memory_ok(analysis, config, config.batch):
        running = st.empty()  # the bar and Cancel, gone when the run ends
        bar_col, cancel_col = running.container().columns([5, 1], vertical_alignment="center")
        cancel_col.button("Cancel", key="live_cancel", help="stops the run after the pass in progress")
        bar = bar_col.progress(0.0, text="starting…")
        what = f"batch {config.batch}"

        def wait(ahead: int, waited: float) -> None:
            bar.progress(
                0.0, text=f"waiting for the device: {ahead} job{'s' if ahead > 1 else ''} ahead · {duration(waited)}"
            )

        try:
            m = benchmark(
                choice.spec,
                config,
                arch=choice.title,
                progress=lambda p: bar.progress(min(1.0, p.done / p.planned), text=progress_text(p, what)),
                on_wait=wait,
            )
        except DeviceOutOfMemory as e:
            show_error(e)
        except errors as e:
            show_error(e, "change the settings above.")
        else:
            st.session_state.setdefault(HISTORY, []).append(measurement_row(m))
            st.session_state["live_last"] = m
        running.empty()
    if run_sweep and memory_ok(analysis, config, max(batches)):
        bar = st.progress(0.0, text="sweep…")
        chosen = sorted(batches)
        # one run per batch, each within its share of the budget
        per_run = dataclasses.replace(config, time_budget_s=max(1.0, (config.time_budget_s or TIME_BUDGET_S) / 2))

        def done(i: int, n: int, m: Measurement | None) -> None:
            shown = f"batch {m.batch}: {rate(m.images_per_s, 'img')}" if m else ""
            bar.progress(i / n, text=f"{i} of {n} batch sizes done · {shown}")

        try:
            results, oom = sweep(choice.spec, per_run, chosen, arch=choice.title, progress=done)
        except errors as e:
            show_error(e, "change the settings above.")
        else:
            if oom is not None:
                st.warning(literal(f"Stopped: {oom}"), icon=":material/memory:")
            st.session_state["live_sweep_results"] = results
            st.session_state.setdefault(HISTORY, []).extend(measurement_row(m) for m in results)
        bar.empty()
    if "live_last" in st.session_state:
        show_measurement(st.session_state["live_last"])
    if st.session_state.get("live_sweep_results"):
        st.plotly_chart(sweep_figure(st.session_state["live_sweep_results"]), width="stretch", key="live_sweep_chart")
    history = st.session_state.get(HISTORY, [])
    if history:
        st.markdown("**Runs this session** (newest last)")
        st.dataframe(pd.DataFrame(history), hide_index=True, width="stretch")
        if st.button("Clear runs", key="live_clear"):
            st.session_state[HISTORY] = []
            st.rerun()
    st.caption(
        "Timing builds its own copy of the network (weights do not change the speed), warms up, then times "
        f"as many passes as fit about {duration(config.time_budget_s or TIME_BUDGET_S)} (at least {MIN_TIMED}, at most the "
        "number under Passes): CUDA events on a GPU, a monotonic clock on the CPU. One job at a time per device, "
        "across all sessions."
    )
    env = environment()
    gpu = ", ".join(env.get("gpus", [])) or "no CUDA GPU"
    st.caption(
        f"torch {env['torch']} · Python {env['python']} · CPU {env['cpu']} ({env['cpu_threads']} threads) · {gpu}"
        + (f" · CUDA {env['cuda']}, cuDNN {env['cudnn']}" if env.get("cuda") else "")
    )


# -- page ------------------------------------------------------------------------------------------


def device_and_dtype() -> tuple[str, str] | None:
    """The device and dtype every pass of the page runs in (beside the shape flow, above the tabs)."""
    c = st.columns(2)
    device = c[0].selectbox("Device", ["auto", *available_devices()], key="live_device", help="auto: CUDA when present")
    dtype = c[1].selectbox("dtype", list(DTYPES), key="live_dtype", help="float16 / bfloat16 run under torch.autocast")
    try:
        return str(resolve_device(device)), dtype
    except ValueError as e:
        show_error(e)
        return None


#: A timing run's batch when the page opens: one image on a CPU (its latency in a few seconds), 8 on a GPU.
DEFAULT_BATCH = 8 if torch.cuda.is_available() else 1


def settings(choice, device: str, dtype: str) -> RunConfig | None:
    """The timing run's own settings: batch, memory format, compile, and its passes' budget."""
    c = st.columns([1, 1, 1])
    batch = c[0].number_input(
        "Batch (timing)",
        1,
        4096,
        DEFAULT_BATCH,
        key="live_batch",
        help="images per pass (the estimate of its "
        "memory comes first: a batch that would not fit this server is refused with the largest that does)",
    )
    with c[1]:
        channels_last = st.toggle("channels_last", key="live_channels_last", help="NHWC memory format")
        compile_ = st.toggle("torch.compile", key="live_compile", help="timing only; the first run compiles (slow)")
    with c[2].popover("Passes"):
        budget = st.number_input(
            "time budget (s)", 1.0, 600.0, TIME_BUDGET_S, step=1.0, key="live_budget", help="seconds of passes"
        )
        warmup = st.number_input("warm-up passes, at most", 0, 100, 3, key="live_warmup")
        repeats = st.number_input("timed passes, at most", 1, 1000, 50, key="live_repeats")
    try:
        return RunConfig(
            device=device,
            dtype=dtype,
            batch=int(batch),
            input_size=choice.input_size,
            channels_last=channels_last,
            compile=compile_,
            warmup=int(warmup),
            repeats=int(repeats),
            time_budget_s=float(budget),
        )
    except ValueError as e:
        show_error(e)
        return None


def main() -> None:
    choice = spec_editor("live_")
    st.title("Live forward pass")
    if too_big_to_build(choice, "the live page builds"):
        return
    analysis = get_analysis(choice.spec, choice.input_size)
    flow, controls = st.columns([3, 1], vertical_alignment="bottom")
    with flow:
        shape_flow(analysis)
    with controls:
        chosen = device_and_dtype()
    if chosen is None:
        return
    device, dtype = chosen
    predict_tab, timing_tab = st.tabs(["Predict", "Timing"])
    with predict_tab:
        predict_section(choice.spec, choice.arch, choice.input_size, device, dtype)
    with timing_tab:
        config = settings(choice, device, dtype)
        if config is not None:
            timing_section(choice, analysis, config)
