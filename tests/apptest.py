"""What the AppTest page tests share: open a view with a query string, read a Plotly figure.

A view is a module of ``app/views`` with a ``main()``; AppTest runs a two-line script that imports
it and calls ``main()``, as ``app/streamlit_app.py``'s navigation does, without the navigation (so
``st.query_params`` is the page's own, as at ``/<page>?…``). The module is imported once per test
process: patch names in it (``monkeypatch.setattr(app.views.live, "build", …)``), not in the
modules it imported them from.
"""

from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

from scripts.appview import open_page


def no_exceptions(at: AppTest) -> AppTest:
    """Fail on any exception the page raised; return ``at`` for chaining."""
    assert not at.exception, [e.value for e in at.exception]
    return at


def run_page(page: str, query: dict[str, str] | None = None, timeout: float = 120) -> AppTest:
    """Run view ``page`` once with ``query`` as its URL query, and fail on any exception in the page."""
    return no_exceptions(open_page(page, query, timeout).run())


def plotly_figure(at: AppTest, key: str) -> dict:
    """The JSON figure of the Plotly chart whose widget key is `key`."""
    chart = next(c for c in at.get("plotly_chart") if c.proto.id.endswith(key))
    return json.loads(chart.proto.spec)


def diagram_views(at: AppTest) -> list[dict]:
    """The payload of every ``app.components.diagram_view`` on the page (the JSON its browser half reads:
    ``svg`` or ``dot``, ``nodes``, ``toggles``, ``selected``, ``legend``, …), in page order."""
    return [json.loads(e.proto.json) for e in at.get("bidi_component") if e.proto.component_name == "diagram_view"]


def svg_fills(svg: str) -> dict[str, str]:
    """Each node of a Graphviz SVG (by its DOT name, its ``<title>``) → the fill of its shape, upper case."""
    import re

    fills = {}
    for title, body in re.findall(r'<g id="[^"]*" class="node">\s*<title>([^<]*)</title>(.*?)</g>', svg, re.S):
        fill = re.search(r'fill="(#[0-9a-fA-F]{6})"', body)
        fills[title.replace("&#45;", "-")] = fill.group(1).upper() if fill else ""
    return fills
