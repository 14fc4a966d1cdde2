"""app.charts: every chart, built from the library's own output, carries the one font size, and the
figures hold the numbers they were given."""

from __future__ import annotations

import inspect

import plotly.graph_objects as go
import pytest
import torch
from PIL import Image

from app import charts
from app.teaching.slides import CHARTS
from app.views.receptive_field import whole_field
from resnet_core import PRESETS, analyze, build
from resnet_core.compare import Summary, stage_split
from resnet_core.receptive_field import computed_span, receptive_field_steps
from resnet_core.runtime import RunConfig, predict_with_activations, sweep
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
        "stage_bars": charts.stage_bars(["A: resnet20"], [stage_split(a)], 0, 1e6),
        "preset_scatter": charts.preset_scatter(
            {n: Summary.of(analyze(s, 32)) for n, s in PRESETS.items() if s.stem == "cifar"},
            [("A", "resnet20", Summary.of(a))],
        ),
        "growth_chart": charts.growth_chart(receptive_field_steps(a, record.name), (32, 32)),
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


@pytest.mark.parametrize(
    "name",
    [
        "stage_bars",
        "preset_scatter",
        "growth_chart",
        "field_figure",
        "activation_figure",
        "sweep_figure",
        "stage_time_chart",
    ],
)
def test_every_chart_uses_the_one_font_size(built, name: str) -> None:
    fig = built[name]
    assert fig.layout.font.size == charts.FONT_SIZE
    assert fig.layout.legend.font.size == charts.FONT_SIZE
    axes = [fig.layout[k] for k in fig.layout if k.startswith(("xaxis", "yaxis"))]
    assert axes and all(ax.tickfont.size == charts.FONT_SIZE for ax in axes)


def test_the_figures_hold_the_numbers_they_were_given(built) -> None:
    a = analyze(SPEC, 32)
    bars = built["stage_bars"]
    assert [t.name for t in bars.data] == list(stage_split(a))
    assert sum(t.y[0] for t in bars.data) == pytest.approx(a.totals.params / 1e6)
    sweep_fig = built["sweep_figure"]
    assert list(sweep_fig.data[0].x) == [1, 2]
    stage_ms = built["stage_time_chart"].data[0]
    assert list(stage_ms.x) and len(stage_ms.x) == len(stage_ms.y)
