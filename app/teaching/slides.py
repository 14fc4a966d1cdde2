"""The lecture's charts, as data: every number from the live analysis or the citation registry.

``CHARTS[key]()`` returns a ``SlideChart`` — a title, a source line and one or more panels of
series — for the ``@chart key`` line of a lecture step (``app.teaching.sections``). Nothing here is
typed in: a paper's number is a registered ``Claim`` (``app.teaching.citations.CLAIM``), labelled
with its statistic ("best of 5") where the paper gives one; a count is the analysis's. The page
draws a ``SlideChart`` with ``app.charts.slide_chart``. No Streamlit or Plotly here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from app.formatting import fmt_int
from app.teaching.citations import CLAIM, PAPERS, Claim
from app.teaching.numbers import (
    PREACT,
    TABLE1,
    TABLE6,
    VGG_CHANNELS,
    analysis_of,
    output_stride,
    since_2015,
    single_kernel,
    stack_of_3x3,
    stage_conv_macs,
    stage_output_elements,
    stride_cost,
    v1,
    weighted_depth_of_modules,
)
from resnet_core.spec import PRESETS, SHORTCUTS
from resnet_core.units import count

PanelKind = Literal["bars", "dots", "lines"]


@dataclass(frozen=True)
class Series:
    """One series of a panel: a value per category, the text drawn beside it and the hover text."""

    name: str
    values: tuple[float, ...]
    labels: tuple[str, ...]  # drawn on the chart: human numbers ("25.6 M", "6.43%")
    hover: tuple[str, ...]  # the exact value and where it comes from
    errors: tuple[float, ...] | None = None  # ± of each value (a paper's std), drawn as error bars
    text_position: str | None = None  # where the labels go ("bottom center"); None: the panel's default


@dataclass(frozen=True)
class Panel:
    title: str  # the value axis, with its unit
    categories: tuple[str, ...]
    series: tuple[Series, ...]
    kind: PanelKind = "bars"
    log: bool = False  # a log value axis (values spanning decades)
    horizontal: bool = False  # bars across, the categories down the side (long labels, many bars)


@dataclass(frozen=True)
class SlideChart:
    key: str
    title: str
    panels: tuple[Panel, ...]
    source: str  # "He et al. 2015, Table 2 (arXiv:1512.03385)"; "live model" for computed numbers


def _net(name: str) -> str:
    """'resnet50' → 'ResNet-50', its depth read from the analysis."""
    return f"ResNet-{analysis_of(PRESETS[name]).weighted_depth}"


def _paper_series(name: str, claims: list[Claim], statistic: str = "") -> Series:
    """A series of registered numbers (percentages), each labelled and hovered with its source."""
    extra = f", {statistic}" if statistic else ""
    return Series(
        name,
        tuple(c.value for c in claims),
        tuple(f"{c.text}%" for c in claims),
        tuple(f"{c.text}% ({c.source}{extra})" for c in claims),
    )


def _count_series(name: str, values: list[int], unit: str, scale: float = 1.0) -> Series:
    """A series of counts, drawn in ``unit`` (values / ``scale``), labelled '25.6 M', hovered exactly."""
    return Series(
        name,
        tuple(v / scale for v in values),
        tuple(count(v) for v in values),
        tuple(f"{fmt_int(v)} {unit}" for v in values),
    )


def _cite(*keys: str) -> str:
    papers = dict.fromkeys(CLAIM[k].paper for k in keys)
    return "; ".join(f"{PAPERS[p].cite} (arXiv:{PAPERS[p].arxiv})" for p in papers)


def table2() -> SlideChart:
    """Plain against residual at 18 and 34 layers: the degradation, and its reversal (Table 2)."""
    depths = tuple(f"{analysis_of(PRESETS[n]).weighted_depth} layers" for n in ("resnet18", "resnet34"))
    keys = ["resnet.table2.plain18", "resnet.table2.plain34", "resnet.table2.resnet18", "resnet.table2.resnet34"]
    plain = _paper_series("plain", [CLAIM[keys[0]], CLAIM[keys[1]]])
    residual = _paper_series("residual (option A)", [CLAIM[keys[2]], CLAIM[keys[3]]])
    return SlideChart(
        "table2",
        "Top-1 error, ImageNet val., 10-crop (Table 2)",
        (Panel("top-1 error (%)", depths, (plain, residual), "lines"),),
        _cite(*keys),
    )


def preact() -> SlideChart:
    """Original against full pre-activation units on CIFAR-10 (Identity Mappings, Table 2)."""
    nets = (_net("resnet110"), f"ResNet-{weighted_depth_of_modules(PREACT['preact164'])}")
    original = [CLAIM["identity.table2.resnet110"], CLAIM["identity.table2.resnet164"]]
    full = [CLAIM["identity.table2.resnet110_preact"], CLAIM["identity.table2.resnet164_preact"]]
    return SlideChart(
        "preact",
        "CIFAR-10 test error, median of 5 runs (Table 2)",
        (
            Panel(
                "test error (%)",
                nets,
                (
                    _paper_series("original unit", original, "median of 5"),
                    _paper_series("full pre-activation", full, "median of 5"),
                ),
                "dots",
            ),
        ),
        _cite("identity.table2.resnet110"),
    )


def options() -> SlideChart:
    """Table 3's top-1 errors for A, B, C and the plain net; the live model's parameters for A … D."""
    keys = ["resnet.table3.plain34", "resnet.table3.resnet34_A", "resnet.table3.resnet34_B", "resnet.table3.resnet34_C"]
    errors = _paper_series("top-1 error", [CLAIM[k] for k in keys])
    r34 = PRESETS["resnet34"]
    params = [analysis_of(r34.replace(shortcut=o)).totals.params for o in SHORTCUTS]
    return SlideChart(
        "options",
        "ResNet-34: top-1 error (Table 3) and parameters (live model)",
        (
            Panel("top-1 error (%)", ("plain", "A", "B", "C"), (errors,), "dots"),
            Panel(
                "parameters (M)",
                tuple(_option_label(o) for o in SHORTCUTS),
                (_count_series("parameters", params, "parameters", 1e6),),
            ),
        ),
        _cite(*keys) + "; parameters: live model; † not in the ResNet paper (Tong He et al. 2019)",
    )


def _option_label(option: str) -> str:
    """'A', 'B', 'C' and 'plain' (shortcut 'none') are the ResNet paper's (§3.3, Table 3); D gets a †."""
    return {"none": "plain"}.get(option, option if option in ("A", "B", "C") else f"{option}†")


