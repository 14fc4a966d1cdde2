"""What a page looks like in the browser, measured: clipped text, requests to other hosts, where a
visual starts. Shared by the end-to-end tests of every page (issue 14's "done when").

* ``clipped_text(page)`` lists every visible element whose own text is wider than its box
  (``scrollWidth > clientWidth``): cut off, hidden behind an ellipsis or spilling onto its
  neighbours. Each offender comes back with its tag, test id and text, so a failure says what to fix.
* ``RequestLog(context)`` records every request a browser context makes (pages and their workers);
  ``outside(base)`` lists those that left the Streamlit server.
* ``top_of(page, selector)`` is the y of the first visible element matching ``selector``, in CSS px
  from the top of the viewport (the page not scrolled); ``MAIN_VISUAL`` says what each page's
  first visual is (also what ``benchmarks/bench_pages.py`` times).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlparse

from playwright.sync_api import BrowserContext, Page, Request

#: Elements whose own text (a direct text node, not whitespace) does not fit their box. Hidden
#: elements (a closed popover or expander, a collapsed sidebar, screen-reader-only text in a 1 px
#: box) and SVG text (Plotly, Graphviz: laid out by their own code, no scroll box) are left out;
#: 1 px of rounding is allowed.
CLIPPED_JS = """() => {
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('svg, canvas, script, style, noscript, [aria-hidden=true]')) continue;
    const own = [...el.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent).join('').trim();
    if (!own) continue;
    const box = el.getBoundingClientRect();
    // hidden, or the one-pixel box of a screen-reader-only text such as "Skip to main content"
    if (box.width <= 2 || box.height <= 2 || el.checkVisibility?.({checkOpacity: true, checkVisibilityCSS: true}) === false) continue;
    if (el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0) {
      const holder = el.closest('[data-testid]');
      out.push({
        tag: el.tagName.toLowerCase(),
        testid: holder ? holder.getAttribute('data-testid') : '',
        text: own.slice(0, 80),
        scrollWidth: el.scrollWidth,
        clientWidth: el.clientWidth,
      });
    }
  }
  return out;
}"""

LOCAL_SCHEMES = ("data", "blob", "about", "chrome", "chrome-extension")

#: The first thing each page (its URL path) is for, as a CSS selector (any of them).
MAIN_VISUAL = {
    "explorer": "[data-testid='resnet-diagram'], [data-testid='stGraphVizChart'], [class*='st-key-'][class*='diagram']",
    "compare": ".cmp-totals",
    "receptive-field": ".st-key-rf_field",
    "live": "[data-testid='live-shape-flow'], [data-testid='stImage'], [data-testid='stPlotlyChart']",
    "explainer": ".st-key-ex_lead_visual, [data-testid='stGraphVizChart'], [data-testid='resnet-diagram']",
}
#: Pages whose first screen has a chart, and that chart (the benchmarks time it): Compare's stage bars
#: are HTML, drawn with the totals; the receptive field's growth curve is Plotly.
FIRST_CHART = {"compare": "[data-testid='stage-bars']", "receptive-field": ".js-plotly-plot .main-svg"}


@dataclass(frozen=True)
class Clipped:
    """One element whose text does not fit: where it is and what it says."""

    tag: str
    testid: str
    text: str
    scroll_width: int
    client_width: int

    def __str__(self) -> str:
        return f"<{self.tag}> in {self.testid or 'the page'}: {self.text!r} ({self.scroll_width} px in {self.client_width})"


def clipped_text(page: Page) -> list[Clipped]:
    return [
        Clipped(o["tag"], o["testid"], o["text"], o["scrollWidth"], o["clientWidth"]) for o in page.evaluate(CLIPPED_JS)
    ]


@dataclass
class RequestLog:
    """Every URL a browser context requested, in order."""

    context: BrowserContext
    urls: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.context.on("request", self._add)

    def _add(self, request: Request) -> None:
        self.urls.append(request.url)

    def outside(self, base: str) -> list[str]:
        """The requests that went to another host than ``base``'s (data: and blob: URLs stay in the page)."""
        host = urlparse(base).netloc
        return [u for u in self.urls if urlparse(u).scheme not in LOCAL_SCHEMES and urlparse(u).netloc != host]


TOP_JS = """(selector) => {
  for (const el of document.querySelectorAll(selector)) {
    const box = el.getBoundingClientRect();
    if (box.width > 0 && box.height > 0) return box.top;
  }
  return null;
}"""


def top_of(page: Page, selector: str) -> float | None:
    """Where the first visible element matching ``selector`` starts (CSS px below the viewport's top), or None."""
    return page.evaluate(TOP_JS, selector)


# The smallest text the browser draws, in CSS px: each <text>'s font size times the ratio of its
# on-screen height (CSS transforms included) to its height in its own SVG units.
SMALLEST_TEXT_JS = """(root) => {
  let min = Infinity, n = 0;
  for (const t of root.querySelectorAll('.dv-paper svg text')) {
    if (!t.textContent.trim()) continue;
    const bb = t.getBBox();
    if (!bb.height) continue;
    const px = parseFloat(getComputedStyle(t).fontSize) * t.getBoundingClientRect().height / bb.height;
    if (px < min) min = px;
    n++;
  }
  return {min, n};
}"""
