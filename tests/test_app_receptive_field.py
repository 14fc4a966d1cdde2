"""Receptive-field page (AppTest): the walk (slider, Previous / Next, all layers), the growth curve's
data and labels, the unit's field, the gradient check, the URL."""

from __future__ import annotations

import itertools

import pytest
from streamlit.testing.v1 import AppTest

from app.views.receptive_field import default_layer, growth_steps, spatial_layers, walk
from resnet_core import PRESETS, analyze
from resnet_core.geometry import Field
from resnet_core.receptive_field import computed_span, measure_receptive_field, receptive_field_steps
from tests.apptest import plotly_figure as figure
from tests.apptest import run_page


def run(params: dict[str, str] | None = None) -> AppTest:
    return run_page("receptive_field", params)


def frame(at: AppTest, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def layer_of(at: AppTest) -> str:
    return at.select_slider(key="rf_layer").value


@pytest.fixture(scope="module")
def default_page() -> AppTest:
    return run()


def test_opens_on_an_early_resnet18_layer_where_the_field_is_inside_the_image(default_page):
    at = default_page
    a = analyze(PRESETS["resnet18"], 224)
    assert layer_of(at) == default_layer(a) == "layer1.1.conv2"  # the end of the first residual stage
    record = a.layer("layer1.1.conv2")
    assert record.rf == 43 < 224 / 4  # growth plain to see on the image
    h, w = record.output_shape[2:]
    assert (at.slider(key="rf_row").value, at.slider(key="rf_col").value) == (h // 2, w // 2)
    line = next(m.value for m in at.markdown if m.value.startswith("**layer1.1.conv2**"))
    assert f"receptive field **{record.rf} × {record.rf_w} px**" in line and f"jump **{record.jump} × " in line
    assert not at.warning and not at.error
    query = at.query_params
    assert (query["arch"], query["layer"], query["row"], query["col"]) == (
        "resnet18",
        record.name,
        str(h // 2),
        str(w // 2),
    )


def test_the_walk_steps_over_the_layers_that_change_the_field(default_page):
    a = analyze(PRESETS["resnet18"], 224)
    names = walk(a, False)
    assert at_options(default_page) == names
    steps = receptive_field_steps(a, a.final_field.name)[1:]
    assert names == [s.name for s in steps]  # ResNet-18: every 3×3 conv and the stem's conv and pool change it
    assert not any(n.endswith(("bn1", "relu", "relu1", "add")) or ".downsample." in n for n in names)
    fields = [(a.layer(n).rf, a.layer(n).jump) for n in names]
    assert all(f != g for f, g in itertools.pairwise(fields))  # each step changes rf or jump
    bottleneck = analyze(PRESETS["resnet50"], 224)
    assert "layer1.0.conv1" not in walk(bottleneck, False)  # a 1×1 conv, stride 1: the field as it was
    assert "layer2.0.conv2" in walk(bottleneck, False)  # v1.5: the stride on the 3×3
    v1 = analyze(PRESETS["resnet50"].replace(stride_on="1x1"), 224)
    assert "layer2.0.conv1" in walk(v1, False)  # v1: the 1×1 with stride 2 changes the jump


def at_options(at: AppTest) -> list[str]:
    return list(at.select_slider(key="rf_layer").options)


def test_previous_and_next_walk_and_all_layers_adds_the_rest():
    at = run()
    names = at_options(at)
    i = names.index("layer1.1.conv2")
    at.button(key="rf_next").click().run()
    assert layer_of(at) == names[i + 1] == "layer2.0.conv1"
    assert at.query_params["layer"] == "layer2.0.conv1"
    at.button(key="rf_prev").click().run()
    at.button(key="rf_prev").click().run()
    assert layer_of(at) == names[i - 1]
    at.toggle(key="rf_every").set_value(True).run()
    a = analyze(PRESETS["resnet18"], 224)
    assert at_options(at) == spatial_layers(a) and at.query_params["all"] == "1"
    at.button(key="rf_next").click().run()
    assert layer_of(at) == "layer1.1.bn1"
    # off again on a layer that does not change the field: back to the layer that set it
    at.toggle(key="rf_every").set_value(False).run()
    assert layer_of(at) == "layer1.1.conv1" and "all" not in at.query_params
    assert not at.exception


def test_first_and_last_steps_cannot_go_further():
    a = analyze(PRESETS["resnet18"], 224)
    first, last = walk(a, False)[0], walk(a, False)[-1]
    assert run({"layer": first}).button(key="rf_prev").disabled
    assert run({"layer": last}).button(key="rf_next").disabled


def test_growth_curve_holds_the_walk_labelled_by_stage_with_this_layer_marked(default_page):
    a = analyze(PRESETS["resnet18"], 224)
    steps = growth_steps(a)
    fig = figure(default_page, "rf_growth")
    rf_trace, jump_trace, marker = fig["data"]
    assert rf_trace["y"] == [s.rf for s in steps] and jump_trace["y"] == [s.jump for s in steps]
    assert rf_trace["customdata"] == ["input", *walk(a, False)]  # a click names its layer
    assert rf_trace["text"] == ["input"] + [a.layer(s.name).stage for s in steps[1:]]
    assert marker["customdata"] == ["layer1.1.conv2"] and marker["x"] == [
        steps.index(next(s for s in steps if s.name == "layer1.1.conv2"))
    ]
    assert fig["layout"]["xaxis"]["ticktext"] == ["stem", "layer1", "layer2", "layer3", "layer4"]
    assert any(ann.get("text") == "layer1.1.conv2" for ann in fig["layout"]["annotations"])
    assert fig["layout"]["clickmode"] == "event+select"
    table = frame(default_page, "layer")
    assert list(table["layer"]) == [s.name for s in receptive_field_steps(a, "layer1.1.conv2")]
    assert len(default_page.get("latex")) >= 3  # the recurrence, the unit's interval, a worked step


def test_a_link_to_a_layer_off_the_walk_shows_all_layers():
    at = run({"arch": "resnet50", "layer": "layer3.2.bn2"})
    assert layer_of(at) == "layer3.2.bn2" and at.toggle(key="rf_every").value
    assert at.query_params["all"] == "1"
    marker = figure(at, "rf_growth")["data"][2]
    assert marker["customdata"] == ["layer3.2.conv2"]  # BatchNorm keeps the field its conv set
    shortcut = run({"arch": "resnet50", "layer": "layer2.0.downsample.0"})
    assert len(figure(shortcut, "rf_growth")["data"]) == 2  # a shortcut layer is off the main path's curve


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


def test_resnet50s_last_map_says_the_field_outgrows_the_image():
    a = analyze(PRESETS["resnet50"], 224)
    last = a.final_field
    at = run({"arch": "resnet50", "layer": last.name})
    assert [w.value for w in at.warning] == [
        f"This unit sees {last.rf} × {last.rf_w} px of a 224 × 224 px input: the field is larger than the image; "
        "the part outside is zero padding."
    ]


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


def test_choosing_another_layer_centres_the_unit_and_updates_the_url():
    at = run({"arch": "resnet50"})
    at.select_slider(key="rf_layer").set_value("layer2.0.conv2").run()
    assert not at.exception
    h, w = analyze(PRESETS["resnet50"], 224).layer("layer2.0.conv2").output_shape[2:]
    assert (at.slider(key="rf_row").value, at.slider(key="rf_col").value) == (h // 2, w // 2)
    at.slider(key="rf_row").set_value(2).run()
    assert (at.query_params["layer"], at.query_params["row"]) == ("layer2.0.conv2", "2")
    again = run({k: at.query_params[k] for k in at.query_params})
    assert layer_of(again) == "layer2.0.conv2"
    assert (again.slider(key="rf_row").value, again.slider(key="rf_col").value) == (2, w // 2)


def test_bad_url_values_fall_back_with_a_warning():
    at = run({"arch": "resnet18", "layer": "layer9.conv", "row": "abc", "col": "99", "image": "moon", "all": "x"})
    text = " ".join(w.value for w in at.warning)
    for part in ("'layer9.conv' is not a layer", "'abc'", "column 99 is outside", "'moon'", "'x'"):
        assert part in text
    a = analyze(PRESETS["resnet18"], 224)
    assert layer_of(at) == default_layer(a)
    assert at.slider(key="rf_col").value == a.layer(default_layer(a)).output_shape[3] // 2
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
    assert at.get("plotly_chart")  # the computed field is still shown


@pytest.mark.parametrize("arch", ["plain18", "plain20"])
def test_plain_nets_walk_their_convs_alone(arch):
    """Issue 16: a plain net (no shortcut, no add) opens, walks and draws its growth like any other."""
    at = run({"arch": arch})
    assert not at.error and not at.warning
    a = analyze(PRESETS[arch], 224 if arch == "plain18" else 32)
    assert layer_of(at) == default_layer(a)
    assert at_options(at) == walk(a, False)
    assert all(a.layer(name).kind != "ResidualAdd" for name in walk(a, False))
    assert figure(at, "rf_growth")["data"][0]["y"] == [s.rf for s in growth_steps(a)]
