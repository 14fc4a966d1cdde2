"""Why residual? Plain and residual nets side by side: by the numbers, at initialisation, and training live.

Three sections, each computed here and now from real models:

(a) **By the numbers**: a plain net against the same net with each kind of shortcut, from the
    analyses (``resnet_core.compare.ShortcutCost``): option A adds only its additions (other ops),
    B/C/D exactly their projections.
(b) **At initialisation** (``resnet_core.signal``): per-block forward std, per-conv ‖∂L/∂W‖ and
    gradient shattering against depth, for a plain net and its ResNet; a sweep over depths.
(c) **The degradation race** (``resnet_core.race``): 2–4 nets trained side by side on the same
    batches, run off the script thread by ``app.race_runner.RaceRun`` and polled by a fragment, so
    the page stays responsive and other sessions' pages are never blocked; one race per server.

Query parameters: ``pair`` (section a), ``sig_pair`` and ``sig_input`` (b), ``nets``, ``data``,
``steps``, ``batch``, ``race_input``, ``seed`` (c). CPU work runs on one intra-op thread of the
thread doing it (``app.cpu_threads``; why: that module's docstring).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import streamlit as st
import torch

from app.charts import COLORS, NetLine, depth_chart, race_chart, responses_chart, sweep_chart
from app.cpu_threads import on_device
from app.download_bar import download_bar
from app.race_runner import RaceRun, RunSnapshot
from app.sync import set_widget
from app.widgets import get_analysis, parse_choice, parse_list, remember, show_error, url_param, write_url
from resnet_core import weights
from resnet_core.compare import ShortcutCost
from resnet_core.datasets import CIFAR10_BYTES, CIFAR10_FOLDER, CIFAR10_URL, DatasetError, download_cifar10
from resnet_core.race import (
    DATASETS,
    DEFAULT_NETS,
    MAX_NETS,
    MIN_NETS,
    RACE_QUEUE,
    RaceBudgetError,
    RaceConfig,
    RacePlan,
    RaceResult,
    learning_rate,
    plan_race,
)
from resnet_core.runtime import available_devices, device_name, resolve_device
from resnet_core.signal import Propagation, Shattering, SweepPoint, cifar_net, propagation, shattering
from resnet_core.spec import FIELDS, PRESETS, ResNetSpec, default_input_size
from resnet_core.units import byte_size, count, duration, rate

PLAIN_COLOR, RESIDUAL_COLOR = "#d62728", "#1f77b4"  # plain red and dashed, residual blue and solid
#: Race colours: plain nets warm, residual nets cool, the shallower of each lighter.
PLAIN_COLORS, RESIDUAL_COLORS = (
    ("#ff7f0e", "#d62728", "#8c564b", "#e377c2"),
    ("#2ca02c", "#1f77b4", "#9467bd", "#17becf"),
)

SIGNAL_BATCH = 32  # propagation's batch (BatchNorm in training mode)
SIGNAL_POINTS = 64  # shattering's points on the line
SIGNAL_CALIBRATION = 64  # shattering's BatchNorm calibration images
#: Multiply-adds one signal measurement (both nets) may take. plain-56 + ResNet-56 at 32 px need 73 G:
#: 21–32 s on one core of the 2-core development machine under a load average of 12.
SIGNAL_BUDGET = {"cpu": 200 * 10**9, "cuda": 50 * 10**12}
SWEEP_DEPTHS = (20, 32, 44, 56, 110)
DEFAULT_SWEEP = (20, 56, 110)
RUN_KEY = "why_race_run"
POLL_S = 1.0
SMOOTH = 10  # the race charts' running mean, in steps
CIFAR_CACHE, CIFAR_FOLDER = "the cache (download once, MD5-checked)", "a local tarball or folder"

#: The paper's numbers, shown only as labelled reference values (never as this run's): what, value, source.
PAPER_REFERENCE: tuple[tuple[str, str, str], ...] = (
    (
        "plain-56 vs plain-20, CIFAR-10 training error",
        "plain-56 above plain-20 throughout",
        "He et al. 2015, Fig. 6 (left)",
    ),
    ("ResNet-56 vs ResNet-20, CIFAR-10 training error", "ResNet-56 below ResNet-20", "He et al. 2015, Fig. 6 (middle)"),
    ("ResNet-20, CIFAR-10 test error", "8.75 %", "He et al. 2015, Table 6"),
    ("ResNet-56, CIFAR-10 test error", "6.97 %", "He et al. 2015, Table 6"),
    ("plain-18 / plain-34, ImageNet top-1 val. error (10-crop)", "27.94 % / 28.54 %", "He et al. 2015, Table 2"),
    ("ResNet-18 / ResNet-34, ImageNet top-1 val. error (10-crop)", "27.88 % / 25.03 %", "He et al. 2015, Table 2"),
)


# -- plain nets and their residual twins, read from the presets ------------------------------------


def residual_twins() -> dict[str, str]:
    """Each plain preset → the preset that is the same net with shortcuts (plain56 → resnet56)."""
    twins = {}
    for name, spec in PRESETS.items():
        if spec.shortcut != "none":
            continue
        for other, candidate in PRESETS.items():
            if candidate.shortcut != "none" and candidate.replace(shortcut="none") == spec:
                twins[name] = other
                break
    return twins


def shortcut_kinds() -> list[str]:
    """The shortcut options other than "none", as the spec declares them."""
    info = next(f for f in FIELDS if f.name == "shortcut")
    return [c for c in info.choices if c != "none"]


def is_plain(spec: ResNetSpec) -> bool:
    return spec.shortcut == "none"


def pair_label(plain: str) -> str:
    return f"{plain} vs {residual_twins()[plain]}"


# -- (a) by the numbers -------------------------------------------------------------------------------


def numbers_section() -> None:
    st.header("By the numbers: what a shortcut costs")
    twins = residual_twins()
    url_param("why_pair", "pair", "plain34" if "plain34" in twins else next(iter(twins)), parse_choice(twins))
    plain_name = st.selectbox("Plain net", list(twins), key="why_pair", format_func=pair_label)
    remember("why_pair")
    write_url({"pair": plain_name})
    plain_spec = PRESETS[plain_name]
    size = default_input_size(plain_spec)
    plain = get_analysis(plain_spec, size)
    kinds = shortcut_kinds()
    nets = [(plain_name, plain, None)]
    for kind in kinds:
        residual = get_analysis(plain_spec.replace(shortcut=kind), size)
        nets.append((f"{twins[plain_name]} ({kind})", residual, ShortcutCost.of(plain, residual)))
    option_text = next(f for f in FIELDS if f.name == "shortcut").option_text
    rows = (("Parameters", "params"), ("Multiply-adds (MACs)", "macs"), ("Other ops", "other_ops"))
    for col, (label, a, cost) in zip(st.columns(len(nets)), nets, strict=True):
        col.markdown(f"**{label}**  \n{'no shortcut' if cost is None else option_text(a.spec.shortcut)}")
        for title, attr in rows:
            value = getattr(a.totals, attr)
            diff = value - getattr(plain.totals, attr)
            col.metric(
                title,
                count(value),
                delta=None if cost is None else (f"+{count(diff)}" if diff else "+0: the same"),
                delta_color="off",
                help=f"exactly {value:,}" + ("" if cost is None else f"; {diff:+,} against {plain_name}"),
            )
    same = [label for label, a, cost in nets[1:] if cost is not None and cost.params == 0 and cost.macs == 0]
    a_cost = next((cost for _, a, cost in nets[1:] if a.spec.shortcut == "A"), None)
    lines = []
    if a_cost is not None:
        lines.append(
            f"- **{plain_name} and {twins[plain_name]} with option A have identical parameters and multiply-adds** "
            f"({count(plain.totals.params)} and {count(plain.totals.macs)} per image): A's shortcut is an "
            f"identity with zero-padding, so only its {a_cost.adds} additions differ — "
            f"{count(a_cost.add_other_ops)} more other ops per image (one addition per output element)."
        )
    for label, _, cost in nets[1:]:
        if cost is not None and cost.projections:
            lines.append(
                f"- **{label}** adds exactly its {cost.projections} projection shortcuts: "
                f"+{count(cost.shortcut_params)} parameters and +{count(cost.shortcut_macs)} multiply-adds "
                f"(the 1×1 convs and their BatchNorms), plus its {cost.adds} additions."
            )
    st.markdown("\n".join(lines))
    explained = all(cost.explained for _, _, cost in nets[1:] if cost is not None)
    st.caption(
        f"Counted by the analysis at {size}×{size} (MACs: convolutions and the classifier, one image; other ops "
        "counted separately, as everywhere in the app). "
        + (
            "Every difference is exactly the residual adds and the shortcut paths, nothing else."
            if explained
            else "Some difference is NOT explained by the adds and shortcut paths: please report it."
        )
        + (f" Same parameters and MACs as the plain net: {', '.join(same)}." if same else "")
    )


# -- (b) signal propagation at initialisation -----------------------------------------------------


def signal_cost(spec: ResNetSpec, size: int) -> int:
    """Multiply-adds of one ``propagation`` + ``shattering`` of ``spec``: the forward pass's MACs × (3 ×
    batch for forward and backward, 2 × points for the forward-mode pass, the calibration batch)."""
    forward = get_analysis(spec, size).totals.macs
    return forward * (3 * SIGNAL_BATCH + 2 * SIGNAL_POINTS + SIGNAL_CALIBRATION)


@st.cache_data(show_spinner=False, max_entries=32, hash_funcs={ResNetSpec: repr})
def measured_propagation(spec: ResNetSpec, size: int, device: str, label: str) -> Propagation:
    dev = resolve_device(device)
    with on_device(dev):
        return propagation(spec, size, batch=SIGNAL_BATCH, device=str(dev), label=label)


@st.cache_data(show_spinner=False, max_entries=32, hash_funcs={ResNetSpec: repr})
def measured_shattering(spec: ResNetSpec, size: int, device: str, label: str) -> Shattering:
    dev = resolve_device(device)
    with on_device(dev):
        return shattering(
            spec, size, points=SIGNAL_POINTS, calibration=SIGNAL_CALIBRATION, device=str(dev), label=label
        )


def _parse_size(text: str) -> int:
    try:
        size = int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not allowed: a whole number of pixels") from None
    if not 8 <= size <= 512:
        raise ValueError(f"{size} is not allowed: from 8 to 512 pixels")
    return size


def _reset_signal_size() -> None:
    set_widget("why_sig_input", small_input(PRESETS[st.session_state["why_sig_pair"]]))


def small_input(spec: ResNetSpec) -> int:
    """The signal section's default input: 32 for the CIFAR nets, 64 for the ImageNet ones (a small input
    that still leaves their last stage a 2×2 map: cheap enough for a CPU)."""
    return min(default_input_size(spec), 64)


def gradient_sentence(p: Propagation) -> str:
    """What the measurement says about the gradient on its way back, in words and numbers."""
    main = [g for g, path in zip(p.grad_norm, p.conv_path, strict=True) if path == "main"]
    first, last = main[0], main[-1]
    ratio = first / last if last else float("inf")
    if ratio > 10:
        trend = f"grows toward the input: ×{ratio:,.3g} from the last conv to the first"
    elif ratio < 0.1:
        trend = f"shrinks toward the input: ÷{1 / ratio:,.3g} from the last conv to the first (it vanishes)"
    else:
        trend = f"stays within a factor of ten from the last conv to the first (×{ratio:.3g})"
    return f"**{p.label}**: ‖∂L/∂W‖ is {first:.3g} at the first conv and {last:.3g} at the last; it {trend}."


def signal_lines(a: Propagation, b: Propagation, which: str) -> list[NetLine]:
    out = []
    for p in (a, b):
        plain = is_plain(p.spec)
        color = PLAIN_COLOR if plain else RESIDUAL_COLOR
        if which == "forward":
            out.append(NetLine(p.label, p.depth, p.forward_std, p.names, plain, color))
        else:
            keep = [i for i, path in enumerate(p.conv_path) if path == "main"]
            out.append(
                NetLine(
                    p.label,
                    tuple(p.conv_depth[i] for i in keep),
                    tuple(p.grad_norm[i] for i in keep),
                    tuple(p.conv_names[i] for i in keep),
                    plain,
                    color,
                )
            )
    return out


def propagation_frame(props: list[Propagation]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per block: forward and backward std; per conv: ‖∂L/∂W‖ and ‖W‖), every net, long format."""
    blocks = pd.DataFrame(
        [
            {"net": p.label, "output": n, "depth": d, "forward_std": f, "backward_std": b}
            for p in props
            for n, d, f, b in zip(p.names, p.depth, p.forward_std, p.backward_std, strict=True)
        ]
    )
    convs = pd.DataFrame(
        [
            {"net": p.label, "conv": n, "depth": d, "path": path, "grad_norm": g, "weight_norm": w}
            for p in props
            for n, d, path, g, w in zip(
                p.conv_names, p.conv_depth, p.conv_path, p.grad_norm, p.weight_norm, strict=True
            )
        ]
    )
    return blocks, convs


