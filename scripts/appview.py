"""Open one view of the app in Streamlit's AppTest with a query string: for the AppTest page tests
(through ``tests/apptest.py``) and the page benchmark.

A view is a module of ``app/views`` with a ``main()``; AppTest runs a two-line script that imports
it and calls ``main()``, as ``app/streamlit_app.py``'s navigation does, without the navigation (so
``st.query_params`` is the page's own, as at ``/<page>?…``).
"""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from app.first_paint import drawn_key


def _view_script(page: str) -> None:
    """The script AppTest runs: ``app.views.<page>.main()``."""
    import importlib

    importlib.import_module(f"app.views.{page}").main()


def open_page(page: str, query: dict[str, str] | None = None, timeout: float = 120, drawn: bool = True) -> AppTest:
    """An AppTest of view ``page`` (``app/views/<page>.py``) with ``query`` as its URL query, not yet run.

    ``drawn``: the session's browser has drawn the page's first screen (``app.first_paint``), as a
    browser has by the run after its first; False runs the page as a session's very first run does."""
    at = AppTest.from_function(_view_script, args=(page,), default_timeout=timeout)
    at.query_params.update(query or {})
    if drawn:
        at.session_state[drawn_key(page)] = True
    return at
