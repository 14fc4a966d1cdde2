"""Receptive-field page (AppTest): the recurrence shown, the chart's data, the unit's field, the URL."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from resnet_core import PRESETS, analyze
from resnet_core.geometry import Field
from resnet_core.receptive_field import computed_span, measure_receptive_field, receptive_field_steps
from tests.apptest import plotly_figure as figure
from tests.apptest import run_page


def run(params: dict[str, str] | None = None) -> AppTest:
    return run_page("receptive_field", params)


def frame(at: AppTest, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


@pytest.fixture(scope="module")
def default_page() -> AppTest:
    return run()


def test_default_is_resnet50s_last_map_and_says_the_field_outgrows_the_image(default_page):
    at = default_page
    a = analyze(PRESETS["resnet50"], 224)
    last = a.final_field
    assert at.selectbox(key="rf_layer").value == last.name
    h, w = last.output_shape[2:]
    assert (at.slider(key="rf_row").value, at.slider(key="rf_col").value) == (h // 2, w // 2)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Receptive field"] == f"{last.rf} × {last.rf_w} px"
    assert metrics["Jump (effective stride)"] == f"{last.jump} × {last.jump_w} px"
    assert [w.value for w in at.warning] == [
        f"This unit sees {last.rf} × {last.rf_w} px of a 224 × 224 px input: the field is larger than the image; "
        "the part outside is zero padding."
    ]
    assert not at.error
    assert (at.query_params["layer"], at.query_params["row"], at.query_params["col"]) == (
        last.name,
        str(h // 2),
        str(w // 2),
    )


def test_steps_table_and_growth_chart_hold_the_recurrence(default_page):
    a = analyze(PRESETS["resnet50"], 224)
    steps = receptive_field_steps(a, a.final_field.name)
    table = frame(default_page, "layer")
    assert list(table["layer"]) == [s.name for s in steps]
    assert list(table["rf"]) == [s.rf for s in steps]
    assert list(table["jump j"]) == [s.jump for s in steps]
    assert list(table["padding p"]) == [s.padding for s in steps]
    rf_trace, jump_trace = figure(default_page, "rf_growth")["data"]
    assert rf_trace["y"] == [s.rf for s in steps] and jump_trace["y"] == [s.jump for s in steps]
    assert rf_trace["x"] == list(range(len(steps)))
    assert len(default_page.get("latex")) >= 3  # the recurrence, the unit's interval, a worked step


def test_field_rectangle_is_the_units_span():
    a = analyze(PRESETS["resnet56"], 32)
    layer = "layer1.2.add"
    at = run({"arch": "resnet56", "layer": layer, "row": "1", "col": "6"})
    r = a.layer(layer)
    assert r.rf < 32 and not at.warning
    assert "outside the image" in at.info[0].value  # row 1's field starts above row 0
    (r0, r1), (c0, c1) = Field(r.rf, r.jump, r.padding).span(1), Field(r.rf_w, r.jump_w, r.padding_w).span(6)
    shapes = figure(at, "rf_field")["layout"]["shapes"]
    whole = shapes[0]
    assert (whole["x0"], whole["x1"], whole["y0"], whole["y1"]) == (c0 - 0.5, c1 + 0.5, r0 - 0.5, r1 + 0.5)
    (cr0, cr1), (cc0, cc1) = computed_span(r, (1, 6), (32, 32))
    inside = shapes[1]
    assert (inside["x0"], inside["x1"], inside["y0"], inside["y1"]) == (cc0 - 0.5, cc1 + 0.5, cr0 - 0.5, cr1 + 0.5)
    assert f"input rows **{r0} … {r1}** and columns **{c0} … {c1}**" in " ".join(m.value for m in at.markdown)


def test_measure_by_gradient_agrees_with_the_computed_span():
    at = run({"arch": "resnet20", "layer": "layer2.0.conv1", "row": "0", "col": "3"})
    at.button(key="rf_measure").click().run()
    assert not at.exception
    table = frame(at, "agree")
    record = analyze(PRESETS["resnet20"], 32).layer("layer2.0.conv1")
    rows, cols = computed_span(record, (0, 3), (32, 32))
    assert measure_receptive_field(PRESETS["resnet20"], "layer2.0.conv1", 32, (0, 3)) == (rows, cols)
    assert list(table["computed"]) == [f"{rows[0]} … {rows[1]}", f"{cols[0]} … {cols[1]}"]
    assert list(table["measured"]) == list(table["computed"])
    assert list(table["agree"]) == ["yes", "yes"]
    assert at.success


def test_choosing_another_layer_centres_the_unit_and_updates_the_url(default_page):
    at = run()
    at.selectbox(key="rf_layer").set_value("layer2.0.conv2").run()
    assert not at.exception
    h, w = analyze(PRESETS["resnet50"], 224).layer("layer2.0.conv2").output_shape[2:]
    assert (at.slider(key="rf_row").value, at.slider(key="rf_col").value) == (h // 2, w // 2)
    at.slider(key="rf_row").set_value(2).run()
    assert (at.query_params["layer"], at.query_params["row"]) == ("layer2.0.conv2", "2")
    again = run({k: at.query_params[k] for k in at.query_params})
    assert again.selectbox(key="rf_layer").value == "layer2.0.conv2"
    assert (again.slider(key="rf_row").value, again.slider(key="rf_col").value) == (2, w // 2)


def test_bad_url_values_fall_back_with_a_warning():
    at = run({"arch": "resnet18", "layer": "layer9.conv", "row": "abc", "col": "99", "image": "moon"})
    text = " ".join(w.value for w in at.warning)
    for part in ("'layer9.conv' is not a layer", "'abc'", "column 99 is outside", "'moon'"):
        assert part in text
    last = analyze(PRESETS["resnet18"], 224).final_field
    assert at.selectbox(key="rf_layer").value == last.name
    assert at.slider(key="rf_col").value == last.output_shape[3] // 2
    assert at.get("plotly_chart")  # the page still draws


def test_an_input_too_small_is_an_error_message():
    at = run({"arch": "resnet50", "input": "8"})
    assert at.error and "too small" in at.error[0].value


def test_a_network_too_big_to_build_offers_no_gradient_check():
    from app.widgets import MAX_BUILD_PARAMS

    at = run({"arch": "resnet18", "width": "4096", "layer": "layer1.0.conv1"})
    params = analyze(PRESETS["resnet18"].replace(width=4096), 224).totals.params
    assert params > MAX_BUILD_PARAMS
    assert not [b for b in at.button if b.key == "rf_measure"]
    assert any(f"{params:,} parameters" in e.value for e in at.error), [e.value for e in at.error]
    assert at.metric[0].value  # the computed field is still shown