def shattering_frame(shats: list[Shattering]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"net": s.label, "output": n, "depth": d, "correlation": c}
            for s in shats
            for n, d, c in zip(s.names, s.depth, s.correlation, strict=True)
        ]
    )


def csv_button(label: str, frame: pd.DataFrame, name: str, key: str) -> None:
    st.download_button(label, frame.to_csv(index=False), file_name=name, mime="text/csv", key=key)


SHATTERING_DEFINITION = (
    "**What is computed** (Balduzzi et al. 2017, *The Shattered Gradients Problem*, arXiv:1702.08591, after "
    "their Fig. 1–2 setup): the net is restricted to a line in input space, x(t) = x₀ + t·d (x₀ and d drawn "
    f"N(0, 1) per pixel), at {SIGNAL_POINTS} values of t, 4/255 apart (the spacing of the paper's 256 points on "
    "[−2, 2]). At the stem, every block and the logits, a fixed random unit readout r of the output gives a "
    "scalar f(x) = ⟨r, h(x)⟩; its derivative along the line, g(t) = ⟨∇ₓf(x(t)), d⟩, is computed exactly by "
    "forward-mode differentiation. Plotted: the lag-1 autocorrelation of g over the line (the correlation of "
    "each point's gradient with its neighbour's), averaged over 16 readouts — 1 for a smooth gradient, about 0 "
    f"for white noise. BatchNorm uses the statistics of a separate batch of {SIGNAL_CALIBRATION} N(0, 1) inputs, "
    "so each point's gradient is its own."
)


