"""What the AppTest page tests share: open a page with a query string, read a Plotly figure."""

from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[1] / "app"


def run_page(page: str, query: dict[str, str] | None = None, timeout: float = 120) -> AppTest:
    """Run app/<page>.py once with `query` as its URL query, and fail on any exception in the page."""
    at = AppTest.from_file(str(APP / "views" / f"{page}.py"), default_timeout=timeout)
    at.query_params.update(query or {})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def plotly_figure(at: AppTest, key: str) -> dict:
    """The JSON figure of the Plotly chart whose widget key is `key`."""
    chart = next(c for c in at.get("plotly_chart") if c.proto.id.endswith(key))
    return json.loads(chart.proto.spec)
