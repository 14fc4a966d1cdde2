"""The explorer's interactive diagram in a real browser (issue 13): Debian's Chromium driven by
Playwright against the session's one `streamlit run app/streamlit_app.py` (tests/e2e/conftest.py).

Zoom, pan, hover, click to select (the URL's ``sel=``, the details beside the diagram), click a folded
"× n" box to unfold it, a link's selection restored, legible text at the opening view, the diagram
high on the page, a compact legend, readable in the dark theme; no request leaves 127.0.0.1.
Screenshots (three sizes, light and dark; the explorer and two explainer figures) go to
$EXPLORER_SHOTS (default: a pytest temporary folder), for a person to look at.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, quote, urlparse

import pytest
from playwright.sync_api import expect

from resnet_core import PRESETS, analyze
from resnet_core.units import count
from scripts.layout import SMALLEST_TEXT_JS
from tests.e2e.diagram_page import DiagramPage, shots_folder

pytestmark = pytest.mark.e2e

SIZES = [(1280, 720), (1280, 800), (1920, 1080)]
LEGIBLE_PX = 12
TOP_SHARE = 0.40  # issue 13: the diagram's top edge within the first 40 % of the viewport
MAX_LEGEND_SHARE = 0.15  # issue 13: the legend at most 15 % of the diagram's area


class Explorer(DiagramPage):
    """The explorer page (or another page of the app with a diagram view)."""

    def open(self, query: str = "", path: str = "explorer", timeout: float = 180_000) -> Explorer:
        self.page.goto(f"{self.base}/{path}?{query}", timeout=timeout)
        expect(self.root.first).to_have_attribute("data-state", "ready", timeout=timeout)
        expect(self.root.first).to_have_attribute("data-paints", re.compile(r"^[1-9]"), timeout=timeout)
        return self

    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlparse(self.page.url).query)

    def settle(self) -> None:
        self.page.wait_for_timeout(300)  # Streamlit's status widget appears only after a short delay
        expect(self.page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=60_000)


#: The page icon, ``st.set_page_config(page_icon=":material/account_tree:")``: Streamlit fetches a
#: material icon's favicon from Google's font server. Not the diagram's: issue 14 item 8 bundles it.
PAGE_ICON = re.compile(r"^https://fonts\.gstatic\.com/s/i/short-term/release/materialsymbols\w+/account_tree/")


@pytest.fixture(scope="module")
def requests_seen() -> Iterator[list[str]]:
    """Every request any page of this module made; at the end, none may have left 127.0.0.1."""
    seen: list[str] = []
    yield seen
    remote = [
        u
        for u in seen
        if urlparse(u).scheme not in ("blob", "data") and urlparse(u).hostname != "127.0.0.1" and not PAGE_ICON.match(u)
    ]
    assert seen and not remote, f"requests left 127.0.0.1: {remote[:5]}"


@pytest.fixture
def explorer(browser, warm_server: str, requests_seen: list[str]) -> Iterator[Callable[..., Explorer]]:
    contexts = []

    def make(size: tuple[int, int] = (1280, 720), scheme: str = "light") -> Explorer:
        context = browser.new_context(viewport={"width": size[0], "height": size[1]}, color_scheme=scheme)
        contexts.append(context)
        context.on("request", lambda r: requests_seen.append(r.url))
        page = context.new_page()
        page.set_default_timeout(60_000)
        return Explorer(page, warm_server)

    yield make
    for context in contexts:
        context.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shots_folder("EXPLORER_SHOTS", tmp_path_factory.mktemp("explorer-shots"))


def block(arch: str, name: str):
    spec = PRESETS[arch]
    return next(b for b in analyze(spec, 32 if spec.stem == "cifar" else 224).blocks if b.name == name)


# -- zoom, pan, hover ---------------------------------------------------------------------------------


def test_wheel_zoom_changes_the_scale_and_drag_pans(explorer):
    ex = explorer().open("arch=resnet50")
    before = ex.scale()
    x, y = ex.centre(ex.node("layer1.0"))
    ex.page.mouse.move(x, y)
    ex.page.mouse.wheel(0, -300)
    ex.wait_for_frame()
    assert ex.scale() > 1.3 * before
    paper = ex.box(ex.paper)
    ex.drag(90, -150)
    moved = ex.box(ex.paper)
    assert (moved["x"] - paper["x"], moved["y"] - paper["y"]) == (pytest.approx(90, abs=1), pytest.approx(-150, abs=1))
    assert "sel" not in ex.query()  # a drag selects nothing


def test_hover_on_a_block_shows_its_parameter_count(explorer):
    ex = explorer().open("arch=resnet50")
    b = block("resnet50", "layer1.0")
    ex.page.mouse.move(*ex.centre(ex.node("layer1.0")))
    expect(ex.tooltip).to_be_visible()
    expect(ex.tooltip).to_contain_text(f"parameters{count(b.params)} ({b.params:,})")
    expect(ex.tooltip).to_contain_text(f"receptive field{b.rf} px, jump {b.jump}")
    expect(ex.tooltip).to_contain_text("shortcutprojection")


def test_stage_level_draws_and_explains_each_stages_typed_shortcuts(explorer):
    ex = explorer().open("arch=resnet50&level=stage")
    a = analyze(PRESETS["resnet50"])
    loops = ex.page.locator(".dv-paper g.edge text", has_text=re.compile(r"^\s*\d+ (identity|projection)$"))
    kinds = {(s.name, b.shortcut) for s in a.stages for b in s.blocks}
    assert loops.count() == len(kinds) == 8  # per stage, one loop per kind: its count and its kind
    assert ex.page.locator(".dv-paper g.edge text", has_text=re.compile(r"^\s*5 identity$")).count() == 1  # layer3
    ex.bring_into_view(ex.node("layer3"))
    ex.page.mouse.move(*ex.centre(ex.node("layer3")))
    expect(ex.tooltip).to_contain_text("shortcuts1 projection, 5 identity")


# -- click: selection, unfolding ------------------------------------------------------------------------


def test_clicking_a_block_selects_it_in_the_url_and_shows_its_details(explorer):
    ex = explorer().open("arch=resnet50")
    view = (ex.data("scale"), ex.data("tx"), ex.data("ty"))
    ex.page.mouse.click(*ex.centre(ex.node("layer1.1")))
    expect(ex.root).to_have_attribute("data-selected", "layer1.1")
    expect(ex.node("layer1.1")).to_have_class(re.compile(r"\bdv-selected\b"))
    ex.settle()
    assert ex.query()["sel"] == ["layer1.1"]
    b = block("resnet50", "layer1.1")
    code = ex.page.get_by_test_id("stCode")
    expect(code.first).to_contain_text("conv2 3×3: 64·64·3·3 = 36,864")
    expect(code.first).to_contain_text(f"sum = {b.params:,}")
    expect(code.nth(1)).to_contain_text("conv2 3×3: ")
    expect(
        ex.page.get_by_text(f"{len(b.layers)} of {len(analyze(PRESETS['resnet50']).layers):,} layers")
    ).to_be_visible()
    assert (ex.data("scale"), ex.data("tx"), ex.data("ty")) == view  # selecting does not move the view


def test_clicking_a_folded_group_unfolds_its_stage_in_place(explorer):
    ex = explorer().open("arch=resnet50")
    assert ex.node("layer3.2").count() == 0  # layer3.1 … layer3.5 are one "× 5" box
    ex.bring_into_view(ex.node("layer3.1"))
    x, y = ex.centre(ex.node("layer3.1"))
    paints = int(ex.data("paints"))
    ex.page.mouse.click(x, y)
    expect(ex.root).to_have_attribute("data-paints", str(paints + 1))
    expect(ex.node("layer3.4")).to_have_count(1)
    after = ex.centre(ex.node("layer3.1"))
    assert after == (pytest.approx(x, abs=2), pytest.approx(y, abs=2))  # the clicked box keeps its place
    ex.settle()
    assert ex.query()["unfold"] == ["layer3"]
    expect(ex.page.get_by_test_id("stMultiSelect").get_by_text("layer3")).to_be_visible()  # the same state
    # and its stage's frame folds it again
    label = ex.node("layer3").locator("text").first
    ex.bring_into_view(label)
    ex.page.mouse.click(*ex.centre(label))
    expect(ex.node("layer3.4")).to_have_count(0)
    ex.settle()
    assert "unfold" not in ex.query()


def test_a_link_with_sel_restores_the_selection_in_view(explorer):
    ex = explorer().open("arch=resnet50&sel=layer4.0")
    expect(ex.root).to_have_attribute("data-selected", "layer4.0")
    vp, node = ex.box(ex.viewport), ex.box(ex.node("layer4.0"))
    assert vp["y"] <= node["y"] and node["y"] + node["height"] <= vp["y"] + vp["height"]
    expect(ex.page.get_by_test_id("stCode").first).to_contain_text(f"sum = {block('resnet50', 'layer4.0').params:,}")
    # a folded block's link lights the "× n" box that holds it
    ex.open("arch=resnet50&sel=layer3.3")
    expect(ex.root).to_have_attribute("data-selected", "layer3.1")


def test_a_bad_sel_is_quoted_as_typed_not_read_as_markdown(explorer):
    typed = "**layer9** <b>x</b> :red[y]"
    ex = explorer().open("arch=resnet50&sel=" + quote(typed))
    alert = ex.page.get_by_test_id("stAlert").filter(has_text="Ignored sel from the link")
    expect(alert).to_contain_text(f"“{typed}” is not a stage, block or layer")
    assert alert.locator("strong, b").count() == 0
    assert "sel" not in ex.query()


def test_keyboard_reaches_a_box_shows_its_details_and_selects_it(explorer):
    ex = explorer().open("arch=resnet50")
    ex.viewport.focus()
    ex.page.keyboard.press("Tab")
    focused = ex.page.evaluate(
        "() => { let e = document.activeElement; while (e && e.shadowRoot && e.shadowRoot.activeElement)"
        " e = e.shadowRoot.activeElement; return e && e.getAttribute('data-dv-key'); }"
    )
    assert focused, "Tab reaches no box"
    expect(ex.tooltip).to_be_visible()
    ex.page.keyboard.press("Enter")
    expect(ex.root).to_have_attribute("data-selected", focused)


def test_the_family_and_plain_nets_draw_and_explain_their_boxes(explorer):
    """A timm-family net (SE as a side branch: hover it for its cost, click it to select it) and a plain
    net (no shortcut drawn) open in the explorer like the others."""
    ex = explorer().open("arch=seresnet50")
    a = analyze(PRESETS["seresnet50"])
    params = sum(r.params for r in a.layers if r.name.startswith("layer1.0.se."))
    side = ex.node("layer1.0.se")
    ex.bring_into_view(side)
    ex.page.mouse.move(*ex.centre(side))
    expect(ex.tooltip).to_contain_text("SE channel attention, a side branch of layer1.0")
    expect(ex.tooltip).to_contain_text(f"parameters{count(params)} ({params:,})")
    ex.page.mouse.click(*ex.centre(side))
    expect(ex.root).to_have_attribute("data-selected", "layer1.0.se")
    ex.settle()
    assert ex.query()["sel"] == ["layer1.0.se"]
    expect(ex.page.get_by_test_id("stCode").first).to_contain_text(f"sum = {params:,}")
    plain = explorer().open("arch=plain20")
    expect(plain.page.get_by_test_id("stException")).to_have_count(0)
    adds = plain.page.locator(".dv-paper g.node > title", has_text=re.compile(r"^add "))
    assert plain.node("layer1.0").count() == 1 and adds.count() == 0  # no shortcut, no addition
    expect(plain.page.locator(".dv-legend")).to_contain_text("none")


# -- legible, high on the page, compact legend ----------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    ["arch=resnet50", "arch=resnet50&dir=LR", "arch=resnet110", "arch=resnet110&dir=LR", "arch=resnet1202"],
)
def test_the_opening_view_draws_no_text_below_12_px(explorer, query):
    ex = explorer((1280, 720)).open(query)
    result = ex.root.evaluate(SMALLEST_TEXT_JS)
    assert result["n"] > 10 and result["min"] >= LEGIBLE_PX - 0.01, f"{query}: {result}"


def legend_share(ex: Explorer) -> float:
    return ex.root.evaluate(
        "(root) => { const a = (e) => { const r = e.getBoundingClientRect(); return r.width * r.height; };"
        " return a(root.querySelector('.dv-legend')) / a(root.querySelector('.dv-viewport')); }"
    )


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_picture_first_at_every_size_and_theme(explorer, shots, size, scheme):
    """The diagram's top edge within the first 40 % of the window on first load, its legend at most
    15 % of its area; in the dark theme the page is dark and the diagram's paper stays light (every
    label readable). Screenshots: the default view, a selection, ResNet-1202 unfolded, two explainer figures."""
    w, h = size
    ex = explorer(size, scheme).open("arch=resnet50")
    root, view = ex.box(ex.root), ex.box(ex.viewport)
    assert root["y"] <= view["y"] <= TOP_SHARE * h, f"diagram at y = {view['y']:.0f} of {h}"
    assert legend_share(ex) <= MAX_LEGEND_SHARE
    page_bg = ex.page.evaluate("() => getComputedStyle(document.querySelector('.stApp')).backgroundColor")
    dark_page = sum(int(v) for v in re.findall(r"\d+", page_bg)[:3]) < 3 * 80
    assert dark_page == (scheme == "dark"), page_bg  # the app follows the system's preference
    assert ex.page.evaluate("() => getComputedStyle(document.querySelector('h1')).color") != page_bg
    assert ex.paper.evaluate("(p) => getComputedStyle(p).backgroundColor") == "rgb(255, 255, 255)"
    ex.page.screenshot(path=str(shots / f"explorer-{scheme}-{w}x{h}-default.png"))
    ex.page.mouse.click(*ex.centre(ex.node("layer1.0")))
    expect(ex.root).to_have_attribute("data-selected", "layer1.0")
    ex.settle()
    ex.page.mouse.move(*ex.centre(ex.node("layer1.0")))
    expect(ex.tooltip).to_be_visible()
    ex.page.screenshot(path=str(shots / f"explorer-{scheme}-{w}x{h}-selected.png"))
    ex.open("arch=resnet1202&unfold=layer1,layer2,layer3")
    ex.page.screenshot(path=str(shots / f"explorer-{scheme}-{w}x{h}-resnet1202-unfolded.png"))
    for section in ("shortcuts", "stride"):
        ex.open(f"section={section}", path="explainer")
        ex.root.first.scroll_into_view_if_needed()
        ex.page.screenshot(path=str(shots / f"explainer-{scheme}-{w}x{h}-{section}.png"))
