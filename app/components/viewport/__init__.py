"""The browser window's size, reported to Python: ``viewport(key)`` → ``(width, height)`` or None.

Streamlit does not tell a script how large the window is, and a Plotly chart's height and type are
set in pixels by the script, so a slide that must fit any projector asks the browser: a few lines
of JavaScript (``viewport.js``, an ``st.components.v2`` component in the page's DOM, nothing fetched
from anywhere) report ``window.innerWidth`` and ``innerHeight`` as the component's state, once on
the first load (one extra script run) and again after a resize. Until the browser has answered,
``viewport`` returns None and the caller uses its default size.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import streamlit as st

COMPONENT_NAME = "resnet_explorer.viewport"
JS = Path(__file__).with_name("viewport.js")


@functools.cache
def _component() -> Callable[..., Any]:
    return st.components.v2.component(COMPONENT_NAME, js=JS.read_text(encoding="utf-8"))


def parse_size(value: object) -> tuple[int, int] | None:
    """The browser's ``[width, height]`` as a pair of positive ints; anything malformed is None."""
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        return None
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v < 100_000 for v in value):
        return None
    return int(value[0]), int(value[1])


def viewport(key: str) -> tuple[int, int] | None:
    """The window's (width, height) in CSS pixels as the browser last reported it, else None."""
    state = st.session_state.get(key)
    known = parse_size(state.get("size")) if isinstance(state, Mapping) else None
    result = _component()(key=key, data={"known": list(known) if known else None}, on_size_change=lambda: None)
    return parse_size(getattr(result, "size", None)) or known
