"""Compare page (AppTest): the totals, the charts' data, the classic panel, the URL round trip."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from resnet_core import PRESETS, analyze, default_input_size
from resnet_core.compare import Summary, classic_panel, stage_split
from tests.apptest import plotly_figure as figure
from tests.apptest import run_page


def run(params: dict[str, str] | None = None) -> AppTest:
    return run_page("compare", params)


@pytest.fixture(scope="module")
def default_page() -> AppTest:
    return run()


def test_default_compares_resnet18_34_50_with_the_analysis_numbers(default_page):
    at = default_page
    assert not at.warning and not at.error
    table = at.dataframe[0].value
    assert list(table.columns) == ["A: resnet18", "B: resnet34", "C: resnet50"]
    for column, name in zip(table.columns, ("resnet18", "resnet34", "resnet50"), strict=True):
        s = Summary.of(analyze(PRESETS[name], 224))
        assert list(table[column]) == [
            s.params,
            s.macs,
            s.flops,
            s.activation_bytes,
            s.weighted_depth,
            s.final_rf,
        ]
    assert at.query_params["n"] == "3"
    assert [at.query_params[f"{p}_arch"] for p in "abc"] == ["resnet18", "resnet34", "resnet50"]


def test_stage_bars_stack_each_architectures_stages(default_page):
    params_fig = figure(default_page, "cmp_stage_params")
    macs_fig = figure(default_page, "cmp_stage_macs")
    assert params_fig["layout"]["barmode"] == "stack"
    assert [t["name"] for t in params_fig["data"]] == ["stem", "layer1", "layer2", "layer3", "layer4", "head"]
    for i, name in enumerate(("resnet18", "resnet34", "resnet50")):
        split = stage_split(analyze(PRESETS[name], 224))
        assert [t["y"][i] for t in params_fig["data"]] == pytest.approx([p / 1e6 for p, _ in split.values()])
        assert [t["y"][i] for t in macs_fig["data"]] == pytest.approx([m / 1e9 for _, m in split.values()])


def test_scatter_holds_every_preset_and_marks_the_chosen(default_page):
    data = figure(default_page, "cmp_scatter")["data"]
    presets = data[0]
    assert presets["customdata"] == list(PRESETS)
    assert [t for t in presets["text"] if t] == [n for n in PRESETS if n not in ("resnet18", "resnet34", "resnet50")]
    expected = [analyze(s, default_input_size(s)) for s in PRESETS.values()]
    assert presets["x"] == pytest.approx([a.totals.macs / 1e9 for a in expected])
    assert presets["y"] == pytest.approx([a.totals.params / 1e6 for a in expected])
    assert [t["name"] for t in data[1:]] == ["A: resnet18", "B: resnet34", "C: resnet50"]
    assert data[3]["y"] == pytest.approx([analyze(PRESETS["resnet50"], 224).totals.params / 1e6])


def test_classic_panel_shows_counts_from_the_real_blocks(default_page):
    bottleneck, two_3x3, quarter = classic_panel(256, 56)
    metrics = {m.label: m.value for m in default_page.metric}
    assert metrics["bottleneck, 256-d: parameters"] == f"{bottleneck.params:,}"
    assert metrics["two 3×3 convs, 256-d: parameters"] == f"{two_3x3.params:,}"
    assert metrics["basic block, 64-d (the paper's Fig. 5 left): parameters"] == f"{quarter.params:,}"
    code = default_page.code[0].value
    for conv in bottleneck.convs:
        assert conv.params_arithmetic() in code and conv.macs_arithmetic() in code
    assert bottleneck.params_arithmetic() in code


def test_panel_width_widget_recounts_and_goes_to_the_url(default_page):
    at = run()
    at.number_input(key="cmp_width").set_value(512).run()
    assert not at.exception
    bottleneck, two_3x3, _ = classic_panel(512, 56)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["bottleneck, 512-d: parameters"] == f"{bottleneck.params:,}"
    assert metrics["two 3×3 convs, 512-d: parameters"] == f"{two_3x3.params:,}"
    assert at.query_params["panel_width"] == "512"


def test_url_round_trip_restores_every_choice():
    params = {
        "n": "4",
        "a_arch": "resnet50",
        "a_stride_on": "1x1",
        "b_arch": "resnet56",
        "c_arch": "resnext50_32x4d",
        "d_arch": "resnet18",
        "d_shortcut": "C",
        "panel_width": "1024",
        "panel_map": "14",
    }
    at = run(params)
    assert not at.warning
    assert {k: at.query_params[k] for k in params} == params
    assert at.selectbox(key="a_stride_on").value == "1x1"
    table = at.dataframe[0].value
    assert list(table.columns) == [
        "A: resnet50 (modified: stride on 1×1)",
        "B: resnet56",
        "C: resnext50_32x4d",
        "D: resnet18 (modified: shortcut C)",
    ]
    v1 = analyze(PRESETS["resnet50"].replace(stride_on="1x1"), 224)
    assert table.iloc[0, 0] == v1.totals.params and table.iloc[1, 0] == v1.totals.macs
    assert table.iloc[1, 1] == analyze(PRESETS["resnet56"], 32).totals.macs
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["bottleneck, 1024-d: parameters"] == f"{classic_panel(1024, 14)[0].params:,}"

    # a change on the page lands in the URL, and that URL gives the same page back
    at.selectbox(key="b_shortcut").set_value("B").run()
    assert at.query_params["b_shortcut"] == "B"
    again = run({k: at.query_params[k] for k in at.query_params})
    assert again.dataframe[0].value.equals(at.dataframe[0].value)


def test_fewer_architectures_drop_the_others_from_the_url():
    at = run({"n": "4"})
    assert "d_arch" in at.query_params
    at.get("button_group")[0].set_value(2).run()
    assert not at.exception
    assert at.query_params["n"] == "2"
    assert "c_arch" not in at.query_params and "d_arch" not in at.query_params
    assert len(at.dataframe[0].value.columns) == 2


def test_bad_url_values_fall_back_with_a_warning():
    at = run({"n": "7", "a_arch": "resnet51", "b_layers": "3,x", "panel_width": "250", "panel_map": "big"})
    warnings = " ".join(w.value for w in at.warning)
    for text in ("'7'", "'resnet51'", "layers='3,x'", "width=250", "'big'"):
        assert text in warnings
    assert list(at.dataframe[0].value.columns) == ["A: resnet18", "B: resnet34", "C: resnet50"]  # A's default
    assert at.number_input(key="cmp_width").value == 256


def test_an_input_too_small_is_an_error_message_not_a_traceback():
    at = run({"n": "2", "a_input": "8"})
    assert at.error and "too small" in at.error[0].value
    assert not at.dataframe  # no half-filled table
    assert at.metric  # the classic panel still renders
