"""Compare page (AppTest): the workbench rows, classic pairs, the human totals with exact tooltips, the
charts' data, the bottleneck panel, the family scatter off the first run, the URL round trip."""

from __future__ import annotations

import html
import re
import threading

import pytest
from streamlit.testing.v1 import AppTest

import app.views.compare as compare_view
from resnet_core import PRESETS, analyze, build, default_input_size
from resnet_core.compare import Summary, classic_pairs, classic_panel, stage_split
from resnet_core.units import byte_size, count
from scripts.appview import open_page
from tests.apptest import diagram_views, no_exceptions, run_page
from tests.apptest import plotly_figure as figure


def run(params: dict[str, str] | None = None) -> AppTest:
    return run_page("compare", params)


def totals(at: AppTest) -> dict[str, list[tuple[str, str, str]]]:
    """The totals table as {row label: [(value shown, ratio to A shown, tooltip), …]}, from the page's HTML."""
    body = next(e.proto.body for e in at.get("html") if "<table" in e.proto.body)
    cell = re.compile(r'<td title="([^"]*)"[^>]*>([^<]*)(?:<small>([^<]*)</small>)?</td>')
    return {
        html.unescape(label): [
            (html.unescape(value), html.unescape(ratio), html.unescape(tip))
            for tip, value, ratio in cell.findall(cells)
        ]
        for label, cells in re.findall(r"<tr><th>(.*?)</th>(.*?)</tr>", body)
    }


def columns(at: AppTest) -> list[str]:
    body = next(e.proto.body for e in at.get("html") if "<table" in e.proto.body)
    return [html.unescape(t) for t in re.findall(r'<span class="cmp-title">(.*?)</span>', body)]


@pytest.fixture(scope="module")
def default_page() -> AppTest:
    return run()


def test_default_rows_are_resnet18_34_50_with_human_totals_and_exact_tooltips(default_page):
    at = default_page
    assert not at.warning and not at.error
    assert [at.selectbox(key=f"cmp_{p}_preset").value for p in "abc"] == ["resnet18", "resnet34", "resnet50"]
    assert columns(at) == ["resnet18", "resnet34", "resnet50"]
    table = totals(at)
    nets = [Summary.of(analyze(PRESETS[n], 224)) for n in ("resnet18", "resnet34", "resnet50")]
    a18, a34, a50 = nets
    assert table["Parameters"][0] == (count(a18.params), "", f"{a18.params:,} trainable parameters")
    value, ratio, tip = table["Parameters"][1]
    assert (value, ratio) == ("21.8 M", f"×{a34.params / a18.params:.2f}") == ("21.8 M", "×1.86")
    assert tip == f"{a34.params:,} trainable parameters; ×{a34.params / a18.params:.3f} of A's {a18.params:,}"
    assert [v for v, _, _ in table["Multiply-adds (MACs)"]] == [count(s.macs) for s in nets]
    assert table["Multiply-adds (MACs)"][2][0] == "4.09 G"
    assert [v for v, _, _ in table["Activation memory (float32)"]] == [byte_size(s.activation_bytes) for s in nets]
    assert table["Activation memory (float32)"][2][2].startswith(f"{a50.activation_bytes:,} bytes")
    shown = [v for row in table.values() for v, _, _ in row]
    assert len(shown) == len(compare_view.METRICS) * 3 and not any(re.search(r"\d,\d{3}", v) for v in shown), (
        "no machine numbers shown"
    )
    assert at.query_params["n"] == "3"
    assert [at.query_params[f"{p}_arch"] for p in "abc"] == ["resnet18", "resnet34", "resnet50"]


def test_totals_download_holds_the_exact_numbers(default_page):
    labels = ["A: resnet18", "B: resnet34"]
    summaries = [Summary.of(analyze(PRESETS[n], 224)) for n in ("resnet18", "resnet34")]
    frame = compare_view.totals_frame(labels, summaries)
    assert list(frame["B: resnet34"]) == [getattr(summaries[1], m.field) for m in compare_view.METRICS]
    assert frame.loc["Parameters", "A: resnet18"] == 11_689_512
    assert [b for b in default_page.get("download_button") if b.proto.label == "Totals (CSV, exact)"]


