"""The diagram view's Python half: argument checks, the payload, layout choice, events, the vendored file.

The browser half is tested in Chromium by ``tests/e2e/test_diagram_view.py``.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app.components.diagram_view import LEGIBLE_PX, DiagramEvent, LegendItem, build_payload, parse_event
from app.components.diagram_view import view as dv
from resnet_core import PRESETS, analyze, diagram

DOT = 'digraph g { a [label="a"]; b; a -> b; }'
SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><g class="graph"></g></svg>'


def test_exactly_one_of_svg_and_dot():
    with pytest.raises(ValueError, match="exactly one of svg= .* and dot="):
        build_payload()
    with pytest.raises(ValueError, match="exactly one"):
        build_payload(svg=SVG, dot=DOT)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"svg": "<html></html>"}, "svg= must be SVG text"),
        ({"dot": "a -> b"}, "dot= must be DOT text"),
        ({"svg": SVG, "layout": "browser"}, 'layout="browser" lays DOT out in the browser: pass dot='),
        ({"svg": SVG, "layout": "gpu"}, "layout='gpu' is not allowed: choose one of auto, server, browser"),
        ({"svg": SVG, "height": 50}, "height=50 is not allowed: None .* or 160–4000 px"),
        ({"svg": SVG, "height": True}, "height=True is not allowed"),
    ],
)
def test_bad_arguments_name_what_is_allowed(kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_payload(**kwargs)


def test_given_svg_passes_through_with_checked_details():
    p = build_payload(
        SVG,
        nodes={"block layer1.0": {"parameters": 75008, "output": "256×56×56", "share": 0.5}},
        toggles={"block layer2.1": "click to unfold layer2"},
        selected="block layer1.0",
        start="stem",
        height=600,
    )
    assert p["svg"] == SVG and p["dot"] is None and p["layout"] == "given"
    # numbers get thousands separators; strings are kept as the caller formatted them
    assert p["nodes"] == {"block layer1.0": {"parameters": "75,008", "output": "256×56×56", "share": "0.5"}}
    assert p["toggles"] == {"block layer2.1": "click to unfold layer2"}
    assert (p["selected"], p["start"], p["height"], p["legible_px"]) == ("block layer1.0", "stem", 600, LEGIBLE_PX)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"nodes": ["a"]}, TypeError, r"nodes must map node id → \{label: value\}"),
        ({"nodes": {"": {}}}, TypeError, "every key must be a node id"),
        ({"nodes": {"a": "75,008"}}, TypeError, r"nodes\['a'\] must map label → value"),
        ({"nodes": {"a": {"x": [1, 2]}}}, TypeError, r"nodes\['a'\]\['x'\] must be a string or a number"),
        ({"nodes": {"a": {3: "x"}}}, TypeError, "labels must be strings"),
        ({"toggles": "block layer2.1"}, TypeError, "not one string .*wrap it in a list"),
        ({"toggles": [1]}, TypeError, "every entry must be a node id"),
        ({"toggles": {"a": 3}}, TypeError, "the hint must be a string"),
        ({"toggles": 3}, TypeError, "toggles must be a collection of node ids"),
        ({"selected": 3}, TypeError, "selected must be a node id"),
        ({"start": ""}, TypeError, "start must be a node id"),
    ],
)
def test_bad_node_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        build_payload(SVG, **kwargs)


def test_toggles_as_a_list_get_the_default_hint():
    assert build_payload(SVG, toggles=["a", "b"])["toggles"] == {"a": "", "b": ""}


def test_legend_from_the_diagram_modules_own_styles():
    legend = [(diagram.SHORTCUT_STYLE[k], k, diagram.SHORTCUT_LEGEND[k]) for k in diagram.SHORTCUT_KINDS]
    legend.append(({"fillcolor": diagram.FILL_STRIDED, "color": diagram.ORANGE, "peripheries": "2"}, "folded run"))
    items = build_payload(SVG, legend=legend)["legend"]
    assert [i["text"] for i in items] == [*diagram.SHORTCUT_KINDS, "folded run"]
    assert [i["dash"] for i in items[:4]] == ["solid", "dashed", "solid", "dotted"]
    assert [i["kind"] for i in items] == ["edge"] * len(diagram.SHORTCUT_KINDS) + ["node"]
    assert items[2]["color"] == diagram.VERMILLION and items[2]["width"] == 4.0  # "bold", penwidth 4
    assert items[-1]["fill"] == diagram.FILL_STRIDED and items[-1]["double"] is True
    assert items[0]["title"] == diagram.SHORTCUT_LEGEND["identity"]


def test_a_bold_edge_without_penwidth_is_drawn_wide():
    assert LegendItem.from_style({"style": "bold"}, "x").width == 4.0
    assert LegendItem.from_style({}, "x").width == 2.0


@pytest.mark.parametrize(
    ("legend", "error", "message"),
    [
        ([({"colour": "red"}, "x")], ValueError, "unknown key.*colour; allowed: color, fillcolor"),
        ([({"color": "red; background: url(x)"}, "x")], ValueError, "legend color must be a colour"),
        ([({"color": "0.5 0.5 0.5"}, "x")], ValueError, "legend color must be a colour"),
        ([({"penwidth": "wide"}, "x")], ValueError, "legend penwidth must be a number"),
        ([({"penwidth": "-1"}, "x")], ValueError, "finite number ≥ 0"),
        ([({}, "")], ValueError, "legend text must be a non-empty string"),
        ([("solid", "x")], TypeError, "a legend style must be a dict"),
        ([({}, "x", 3)], TypeError, "explanation must be a string"),
        ([({},)], TypeError, r"legend\[0\] must be \(style, text\)"),
        ("identity", TypeError, "legend must be a list"),
    ],
)
def test_bad_legend_entries(legend, error, message):
    with pytest.raises(error, match=message):
        build_payload(SVG, legend=legend)


@pytest.mark.skipif(not diagram.dot_available(), reason="needs Graphviz's dot")
def test_auto_layout_uses_dot_on_the_server_when_installed():
    a = analyze(PRESETS["resnet18"], 224)
    dot = diagram.to_dot(a, legend=False)
    p = build_payload(dot=dot)
    assert p["layout"] == "server" and p["dot"] is None
    assert p["svg"] == diagram.render(dot, "svg").decode("utf-8")
    assert "<title>block layer2.0</title>" in p["svg"]


def test_auto_layout_falls_back_to_the_browser_without_dot(monkeypatch):
    monkeypatch.setattr(diagram, "dot_available", lambda: False)
    p = build_payload(dot=DOT)
    assert (p["layout"], p["dot"], p["svg"]) == ("browser", DOT, None)
    assert build_payload(dot=DOT, layout="browser")["layout"] == "browser"


def test_server_layout_without_dot_says_what_to_install(monkeypatch):
    monkeypatch.setattr(diagram.shutil, "which", lambda name: None)
    with pytest.raises(diagram.GraphvizNotFound, match="apt-get install graphviz"):
        build_payload(dot="digraph never_cached_before { x -> y; }", layout="server")


@pytest.mark.parametrize(
    ("value", "event"),
    [
        ({"kind": "select", "node": "block layer2.0"}, DiagramEvent("select", "block layer2.0")),
        ({"kind": "toggle", "node": "cluster_layer3"}, DiagramEvent("toggle", "cluster_layer3")),
        ({"kind": "delete", "node": "x"}, None),
        ({"kind": "select", "node": ""}, None),
        ({"kind": "select"}, None),
        ("select block layer2.0", None),
        (None, None),
    ],
)
def test_events_from_the_browser(value, event):
    assert parse_event(value) == event


def test_vendored_graphviz_is_the_file_its_readme_names():
    readme = (dv.VENDOR / "README.md").read_text()
    recorded = re.search(r"`hpcc-js-wasm-graphviz/graphviz\.js` \|.*\| `([0-9a-f]{64})` \|", readme)
    assert recorded, "the vendor README must record the bundle's sha256"
    digest = hashlib.sha256((dv.VENDOR / dv.GRAPHVIZ_WASM).read_bytes()).hexdigest()
    assert digest == recorded.group(1)
    assert "Apache License" in (dv.VENDOR / "hpcc-js-wasm-graphviz" / "LICENSE").read_text()[:200]


def test_the_frontend_names_no_remote_host():
    """Everything the component loads comes from this server: no CDN, no web fonts, no remote URL."""
    for path in [*sorted((dv.FRONTEND).glob("*")), dv.VENDOR / dv.GRAPHVIZ_WASM]:
        text = Path(path).read_text(encoding="utf-8")
        urls = set(re.findall(r"https?://[a-zA-Z0-9.-]+[^\s\"'`)]*", text))
        if path.suffix == ".css":  # CSS can also load by url(//host/…) or url(https://…)
            urls |= set(re.findall(r"url\(\s*['\"]?((?:https?:)?//[^)'\"]+)", text))
        # XML namespaces and a DTD name in a string the module writes are identifiers, not requests
        allowed = {u for u in urls if "www.w3.org" in u}
        assert urls <= allowed, f"{path.name} names remote URLs: {sorted(urls - allowed)}"
        assert "@import" not in text and "fonts.googleapis" not in text


def test_demo_page_runs_server_side_without_a_browser():
    """The component mounts in a script run with no browser attached (AppTest): no event, no error."""
    at = AppTest.from_file(str(Path(__file__).parent / "e2e" / "diagram_view_demo.py"), default_timeout=120)
    at.query_params["arch"] = "resnet18"
    at.run()
    assert not at.exception, at.exception
    assert [t.value for t in at.text][:1] == ["last event: none"]
