"""Live forward pass: real weights, an image, top-5, activation maps, timing and a batch-size sweep.

Everything is computed by ``resnet_core.runtime`` / ``weights`` / ``images``; this page reads
widgets, calls them and draws. The model is cached per (spec, weights, device) for all sessions;
every forward pass holds the device's lock, so two sessions never time each other.
"""

from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from app.charts import activation_figure, stage_time_chart, sweep_figure
from app.formatting import fmt_bytes, size_text
from app.widgets import show_error, spec_editor, too_big_to_build
from resnet_core import ResNetSpec, build
from resnet_core.images import ImageError, class_names, load_image, preprocess, sample_images, top_k
from resnet_core.runtime import (
    DTYPES,
    DeviceBusy,
    DeviceOutOfMemory,
    Measurement,
    RunConfig,
    activation_layers,
    available_devices,
    benchmark,
    environment,
    predict_with_activations,
    resolve_device,
    sweep,
)
from resnet_core.weights import (
    WeightsError,
    cache_dir,
    check_fit,
    download_published,
    load_into,
    load_state_dict,
    published,
    published_for,
)

RANDOM, PUBLISHED, UPLOAD = "Random initialisation", "torchvision's published weights", "Upload a .pth / .pt"
SWEEP_BATCHES = [1, 2, 4, 8, 16, 32, 64, 128, 256]
HISTORY = "live_history"


# -- cached model ------------------------------------------------------------------------------


@st.cache_resource(show_spinner=False, max_entries=4, hash_funcs={ResNetSpec: repr})
def live_model(spec: ResNetSpec, weights_id: str, device: str, _state_dict: dict | None = None):
    """The eval-mode model of ``spec`` with the weights named by ``weights_id``, on ``device``."""
    model = build(spec)
    if _state_dict is not None:
        report = load_into(model, spec, _state_dict)
        if not report.ok:  # checked before calling; kept as a guard for the cache
            raise WeightsError(report.summary())
    return model.eval().to(device)


@st.cache_resource(show_spinner=False, max_entries=2)
def published_state_dict(weights_id: str) -> dict:
    """A published file from the cache (its sha256 checked once per process), loaded weights-only."""
    return load_state_dict(download_published(published(weights_id)))


def weights_section(spec: ResNetSpec, arch: str, crop: int) -> tuple[str, dict | None, int, int] | None:
    """(weights id, state_dict, resize, crop) chosen by the user, or None when nothing usable is chosen.

    The image is cropped to the network's input size and first resized by 256/224 of it (the ImageNet
    ratio), except for published weights, which bring their own evaluation sizes.
    """
    source = st.radio("Weights", [RANDOM, PUBLISHED, UPLOAD], key="live_weights_source", horizontal=True)
    resize = round(crop * 256 / 224)
    if source == RANDOM:
        st.warning(
            "Random initialisation (He et al. 2015): the numbers below are real, but the predictions are "
            "noise — choose published weights or upload a file to see what a trained network sees.",
            icon=":material/casino:",
        )
        return "random", None, resize, crop
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
        st.caption(f"{w.url} · sha256 {w.sha256_prefix}… · cache: {target}")
        if not target.exists():
            if not st.button(f"Download {w.filename}", key="live_download"):
                st.info("Not downloaded yet; about 45–500 MB depending on the network.")
                return None
            bar = st.progress(0.0, text="downloading…")

            def progress(done: int, total: int | None) -> None:
                if total:
                    bar.progress(min(done / total, 1.0), text=f"{done / 2**20:,.1f} of {total / 2**20:,.1f} MiB")

            try:
                download_published(w, progress=progress)
            except WeightsError as e:
                show_error(e)
                return None
        try:
            sd = published_state_dict(w.id)
        except WeightsError as e:
            show_error(e)
            return None
        resize, crop = w.resize_size, w.crop_size
        weights_id = f"torchvision:{w.id}"
    else:
        upload = st.file_uploader(
            "State dict (.pth / .pt)",
            type=["pth", "pt"],
            key="live_weights_file",
            help="Written by torch.save(model.state_dict(), path). Read with weights_only=True: no code runs.",
        )
        if upload is None:
            st.info("Upload a state_dict to use it; until then nothing is run.")
            return None
        data = upload.getvalue()
        try:
            sd = load_state_dict(data)
        except WeightsError as e:
            show_error(e, "upload a state_dict saved with torch.save(model.state_dict(), path).")
            return None
        weights_id = f"upload:{hashlib.sha256(data).hexdigest()}"
    report = check_fit(spec, sd)
    if not report.ok:
        show_error(WeightsError(report.summary()))
        st.dataframe(pd.DataFrame(report.rows()), hide_index=True, width="stretch")
        return None
    st.success(f"Weights loaded: {weights_id.split(':', 1)[0]} · {len(sd)} tensors, every key and shape fits.")
    return weights_id, sd, resize, crop