def test_stage_bars_split_each_architecture_by_stage_with_exact_counts(default_page):
    """The per-stage bars (HTML, drawn with the totals): a parameters and a multiply-adds bar for each
    architecture, one segment per stage whose tooltip holds its exact count, the total at the end."""
    body = next(e.proto.body for e in default_page.get("html") if 'data-testid="stage-bars"' in e.proto.body)
    panels = body.split('<div class="sb-panel">')[1:]
    assert len(panels) == 2 and "Parameters" in panels[0] and "Multiply-adds" in panels[1]
    for which, panel in enumerate(panels):
        rows = panel.split('<div class="sb-row"')[1:]
        assert len(rows) == 3
        for row, name in zip(rows, ("resnet18", "resnet34", "resnet50"), strict=True):
            split = stage_split(analyze(PRESETS[name], 224))
            exact = [int(n.replace(",", "")) for n in re.findall(r'title="[^"]*\(([0-9,]+)\)"', row)]
            assert exact == [v[which] for v in split.values() if v[which]]
            assert f">{count(sum(v[which] for v in split.values()))}</span>" in row
    assert "layer3" in body and "head" in body


def test_bottleneck_panel_draws_both_blocks_and_counts_them(default_page):
    blocks = classic_panel(256, 56)
    bars = figure(default_page, "cmp_block_bars")["data"]
    assert bars[0]["x"] == [b.params for b in blocks] and bars[1]["x"] == [b.macs for b in blocks]
    assert bars[0]["text"][:2] == ["69.6 k", "1.18 M"]  # the bottleneck against two 3×3 convs at 256-d
    drawings = [d["svg"] or d["dot"] for d in diagram_views(default_page)]  # SVG where `dot` is installed
    assert len(drawings) == 2
    assert "1×1 conv, 64" in drawings[0] and "3×3 conv, 256" in drawings[1]
    code = " ".join(c.value for c in default_page.code)
    for block in blocks:
        assert block.params_arithmetic() in code and block.macs_arithmetic() in code
    # issue 12, item 7: which comparison is the paper's Fig. 5, which is this page's own
    caption = " ".join(c.value for c in default_page.caption)
    assert "Fig. 5" in caption and "64-d basic block (left)" in caption and "256-d bottleneck (right)" in caption
    assert "not a figure of the paper" in caption


def test_panel_width_widget_recounts_and_goes_to_the_url():
    at = run()
    at.number_input(key="cmp_width").set_value(512).run()
    assert not at.exception
    bars = figure(at, "cmp_block_bars")["data"]
    assert bars[0]["x"] == [b.params for b in classic_panel(512, 56)]
    assert at.query_params["panel_width"] == "512"


def test_classic_pairs_are_one_click_away():
    at = run()
    pairs = {p.label: i for i, p in enumerate(classic_pairs())}
    at.button(key=f"cmp_pair_{pairs['ResNet-34 vs 50']}").click().run()
    assert not at.exception
    assert at.query_params["n"] == "2" and "c_arch" not in at.query_params
    assert (at.query_params["a_arch"], at.query_params["b_arch"]) == ("resnet34", "resnet50")
    assert columns(at) == ["resnet34", "resnet50"]
    at.button(key=f"cmp_pair_{pairs['v1 vs v1.5']}").click().run()
    assert at.query_params["a_stride_on"] == "1x1" and "b_stride_on" not in at.query_params
    assert columns(at) == ["resnet50 (modified: stride on 1×1)", "resnet50"]
    assert at.selectbox(key="a_stride_on").value == "1x1"  # the editor in A's popover follows
    at.button(key=f"cmp_pair_{pairs['Shortcuts A vs B vs C']}").click().run()
    assert at.query_params["n"] == "3"
    assert [at.selectbox(key=f"{p}_shortcut").value for p in "abc"] == ["A", "B", "C"]


def test_a_rows_preset_select_resets_its_editor():
    at = run({"a_arch": "resnet50", "a_stride_on": "1x1"})
    at.selectbox(key="cmp_a_preset").set_value("resnet20").run()
    assert not at.exception
    assert at.selectbox(key="a_arch").value == "resnet20" and at.query_params["a_arch"] == "resnet20"
    assert "a_stride_on" not in at.query_params  # the fields start from the new preset
    assert columns(at)[0] == "resnet20"
    assert at.text_input(key="a_input").value == "32"


