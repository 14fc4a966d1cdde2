"""app.charts, the "why residual" section: each builder fed the library's own output (a plain and a
residual net measured at initialisation, a real three-step race, a measured effective field), the one
font size, and the numbers in the figures are the ones given. ``why_figures()`` is also what
tests/test_charts.py adds to its "every builder is covered" list."""

from __future__ import annotations

from functools import cache

import plotly.graph_objects as go
import pytest

from app import charts
from app.cpu_threads import intra_op_threads
from app.views.why_residual import net_colors, signal_lines
from resnet_core import PRESETS
from resnet_core.datasets import shapes10
from resnet_core.erf import EffectiveField, effective_receptive_field
from resnet_core.race import RaceConfig, RaceResult, run_race
from resnet_core.signal import Propagation, propagation

NAMES = ("depth_chart", "race_chart", "responses_chart", "sweep_chart", "erf_figure")


@cache
def measured() -> tuple[Propagation, Propagation, RaceResult, EffectiveField]:
    """plain20 and resnet20 at init, a three-step race of the two, resnet20's effective field at layer2.0."""
    with intra_op_threads(1):  # this thread only (app.cpu_threads): fast on a shared machine
        plain = propagation(PRESETS["plain20"], 32, batch=4, label="plain20")
        residual = propagation(PRESETS["resnet20"], 32, batch=4, label="resnet20")
        data = shapes10(120, 16, seed=3)
        race = run_race(
            RaceConfig(nets=("plain20", "resnet20"), steps=3, batch=8, input_size=16, device="cpu", response_images=20),
            data=(data.subset(0, 100, "train"), data.subset(100, 120, "held out")),
        )
        field = effective_receptive_field(PRESETS["resnet20"], "layer2.0", 32, samples=2, calibration=8)
    return plain, residual, race, field


@cache
def why_figures() -> dict[str, go.Figure]:
    plain, residual, race, field = measured()
    colors = net_colors([n.label for n in race.nets])
    return {
        "depth_chart": charts.depth_chart(signal_lines(plain, residual, "grad"), "‖∂L/∂W‖", log_y=True),
        "race_chart": charts.race_chart(race, colors, window=2),
        "responses_chart": charts.responses_chart(race.responses, colors, {"plain20"}),
        "sweep_chart": charts.sweep_chart(
            {"plain": ([20, 56], [0.2, 0.1]), "resnet (A)": ([20, 56], [0.7, 0.6])},
            "correlation",
            {"plain": "#d62728", "resnet (A)": "#1f77b4"},
        ),
        "erf_figure": charts.erf_figure(field),
    }


@pytest.mark.parametrize("name", NAMES)
def test_every_why_chart_uses_the_one_font_size(name: str) -> None:
    fig = why_figures()[name]
    assert fig.layout.font.size == charts.FONT_SIZE
    axes = [fig.layout[k] for k in fig.layout if k.startswith(("xaxis", "yaxis"))]
    assert axes and all(ax.tickfont.size == charts.FONT_SIZE for ax in axes)


def test_depth_chart_holds_each_nets_main_path_gradients_plain_dashed():
    plain, _, _, _ = measured()
    fig = why_figures()["depth_chart"]
    assert [t.name for t in fig.data] == ["plain20", "resnet20"]
    main = [i for i, path in enumerate(plain.conv_path) if path == "main"]
    assert list(fig.data[0].y) == [plain.grad_norm[i] for i in main]
    assert list(fig.data[0].x) == [plain.conv_depth[i] for i in main]
    assert fig.data[0].line.dash == charts.PLAIN_DASH and fig.data[1].line.dash == charts.RESIDUAL_DASH
    assert fig.layout.yaxis.type == "log"


def test_race_chart_has_each_step_and_its_running_mean():
    _, _, race, _ = measured()
    fig = why_figures()["race_chart"]
    net = race.net("resnet20")
    bold = [t for t in fig.data if t.name == "resnet20"]
    loss, error = bold
    assert list(loss.x) == [1, 2, 3]
    assert loss.y[0] == pytest.approx(net.loss[0]) and loss.y[2] == pytest.approx((net.loss[1] + net.loss[2]) / 2)
    assert error.y[0] == pytest.approx(100 * net.error[0])
    thin = [t for t in fig.data if t.name is None and t.line.color == bold[0].line.color]
    assert list(thin[0].y) == pytest.approx(list(net.loss))


def test_smoothed_is_a_running_mean():
    assert charts.smoothed([1.0, 3.0, 5.0, 7.0], 2) == [1.0, 2.0, 4.0, 6.0]
    assert charts.smoothed([], 3) == []


def test_responses_and_erf_figures_hold_the_measurements():
    _, _, race, field = measured()
    responses = why_figures()["responses_chart"]
    assert [list(t.y) for t in responses.data] == [list(r.std) for r in race.responses]
    erf = why_figures()["erf_figure"]
    assert erf.data[0].z.shape == field.heatmap.shape
    theory, square = erf.layout.shapes
    (r0, r1), (c0, c1) = field.span
    assert (theory.x0, theory.x1, theory.y0, theory.y1) == (c0 - 0.5, c1 + 0.5, r0 - 0.5, r1 + 0.5)
    cr, cc = field.centre
    assert square.x1 - square.x0 == pytest.approx(field.side_95)
    assert (square.x0 + square.x1) / 2 == pytest.approx(cc) and (square.y0 + square.y1) / 2 == pytest.approx(cr)
