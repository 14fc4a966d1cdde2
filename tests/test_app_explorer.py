"""Architecture explorer page (AppTest): the numbers shown are the analysis's, the URL holds the state."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app.views.explorer import literal
from resnet_core import PRESETS, analyze, diagram, export
from resnet_core.cli import main as cli
from resnet_core.spec import FIELDS
from resnet_core.units import byte_size, count
from tests import apptest

ROOT = Path(__file__).resolve().parents[1]


def run_page(query: dict[str, str] | None = None) -> AppTest:
    return apptest.run_page("explorer", query)


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def expected_metrics(spec, size) -> dict[str, str]:
    """The headline as people read it (``resnet_core.units``); the exact values are in the help."""
    a = analyze(spec, size)
    return {
        "Parameters": count(a.totals.params),
        "MACs": count(a.totals.macs),
        "FLOPs": count(a.totals.flops),
        "Depth": f"{a.weighted_depth:,}",
        "Receptive field": f"{a.final_field.rf:,} px",
        "Activations": byte_size(a.totals.activation_bytes),
    }


def view_of(at: AppTest) -> dict:
    """The explorer's interactive diagram: the payload its browser half reads."""
    views = apptest.diagram_views(at)
    assert len(views) == 1, "no interactive diagram on the page"
    return views[0]


def dot_of(at: AppTest) -> str:
    """The DOT text of the diagram laid out in the browser (pages opened with BROWSER_DRAWN)."""
    view = view_of(at)
    assert view["layout"] == "browser" and view["dot"], view["layout"]
    return view["dot"]


BROWSER_DRAWN = {"draw": "browser"}  # the DOT goes to the browser, so the test can read it


def test_default_page_shows_resnet50_numbers_for_people_with_the_exact_ones_in_the_help():
    at = run_page(BROWSER_DRAWN)
    a = analyze(PRESETS["resnet50"], 224)
    assert at.title[0].value == "resnet50"
    assert metrics(at) == expected_metrics(PRESETS["resnet50"], 224)
    assert metrics(at)["Parameters"] == "25.6 M" and metrics(at)["Activations"] == "143 MiB"
    helps = {m.label: m.proto.help for m in at.metric}
    assert f"{a.totals.params:,}" in helps["Parameters"] and helps["Parameters"].startswith("25,557,032")
    assert f"{a.totals.macs:,}" in helps["MACs"] and f"{a.totals.flops:,}" in helps["FLOPs"]
    assert f"{a.totals.activation_bytes:,} bytes" in helps["Activations"]
    assert any("FLOPs = 2 × MACs" in c.value for c in at.caption)
    dot = dot_of(at)
    assert dot.startswith("digraph") and "resnet50 · input" not in dot  # the page shows the title above it
    assert '"block layer3.0"' in dot and '"block layer3.4"' not in dot  # layer3.1 … 3.5 fold into "× 5"


def test_the_view_gets_details_toggles_and_a_compact_legend():
    at = run_page({"arch": "resnet50"})
    view = view_of(at)
    a = analyze(PRESETS["resnet50"], 224)
    block = next(b for b in a.blocks if b.name == "layer1.0")
    assert view["nodes"]["layer1.0"]["parameters"] == f"{count(block.params)} ({block.params:,})"
    assert view["toggles"]["layer3.1"] == "click to unfold layer3 (6 blocks drawn one by one)"
    assert view["toggles"]["layer3"].startswith("click to unfold layer3")
    assert [item["text"] for item in view["legend"]] == ["identity", "projection", "strided", "× n"]
    assert view["selected"] is None and view["selectable"] is True


def test_shared_link_restores_the_modified_preset_the_view_and_the_selection():
    query = {"arch": "resnet50", "stride_on": "1x1", "unfold": "layer3", "sel": "layer3.4"}
    at = run_page(query | BROWSER_DRAWN)
    spec = PRESETS["resnet50"].replace(stride_on="1x1")
    assert at.title[0].value == "resnet50 (modified: stride on 1×1)"
    assert at.selectbox(key="stride_on").value == "1x1"
    assert at.multiselect(key="unfold").value == ["layer3"]
    assert metrics(at) == expected_metrics(spec, 224)
    assert metrics(at) != expected_metrics(PRESETS["resnet50"], 224)  # v1 really costs more MACs
    assert not at.warning
    dot = dot_of(at)
    assert all(f'"block layer3.{i}"' in dot for i in range(6))  # unfolded
    assert '"block layer2.3"' not in dot  # other stages still fold
    assert view_of(at)["selected"] == "layer3.4"
    # the URL still says the same after the run (nothing dropped, nothing added)
    assert {k: at.query_params[k] for k in query} == query