# -- prediction ----------------------------------------------------------------------------------


def image_section() -> tuple[bytes, str] | None:
    left, right = st.columns([1, 2])
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


def predict_section(spec: ResNetSpec, model, device: str, dtype: str, resize: int, crop: int) -> None:
    chosen = image_section()
    if chosen is None:
        return
    data, name = chosen
    try:
        loaded = load_image(data)
        pre = preprocess(loaded.image, resize=resize, crop=crop)
    except ImageError as e:
        show_error(e)
        return
    if spec.in_channels != 3:
        st.info(f"This network takes {spec.in_channels}-channel input; images are RGB, so nothing is predicted.")
        return
    st.markdown("**Preprocessing, step by step** (torchvision's ImageNet evaluation transform)")
    for note in loaded.notes:
        st.caption(f"{name}: {note}")
    cols = st.columns(len(pre.steps))
    for col, step in zip(cols, pre.steps, strict=True):
        with col:
            st.markdown(f"**{step.name}**")
            if step.image is not None:
                st.image(step.image, width="stretch")
            else:
                st.markdown(f"values from **{step.values[0]:.2f}** to **{step.values[1]:.2f}**")
            st.caption(f"{step.description} · shape {' × '.join(map(str, step.shape))}")

    left, right = st.columns(2, gap="large")
    layers = activation_layers(model)
    with right:
        layer = st.selectbox(
            "Activation maps of layer",
            layers,
            index=layers.index("layer1.0") if "layer1.0" in layers else 0,
            key="live_layer",
            help="Shown below: the 16 channels with the largest mean |activation| for this image.",
        )
    try:
        logits, maps = predict_with_activations(model, pre.tensor, layer, dtype)
    except (ValueError, DeviceBusy, DeviceOutOfMemory, RuntimeError) as e:
        show_error(e, "try float32 or the CPU.")
        return
    names = class_names() if spec.num_classes == 1000 else None
    with left:
        st.markdown(f"**Top-5** ({dtype} on {device})")
        preds = top_k(logits[0], 5, names)
        st.dataframe(
            pd.DataFrame([{"rank": p.rank, "class": p.label, "index": p.index, "p": p.probability} for p in preds]),
            hide_index=True,
            width="stretch",
            column_config={
                "p": st.column_config.ProgressColumn("probability", format="%.3f", min_value=0, max_value=1)
            },
        )
        if names is None:
            st.caption(f"{spec.num_classes} classes: not ImageNet's, so shown by index.")
    with right:
        c, h, w = maps.shape
        st.markdown(
            f"**{layer}** outputs {c} channels of {h}×{w}. Below: the {len(maps.channels)} most active, "
            "one colour scale for all, brighter = stronger."
        )
    st.plotly_chart(activation_figure(maps), width="stretch", key="live_activations")


# -- timing --------------------------------------------------------------------------------------


def memory_text(n: int | None) -> str:
    if n is None:
        return "—"
    return f"{n / 2**30:,.2f} GiB" if n >= 2**30 else fmt_bytes(n)


def measurement_row(m: Measurement) -> dict:
    return {
        "arch": m.arch,
        "device": m.device_name,
        "dtype": m.dtype,
        "batch": m.batch,
        "input": size_text(m.input_size),
        "channels_last": m.channels_last,
        "compiled": m.compiled,
        "median ms": round(m.latency_ms_median, 3),
        "p10–p90 ms": f"{m.latency_ms_p10:.2f}–{m.latency_ms_p90:.2f}",
        "images/s": round(m.images_per_s, 1),
        "GMAC/s": round(m.macs_per_s / 1e9, 1),
        "share of peak": None if m.share_of_peak is None else f"{m.share_of_peak:.1%}",
        "peak memory": memory_text(m.peak_memory_bytes),
    }


def show_measurement(m: Measurement) -> None:
    cols = st.columns(5)
    cols[0].metric(
        "median latency",
        f"{m.latency_ms_median:,.2f} ms",
        help=f"p10 {m.latency_ms_p10:.2f}, p90 {m.latency_ms_p90:.2f} ms over {m.repeats} runs after {m.warmup} warm-up",
    )
    cols[1].metric("images / s", f"{m.images_per_s:,.1f}")
    cols[2].metric(
        "multiply-adds / s",
        f"{m.macs_per_s / 1e9:,.1f} G",
        help=f"{m.macs_per_image / 1e9:.3f} GMAC per image, from the analysis",
    )
    cols[3].metric(
        "share of peak",
        "unknown" if m.share_of_peak is None else f"{m.share_of_peak:.1%}",
        help="2 × MAC/s against the device's dense peak"
        + (
            f" ({m.peak_flops / 1e12:.1f} TFLOP/s {m.peak_flops_mode})"
            if m.peak_flops
            else "; this device is not in the table"
        ),
    )
    cols[4].metric(
        "peak memory",
        memory_text(m.peak_memory_bytes),
        help=m.peak_memory_kind,
    )
    if m.stage_ms:
        st.plotly_chart(stage_time_chart(m.stage_ms), width="stretch", key="live_stage_chart")