def test_a_session_s_first_run_draws_the_first_screen_then_the_rest_once_the_browser_says_so():
    """The first run stops after the totals and the stage bars (no Graphviz or Plotly element, whose
    libraries would hold the browser's drawing of them) and asks the browser to report its first screen;
    the next run (the report's, or any other) draws the panel and its charts."""
    at = no_exceptions(open_page("compare", drawn=False).run())
    assert [e for e in at.get("html") if 'data-testid="stage-bars"' in e.proto.body]
    assert totals(at)["Parameters"][0][0] == count(analyze(PRESETS["resnet18"], 224).totals.params)
    reporter = [e for e in at.get("bidi_component") if e.proto.component_name.endswith("first_screen")]
    assert len(reporter) == 1
    assert not diagram_views(at) and not at.get("plotly_chart")
    assert not [h for h in at.subheader if "bottleneck" in h.value]
    assert [c for c in at.caption if "follow in a moment" in c.value]  # says more is coming
    no_exceptions(at.run())  # the rerun the browser's report causes (or any click)
    assert len(diagram_views(at)) == 2 and figure(at, "cmp_block_bars")
    assert not [e for e in at.get("bidi_component") if e.proto.component_name.endswith("first_screen")]


def test_family_scatter_waits_off_the_first_run_then_holds_every_preset(monkeypatch):
    compare_view.family.clear()
    release = threading.Event()
    run_presets = compare_view.Family.run

    def held(job):
        release.wait(60)
        run_presets(job)

    monkeypatch.setattr(compare_view.Family, "run", held)
    at = run()
    assert not [c for c in at.get("plotly_chart") if c.proto.id.endswith("cmp_scatter")]
    assert "Analysing every preset" in at.get("progress")[0].proto.text
    assert totals(at)["Parameters"]  # the rest of the page is there meanwhile
    release.set()
    job = compare_view.family(tuple(PRESETS))
    for _ in range(600):
        if job.done:
            break
        threading.Event().wait(0.1)
    at.run()
    data = figure(at, "cmp_scatter")["data"]
    presets = data[0]
    assert [c[0] for c in presets["customdata"]] == list(PRESETS)
    expected = [analyze(s, default_input_size(s)) for s in PRESETS.values()]
    assert presets["x"] == pytest.approx([a.totals.macs / 1e9 for a in expected])
    assert presets["y"] == pytest.approx([a.totals.params / 1e6 for a in expected])
    r50 = analyze(PRESETS["resnet50"], 224).totals
    assert presets["customdata"][list(PRESETS).index("resnet50")][1:] == [
        f"4.09 G ({r50.macs:,})",
        f"25.6 M ({r50.params:,})",
    ]
    assert [t["name"] for t in data[1:]] == ["A: resnet18", "B: resnet34", "C: resnet50"]


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
    assert columns(at) == [
        "resnet50 (modified: stride on 1×1)",
        "resnet56",
        "resnext50_32x4d",
        "resnet18 (modified: shortcut C)",
    ]
    v1 = analyze(PRESETS["resnet50"].replace(stride_on="1x1"), 224)
    assert totals(at)["Parameters"][0][2] == f"{v1.totals.params:,} trainable parameters"
    assert totals(at)["Multiply-adds (MACs)"][1][2].startswith(f"{analyze(PRESETS['resnet56'], 32).totals.macs:,} ")
    assert figure(at, "cmp_block_bars")["data"][0]["x"] == [b.params for b in classic_panel(1024, 14)]

    # a change on the page lands in the URL, and that URL gives the same page back
    at.selectbox(key="b_shortcut").set_value("B").run()
    assert at.query_params["b_shortcut"] == "B"
    again = run({k: at.query_params[k] for k in at.query_params})
    assert totals(again) == totals(at)


def test_fewer_architectures_drop_the_others_from_the_url():
    at = run({"n": "4"})
    assert "d_arch" in at.query_params
    at.get("button_group")[0].set_value(2).run()
    assert not at.exception
    assert at.query_params["n"] == "2"
    assert "c_arch" not in at.query_params and "d_arch" not in at.query_params
    assert len(columns(at)) == 2


def test_bad_url_values_fall_back_with_a_warning():
    at = run({"n": "7", "a_arch": "resnet51", "b_layers": "3,x", "panel_width": "250", "panel_map": "big"})
    warnings = " ".join(w.value for w in at.warning)
    for text in ("'7'", "'resnet51'", "layers='3,x'", "width=250", "'big'"):
        assert text in warnings
    assert columns(at) == ["resnet18", "resnet34", "resnet50"]  # A's default
    assert at.number_input(key="cmp_width").value == 256


def test_an_input_too_small_is_an_error_message_not_a_traceback():
    at = run({"n": "2", "a_input": "8"})
    assert at.error and "too small" in at.error[0].value
    assert not [e for e in at.get("html") if "<table" in e.proto.body]  # no half-filled table
    assert figure(at, "cmp_block_bars")  # the bottleneck panel still renders