def test_changing_the_preset_resets_the_fields_and_writes_the_url():
    at = run_page({"arch": "resnet50", "stride_on": "1x1"} | BROWSER_DRAWN)
    at.selectbox(key="arch").select("resnet18").run()
    assert not at.exception
    assert at.title[0].value == "resnet18"
    assert at.selectbox(key="block").value == "basic" and at.selectbox(key="stride_on").value == "3x3"
    assert metrics(at) == expected_metrics(PRESETS["resnet18"], 224)
    assert dict(at.query_params) == {"arch": "resnet18"} | BROWSER_DRAWN
    assert '"block layer4.1"' in dot_of(at)


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


def test_server_lays_the_diagram_out_when_dot_is_installed():
    at = run_page({"arch": "resnet50", "stride_on": "1x1", "unfold": "layer3"})
    view = view_of(at)
    if diagram.dot_available():
        assert view["layout"] == "server" and view["dot"] is None and "<svg" in view["svg"]
        assert all(f'<g id="layer3.{i}" class="node">' in view["svg"] for i in range(6))  # known by their names
        assert '<g id="layer3" class="cluster">' in view["svg"]
        assert at.segmented_control(key="renderer").value == "server" and "draw" not in at.query_params
    else:  # no Graphviz here: the browser lays the diagram out, and the page says why SVG/PNG are missing
        assert view["layout"] == "browser" and any("graphviz" in i.value for i in at.info)


# -- the selection ------------------------------------------------------------------------------------


def test_a_selected_block_shows_its_parameter_arithmetic_and_its_receptive_field_step():
    at = run_page({"arch": "resnet50", "sel": "layer2.0"})
    a = analyze(PRESETS["resnet50"], 224)
    block = next(b for b in a.blocks if b.name == "layer2.0")
    assert view_of(at)["selected"] == "layer2.0" and at.query_params["sel"] == "layer2.0"
    params, field = at.code[0].value.splitlines(), at.code[1].value.splitlines()
    assert params[0] == "conv1 1×1: 128·256·1·1 = 32,768"
    assert "bn1: 2·128 = 256" in params and "downsample.0 1×1: 512·256·1·1 = 131,072" in params
    assert params[-1] == f"sum = {block.params:,} ({count(block.params)})"
    assert sum(int(line.rsplit("= ", 1)[1].replace(",", "")) for line in params[:-1]) == block.params
    before = a.layer("layer1.2.relu3")
    conv2 = a.layer("layer2.0.conv2")
    assert field[0] == f"before: rf {before.rf} px, jump {before.jump}"
    assert f"conv2 3×3 s2: {before.rf} + 2·{before.jump} = {conv2.rf}, jump {before.jump}·2 = {conv2.jump}" in field
    assert any(f"receptive field: {literal(f'{block.rf} px, jump {block.jump}')}" in m.value for m in at.markdown)
    table = at.dataframe[0].value
    assert list(table["layer"]) == [r.name for r in block.layers]  # the table shows the selection's layers


def test_a_selected_folded_block_lights_its_run_and_a_layer_its_block():
    at = run_page({"arch": "resnet50", "sel": "layer3.4"})
    assert view_of(at)["selected"] == "layer3.1"  # drawn in the "layer3.1 … layer3.5 × 5" box
    assert at.query_params["sel"] == "layer3.4"
    at = run_page({"arch": "resnet50", "sel": "layer1.0.conv2"})
    assert view_of(at)["selected"] == "layer1.0"
    assert at.code[0].value == "layer1.0.conv2 3×3: 64·64·3·3 = 36,864"


def test_a_bad_selection_in_the_link_is_quoted_literally_and_dropped():
    at = run_page({"arch": "resnet50", "sel": "**layer9** <b>x</b> :red[y]"})
    (warning,) = [w.value for w in at.warning]
    assert "Ignored sel from the link" in warning and "is not a stage, block or layer" in warning
    # every Markdown / HTML / directive character escaped: shown as it was typed, not as bold, HTML or red
    assert r"\*\*layer9\*\* \<b\>x\</b\> \:red\[y\]" in warning
    assert view_of(at)["selected"] is None and "sel" not in at.query_params
    assert metrics(at) == expected_metrics(PRESETS["resnet50"], 224)


def test_a_selection_the_new_network_lacks_is_dropped():
    at = run_page({"arch": "resnet50", "sel": "layer4.2"})
    at.selectbox(key="arch").select("resnet20").run()
    assert view_of(at)["selected"] is None and "sel" not in at.query_params and not at.warning


def test_clear_selection_shows_every_layer_again():
    at = run_page({"arch": "resnet18", "sel": "layer2"})
    assert len(at.dataframe[0].value) == sum(r.stage == "layer2" for r in analyze(PRESETS["resnet18"]).layers)
    at.button(key="clear_sel").click().run()
    assert "sel" not in at.query_params and view_of(at)["selected"] is None
    assert len(at.dataframe[0].value) == len(analyze(PRESETS["resnet18"]).layers)


