"""Every page in Chromium at a projector's 1280×720 and 1920×1080 (issue 14's "done when"): no text
clipped, no request leaving the server, the main visual in the top 60 % of the screen; the
presentation size; Compare's four rows and classic pairs; the receptive field's walk by keyboard
and by a click on its curve.

Every case must pass: ``KNOWN`` lists none. A failure message lists each offender.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from resnet_core import PRESETS, analyze
from resnet_core.units import count
from scripts.layout import MAIN_VISUAL, Clipped, RequestLog, clipped_text, top_of
from tests.e2e.test_browser import no_error_on, settle

pytestmark = pytest.mark.e2e

SIZES = ((1280, 720), (1920, 1080))
TOP_SHARE = 0.6
#: Page checks known to fail, as (page, width, check): none. (Issue 14's pages once marked here, the
#: explainer without a figure and Live's visual below 60 % at 1280×720, now pass.)
KNOWN: set[tuple[str, int, str]] = set()


@dataclass
class Visit:
    """What one page load showed: clipped text, requests, where the main visual starts."""

    clipped: list[Clipped]
    outside: list[str]
    visual_top: float | None
    height: int


_visits: dict[tuple[str, int], Visit] = {}


@contextlib.contextmanager
def tab(browser: Browser, size: tuple[int, int]) -> Iterator[tuple[BrowserContext, Page]]:
    """A new browser context of viewport ``size`` and its one page, closed afterwards."""
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    page.set_default_timeout(120_000)
    try:
        yield context, page
    finally:
        context.close()


def visit(browser: Browser, base: str, page_path: str, size: tuple[int, int]) -> Visit:
    """Load ``page_path`` once per size (cached for the three checks)."""
    key = (page_path, size[0])
    if key not in _visits:
        with tab(browser, size) as (context, page):
            log = RequestLog(context)
            page.goto(f"{base}/{page_path}")
            settle(page, timeout=180_000)
            with contextlib.suppress(PlaywrightTimeout):  # no visual at all: the visual check says so
                page.locator(MAIN_VISUAL[page_path]).first.wait_for(state="visible", timeout=60_000)
            page.wait_for_timeout(1500)  # charts and diagrams finish drawing, fonts settle
            no_error_on(page)
            _visits[key] = Visit(clipped_text(page), log.outside(base), top_of(page, MAIN_VISUAL[page_path]), size[1])
    return _visits[key]


def cases(check: str) -> list:
    out = []
    for page_path in MAIN_VISUAL:
        for size in SIZES:
            marks = []
            if (page_path, size[0], check) in KNOWN:
                marks.append(pytest.mark.xfail(strict=True, reason="known to fail"))
            out.append(pytest.param(page_path, size, marks=marks, id=f"{page_path}-{size[0]}x{size[1]}"))
    return out


@pytest.mark.parametrize(("page_path", "size"), cases("clipped"))
def test_no_text_is_clipped(browser, warm_server, page_path, size):
    found = visit(browser, warm_server, page_path, size).clipped
    assert not found, f"{len(found)} elements cut their text on /{page_path} at {size}:\n" + "\n".join(map(str, found))


@pytest.mark.parametrize(("page_path", "size"), cases("requests"))
def test_no_request_leaves_the_server(browser, warm_server, page_path, size):
    outside = visit(browser, warm_server, page_path, size).outside
    assert not outside, f"/{page_path} asked other hosts for: {outside}"


@pytest.mark.parametrize(("page_path", "size"), cases("visual"))
def test_the_main_visual_starts_in_the_top_60_percent(browser, warm_server, page_path, size):
    v = visit(browser, warm_server, page_path, size)
    assert v.visual_top is not None, f"nothing matching {MAIN_VISUAL[page_path]} on /{page_path}"
    assert v.visual_top <= TOP_SHARE * v.height, (
        f"/{page_path}'s main visual starts at {v.visual_top:.0f} px of {v.height}"
    )


# -- the presentation size -------------------------------------------------------------------------


#: A tick label of the page's first Plotly chart (Compare's block bars label only their y axis).
TICK = ".js-plotly-plot .xtick text, .js-plotly-plot .ytick text"
FONTS_JS = """() => {
  const size = s => { const e = document.querySelector(s); return e ? parseFloat(getComputedStyle(e).fontSize) : null; };
  const tick = document.querySelector(TICK);
  return {
    body: size("[data-testid='stMain'] [data-testid='stMarkdownContainer'] p"),
    label: size("[data-testid='stMain'] [data-testid='stWidgetLabel'] p"),
    chart: tick ? parseFloat(tick.style.fontSize) : null,
    bars: size(".stage-bars"),
  };
}""".replace("TICK", json.dumps(TICK))


@pytest.mark.parametrize("page_path", ["compare", "receptive-field"])
def test_presentation_size_makes_body_text_20px_and_charts_alike(browser: Browser, warm_server: str, page_path: str):
    from app.charts import FONT_SIZE, PRESENTATION_FONT_SIZE

    with tab(browser, (1920, 1080)) as (_, page):
        page.goto(f"{warm_server}/{page_path}")
        settle(page)
        page.locator(TICK).first.wait_for()
        plain = page.evaluate(FONTS_JS)
        page.get_by_test_id("stSidebar").get_by_text("Presentation size").click()
        settle(page)
        expect(page).to_have_url(re.compile(r"present=1"))
        page.wait_for_function(
            f"() => parseFloat(document.querySelector({TICK!r})?.style.fontSize) === {PRESENTATION_FONT_SIZE}"
        )
        big = page.evaluate(FONTS_JS)
        assert plain["chart"] == FONT_SIZE and big["chart"] == PRESENTATION_FONT_SIZE
        assert plain["body"] < 20 <= big["body"], (plain, big)
        assert big["label"] >= 20
        if page_path == "compare":  # the HTML stage bars grow with the text
            assert plain["bars"] < 20 <= big["bars"], (plain, big)
        # the toggle stays on in another page, and in the link
        page.get_by_test_id("stSidebarNav").get_by_text("Architecture explorer").click()
        settle(page)
        assert parse_qs(urlparse(page.url).query).get("present") == ["1"]
        assert page.evaluate(FONTS_JS)["body"] >= 20


# -- Compare -----------------------------------------------------------------------------------------


def test_compare_fits_four_rows_and_the_table_top_on_a_projector(browser: Browser, warm_server: str):
    with tab(browser, (1280, 720)) as (_, page):
        page.goto(f"{warm_server}/compare?n=4")
        settle(page)
        last_row = page.locator(".st-key-cmp_d_preset")
        expect(last_row).to_be_visible()
        box = last_row.bounding_box()
        assert box and box["y"] + box["height"] <= 720, box
        table = top_of(page, ".cmp-totals")
        assert table is not None and table < 720


def test_compare_classic_pair_is_one_click(page: Page, warm_server: str):
    page.goto(f"{warm_server}/compare")
    settle(page)
    page.get_by_role("button", name="ResNet-34 vs 50").click()
    settle(page)
    expect(page.locator(".cmp-totals .cmp-title")).to_have_text(["resnet34", "resnet50"])
    query = parse_qs(urlparse(page.url).query)
    assert (query["n"], query["a_arch"], query["b_arch"]) == (["2"], ["resnet34"], ["resnet50"])
    r50 = analyze(PRESETS["resnet50"], 224).totals
    cell = page.locator(".cmp-totals td", has_text=count(r50.params)).first
    expect(cell).to_have_attribute("title", re.compile(rf"^{r50.params:,} trainable parameters"))
    # issue 16: plain-34 against ResNet-34 A and B, and what the shortcuts cost, in one click
    page.get_by_role("button", name="Plain vs ResNet-34").click()
    settle(page)
    expect(page.locator(".cmp-totals .cmp-title")).to_have_count(3)
    costs = page.get_by_test_id("cmp-shortcuts")
    expect(costs.locator("tbody tr")).to_have_count(2)
    expect(costs.locator("tbody tr").first.locator("td").first).to_have_attribute("title", "+0 parameters")
    no_error_on(page)


# -- the receptive field's walk ----------------------------------------------------------------------


def current_layer(page: Page) -> str:
    return parse_qs(urlparse(page.url).query)["layer"][0]


def test_receptive_field_first_screen_holds_the_field_and_its_curve(browser: Browser, warm_server: str):
    with tab(browser, (1280, 720)) as (_, page):
        page.goto(f"{warm_server}/receptive-field")
        settle(page)
        for key in ("rf_field", "rf_growth"):
            chart = page.locator(f".st-key-{key} .js-plotly-plot")
            chart.wait_for()
            box = chart.bounding_box()
            assert box and box["y"] < 720 * TOP_SHARE and box["y"] + box["height"] * 0.75 <= 720, (key, box)


def test_receptive_field_walks_by_arrow_keys_and_by_a_click_on_the_curve(page: Page, warm_server: str):
    from app.views.receptive_field import growth_steps, walk

    a = analyze(PRESETS["resnet18"], 224)
    names = walk(a, False)
    page.goto(f"{warm_server}/receptive-field")
    settle(page)
    expect(page).to_have_url(re.compile(r"layer=layer1\.1\.conv2"))
    i = names.index("layer1.1.conv2")
    page.evaluate("() => document.activeElement?.blur()")  # the keys go to the page, not a widget
    page.keyboard.press("ArrowRight")
    expect(page).to_have_url(re.compile(rf"layer={re.escape(names[i + 1])}\b"))
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")  # faster than a rerun: neither press is lost
    expect(page).to_have_url(re.compile(rf"layer={re.escape(names[i - 1])}\b"))
    page.keyboard.press("End")
    expect(page).to_have_url(re.compile(rf"layer={re.escape(names[-1])}\b"))
    # a click on the curve's point for layer3.0.conv1 goes there
    target = "layer3.0.conv1"
    index = [s.name for s in growth_steps(a)].index(target)
    settle(page)
    point = page.locator(".st-key-rf_growth .scatterlayer .trace").first.locator(".points path").nth(index)
    point.click(force=True)
    expect(page).to_have_url(re.compile(rf"layer={re.escape(target)}\b"))
    expect(page.get_by_text(re.compile(rf"^{re.escape(target)} \(Conv2d\)"))).to_be_visible()
    no_error_on(page)