def signal_section(device: torch.device) -> None:
    st.header("At initialisation: does the signal get through?")
    twins = residual_twins()
    url_param("why_sig_pair", "sig_pair", "plain56" if "plain56" in twins else next(iter(twins)), parse_choice(twins))
    left, right = st.columns([2, 1])
    plain_name = left.selectbox(
        "Plain net and its ResNet",
        list(twins),
        key="why_sig_pair",
        format_func=pair_label,
        on_change=_reset_signal_size,
        help="CIFAR nets (§4.2) at 32×32; the ImageNet nets (Table 2) at a small input, to fit a CPU.",
    )
    url_param("why_sig_input", "sig_input", small_input(PRESETS[plain_name]), _parse_size)
    size = right.number_input("Input size (px, square)", min_value=8, max_value=512, step=8, key="why_sig_input")
    remember("why_sig_pair", "why_sig_input")
    write_url({"sig_pair": plain_name, "sig_input": str(size)})
    specs = [(plain_name, PRESETS[plain_name]), (twins[plain_name], PRESETS[twins[plain_name]])]
    try:
        cost = sum(signal_cost(spec, size) for _, spec in specs)
    except ValueError as e:
        show_error(e, "choose a larger input size.")
        return
    budget = SIGNAL_BUDGET["cuda" if device.type == "cuda" else "cpu"]
    if cost > budget:
        show_error(
            ValueError(
                f"measuring {pair_label(plain_name)} at {size}×{size} takes about {count(cost)} multiply-adds, over "
                f"this page's budget on {'the GPU' if device.type == 'cuda' else 'the CPU'} of {count(budget)}"
            ),
            "choose a smaller input size or a shallower pair.",
        )
        return
    with st.spinner(f"Measuring {pair_label(plain_name)} at initialisation ({count(cost)} multiply-adds)…"):
        props = [measured_propagation(spec, size, str(device), name) for name, spec in specs]
        shats = [measured_shattering(spec, size, str(device), name) for name, spec in specs]

    st.markdown(
        "He et al. 2015 (§4.1) on their plain nets: *“These plain networks are trained with BN, which ensures "
        "forward propagated signals to have non-zero variances. We also verify that the backward propagated "
        "gradients exhibit healthy norms with BN.”* The paper argues the plain nets' trouble is therefore not "
        "vanishing gradients. Here is what one training step at initialisation measures (seeded weights drawn as "
        "in *Delving Deep into Rectifiers*, arXiv:1502.01852, as torchvision does; a batch of "
        f"{SIGNAL_BATCH} N(0, 1) images, BatchNorm in training mode, cross-entropy against random labels):"
    )
    st.markdown("\n".join(f"- {gradient_sentence(p)}" for p in props))
    c1, c2 = st.columns(2)
    with c1:
        st.subheader("Forward: std per block")
        st.plotly_chart(
            depth_chart(signal_lines(*props, "forward"), "std of the output"), key="why_forward", width="stretch"
        )
    with c2:
        st.subheader("Backward: ‖∂L/∂W‖ per conv")
        st.plotly_chart(
            depth_chart(signal_lines(*props, "grad"), "‖∂L/∂W‖ (log scale)", log_y=True),
            key="why_grad",
            width="stretch",
        )
    blocks, convs = propagation_frame(props)
    with c1:
        csv_button("CSV: std per block", blocks, f"{plain_name}_block_std.csv", "why_csv_blocks")
    with c2:
        csv_button("CSV: ‖∂L/∂W‖ per conv", convs, f"{plain_name}_grad_norms.csv", "why_csv_convs")

    st.subheader("Shattered gradients: how smooth is ∂f/∂x along a line of inputs?")
    s_left, s_right = st.columns([3, 2])
    with s_left:
        lines = [
            NetLine(
                s.label,
                s.depth,
                s.correlation,
                s.names,
                is_plain(s.spec),
                PLAIN_COLOR if is_plain(s.spec) else RESIDUAL_COLOR,
            )
            for s in shats
        ]
        st.plotly_chart(
            depth_chart(lines, "gradient correlation, neighbours").update_yaxes(range=[-0.25, 1.05]),
            key="why_shattering",
            width="stretch",
        )
        csv_button(
            "CSV: correlation per block", shattering_frame(shats), f"{plain_name}_shattering.csv", "why_csv_shat"
        )
    with s_right:
        ends = ", ".join(f"**{s.label}** {s.correlation[-1]:.2f}" for s in shats)
        st.markdown(
            f"At the logits the correlation is {ends}. Balduzzi et al. argue that in plain nets the "
            "gradient decays toward white noise with depth, and far more slowly with shortcuts."
        )
        with st.expander("What exactly is computed", expanded=False):
            st.markdown(SHATTERING_DEFINITION)
    sweep_section(device)


