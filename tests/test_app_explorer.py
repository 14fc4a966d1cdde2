"""Architecture explorer page (AppTest): the numbers shown are the analysis's, the URL holds the state."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app.formatting import fmt_bytes, fmt_giga, fmt_int
from resnet_core import PRESETS, analyze, diagram, export
from resnet_core.cli import main as cli
from resnet_core.spec import FIELDS
from tests import apptest

ROOT = Path(__file__).resolve().parents[1]


def run_page(query: dict[str, str] | None = None) -> AppTest:
    return apptest.run_page("explorer", query)


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def expected_metrics(spec, size) -> dict[str, str]:
    a = analyze(spec, size)
    return {
        "Parameters": fmt_int(a.totals.params),
        "GMACs": fmt_giga(a.totals.macs),
        "GFLOPs": fmt_giga(a.totals.flops),
        "Depth (weighted layers)": fmt_int(a.weighted_depth),
        "Final receptive field": f"{a.final_field.rf:,} px",
        "Activation memory": fmt_bytes(a.totals.activation_bytes),
    }


def dot_of(at: AppTest) -> str:
    """The DOT text of the diagram drawn in the browser (pages opened with BROWSER_DRAWN)."""
    charts = at.get("graphviz_chart")
    assert charts, "no graphviz chart on the page"
    return charts[0].proto.spec


def svg_of(at: AppTest) -> str:
    """The server-drawn diagram: inline SVG in a Markdown element."""
    found = [m.value for m in at.markdown if 'data-testid="resnet-diagram"' in m.value]
    assert len(found) == 1, "no server-drawn diagram on the page"
    return found[0]


BROWSER_DRAWN = {"draw": "browser"}  # the diagram as st.graphviz_chart, whose DOT the test can read


def test_default_page_shows_resnet50_numbers():
    at = run_page(BROWSER_DRAWN)
    assert at.title[0].value == "resnet50"
    assert metrics(at) == expected_metrics(PRESETS["resnet50"], 224)
    assert metrics(at)["Parameters"] == "25,557,032"  # torchvision's published count, with separators
    assert any("FLOPs = 2 × MACs" in c.value for c in at.caption)
    dot = dot_of(at)
    assert dot.startswith("digraph") and "resnet50 · input 224×224" in dot
    assert '"block layer3.0"' in dot and '"block layer3.4"' not in dot  # layer3.1 … 3.5 fold into "× 5"


def test_shared_link_restores_the_modified_preset_and_the_view():
    at = run_page({"arch": "resnet50", "stride_on": "1x1", "unfold": "layer3"} | BROWSER_DRAWN)
    spec = PRESETS["resnet50"].replace(stride_on="1x1")
    assert at.title[0].value == "resnet50 (modified: stride on 1×1)"
    assert at.selectbox(key="stride_on").value == "1x1"
    assert at.multiselect(key="unfold").value == ["layer3"]
    assert metrics(at) == expected_metrics(spec, 224)
    assert metrics(at) != expected_metrics(PRESETS["resnet50"], 224)  # v1 really costs more MACs
    assert not at.warning
    dot = dot_of(at)
    assert "resnet50 (modified: stride on 1×1)" in dot
    assert all(f'"block layer3.{i}"' in dot for i in range(6))  # unfolded
    assert '"block layer2.3"' not in dot  # other stages still fold
    # the URL still says the same after the run (nothing dropped, nothing added)
    assert at.query_params["arch"] == "resnet50" and at.query_params["stride_on"] == "1x1"
    assert at.query_params["unfold"] == "layer3"


def test_changing_the_preset_resets_the_fields_and_writes_the_url():
    at = run_page({"arch": "resnet50", "stride_on": "1x1"} | BROWSER_DRAWN)
    at.selectbox(key="arch").select("resnet18").run()
    assert not at.exception
    assert at.title[0].value == "resnet18"
    assert at.selectbox(key="block").value == "basic" and at.selectbox(key="stride_on").value == "3x3"
    assert metrics(at) == expected_metrics(PRESETS["resnet18"], 224)
    assert dict(at.query_params) == {"arch": "resnet18"} | BROWSER_DRAWN
    assert "resnet18 · input 224×224" in dot_of(at)


def test_diagram_controls_change_the_dot_and_the_url():
    at = run_page({"arch": "resnet18"} | BROWSER_DRAWN)
    at.segmented_control(key="level").set_value("layer").run()
    assert '"layer1.0.conv1"' in dot_of(at) and at.query_params["level"] == "layer"
    at.segmented_control(key="rankdir").set_value("LR").run()
    assert re.search(r'\brankdir="?LR\b', dot_of(at)) and at.query_params["dir"] == "LR"
    at.pills(key="annot").set_value(["rf"]).run()
    assert "receptive field" in dot_of(at) and at.query_params["annot"] == "rf"
    again = run_page(dict(at.query_params))
    assert dot_of(again) == dot_of(at)


def test_server_draws_the_diagram_when_dot_is_installed():
    at = run_page({"arch": "resnet50", "stride_on": "1x1", "unfold": "layer3"})
    if diagram.dot_available():
        svg = svg_of(at)
        assert "<svg" in svg and "resnet50 (modified: stride on 1×1) · input 224×224" in svg
        assert all(f">layer3.{i}<" in svg for i in range(6))  # unfolded blocks are node titles
        assert not at.get("graphviz_chart")
        assert at.segmented_control(key="renderer").value == "server" and "draw" not in at.query_params
    else:  # no Graphviz here: the browser lays the diagram out, and the page says why SVG/PNG are missing
        assert at.get("graphviz_chart") and any("graphviz" in i.value for i in at.info)


def test_field_on_top_of_a_preset_round_trips_through_the_url():
    at = run_page({"arch": "resnet34"})
    at.selectbox(key="shortcut").select("C").run()
    at.text_input(key="input").input("160").run()
    assert at.title[0].value == "resnet34 (modified: shortcut C)"
    query = dict(at.query_params)
    assert query == {"arch": "resnet34", "shortcut": "C", "input": "160"}
    again = run_page(query)
    assert metrics(again) == metrics(at) == expected_metrics(PRESETS["resnet34"].replace(shortcut="C"), 160)


def test_advanced_fields_and_layers_text():
    at = run_page({"arch": "resnet50"})
    at.number_input(key="groups").set_value(32)
    at.number_input(key="width_per_group").set_value(4).run()
    assert metrics(at) == expected_metrics(PRESETS["resnext50_32x4d"], 224)
    at.text_input(key="layers").input("2, 2, 2, 2").run()
    assert dict(at.query_params)["layers"] == "2,2,2,2"


@pytest.mark.parametrize(
    ("query", "notice"),
    [
        ({"arch": "resnet51"}, "Unknown preset 'resnet51'"),
        ({"arch": "resnet50", "shortcut": "Z"}, "shortcut='Z'"),
        ({"arch": "resnet50", "input": "huge"}, "input='huge'"),
        ({"arch": "resnet50", "level": "atoms"}, "level"),
        ({"arch": "resnet50", "unfold": "layer9"}, "layer9"),
        ({"arch": "resnet50", "stage": "layer9"}, "layer9"),
    ],
)
def test_bad_link_values_fall_back_with_a_visible_notice(query, notice):
    at = run_page(query)
    assert any(notice in w.value for w in at.warning), [w.value for w in at.warning]
    assert metrics(at) == expected_metrics(PRESETS["resnet50"], 224)


def test_fields_that_do_not_fit_show_an_error_and_keep_the_last_network():
    at = run_page({"arch": "resnet18"})
    at.selectbox(key="stride_on").select("1x1").run()
    assert not at.exception
    assert any("stride_on='1x1'" in e.value and "change it" in e.value for e in at.error)
    assert metrics(at) == expected_metrics(PRESETS["resnet18"], 224)


def test_too_small_an_input_is_a_message_not_a_traceback():
    at = run_page({"arch": "resnet50", "input": "8"})
    assert any("too small" in e.value and "use at least" in e.value for e in at.error)
    assert not at.metric


def test_table_filters_by_stage_and_keeps_numbers_numeric():
    at = run_page({"arch": "resnet50"})
    a = analyze(PRESETS["resnet50"], 224)
    df = at.dataframe[0].value
    assert len(df) == len(a.layers)
    assert df["params"].sum() == a.totals.params and df["MACs"].sum() == a.totals.macs
    assert str(df["MACs"].dtype).startswith("int")  # sorts as numbers; separators come from column_config
    at.selectbox(key="stage_filter").select("layer3").run()
    assert len(at.dataframe[0].value) == sum(r.stage == "layer3" for r in a.layers)
    assert at.query_params["stage"] == "layer3"


def test_csv_export_has_one_row_per_layer(capsys):
    a = analyze(PRESETS["resnet18"], 224)
    text = export.csv_text(export.layer_rows(a))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == len(a.layers) and {r["level"] for r in rows} == {"layer"}
    assert rows[0]["name"] == "conv1" and int(rows[0]["params"]) == a.layers[0].params
    assert sum(int(r["macs"]) for r in rows) == a.totals.macs
    # the CLI's schema: its layer-level CSV holds these very lines, between its stage and block rows
    assert cli(["summary", "resnet18", "--level", "layer", "--format", "csv"]) == 0
    cli_lines = capsys.readouterr().out.splitlines()
    assert [line for line in cli_lines if line.startswith("layer,")] == text.splitlines()[1:]
    assert cli_lines[0] == text.splitlines()[0]


def test_json_export_is_the_clis(capsys):
    spec = PRESETS["resnet50"].replace(stride_on="1x1")
    assert cli(["summary", "resnet50", "--stride-on", "1x1", "--input", "224x160", "--format", "json"]) == 0
    assert capsys.readouterr().out == export.json_text(analyze(spec, (224, 160)), "resnet50")


def test_rerun_for_a_network_already_seen_recomputes_nothing():
    at = run_page({"arch": "resnet101"})
    at.selectbox(key="arch").select("resnet50").run()
    # Forget the library's own cache: from here on, any analysis would count as a miss.
    analyze.cache_clear()
    at.run()
    at.selectbox(key="arch").select("resnet101").run()
    at.selectbox(key="arch").select("resnet50").run()
    assert not at.exception
    assert analyze.cache_info().misses == 0


def test_the_spec_editor_is_drawn_from_the_field_metadata():
    """Every ResNetSpec field has its widget, labelled, explained and bounded by its FieldInfo alone."""
    at = run_page({"arch": "resnet50"})
    widget = {
        "choice": at.selectbox,
        "int": at.number_input,
        "float": at.number_input,
        "bool": at.toggle,
        "layers": at.text_input,
    }
    for info in FIELDS:
        w = widget[info.kind](key=info.name)
        assert (w.label, w.help) == (info.label, info.help)
        if info.kind == "choice":
            assert list(w.options) == [info.option_text(c) for c in info.choices]
        if info.kind == "int":
            assert (w.min, w.max) == (info.minimum, info.maximum)
    inside = {e.key for exp in at.expander if exp.label == "Advanced fields" for e in exp if getattr(e, "key", None)}
    assert inside >= {info.name for info in FIELDS if info.advanced}
    assert not inside & {info.name for info in FIELDS if not info.advanced}


def test_entry_file_registers_the_pages_and_opens_the_explorer():
    at = AppTest.from_file(str(ROOT / "app" / "streamlit_app.py"), default_timeout=120)
    at.run()
    assert not at.exception
    assert at.title[0].value == "resnet50"


def download_labels(at: AppTest) -> list[str]:
    return [b.proto.label for b in at.get("download_button")]


def test_downloads_offer_csv_json_dot_svg_png():
    at = run_page({"arch": "resnet18"})
    assert download_labels(at) == ["CSV (layers)", "JSON (all)", "DOT", "SVG", "PNG"]


def test_without_dot_the_browser_draws_and_dot_text_is_still_offered(monkeypatch):
    monkeypatch.setattr(diagram, "dot_available", lambda: False)
    at = run_page({"arch": "resnet18"})
    assert "resnet18 · input 224×224" in dot_of(at)  # st.graphviz_chart, laid out in the browser
    assert download_labels(at) == ["CSV (layers)", "JSON (all)", "DOT"]
    assert any("`dot`" in i.value and "graphviz" in i.value for i in at.info)
    assert "draw" not in at.query_params  # "browser" is the default here