def timing_section(choice, config: RunConfig) -> None:
    st.caption(
        "Timing builds its own copy of the network (weights do not change the speed), warms up, then "
        "times repeated runs: CUDA events on a GPU, a monotonic clock on the CPU. One forward pass at a "
        "time per device, across all sessions."
    )
    single, many = st.columns(2)
    with single:
        run_one = st.button(f"Time batch {config.batch}", key="live_time", type="primary")
    with many:
        batches = st.multiselect("Sweep batch sizes", SWEEP_BATCHES, default=[1, 2, 4, 8], key="live_sweep_batches")
        run_sweep = st.button("Run sweep", key="live_sweep", disabled=not batches)
    errors = (ValueError, DeviceBusy, RuntimeError)
    if run_one:
        try:
            with st.spinner("timing…"):
                m = benchmark(choice.spec, config, arch=choice.title)
        except DeviceOutOfMemory as e:
            show_error(e)
        except errors as e:
            show_error(e, "change the settings above.")
        else:
            st.session_state.setdefault(HISTORY, []).append(measurement_row(m))
            st.session_state["live_last"] = m
    if run_sweep:
        bar = st.progress(0.0, text="sweep…")
        done = lambda i, n, m: bar.progress(i / n, text=f"batch {m.batch}: {m.images_per_s:,.1f} images/s")  # noqa: E731
        try:
            results, oom = sweep(choice.spec, config, sorted(batches), arch=choice.title, progress=done)
        except errors as e:
            show_error(e, "change the settings above.")
        else:
            if oom is not None:
                st.warning(f"Stopped: {oom}", icon=":material/memory:")
            st.session_state["live_sweep_results"] = results
            st.session_state.setdefault(HISTORY, []).extend(measurement_row(m) for m in results)
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


# -- page ------------------------------------------------------------------------------------------


def settings(choice) -> RunConfig | None:
    env = environment()
    gpu = ", ".join(env.get("gpus", [])) or "no CUDA GPU"
    st.caption(
        f"torch {env['torch']} · Python {env['python']} · CPU {env['cpu']} ({env['cpu_threads']} threads) · {gpu}"
        + (f" · CUDA {env['cuda']}, cuDNN {env['cudnn']}" if env.get("cuda") else "")
    )
    c = st.columns([1, 1, 1, 1, 1])
    device = c[0].selectbox("Device", ["auto", *available_devices()], key="live_device", help="auto: CUDA when present")
    dtype = c[1].selectbox("dtype", list(DTYPES), key="live_dtype", help="float16 / bfloat16 run under torch.autocast")
    batch = c[2].number_input("Batch (timing)", 1, 4096, 8, key="live_batch")
    with c[3]:
        channels_last = st.toggle("channels_last", key="live_channels_last", help="NHWC memory format")
        compile_ = st.toggle("torch.compile", key="live_compile", help="timing only; the first run compiles (slow)")
    with c[4].popover("Repeats"):
        warmup = st.number_input("warm-up runs", 0, 100, 3, key="live_warmup")
        repeats = st.number_input("timed runs", 1, 1000, 10, key="live_repeats")
    try:
        resolved = resolve_device(device)
        return RunConfig(
            device=str(resolved),
            dtype=dtype,
            batch=int(batch),
            input_size=choice.input_size,
            channels_last=channels_last,
            compile=compile_,
            warmup=int(warmup),
            repeats=int(repeats),
        )
    except ValueError as e:
        show_error(e)
        return None


def main() -> None:
    choice = spec_editor("live_")
    st.title("Live forward pass")
    if too_big_to_build(choice, "the live page builds"):
        return
    config = settings(choice)
    if config is None:
        return
    predict_tab, timing_tab = st.tabs(["Predict", "Timing"])
    with predict_tab:
        size = choice.input_size
        crop = size if isinstance(size, int) else min(size)  # predictions use a square crop
        chosen = weights_section(choice.spec, choice.arch, crop)
        if chosen is not None:
            weights_id, sd, resize, crop = chosen
            try:
                model = live_model(choice.spec, weights_id, config.device, _state_dict=sd)
            except (WeightsError, RuntimeError) as e:
                show_error(e)
            else:
                predict_section(choice.spec, model, config.device, config.dtype, resize, crop)
    with timing_tab:
        timing_section(choice, config)
