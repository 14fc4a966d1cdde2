"""The diagram view in a real browser: Debian's Chromium, driven by Playwright, on `streamlit run
tests/e2e/diagram_view_demo.py` (resnet_core's block diagrams shown in the component).

Two servers: one in the light theme with Graphviz's `dot` on its PATH (the SVG is laid out on the
server), one in the dark theme with no `dot` on its PATH (the DOT is laid out in the browser by the
vendored WebAssembly Graphviz). Every page records its requests, and every test fails if one went
anywhere but 127.0.0.1. Screenshots go to $DIAGRAM_VIEW_SHOTS (default: a pytest temporary folder).
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote, urlparse

import pytest
from playwright.sync_api import Page, expect

from resnet_core import PRESETS, analyze
from resnet_core.units import count
from scripts.harness import HarnessError, streamlit_server
from tests.e2e.diagram_page import DiagramPage, shots_folder

pytestmark = pytest.mark.e2e

DEMO = "tests/e2e/diagram_view_demo.py"
SIZES = [(1280, 720), (1280, 800), (1920, 1080)]
LEGIBLE_PX = 12
MARGIN = 24  # px the view keeps round the diagram's start edge (diagram_view.js)
MAX_LEGEND_SHARE = 0.15  # issue 13: the legend takes at most 15 % of the diagram's area

# WCAG 2 contrast ratio of two CSS colours as the browser computes them (rgb()/rgba()).
CONTRAST_JS = """
const rgb = (c) => (c.match(/[\\d.]+/g) || []).slice(0, 3).map(Number);
const lum = (c) => { const [r, g, b] = rgb(c).map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
const contrast = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
"""


@contextmanager
def demo_server(log_dir: Path, env: dict[str, str]) -> Iterator[str]:
    """`streamlit run` of the demo with `env` added to its environment (ours is restored at once)."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        with streamlit_server(log_dir, script=DEMO) as base:
            os.environ.clear()
            os.environ.update(saved)
            yield base
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="module")
def light(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if shutil.which("dot") is None:
        pytest.fail("Graphviz's dot is not installed (run `make test` or `sudo apt-get install graphviz`)")
    try:
        with demo_server(tmp_path_factory.mktemp("dv-light"), {"STREAMLIT_THEME_BASE": "light"}) as base:
            yield base
    except HarnessError as e:
        pytest.fail(str(e), pytrace=False)


@pytest.fixture(scope="module")
def dark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Dark theme, and a PATH that holds only this Python's folder: no `dot` for the server."""
    bin_dir = str(Path(sys.executable).parent)
    assert shutil.which("dot", path=bin_dir) is None
    env = {"STREAMLIT_THEME_BASE": "dark", "PATH": bin_dir}
    try:
        with demo_server(tmp_path_factory.mktemp("dv-dark"), env) as base:
            yield base
    except HarnessError as e:
        pytest.fail(str(e), pytrace=False)


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shots_folder("DIAGRAM_VIEW_SHOTS", tmp_path_factory.mktemp("dv-shots"))


class Demo(DiagramPage):
    """One page of the demo, and the requests of every demo page."""

    def __init__(self, page: Page, base: str, requests: list[str]) -> None:
        super().__init__(page, base)
        self.requests = requests

    def open(self, query: str, timeout: float = 180_000) -> Demo:
        self.page.goto(f"{self.base}/?{query}", timeout=timeout)
        expect(self.root).to_have_attribute("data-paints", "1", timeout=timeout)
        return self


@pytest.fixture
def open_demo(browser) -> Iterator[Callable[..., Demo]]:
    """Opens demo pages; on teardown, fails if any of them sent a request beyond 127.0.0.1."""
    contexts, requests = [], []

    def make(base: str, size: tuple[int, int] = (1280, 720), scheme: str = "light") -> Demo:
        # the app has a light and a dark theme and follows the system's preference: ask for the server's
        context = browser.new_context(viewport={"width": size[0], "height": size[1]}, color_scheme=scheme)
        contexts.append(context)
        context.on("request", lambda r: requests.append(r.url))
        page = context.new_page()
        page.set_default_timeout(60_000)
        return Demo(page, base, requests)

    yield make
    for context in contexts:
        context.close()
    remote = [u for u in requests if urlparse(u).scheme not in ("blob", "data") and urlparse(u).hostname != "127.0.0.1"]
    assert requests and not remote, f"requests left 127.0.0.1: {remote[:5]}"


def block(arch: str, name: str, size: int = 224):
    return next(b for b in analyze(PRESETS[arch], size).blocks if b.name == name)


# -- the opening view: legible, on its start, not a strip ----------------------------------------


@pytest.mark.parametrize(
    ("query", "flow"),
    [
        ("arch=resnet50", "down"),
        ("arch=resnet50&dir=LR", "across"),
        ("arch=custom110&dir=LR", "across"),
        ("arch=resnet1202&unfold=layer1,layer2,layer3", "down"),
    ],
)
def test_opening_view_draws_no_text_below_12_px_and_starts_at_the_start(open_demo, light, query, flow):
    demo = open_demo(light).open(query)
    smallest, n = demo.smallest_text()
    assert n > 20 and smallest >= LEGIBLE_PX - 0.01, f"{query}: smallest text {smallest:.2f} px over {n} labels"
    vp, paper = demo.box(demo.viewport), demo.box(demo.paper)
    # Too big to fit legibly: it opens on its start edge and runs on past the view, with a minimap.
    if flow == "down":
        assert abs(paper["y"] - (vp["y"] + MARGIN)) <= 1 and paper["y"] + paper["height"] > vp["y"] + vp["height"]
    else:
        assert abs(paper["x"] - (vp["x"] + MARGIN)) <= 1 and paper["x"] + paper["width"] > vp["x"] + vp["width"]
        # across, the whole height is on screen: a legible band, not a 78 px strip
        assert paper["y"] >= vp["y"] and paper["y"] + paper["height"] <= vp["y"] + vp["height"]
    expect(demo.page.locator(".dv-minimap")).to_be_visible()


def test_resnet1202_unfolded_draws_every_block(open_demo, light):
    demo = open_demo(light).open("arch=resnet1202&unfold=layer1,layer2,layer3")
    blocks = analyze(PRESETS["resnet1202"], 32).blocks
    assert len(blocks) == 600  # 3 stages × 200 basic blocks (6n + 2 = 1202, n = 200)
    for b in (blocks[0], blocks[len(blocks) // 2], blocks[-1]):
        assert demo.node(b.name).count() == 1
    assert demo.page.locator(".dv-paper g.node").count() >= 2 * len(blocks)  # each block and its "+"
    # fitted whole, its text would be a fraction of a pixel: it is left out of the overview
    demo.page.locator(".dv-fit").click()
    expect(demo.root).to_have_class(re.compile(r"\bdv-tiny\b"))
    assert demo.page.locator(".dv-paper text").first.evaluate("t => getComputedStyle(t).visibility") == "hidden"
    demo.page.locator(".dv-zoom").click()
    expect(demo.root).not_to_have_class(re.compile(r"\bdv-tiny\b"))


# -- zoom and pan --------------------------------------------------------------------------------


def test_wheel_zooms_about_the_pointer(open_demo, light):
    demo = open_demo(light).open("arch=resnet50")
    target = demo.box(demo.node("layer1.0"))
    x, y = target["x"] + 10, target["y"] + 10
    before_scale, before = demo.scale(), demo.box(demo.paper)
    demo.page.mouse.move(x, y)
    demo.page.mouse.wheel(0, -300)
    demo.wait_for_frame()
    after_scale, after = demo.scale(), demo.box(demo.paper)
    ratio = after_scale / before_scale
    assert ratio > 1.3
    assert after["width"] / before["width"] == pytest.approx(ratio, rel=0.005)
    # the diagram point under the pointer stays under it
    assert after["x"] + (x - before["x"]) * ratio == pytest.approx(x, abs=1)
    assert after["y"] + (y - before["y"]) * ratio == pytest.approx(y, abs=1)
    demo.page.mouse.wheel(0, 300)
    demo.wait_for_frame()
    assert demo.scale() == pytest.approx(before_scale, rel=0.01)


def test_drag_pans_and_sends_no_event(open_demo, light):
    demo = open_demo(light).open("arch=resnet50")
    before = demo.box(demo.paper)
    demo.drag(-120, -200)
    after = demo.box(demo.paper)
    assert (after["x"] - before["x"], after["y"] - before["y"]) == (
        pytest.approx(-120, abs=1),
        pytest.approx(-200, abs=1),
    )
    assert demo.data("last-event") == ""
    expect(demo.page.get_by_text("last event: none")).to_be_visible()


def test_buttons_zoom_fit_and_return_to_the_start(open_demo, light):
    demo = open_demo(light).open("arch=resnet50")
    opening = demo.scale()
    demo.page.locator(".dv-in").click()
    demo.wait_for_frame()
    assert demo.scale() == pytest.approx(opening * 1.25, rel=0.01)
    demo.page.locator(".dv-out").click()
    demo.page.locator(".dv-out").click()
    demo.wait_for_frame()
    assert demo.scale() == pytest.approx(opening / 1.25, rel=0.01)
    demo.page.locator(".dv-fit").click()
    demo.wait_for_frame()
    vp, paper = demo.box(demo.viewport), demo.box(demo.paper)
    assert paper["y"] >= vp["y"] - 1 and paper["y"] + paper["height"] <= vp["y"] + vp["height"] + 1
    assert paper["x"] >= vp["x"] - 1 and paper["x"] + paper["width"] <= vp["x"] + vp["width"] + 1
    demo.page.locator(".dv-zoom").click()  # the zoom label returns to the legible start view
    demo.wait_for_frame()
    assert demo.scale() == pytest.approx(opening, rel=0.001)


def test_minimap_moves_the_view(open_demo, light):
    demo = open_demo(light).open("arch=resnet50")
    minimap = demo.page.locator(".dv-minimap")
    box = demo.box(minimap)
    before = float(demo.data("ty"))
    demo.page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] - 3)
    demo.wait_for_frame()
    # the view now shows the diagram's end: the paper's bottom edge is in the view
    vp, paper = demo.box(demo.viewport), demo.box(demo.paper)
    assert float(demo.data("ty")) < before - 500
    assert paper["y"] + paper["height"] <= vp["y"] + vp["height"] + 1
    assert demo.data("last-event") == ""


def test_fullscreen_fills_the_window_and_returns(open_demo, light):
    demo = open_demo(light, (1280, 800)).open("arch=resnet50")
    demo.page.locator(".dv-full").click()
    expect(demo.root).to_have_attribute("data-fullscreen", "1")
    demo.wait_for_frame()
    box = demo.box(demo.root)
    assert (box["width"], box["height"]) == (pytest.approx(1280, abs=2), pytest.approx(800, abs=2))
    vp = demo.box(demo.viewport)
    assert vp["height"] > 700
    demo.page.locator(".dv-full").click()
    expect(demo.root).to_have_attribute("data-fullscreen", "")
    demo.wait_for_frame()
    assert demo.box(demo.root)["height"] < 800


def test_two_finger_pinch_zooms(open_demo, light):
    """Touch pointers (two fingers spreading from 100 to 200 px apart) double the scale."""
    demo = open_demo(light).open("arch=resnet50")
    before = demo.scale()
    demo.viewport.evaluate(
        """(vp) => {
      const r = vp.getBoundingClientRect(), cx = r.left + r.width / 2, cy = r.top + r.height / 2;
      const fire = (type, id, dx) => vp.dispatchEvent(new PointerEvent(type, {pointerId: id,
        pointerType: 'touch', isPrimary: id === 11, clientX: cx + dx, clientY: cy, bubbles: true, buttons: 1}));
      fire('pointerdown', 11, -50); fire('pointerdown', 12, 50);
      for (let d = 50; d <= 100; d += 10) { fire('pointermove', 11, -d); fire('pointermove', 12, d); }
      fire('pointerup', 11, -100); fire('pointerup', 12, 100);
    }"""
    )
    demo.wait_for_frame()
    assert demo.scale() == pytest.approx(2 * before, rel=0.01)
    assert demo.data("last-event") == ""  # a pinch is not a click


def test_ctrl_wheel_from_a_trackpad_pinch_zooms(open_demo, light):
    demo = open_demo(light).open("arch=resnet50")
    before = demo.scale()
    demo.page.mouse.move(*demo.empty_point())
    demo.page.keyboard.down("Control")
    demo.page.mouse.wheel(0, -20)
    demo.page.keyboard.up("Control")
    demo.wait_for_frame()
    assert demo.scale() == pytest.approx(before * 1.2214, rel=0.01)  # exp(20 × 0.01)


# -- hover, click, toggle, selection ---------------------------------------------------------------


def test_nodes_are_known_by_dot_id_else_by_name(open_demo, light):
    demo = open_demo(light).open("graph=ids")
    assert demo.node("first").count() == 1 and demo.node("a").count() == 0  # the id, not the name
    assert demo.node("b").count() == 1
    demo.click_center(demo.node("first"))
    expect(demo.page.get_by_text("last event: select first")).to_be_visible()
    box = demo.box(demo.node("b"))
    demo.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(demo.tooltip).to_contain_text("known byits name")


def test_hover_on_a_block_shows_its_parameter_count(open_demo, light):
    demo = open_demo(light).open("arch=resnet50")
    b = block("resnet50", "layer1.0")
    box = demo.box(demo.node("layer1.0"))
    demo.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(demo.tooltip).to_be_visible()
    expect(demo.tooltip).to_contain_text(f"parameters{count(b.params)} ({b.params:,})")
    expect(demo.tooltip).to_contain_text("layer1.0")
    expect(demo.tooltip).to_contain_text(f"receptive field{b.rf} px, jump {b.jump}")
    demo.page.mouse.move(*demo.empty_point())
    expect(demo.tooltip).to_be_hidden()


def test_click_on_a_block_selects_it_and_keeps_the_view(open_demo, light):
    demo = open_demo(light).open("arch=resnet50")
    demo.drag(0, -60)
    view = (demo.data("scale"), demo.data("tx"), demo.data("ty"))
    demo.click_center(demo.node("layer1.1"))
    expect(demo.page.get_by_text("last event: select layer1.1")).to_be_visible()
    expect(demo.root).to_have_attribute("data-selected", "layer1.1")
    node = demo.node("layer1.1")
    expect(node).to_have_class(re.compile(r"\bdv-selected\b"))
    stroke = node.locator(":scope > path, :scope > polygon").first.evaluate("e => getComputedStyle(e).stroke")
    assert stroke == "rgb(31, 95, 168)"  # the theme's primary colour (.streamlit/config.toml)
    assert (demo.data("scale"), demo.data("tx"), demo.data("ty")) == view  # a selection does not move the view
    assert demo.data("paints") == "1"  # nor redraw the diagram


def test_folded_group_and_stage_toggle_in_place(open_demo, light):
    demo = open_demo(light).open("arch=resnet50")
    assert demo.node("layer2.2").count() == 0  # layer2.1 … layer2.3 are folded into "× 3"
    before = demo.bring_into_view(demo.node("layer2.1"))
    demo.click_center(demo.node("layer2.1"))
    expect(demo.page.get_by_text("last event: toggle layer2.1")).to_be_visible()
    expect(demo.root).to_have_attribute("data-paints", "2")
    assert demo.node("layer2.2").count() == 1 and demo.node("layer2.3").count() == 1
    # the clicked box's centre stays where it was on screen
    after = demo.box(demo.node("layer2.1"))
    centre = lambda b: (b["x"] + b["width"] / 2, b["y"] + b["height"] / 2)  # noqa: E731
    assert centre(after) == (pytest.approx(centre(before)[0], abs=1), pytest.approx(centre(before)[1], abs=1))
    # the unfolded stage folds again from its box (a cluster toggle)
    label = demo.node("layer2").locator("text").first
    demo.bring_into_view(label)
    demo.click_center(label)
    expect(demo.page.get_by_text("last event: toggle layer2")).to_be_visible()
    expect(demo.root).to_have_attribute("data-paints", "3")
    assert demo.node("layer2.2").count() == 0


def test_selection_from_the_url_is_highlighted_and_in_view(open_demo, light):
    demo = open_demo(light).open("arch=resnet50&sel=" + quote("layer3.0"))
    expect(demo.root).to_have_attribute("data-selected", "layer3.0")
    vp, node = demo.box(demo.viewport), demo.box(demo.node("layer3.0"))
    assert vp["y"] <= node["y"] and node["y"] + node["height"] <= vp["y"] + vp["height"]
    assert "dv-selected" in (demo.node("layer3.0").get_attribute("class") or "")


# -- legend, theme, browser layout, screenshots ----------------------------------------------------


def legend_report(demo: Demo) -> dict:
    return demo.root.evaluate(
        CONTRAST_JS
        + """(root) => {
  const area = (e) => { const r = e.getBoundingClientRect(); return r.width * r.height; };
  const legend = root.querySelector('.dv-legend');
  const texts = [...legend.querySelectorAll('span')];
  const toolbar = root.querySelector('.dv-toolbar');
  const tcs = getComputedStyle(toolbar);
  return {
    share: area(legend) / area(root.querySelector('.dv-viewport')),
    items: texts.map((t) => t.textContent),
    minPx: Math.min(...texts.map((t) => parseFloat(getComputedStyle(t).fontSize))),
    height: legend.getBoundingClientRect().height,
    toolbarContrast: contrast(getComputedStyle(legend).color, tcs.backgroundColor),
    toolbarBg: tcs.backgroundColor,
    paper: getComputedStyle(root.querySelector('.dv-paper')).backgroundColor,
    // every colour text is drawn in on the diagram, against the paper it lies on
    textContrast: Math.min(...[...root.querySelectorAll('.dv-paper svg text')].map((t) =>
      contrast(getComputedStyle(t).fill, getComputedStyle(root.querySelector('.dv-paper')).backgroundColor))),
  };
}"""
    )


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_screenshots_legible_compact_legend_and_theme(open_demo, request, shots, theme, size):
    """Light (server layout) and dark (browser layout, no `dot`), at the three sizes: the opening view,
    then a hover. Saved for a person to look at; asserted here: text ≥ 12 px, the legend ≤ 15 % of
    the diagram in one row, readable toolbar text, and diagram text readable on its paper."""
    base = request.getfixturevalue(theme)
    demo = open_demo(base, size, theme).open("arch=resnet50")
    assert demo.data("layout") == ("server" if theme == "light" else "browser")
    assert demo.smallest_text()[0] >= LEGIBLE_PX - 0.01
    report = legend_report(demo)
    assert report["items"] == ["identity", "projection", "strided", "× n"]
    assert report["share"] <= MAX_LEGEND_SHARE and report["height"] <= 24 and report["minPx"] >= 12, report
    assert report["toolbarContrast"] >= 4.5 and report["textContrast"] >= 4.5, report
    assert report["paper"] == "rgb(255, 255, 255)"
    dark_toolbar = sum(int(v) for v in report["toolbarBg"][4:-1].split(",")[:3]) < 3 * 80
    assert dark_toolbar == (theme == "dark"), report["toolbarBg"]
    w, h = size
    demo.page.screenshot(path=str(shots / f"diagram-view-{theme}-{w}x{h}.png"))
    box = demo.box(demo.node("layer1.0"))
    demo.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(demo.tooltip).to_be_visible()
    demo.page.screenshot(path=str(shots / f"diagram-view-{theme}-{w}x{h}-hover.png"))
    if size == SIZES[0]:  # the selection mark, in the theme's primary colour
        demo.page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        expect(demo.root).to_have_attribute("data-selected", "layer1.0")
        demo.page.mouse.move(*demo.empty_point())
        demo.page.screenshot(path=str(shots / f"diagram-view-{theme}-{w}x{h}-selected.png"))


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_screenshots_across_and_resnet1202(open_demo, request, shots, theme):
    base = request.getfixturevalue(theme)
    demo = open_demo(base, scheme=theme).open("arch=custom110&dir=LR")
    demo.page.screenshot(path=str(shots / f"diagram-view-{theme}-custom110-LR-1280x720.png"))
    if theme == "light":  # 1202 unfolded in the browser's WebAssembly is the benchmark's, not a test's
        demo.open("arch=resnet1202&unfold=layer1,layer2,layer3")
        demo.page.screenshot(path=str(shots / f"diagram-view-{theme}-resnet1202-1280x720.png"))


def test_browser_layout_without_dot_loads_graphviz_from_this_server(open_demo, dark):
    demo = open_demo(dark).open("arch=resnet50&sel=" + quote("layer1.0"))
    assert demo.data("layout") == "browser"  # "auto" chose the browser: the server has no dot
    assert demo.data("graphviz") == "16.1.0"
    assert demo.node("layer4.0").count() == 1 and demo.node("layer3").count() == 1
    assert demo.data("selected") == "layer1.0"
    wasm = [u for u in demo.requests if u.endswith("/hpcc-js-wasm-graphviz/graphviz.js")]
    assert wasm and all(urlparse(u).hostname == "127.0.0.1" for u in wasm), demo.requests
    response = demo.page.request.get(wasm[0])
    assert response.ok and "javascript" in response.headers["content-type"]
    # clicking works the same on a diagram laid out in the browser
    demo.click_center(demo.node("layer1.1"))
    expect(demo.page.get_by_text("last event: select layer1.1")).to_be_visible()
