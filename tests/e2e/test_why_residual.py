"""The "Why residual?" page in Chromium against `streamlit run`: it loads, a small race starts, shows its
progress and then its result; every request goes to this server; nothing is clipped at 1280×720."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from tests.e2e.test_browser import no_error_on, settle

pytestmark = pytest.mark.e2e

#: plain-20 vs ResNet-20 in the signal section (cheap), and a race of two small nets.
QUERY = "sig_pair=plain20&sig_input=32&nets=plain20,resnet20&steps=20&batch=8&race_input=16&seed=0"

#: Elements whose text is cut off by their own box (overflow hidden/clip, text wider or taller than the box),
#: in the page's main area; Plotly's SVG and the data grid's canvas draw their own text and are left out.
CLIPPED_JS = """
() => {
  const out = [];
  for (const el of document.querySelectorAll('[data-testid="stMain"] *')) {
    if (el.closest('svg, canvas, .js-plotly-plot, [data-testid="stDataFrame"]')) continue;
    if (!el.textContent || !el.textContent.trim() || el.children.length > 3) continue;
    const s = getComputedStyle(el);
    const hidden = ['hidden', 'clip'].includes(s.overflowX) || ['hidden', 'clip'].includes(s.overflowY);
    if (!hidden || s.display === 'none' || el.clientWidth === 0) continue;
    if (el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 2)
      out.push(el.getAttribute('data-testid') || el.tagName + ': ' + el.textContent.trim().slice(0, 60));
  }
  return out;
}
"""


@pytest.fixture
def small_page(browser, warm_server):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    requests: list[str] = []
    context.on("request", lambda r: requests.append(r.url))
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page, requests
    context.close()


def test_the_page_loads_runs_a_small_race_and_stays_on_this_server(small_page, warm_server: str):
    page, requests = small_page
    page.goto(f"{warm_server}/why-residual?{QUERY}")
    expect(page.locator("h1").first).to_have_text("Why residual?")
    settle(page, timeout=240_000)
    no_error_on(page)
    expect(page.get_by_text("plain34 and resnet34 with option A have identical parameters")).to_be_visible()
    page.locator(".js-plotly-plot").first.wait_for(timeout=240_000)  # the signal charts, measured on load
    settle(page, timeout=240_000)

    page.get_by_role("button", name="Start the race").click()
    progress = page.get_by_test_id("stProgress").filter(has_text=re.compile(r"Training: step \d+ of 20|Preparing"))
    progress.first.wait_for(timeout=120_000)
    page.get_by_text("Finished: 20 steps").wait_for(timeout=540_000)
    settle(page, timeout=120_000)
    no_error_on(page)
    expect(page.get_by_test_id("stDataFrame").first).to_be_visible()  # the race's table (a canvas grid)
    expect(page.get_by_role("button", name="CSV: loss and error per step")).to_be_visible()
    expect(page.get_by_text(re.compile(r"resnet20 (ended below|did NOT end below) plain20"))).to_be_visible()

    base = urlparse(warm_server).netloc
    # The browser tab's icon is set for every page by app/streamlit_app.py (page-level offline checks
    # cover it); everything this page draws must come from this server.
    tab_icon = page.evaluate("(document.querySelector(\"link[rel~='icon']\") || {}).href || ''")
    off_server = [
        u
        for u in requests
        if urlparse(u).scheme in ("http", "https", "ws", "wss") and urlparse(u).netloc != base and u != tab_icon
    ]
    assert not off_server, off_server

    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    clipped = page.evaluate(CLIPPED_JS)
    assert not clipped, clipped
