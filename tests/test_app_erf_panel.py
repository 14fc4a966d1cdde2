"""The effective-receptive-field panel of the Receptive-field page (AppTest, real models).

Claims: the measurement runs only when asked and within its budget; the heatmap on the page is the
library's (sums to 1, the theoretical square drawn at the analysis's span); the 95 % square is no
larger than the theoretical field; the page says which weights and inputs were used.
"""

from __future__ import annotations

import base64

import numpy as np
from streamlit.testing.v1 import AppTest

from app.views.erf_panel import BUDGET, CALIBRATION, erf_cost
from resnet_core import PRESETS, analyze
from resnet_core.erf import effective_receptive_field
from resnet_core.receptive_field import computed_span
from tests.apptest import plotly_figure, run_page

LAYER = "layer2.0.conv2"


def measured(query: dict[str, str]) -> AppTest:
    at = run_page("receptive_field", query)
    at.button(key="erf_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def heatmap(at: AppTest) -> np.ndarray:
    """The page's heatmap z: Plotly ships a numpy array as a typed array (dtype, shape, base64 bytes)."""
    z = plotly_figure(at, "erf_heatmap")["data"][0]["z"]
    if isinstance(z, dict):
        rows, cols = (int(n) for n in str(z["shape"]).split(","))
        return np.frombuffer(base64.b64decode(z["bdata"]), dtype=np.dtype(z["dtype"])).reshape(rows, cols)
    return np.array(z, dtype=float)


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_the_panel_measures_on_request_and_shows_the_librarys_field():
    query = {"arch": "resnet20", "layer": LAYER, "row": "4", "col": "4"}
    before = run_page("receptive_field", query)
    assert not before.get("plotly_chart") or "erf_heatmap" not in [c.proto.id for c in before.get("plotly_chart")]
    assert any("Press the button" in c.value for c in before.caption)

    at = measured(query)
    field = effective_receptive_field(
        PRESETS["resnet20"], LAYER, (32, 32), unit=(4, 4), samples=16, seed=0, calibration=CALIBRATION
    )
    record = analyze(PRESETS["resnet20"], 32).layer(LAYER)
    m = metrics(at)
    assert m["Theoretical receptive field"] == f"{record.rf} × {record.rf_w} px"
    assert m["Square holding 95% of |∂y/∂x|"] == f"{field.side_95:g} × {field.side_95:g} px"
    assert field.side_95 <= record.rf  # the effective field lies inside the theoretical one
    assert m["Gradient mass inside the theoretical field"] == "100.0%"

    fig = plotly_figure(at, "erf_heatmap")
    z = heatmap(at)
    assert z.shape == (32, 32)
    assert abs(z.sum() - 1) < 1e-6
    assert np.allclose(z, field.heatmap, atol=1e-9)
    (r0, r1), (c0, c1) = computed_span(record, (4, 4), (32, 32))
    theoretical = fig["layout"]["shapes"][0]
    assert (theoretical["x0"], theoretical["x1"], theoretical["y0"], theoretical["y1"]) == (
        c0 - 0.5,
        c1 + 0.5,
        r0 - 0.5,
        r1 + 0.5,
    )
    text = " ".join(x.value for x in at.markdown)
    assert f"**Weights used:** {field.weights}." in text
    assert "random initialisation (seed 0)" in field.weights
    assert "16 random N(0, 1) input(s) at 32×32" in text


def test_a_sample_image_is_named_and_used():
    query = {"arch": "resnet20", "layer": LAYER, "row": "4", "col": "4"}
    at = run_page("receptive_field", query)
    at.radio(key="erf_inputs").set_value("a sample image").run()
    at.button(key="erf_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    image = at.selectbox(key="erf_image").value
    assert f"the sample image “{image}”" in " ".join(x.value for x in at.markdown)
    z = heatmap(at)
    assert abs(z.sum() - 1) < 1e-6


def test_a_measurement_over_the_budget_is_refused_before_any_work():
    at = run_page("receptive_field", {"arch": "resnet50"})  # 224 px: 4.1 G MACs a forward pass
    macs = analyze(PRESETS["resnet50"], 224).totals.macs
    assert erf_cost(macs, 16, True) > BUDGET["cpu"]
    assert at.button(key="erf_run").disabled
    assert any("over this page's budget" in i.value for i in at.info), [i.value for i in at.info]
    at.number_input(key="erf_k").set_value(1).run()  # still over: the calibration batch alone is 32 passes
    assert at.button(key="erf_run").disabled
    assert not at.error