def vgg_stack() -> SlideChart:
    """Weights of three 3×3 convs against one 7×7, per C² (the project's own conv3x3)."""
    c = VGG_CHANNELS
    (rf3, w3), (rf7, w7) = stack_of_3x3(c, 3), single_kernel(c, 7)
    per = [w3 // c**2, w7 // c**2]
    series = Series(
        "weights per C²",
        tuple(float(p) for p in per),
        tuple(f"{p}·C²" for p in per),
        (f"{fmt_int(w3)} weights at C = {c}", f"{fmt_int(w7)} weights at C = {c}"),
    )
    return SlideChart(
        "vgg_stack",
        "Same receptive field, fewer weights",
        (Panel("weights per C²", (f"three 3×3 (field {rf3})", f"one 7×7 (field {rf7})"), (series,)),),
        "live model (VGG's argument: Simonyan & Zisserman, §2.3)",
    )


def width_rule() -> SlideChart:
    """ResNet-34 stage by stage: a 3×3 conv's MACs stay level, the output's elements halve."""
    r34 = PRESETS["resnet34"]
    stages = tuple(f"layer{i + 1}" for i in range(r34.num_stages))
    macs = [stage_conv_macs(r34, i) for i in range(r34.num_stages)]
    elements = [stage_output_elements(r34, i) for i in range(r34.num_stages)]
    return SlideChart(
        "width_rule",
        "ResNet-34: one 3×3 conv per stage",
        (
            Panel("MACs of the conv (M)", stages, (_count_series("MACs", macs, "MACs", 1e6),)),
            Panel(
                "elements of the stage's output (k)", stages, (_count_series("elements", elements, "elements", 1e3),)
            ),
        ),
        "live model",
    )


def stride_cost_chart() -> SlideChart:
    """v1 against v1.5: the convs of layer2.0, and the whole net's total."""
    r50 = PRESETS["resnet50"]
    a15, a1 = analysis_of(r50), analysis_of(v1(r50))
    convs = ("conv1", "conv2", "conv3")
    per = {label: [a.layer(f"layer2.0.{c}").macs for c in convs] for label, a in (("v1 (paper)", a1), ("v1.5", a15))}
    cost = stride_cost(r50)
    return SlideChart(
        "stride_cost",
        "ResNet-50: multiply-adds, v1 against v1.5",
        (
            Panel(
                "MACs of layer2.0's convs (M)",
                tuple(f"{c} {k}" for c, k in zip(convs, ("1×1", "3×3", "1×1"), strict=True)),
                tuple(_count_series(label, values, "MACs", 1e6) for label, values in per.items()),
                horizontal=True,
            ),
            Panel(
                "MACs of the whole net (G)",
                ("v1 (paper)", "v1.5"),
                (_count_series("MACs", [cost.total_v1, cost.total_v15], "MACs", 1e9),),
            ),
        ),
        "live model",
    )


def zero_init() -> SlideChart:
    """Goyal et al.'s Table 2b: γ = 1 against γ = 0, mean ± std of 5 runs, at two minibatch sizes."""
    sizes = ("small", "large")
    batches = tuple(f"minibatch {CLAIM[f'goyal.table2b.{s}_batch'].text}" for s in sizes)

    def series(name: str, gamma: str) -> Series:
        claims = [CLAIM[f"goyal.table2b.{s}_gamma{gamma}"] for s in sizes]
        base = _paper_series(name, claims, "mean of 5")
        stds = tuple(CLAIM[f"goyal.table2b.{s}_gamma{gamma}_std"].value for s in sizes)
        return Series(base.name, base.values, base.labels, base.hover, stds)

    return SlideChart(
        "zero_init",
        "ResNet-50 top-1 error (Table 2b), mean ± std of 5 runs",
        (Panel("top-1 error (%)", batches, (series("γ = 1", "1"), series("γ = 0 (last BN)", "0")), "dots"),),
        _cite("goyal.table2b.small_gamma1"),
    )


def family() -> SlideChart:
    """The five ImageNet depths: parameters and multiply-adds of the live models."""
    names = TABLE1
    nets = tuple(_net(n) for n in names)
    params = [analysis_of(PRESETS[n]).totals.params for n in names]
    macs = [analysis_of(PRESETS[n]).totals.macs for n in names]
    return SlideChart(
        "family",
        "The ImageNet family (torchvision's v1.5)",
        (
            Panel("parameters (M)", nets, (_count_series("parameters", params, "parameters", 1e6),), horizontal=True),
            Panel("MACs per image (G)", nets, (_count_series("MACs", macs, "MACs", 1e9),), horizontal=True),
        ),
        "live model",
    )


def since2015() -> SlideChart:
    """The family since 2015 (``numbers.SINCE_2015``): parameters and multiply-adds beside ResNet-50's."""
    names = ["resnet50", *(name for name, _, _ in since_2015())]
    specs = [PRESETS[n] for n in names]
    nets = tuple(
        f"{n} (OS {output_stride(s)})" if output_stride(s) != output_stride(specs[0]) else n
        for n, s in zip(names, specs, strict=True)
    )
    params = [analysis_of(s).totals.params for s in specs]
    macs = [analysis_of(s).totals.macs for s in specs]
    papers = dict.fromkeys(paper for _, _, paper in since_2015())
    return SlideChart(
        "since2015",
        "ResNet-50 and its descendants",
        # One panel, two bars per net (their names need the whole height): parameters in millions and
        # multiply-adds in billions share an axis, as both span about 4 to 30.
        (
            Panel(
                "parameters (M) · MACs per image (G)",
                nets,
                (
                    _count_series("parameters (M)", params, "parameters", 1e6),
                    _count_series("MACs (G)", macs, "MACs", 1e9),
                ),
                horizontal=True,
            ),
        ),
        "live model, ImageNet-size input · " + ", ".join(PAPERS[p].cite for p in papers),
    )


def cifar() -> SlideChart:
    """Table 6's CIFAR-10 errors by depth (ResNet-110: best of 5, and the mean ± std of the 5 runs)."""
    nets = tuple(str(analysis_of(PRESETS[n]).weighted_depth) for n in TABLE6)
    singles = {n: CLAIM[f"resnet.table6.{n}"] for n in TABLE6 if n != "resnet110"}
    best = CLAIM["resnet.table6.resnet110"]
    mean, std = CLAIM["resnet.table6.resnet110_mean"], CLAIM["resnet.table6.resnet110_std"]
    claims = [singles.get(n, best) for n in TABLE6]
    one_run = Series(
        "test error (ResNet-110: best of 5)",
        tuple(c.value for c in claims),
        tuple(f"{c.text}%" + (" (best of 5)" if c is best else "") for c in claims),
        tuple(f"{c.text}% ({c.source}{', best of 5' if c is best else ''})" for c in claims),
        text_position="bottom center",  # above the best of 5 sits the mean of 5
    )
    mean_series = Series(
        f"ResNet-110: mean of 5, {mean.text}% ± {std.text}",
        (mean.value,),
        ("",),
        (f"{mean.text}% ± {std.text} ({mean.source}, mean of 5)",),
        (std.value,),
    )
    mean_at = _at(mean_series, nets, nets[TABLE6.index("resnet110")])
    return SlideChart(
        "cifar",
        "CIFAR-10 test error by depth (Table 6)",
        (Panel("test error (%), by depth", nets, (one_run, mean_at), "dots"),),
        _cite("resnet.table6.resnet20"),
    )


def _at(series: Series, categories: tuple[str, ...], category: str) -> Series:
    """``series`` (one value) placed at ``category`` of a panel: the other categories left empty (NaN)."""
    i = categories.index(category)
    nan = float("nan")
    pad = [nan] * len(categories)
    values, labels, hover = list(pad), [""] * len(categories), [""] * len(categories)
    values[i], labels[i], hover[i] = series.values[0], series.labels[0], series.hover[0]
    errors = None
    if series.errors:
        errors = [0.0] * len(categories)
        errors[i] = series.errors[0]
    return Series(series.name, tuple(values), tuple(labels), tuple(hover), tuple(errors) if errors else None)


CHARTS: dict[str, Callable[[], SlideChart]] = {
    "table2": table2,
    "preact": preact,
    "options": options,
    "vgg_stack": vgg_stack,
    "width_rule": width_rule,
    "stride_cost": stride_cost_chart,
    "zero_init": zero_init,
    "family": family,
    "cifar": cifar,
    "since2015": since2015,
}
