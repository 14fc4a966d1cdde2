"""app.charts: every chart, built from the library's own output, carries the one font size (the
presentation size's, when it is on), and the figures hold the numbers they were given."""

from __future__ import annotations

import inspect
import re

import plotly.graph_objects as go
import pytest
import torch
from PIL import Image

from app import charts
from app.teaching.slides import CHARTS
from app.views.receptive_field import growth_steps, whole_field
from resnet_core import PRESETS, analyze, build
from resnet_core.compare import Summary, classic_panel, stage_split
from resnet_core.receptive_field import computed_span
from resnet_core.runtime import RunConfig, predict_with_activations, sweep
from resnet_core.units import count
from tests.test_charts_why import why_figures  # the "why residual" section's builders (issue 16)

SPEC = PRESETS["resnet20"]


def figures() -> dict[str, go.Figure]:
    """One figure from each chart builder, on resnet20 (small enough to run on the CPU in a second)."""
    a = analyze(SPEC, 32)
    record = a.layer("layer2.0.conv1")
    unit = (0, 3)
    measurements, _ = sweep(SPEC, RunConfig(device="cpu", input_size=32, warmup=0, repeats=1), [1, 2])
    _, maps = predict_with_activations(build(SPEC).eval(), torch.rand(1, 3, 32, 32), "layer1.0")
    whole = whole_field(record, unit)
    return {
        "preset_scatter": charts.preset_scatter(
            {n: Summary.of(analyze(s, 32)) for n, s in PRESETS.items() if s.stem == "cifar"},
            [("A", "resnet20", Summary.of(a))],
        ),
        "growth_chart": charts.growth_chart(
            growth_steps(a), ["input"] + [a.layer(s.name).stage for s in growth_steps(a)[1:]], (32, 32), current=3
        ),
        "block_bars": charts.block_bars(classic_panel(64, 8)),
        "field_figure": charts.field_figure(
            Image.new("RGB", (32, 32)), whole, computed_span(record, unit, (32, 32)), (32, 32)
        ),
        "activation_figure": charts.activation_figure(maps),
        "sweep_figure": charts.sweep_figure(measurements),
        "stage_time_chart": charts.stage_time_chart(measurements[0].stage_ms),
        # The explainer's lecture charts (sized by the projector's window): tests/test_teaching_slides.py.
        "slide_chart": charts.slide_chart(CHARTS["options"](), 400, 24),
        **why_figures(),
    }


@pytest.fixture(scope="module")
def built() -> dict[str, go.Figure]:
    return figures()


def test_every_chart_builder_is_covered(built) -> None:
    builders = {
        name
        for name, fn in inspect.getmembers(charts, inspect.isfunction)
        if fn.__module__ == charts.__name__ and inspect.signature(fn).return_annotation == "go.Figure"
    }
    assert builders - {"readable"} == set(built)


NAMES = [
    "preset_scatter",
    "growth_chart",
    "block_bars",
    "field_figure",
    "activation_figure",
    "sweep_figure",
    "stage_time_chart",
]


def assert_font_size(fig: go.Figure, size: int) -> None:
    assert fig.layout.font.size == size
    assert fig.layout.legend.font.size == size
    axes = [fig.layout[k] for k in fig.layout if k.startswith(("xaxis", "yaxis"))]
    assert axes and all(ax.tickfont.size == size for ax in axes)


@pytest.mark.parametrize("name", NAMES)
def test_every_chart_uses_the_one_font_size(built, name: str) -> None:
    assert_font_size(built[name], charts.FONT_SIZE)


@pytest.fixture(scope="module")
def presented() -> dict[str, go.Figure]:
    charts.use_presentation_size(True)
    try:
        return figures()
    finally:
        charts.use_presentation_size(False)


@pytest.mark.parametrize("name", NAMES)
def test_the_presentation_size_grows_every_charts_fonts_alike(built, presented, name: str) -> None:
    assert charts.font_size() == charts.FONT_SIZE  # switched off again
    assert_font_size(presented[name], charts.PRESENTATION_FONT_SIZE)
    assert presented[name].layout.height > built[name].layout.height  # more room for the larger type


def test_the_presentation_size_is_per_thread() -> None:
    """Each Streamlit session runs its script in its own thread: one session's size is not another's."""
    import threading

    seen = []
    charts.use_presentation_size(True)
    try:
        other = threading.Thread(target=lambda: seen.append(charts.font_size()))
        other.start()
        other.join()
        assert charts.font_size() == charts.PRESENTATION_FONT_SIZE
    finally:
        charts.use_presentation_size(False)
    assert seen == [charts.FONT_SIZE]


def test_the_figures_hold_the_numbers_they_were_given(built) -> None:
    a = analyze(SPEC, 32)
    sweep_fig = built["sweep_figure"]
    assert list(sweep_fig.data[0].x) == [1, 2]
    stage_ms = built["stage_time_chart"].data[0]
    assert list(stage_ms.x) and len(stage_ms.x) == len(stage_ms.y)
    bars = built["block_bars"].data
    panel = classic_panel(64, 8)
    assert list(bars[0].x) == [b.params for b in panel] and list(bars[1].x) == [b.macs for b in panel]
    assert list(bars[0].text) == [charts.count(b.params) for b in panel]
    growth = built["growth_chart"]
    assert list(growth.data[0].customdata) == [s.name for s in growth_steps(a)]
    assert list(growth.data[2].x) == [3]  # the layer shown


def test_hover_labels_are_human_then_exact() -> None:
    assert charts.human(25_557_032) == "25.6 M (25,557,032)"
    assert charts.human(640) == "640"


def test_presets_on_one_point_share_one_label(built) -> None:
    """A plain CIFAR net and its option-A ResNet have the same totals: one label names both."""
    cifar = [n for n, s in PRESETS.items() if s.stem == "cifar"]
    presets = built["preset_scatter"].data[0]
    labels = dict(zip(cifar, presets.text, strict=True))
    assert labels["resnet56"] == "resnet56 = plain56" and labels["plain56"] == ""
    assert labels["resnet20"] == ""  # the chosen A sits on it and takes the label
    assert labels["resnet1202"] == "resnet1202"


def test_the_html_stage_bars_split_each_total_by_stage_to_one_scale() -> None:
    """One bar per architecture and panel, a segment per stage with the exact count in its tooltip, the
    segments' lengths in proportion to the counts and the longest bar the full track; names escaped."""
    small, big = analyze(SPEC, 32), analyze(PRESETS["resnet56"], 32)
    splits = [stage_split(small), stage_split(big)]
    page = charts.stage_bars_html(["A: <resnet20>", "B: resnet56"], splits, ((0, "Parameters", "parameters"),))
    assert "<resnet20>" not in page and "A: &lt;resnet20&gt;" in page
    rows = page.split('<div class="sb-row"')[1:]
    assert len(rows) == 2
    top = big.totals.params
    for row, split, total in zip(rows, splits, (small.totals.params, top), strict=True):
        segments = re.findall(r'width:([0-9.]+)%;background:[^"]+" title="[^"]* · (\w+): [^(]*\(([0-9,]+)\)"', row)
        assert [stage for _, stage, _ in segments] == [s for s, (p, _) in split.items() if p]
        assert [int(n.replace(",", "")) for _, _, n in segments] == [p for p, _ in split.values() if p]
        assert sum(float(w) for w, _, _ in segments) == pytest.approx(100 * total / top, abs=0.01)
        assert f">{count(total)}</span>" in row