def _sweep_point(depth: int, shortcut: str, device: torch.device) -> SweepPoint:
    spec = cifar_net(depth, shortcut)
    label = f"{'plain' if shortcut == 'none' else 'resnet'}{depth}"
    return SweepPoint(
        depth,
        shortcut,
        measured_propagation(spec, 32, str(device), label),
        measured_shattering(spec, 32, str(device), label),
    )


def sweep_section(device: torch.device) -> None:
    st.subheader("Across depth: the CIFAR nets at 32×32")
    left, right = st.columns([2, 1], vertical_alignment="bottom")
    depths = left.multiselect(
        "Depths (6n + 2 layers, §4.2)", SWEEP_DEPTHS, default=list(DEFAULT_SWEEP), key="why_sweep_depths"
    )
    run = right.button("Run the sweep", key="why_sweep_run", disabled=not depths)
    kinds = (("plain", "none"), ("resnet (A)", "A"))
    if run:
        cost = sum(signal_cost(cifar_net(d, s), 32) for d in depths for _, s in kinds)
        budget = SIGNAL_BUDGET["cuda" if device.type == "cuda" else "cpu"] * 4
        if cost > budget:
            show_error(
                ValueError(
                    f"the sweep takes about {count(cost)} multiply-adds, over this page's budget of {count(budget)}"
                ),
                "choose fewer depths.",
            )
            return
        bar = st.progress(0.0, text="sweep…")
        points = []
        todo = [(d, s) for d in sorted(depths) for _, s in kinds]
        for i, (d, s) in enumerate(todo):
            bar.progress(i / len(todo), text=f"{'plain' if s == 'none' else 'resnet'}{d} ({i + 1} of {len(todo)})…")
            points.append(_sweep_point(d, s, device))
        bar.progress(1.0, text=f"done: {len(todo)} nets measured")
        st.session_state["why_sweep"] = points
    points = st.session_state.get("why_sweep")
    if not points:
        st.caption(
            "Measures plain and ResNet (option A) CIFAR nets of each depth: the gradient's correlation at the "
            "logits and how much larger ‖∂L/∂W‖ is at the first conv than at the last."
        )
        return
    colors = {"plain": PLAIN_COLOR, "resnet (A)": RESIDUAL_COLOR}
    correlation, growth = {}, {}
    for name, shortcut in kinds:
        mine = [p for p in points if p.shortcut == shortcut]
        correlation[name] = ([p.depth for p in mine], [p.output_correlation for p in mine])
        growth[name] = ([p.depth for p in mine], [_first_over_last(p.propagation) for p in mine])
    c1, c2 = st.columns(2)
    with c1:
        st.plotly_chart(
            sweep_chart(correlation, "gradient correlation at the logits", colors),
            key="why_sweep_corr",
            width="stretch",
        )
    with c2:
        fig = sweep_chart(growth, "‖∂L/∂W‖ first conv ÷ last (log)", colors).update_yaxes(type="log")
        st.plotly_chart(fig, key="why_sweep_growth", width="stretch")
    frame = pd.DataFrame(
        [
            {
                "net": p.propagation.label,
                "depth": p.depth,
                "shortcut": p.shortcut,
                "output_correlation": p.output_correlation,
                "grad_norm_first_over_last": _first_over_last(p.propagation),
                "loss_at_init": p.propagation.loss,
            }
            for p in points
        ]
    )
    csv_button("CSV: the sweep", frame, "depth_sweep.csv", "why_csv_sweep")