def shortcut_rows(at: AppTest) -> list[list[str]]:
    """The shortcut-cost table as rows of cell tooltips (exact signed differences), from the page's HTML."""
    body = next(e.proto.body for e in at.get("html") if 'data-testid="cmp-shortcuts"' in e.proto.body)
    rows = re.findall(r"<tr><th>.*?</th>(.*?)</tr>", body.split("<tbody>", 1)[1])
    return [[html.unescape(t) for t in re.findall(r'<td title="([^"]*)"', row)] for row in rows]


def test_plain_34_against_resnet_34_a_and_b_shows_what_the_shortcuts_cost():
    """Issue 16: the paper's point by numbers. Option A adds no parameter and no multiply-add, only the
    adds (other ops); option B adds exactly its projection shortcuts, read off the model's modules."""
    at = run()
    pairs = {p.label: i for i, p in enumerate(classic_pairs())}
    at.button(key=f"cmp_pair_{pairs['Plain vs ResNet-34']}").click().run()
    assert not at.exception and not at.error
    assert [at.query_params[f"{p}_arch"] for p in "abc"] == ["plain34", "resnet34", "resnet34"]
    plain, option_a, option_b = (
        analyze(s, 224) for s in (PRESETS["plain34"], PRESETS["resnet34"].replace(shortcut="A"), PRESETS["resnet34"])
    )
    table = totals(at)
    assert table["Parameters"][1][0] == table["Parameters"][0][0] and table["Parameters"][1][1] == ""  # not tinted
    assert table["Multiply-adds (MACs)"][1][1] == ""
    adds = sum(b.output_shape[1] * b.output_shape[2] * b.output_shape[3] for b in option_a.blocks)
    assert option_a.totals.other_ops - plain.totals.other_ops == adds > 0
    model = build(PRESETS["resnet34"], "meta")
    projections = [b.downsample for b in model.modules() if getattr(b, "downsample", None) is not None]
    projection_params = sum(p.numel() for d in projections for p in d.parameters())
    shortcut_convs = [r for r in option_b.layers if r.path == "shortcut" and r.kind == "Conv2d"]
    projection_macs = sum(
        r.input_shape[1] * r.output_shape[1] * r.output_shape[2] * r.output_shape[3] for r in shortcut_convs
    )
    assert len(projections) == 3 and projection_params > 0
    rows = shortcut_rows(at)
    assert rows == [
        ["+0 parameters", "+0 multiply-adds", f"{adds:+,} other ops"],
        [
            f"{projection_params:+,} parameters",
            f"{projection_macs:+,} multiply-adds",
            f"{option_b.totals.other_ops - plain.totals.other_ops:+,} other ops",
        ],
    ]
    assert option_b.totals.params - plain.totals.params == projection_params
    body = next(e.proto.body for e in at.get("html") if 'data-testid="cmp-shortcuts"' in e.proto.body)
    assert "16 additions" in body and "3 projection shortcuts" in body
    assert "no extra parameter" in " ".join(c.value for c in at.caption)


def test_no_shortcut_table_without_a_plain_net_and_its_counterpart(default_page):
    assert not [e for e in default_page.get("html") if 'data-testid="cmp-shortcuts"' in e.proto.body]
    at = run({"n": "2", "a_arch": "plain20", "b_arch": "resnet32"})  # plain, but not the same net
    assert not at.error and columns(at) == ["plain20", "resnet32"]
    assert not [e for e in at.get("html") if 'data-testid="cmp-shortcuts"' in e.proto.body]


def test_the_timm_family_pairs_are_one_click_away():
    """Issue 17: resnet50 against the tweaks practitioners compare it with, when the presets exist."""
    at = run()
    pairs = {p.label: i for i, p in enumerate(classic_pairs())}
    at.button(key=f"cmp_pair_{pairs['ResNet-50 vs 50-D vs SE vs ECA-50-T']}").click().run()
    assert not at.exception and not at.error
    assert columns(at) == ["resnet50", "resnet50d", "seresnet50", "ecaresnet50t"]
    assert totals(at)["Parameters"][2][2].startswith(f"{analyze(PRESETS['seresnet50'], 224).totals.params:,} ")
    at.button(key=f"cmp_pair_{pairs['ResNet-50 vs 50-D vs anti-aliased 50-D']}").click().run()
    assert columns(at) == ["resnet50", "resnet50d", "resnetaa50d"]