# -- the node budget -----------------------------------------------------------------------------------


def test_a_diagram_over_the_node_budget_is_drawn_folded_and_the_page_says_so():
    query = {"arch": "resnet1202", "level": "layer", "unfold": "layer1,layer2,layer3"}
    at = run_page(query)
    a = analyze(PRESETS["resnet1202"], 32)
    asked = diagram.DiagramOptions(level="layer", unfold=("layer1", "layer2", "layer3"), legend=False)
    (note,) = [i.value for i in at.info]
    assert note.startswith(
        f"Drawing the layer level with layer1, layer2 and layer3 unfolded takes {diagram.node_count(a, asked):,} boxes"
    )
    view = view_of(at)
    assert view["svg" if diagram.dot_available() else "dot"]
    assert "layer3.150.conv1" in view["nodes"] and "layer1.150.conv1" not in view["nodes"]  # the latest stays unfolded
    if view["svg"]:
        assert view["svg"].count('class="node"') <= diagram.NODE_BUDGET["server"]
    assert at.multiselect(key="unfold").value == ["layer1", "layer2", "layer3"]  # what was asked stays asked
    assert not at.error


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


def test_table_reads_for_people_and_exact_numbers_sort_by_value():
    at = run_page({"arch": "resnet50"})
    a = analyze(PRESETS["resnet50"], 224)
    df = at.dataframe[0].value
    assert len(df) == len(a.layers)
    conv = a.layer("layer1.0.conv2")
    row = df[df["layer"] == conv.name].iloc[0]
    assert (row["params"], row["MACs"], row["activation"]) == (
        count(conv.params),
        count(conv.macs),
        byte_size(conv.activation_bytes),
    )
    at.toggle(key="exact_numbers").set_value(True).run()
    assert at.query_params["exact"] == "1"
    df = at.dataframe[0].value
    assert df["params"].sum() == a.totals.params and df["MACs"].sum() == a.totals.macs
    assert str(df["MACs"].dtype).startswith("int")  # sorts as numbers; separators come from column_config
    at.selectbox(key="stage_filter").select("layer3").run()
    assert len(at.dataframe[0].value) == sum(r.stage == "layer3" for r in a.layers)
    assert at.query_params["stage"] == "layer3"
    again = run_page(dict(at.query_params))
    assert again.toggle(key="exact_numbers").value is True and len(again.dataframe[0].value) == len(
        at.dataframe[0].value
    )


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
    assert '"block layer4.1"' in dot_of(at)  # laid out in the browser
    assert download_labels(at) == ["CSV (layers)", "JSON (all)", "DOT"]
    assert any("`dot`" in i.value and "graphviz" in i.value for i in at.info)
    assert "draw" not in at.query_params  # "browser" is the default here


def test_every_preset_opens_with_its_numbers_and_diagram():
    """Every preset the library has (the timm family and the plain nets included), chosen in turn."""
    at = run_page(BROWSER_DRAWN)
    for arch, spec in PRESETS.items():
        at.selectbox(key="arch").select(arch).run(timeout=120)
        assert not at.exception and not at.error, (arch, at.exception or at.error[0].value)
        assert at.title[0].value == arch
        size = 32 if spec.stem == "cifar" else 224
        assert metrics(at) == expected_metrics(spec, size), arch
        view = view_of(at)
        a = analyze(spec, size)
        rows = diagram.node_details(a, diagram.DiagramOptions(legend=False, title="")).rows
        assert view["nodes"] == rows, arch  # every box's details, the attention branches' included
        assert set(rows) >= {s.name for s in a.stages} | {a.blocks[0].name}
        texts = [item["text"] for item in view["legend"]]
        assert ("none" in texts) == (spec.shortcut == "none"), arch
        assert (spec.attention.upper() in texts) == (spec.attention != "none"), arch


def test_a_selected_attention_branch_shows_its_cost_and_arithmetic():
    at = run_page({"arch": "seresnet50", "sel": "layer2.0.se"} | BROWSER_DRAWN)
    assert not at.exception and not at.warning
    a = analyze(PRESETS["seresnet50"], 224)
    branch = [r for r in a.layers if r.name.startswith("layer2.0.se.")]
    total = sum(r.params for r in branch)
    assert view_of(at)["selected"] == "layer2.0.se"
    details = " ".join(m.value for m in at.markdown)
    assert "branch `layer2.0.se`" in details and "SE channel attention" in details
    code = at.code[0].value
    assert "fc1 1×1: 32·512·1·1 + 32 = 16,416" in code and f"sum = {total:,}" in code
    assert any(f"{len(branch)} of {len(a.layers):,} layers" in c.value for c in at.caption)