def _first_over_last(p: Propagation) -> float:
    main = [g for g, path in zip(p.grad_norm, p.conv_path, strict=True) if path == "main"]
    return main[0] / main[-1] if main[-1] else float("inf")


# -- (c) the degradation race ------------------------------------------------------------------------


def _parse_int(lo: int, hi: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise ValueError(f"{text!r} is not allowed: a whole number from {lo} to {hi}") from None
        if not lo <= value <= hi:
            raise ValueError(f"{value} is not allowed: from {lo} to {hi}")
        return value

    return parse


def net_colors(labels: list[str]) -> dict[str, str]:
    """Plain nets warm, residual cool, in order of depth within each kind (shallower first)."""
    colors: dict[str, str] = {}
    for plain, palette in ((True, PLAIN_COLORS), (False, RESIDUAL_COLORS)):
        mine = [label for label in labels if label in PRESETS and is_plain(PRESETS[label]) == plain]
        mine.sort(key=lambda label: sum(PRESETS[label].layers))
        for label, color in zip(mine, palette, strict=False):
            colors[label] = color
    for label, color in zip([lb for lb in labels if lb not in colors], COLORS, strict=False):
        colors[label] = color
    return colors


def race_form(device_names: list[str]) -> RaceConfig | None:
    """The race's settings (state in the URL), or None while they are not complete."""
    names = list(PRESETS)
    url_param("why_nets", "nets", list(DEFAULT_NETS), parse_list(names))
    url_param("why_data", "data", DATASETS[0], parse_choice(DATASETS))
    url_param("why_steps", "steps", RaceConfig.steps, _parse_int(1, 100_000))
    url_param("why_batch", "batch", RaceConfig.batch, _parse_int(2, 4096))
    url_param("why_race_input", "race_input", RaceConfig.input_size, _parse_int(8, 512))
    url_param("why_seed", "seed", RaceConfig.seed, _parse_int(0, 2**31 - 1))
    c = st.columns([3, 1, 1, 1, 1])
    nets = c[0].multiselect(
        f"Nets ({MIN_NETS} to {MAX_NETS})",
        names,
        key="why_nets",
        max_selections=MAX_NETS,
        help="Any preset; the classifier is resized to the data's classes. The paper's pair: plain20/plain56 "
        "against resnet20/resnet56 (Fig. 6).",
    )
    steps = c[1].number_input("Steps", min_value=1, max_value=100_000, step=50, key="why_steps")
    batch = c[2].number_input("Batch", min_value=2, max_value=4096, step=16, key="why_batch")
    size = c[3].number_input("Image side (px)", min_value=8, max_value=512, step=8, key="why_race_input")
    seed = c[4].number_input("Seed", min_value=0, max_value=2**31 - 1, step=1, key="why_seed")
    d1, d2, d3 = st.columns([2, 1, 2])
    data = d1.radio(
        "Data",
        DATASETS,
        key="why_data",
        horizontal=True,
        format_func=lambda d: "built-in shapes10 (no download)" if d == "shapes10" else "CIFAR-10",
    )
    device = d2.selectbox("Device", ["auto", *device_names], key="why_device", help="auto: CUDA when present")
    source = None
    if data == "cifar10":
        source = d3.radio("CIFAR-10 from", [CIFAR_CACHE, CIFAR_FOLDER], key="why_cifar_from")
    remember("why_nets", "why_data", "why_steps", "why_batch", "why_race_input", "why_seed", "why_device")
    write_url(
        {
            "nets": ",".join(nets),
            "data": data,
            "steps": str(steps),
            "batch": str(batch),
            "race_input": str(size),
            "seed": str(seed),
        }
    )
    cifar_source = cifar_section(source) if data == "cifar10" else None
    if data == "cifar10" and cifar_source is None:
        return None
    try:
        return RaceConfig(
            nets=tuple(nets),
            data=data,
            steps=int(steps),
            batch=int(batch),
            input_size=int(size),
            seed=int(seed),
            device=device,
            cifar_source=cifar_source or None,
        )
    except RaceBudgetError as e:
        show_error(e)
        return None


def cifar_section(source: str | None) -> str | None:
    """Where CIFAR-10 comes from: "" for the cache (downloaded on request here), a path, or None (not yet)."""
    cached = weights.cache_dir() / Path(CIFAR10_URL).name
    if source == CIFAR_FOLDER:
        path = st.text_input(
            f"Path to {Path(CIFAR10_URL).name} or the folder holding {CIFAR10_FOLDER}",
            key="why_cifar_path",
            help="Checked before use: a tarball against its published MD5, each batch file of a folder against "
            "its own.",
        ).strip()
        if not path:
            st.info("Give the path of the CIFAR-10 python version on this server's disk.")
            return None
        if not Path(path).expanduser().exists():
            st.error(f"Nothing at {path!r} on this server: give the tarball or the folder", icon=":material/error:")
            return None
        return path
    st.caption(f"Cache: {cached} · from {CIFAR10_URL} · checked against the published MD5")
    if cached.exists():
        return ""
    if not st.button(f"Download CIFAR-10 ({byte_size(CIFAR10_BYTES)})", key="why_cifar_download"):
        st.info("CIFAR-10 is not in the cache yet: download it, or choose the built-in shapes10.")
        return None
    try:
        download_cifar10(progress=download_bar("downloading CIFAR-10…"))
    except DatasetError as e:
        show_error(e)
        return None
    st.caption("CIFAR-10 downloaded; the tarball matched its published MD5.")
    return ""


#: The last race that finished on this server (its results, read-only once finished), for any session.
_LAST_RUN: dict[str, RaceRun] = {}

#: The rate (training multiply-adds per second) of the last finished race on each device type, this process.
_LAST_RATE: dict[str, float] = {}


def remember_rate(plan: RacePlan, result: RaceResult | None) -> None:
    """Keep the training multiply-adds per second that ``result`` achieved (time spent training only)."""
    seconds = sum(n.seconds for n in result.nets) if result is not None else 0.0
    if result is not None and result.steps_done and seconds > 0:
        macs = 3 * sum(n.macs for n in plan.nets) * result.batch * result.steps_done
        _LAST_RATE[plan.device.type] = macs / seconds


def plan_text(plan: RacePlan) -> str:
    where = f"{plan.device.type.upper()} ({device_name(plan.device)})"
    precision = plan.dtype + (", channels_last" if plan.channels_last else "")
    nets = ", ".join(f"{n.label} ({n.depth} layers, {count(n.params)} params)" for n in plan.nets)
    text = (
        f"**Plan:** {nets} · {count(plan.train_macs)} multiply-adds of training (3 × forward × batch × steps) · "
        f"{where}, {precision} · learning rate {learning_rate(plan.config):g} (the paper's 0.1 at batch 128, §4.2, scaled)."
    )
    last = _LAST_RATE.get(plan.device.type)
    if last:
        text += f" At the rate of the last race on this server ({rate(last, 'MAC')}), about {duration(plan.train_macs / last)}."
    return text


def start_race(config: RaceConfig) -> None:
    try:
        plan = plan_race(config)
    except (RaceBudgetError, ValueError) as e:
        st.session_state["why_race_refused"] = str(e)
        return
    st.session_state.pop("why_race_refused", None)
    st.session_state[RUN_KEY] = RaceRun(config, plan).start()


def race_section(device_names: list[str]) -> None:
    st.header("The degradation race: train them side by side, live")
    st.markdown(
        "He et al. 2015 train plain and residual CIFAR nets of 20 to 56 layers (Fig. 6): the deeper *plain* net "
        "ends with the higher *training* error, the deeper ResNet with the lower. Here the chosen nets train on "
        f"the same batches in the same order (SGD, momentum {RaceConfig.momentum:g}, weight decay "
        f"{RaceConfig.weight_decay:g}, as in §4.2; no augmentation), the plain net and its option-A ResNet from "
        "identical initial weights. What you see is what this run measures."
    )
    run: RaceRun | None = st.session_state.get(RUN_KEY)
    active = run is not None and not run.snapshot().finished
    config = race_form(device_names)
    plan = None
    if config is not None:
        try:
            plan = plan_race(config)
        except (RaceBudgetError, ValueError) as e:
            show_error(e)
        else:
            st.markdown(plan_text(plan))
            if plan.device.type == "cpu":
                st.caption(
                    "On a CUDA GPU the same race runs with bfloat16 autocast and channels_last (choose Device: auto "
                    f"or cuda where one is present). On the CPU it trains on one core of this server's {os.cpu_count()}, "
                    "so other users' pages stay responsive (see app/cpu_threads.py for the measurements behind it)."
                )
    holder, waiting = RACE_QUEUE.status()
    if holder is not None and not active:
        st.info(
            f"A race is running on this server now ({holder}"
            + (f"; {waiting} waiting" if waiting else "")
            + "). Yours would wait in line and start when it ends.",
            icon=":material/hourglass_top:",
        )
    b1, b2 = st.columns([1, 4])
    b1.button(
        "Start the race",
        key="why_race_start",
        type="primary",
        disabled=plan is None or active,
        on_click=start_race,
        args=(config,),
    )
    if active:
        b2.caption("One race per session at a time: stop this one to start another.")
    refused = st.session_state.get("why_race_refused")
    if refused:
        show_error(ValueError(refused))
    run = st.session_state.get(RUN_KEY)
    if run is None:
        last = _LAST_RUN.get("run")
        if last is not None and st.button(
            f"Show the last race on this server ({', '.join(n.label for n in last.plan.nets)}, "
            f"{last.snapshot().steps_done} steps)",
            key="why_race_last",
            help="Its results stay on the server until the next race finishes (a reload starts a new session).",
        ):
            st.session_state[RUN_KEY] = run = last
        else:
            return
    polling = not run.snapshot().finished
    st.fragment(run_every=POLL_S if polling else None)(race_live)(run, polling)


def phase_text(s: RunSnapshot) -> str:
    if s.phase == "queued":
        holder, _ = RACE_QUEUE.status()
        return f"Waiting in line: position {s.position or 1}" + (f", behind {holder}" if holder else "")
    if s.phase == "preparing":
        return "Preparing the data and building the nets…"
    if s.phase == "running":
        return f"Training: step {s.steps_done} of {s.steps_planned}"
    if s.phase == "measuring":
        return "Measuring each net's layer responses (Fig. 7)…"
    if s.phase == "done":
        return f"Finished: {s.steps_done} steps in {duration(s.elapsed_s)}"
    if s.phase == "stopped":
        return f"Stopped after {s.steps_done} of {s.steps_planned} steps"
    return "Failed"


def race_live(run: RaceRun, polling: bool) -> None:
    """The race's progress and charts; a fragment that reruns every POLL_S seconds while the race runs."""
    run.seen()
    s = run.snapshot()
    if polling and s.finished:
        remember_rate(run.plan, s.result)
        st.rerun()  # the whole page: stop polling, show the results
    top = st.columns([4, 1])
    top[0].progress(s.steps_done / max(s.steps_planned, 1), text=phase_text(s))
    top[1].button(
        "Stop", key="why_race_stop", on_click=run.stop, disabled=s.finished, help="Ends the race after the current step"
    )
    if s.finished and s.result is not None and s.result.steps_done and _LAST_RUN.get("run") is not run:
        _LAST_RUN["run"] = run
    if s.phase == "failed":
        show_error(ValueError(s.error or "the race failed"))
    result = s.result
    if result is None:
        return
    device = f"{result.device} ({result.device_name}), {result.dtype}" + (
        ", channels_last" if result.channels_last else ""
    )
    threads = f" · {s.threads.text}" if s.threads is not None else ""
    st.caption(
        f"{result.data} · {result.input_size}×{result.input_size} · batch {result.batch} · lr {result.lr:g} · seed "
        f"{result.seed} · {device}{threads}"
    )
    labels = [n.label for n in result.nets]
    colors = net_colors(labels)
    if result.steps_done:
        st.plotly_chart(race_chart(result, colors, SMOOTH), key="why_race_chart", width="stretch")
        st.caption(
            f"Thin: each batch's value; bold: the mean of the last {SMOOTH} steps. Plain nets dashed, ResNets solid."
        )
    if s.finished:
        race_results(result, colors, s)


def verdicts(result: RaceResult) -> list[str]:
    """Sentences on what this run measured: deeper vs shallower of each kind, residual vs plain at each depth."""
    k = max(1, result.steps_done // 10)
    nets = sorted(result.nets, key=lambda n: n.depth)
    out = []
    for plain in (True, False):
        mine = [n for n in nets if is_plain(n.spec) == plain]
        for shallow, deep in itertools.pairwise(mine):
            if deep.depth == shallow.depth:
                continue
            above = result.ended_above(deep.label, shallow.label)
            numbers = f"final training loss {deep.final_loss:.3f} vs {shallow.final_loss:.3f}, error {deep.final_error:.1%} vs {shallow.final_error:.1%}"
            if plain:
                out.append(
                    f"**{deep.label} ended above {shallow.label}** ({numbers}): the deeper plain net trained worse, "
                    "as the paper reports (Fig. 6, left)."
                    if above
                    else f"**{deep.label} did NOT end above {shallow.label}** ({numbers}): in this run the deeper plain "
                    "net trained as well or better. The paper's Fig. 6 shows the opposite after 64k iterations on "
                    f"CIFAR-10; this run had {result.steps_done} steps on {result.data}."
                )
            else:
                out.append(
                    f"**{deep.label} ended below {shallow.label}** ({numbers}): the deeper ResNet trained better."
                    if not above
                    else f"**{deep.label} ended above {shallow.label}** ({numbers}): the deeper ResNet trained worse in this run."
                )
    for p in (n for n in nets if is_plain(n.spec)):
        for r in (n for n in nets if not is_plain(n.spec) and n.depth == p.depth):
            relation = "ended below" if r.final_loss < p.final_loss else "did NOT end below"
            out.append(
                f"**{r.label} {relation} {p.label}** at the same depth "
                f"(final training loss {r.final_loss:.3f} vs {p.final_loss:.3f})."
            )
    out.append(f"“Final” = the mean of the last {k} of {result.steps_done} steps (one batch alone is noisy).")
    return out


def race_results(result: RaceResult, colors: dict[str, str], s: RunSnapshot) -> None:
    if not result.steps_done:
        return
    if result.stopped:
        st.warning(
            f"Stopped after {result.steps_done} of {result.steps_planned} steps: the numbers below are those steps'.",
            icon=":material/stop_circle:",
        )
    st.markdown("\n".join(f"- {v}" for v in verdicts(result)))
    table = pd.DataFrame(
        [
            {
                "net": n.label,
                "depth": n.depth,
                "parameters": count(n.params),
                "first loss": round(n.loss[0], 3),
                "final loss": round(n.final_loss, 3),
                "final error": f"{n.final_error:.1%}",
                "steps/s": round(n.steps_per_s, 2),
                "training time": duration(n.seconds),
            }
            for n in result.nets
        ]
    )
    st.dataframe(table, hide_index=True, width="stretch", key="why_race_table")
    history = pd.DataFrame(
        [
            {"step": i + 1, "net": n.label, "loss": loss, "error": err}
            for n in result.nets
            for i, (loss, err) in enumerate(zip(n.loss, n.error, strict=True))
        ]
    )
    csv_button("CSV: loss and error per step", history, "race.csv", "why_csv_race")
    if result.responses:
        st.subheader("After the race: each 3×3 layer's response (the paper's Fig. 7 analysis)")
        plain = {n.label for n in result.nets if is_plain(n.spec)}
        st.plotly_chart(responses_chart(result.responses, colors, plain), key="why_responses", width="stretch")
        means = ", ".join(f"{r.label} {sum(r.std) / len(r.std):.3f}" for r in result.responses)
        st.caption(
            f"Std of the output of the BatchNorm after each 3×3 conv (before ReLU or addition), eval mode, on "
            f"{result.responses[0].images} held-out images; mean over layers: {means}. The paper reports (§4.2, "
            "Fig. 7) that ResNets' responses are generally smaller than their plain counterparts' after full "
            "training on CIFAR-10, and argues it supports residual functions being closer to zero."
        )
        frame = pd.DataFrame(
            [
                {"net": r.label, "index": i + 1, "layer": layer, "std": std}
                for r in result.responses
                for i, (layer, std) in enumerate(zip(r.layers, r.std, strict=True))
            ]
        )
        csv_button("CSV: layer responses", frame, "race_responses.csv", "why_csv_responses")
    with st.expander("The paper's numbers (reference values, not this run's)"):
        st.dataframe(
            pd.DataFrame(PAPER_REFERENCE, columns=["what", "the paper reports", "source"]),
            hide_index=True,
            width="stretch",
        )
        st.caption(
            "The paper trains 64k iterations at batch 128 on CIFAR-10 with augmentation (§4.2); a race here is "
            "a few hundred steps, so only the ordering of the curves can be compared, never the values."
        )


# -- the page -----------------------------------------------------------------------------------------


def main() -> None:
    """The "Why residual?" page: by the numbers, at initialisation, and the degradation race."""
    st.title("Why residual?")
    device = resolve_device("auto")
    where = (
        f"a CUDA GPU ({device_name(device)})"
        if device.type == "cuda"
        else f"the CPU ({device_name(device)}; no CUDA GPU found)"
    )
    st.caption(
        f"Everything below is computed on this server, now, on {where}. Plain nets are the paper's baselines: "
        "each ResNet block without its shortcut and addition (He et al. 2015, §3.3)."
    )
    numbers_section()
    st.divider()
    signal_section(device)
    st.divider()
    race_section(available_devices())
