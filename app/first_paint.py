"""The first screen before the heavy charts: a page draws its top, the browser says it has, then the rest.

A Streamlit page sends its elements in order, but the browser does not always draw them in order: a
Plotly chart (a 4.7 MB library) or a Graphviz chart anywhere on the page makes the browser fetch and
start that library as soon as the chart's element arrives, and while it starts (seconds on a first
visit, on this project's 2-core machine) nothing else is drawn, the numbers at the top included.
``benchmarks/bench_pages.py`` saw Compare's totals wait from about 2.5 s to 6–7 s that way.

``first_screen_drawn(page)`` is False on a session's first run of ``page``: it mounts an invisible
``st.components.v2`` component (inline JavaScript, nothing fetched) that, once the browser has put
the elements above it on the screen (the frame after its mount), sends one trigger; the page stops
there. The trigger causes a rerun, which draws everything, as does every later run of the page in
the session (the libraries are loaded by then).

AppTest has no browser to send the trigger: ``scripts/appview.open_page`` marks every page drawn
unless asked not to, as a browser would after its first screen.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import streamlit as st

JS = """
export default function (component) {
  const { setTriggerValue } = component;
  let sent = false;
  const send = () => { if (!sent) { sent = true; setTriggerValue("drawn", true); } };
  // Mounted means the elements above are in the DOM; the frame after the next is on the screen. A
  // background tab has no frames: a timer sends it anyway.
  requestAnimationFrame(() => requestAnimationFrame(send));
  setTimeout(send, 500);
}
"""


def drawn_key(page: str) -> str:
    """The session-state key that says this session has run ``page`` (a module of ``app/views``) once,
    so its runs from now on draw everything."""
    return f"_first_screen_drawn_{page}"


@functools.cache
def _component() -> Callable[..., Any]:
    return st.components.v2.component("first_screen", js=JS, isolate_styles=True)


def first_screen_drawn(page: str) -> bool:
    """Whether the browser has drawn ``page``'s first screen in this session; if not, ask it to say so.

    Only the session's first run of the page is ever cut short: any later run (the report's, or a click
    made before the report came) draws everything. A browser that never reports (its script blocked)
    shows the first screen and the caller's note that the rest follows, until the visitor's next click.

    The report can interrupt the first run before ``app.sync.finish_run`` draws its marker; that is
    the case ``sync.begin_run`` already handles (a run that never reached the browser)."""
    key = drawn_key(page)
    if st.session_state.get(key):
        return True
    st.session_state[key] = True  # the next run draws everything, whatever the browser says
    _component()(key=f"first_screen_{page}", data={}, on_drawn_change=lambda: None, height=0)
    return False
