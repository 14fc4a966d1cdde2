"""Widget values the server sets survive a browser that has not seen them yet (issue 15, item 6).

The cause of "settings lost under load". Streamlit's browser sends the value of *every* widget it
shows with each interaction, and the server takes those values over its own. When the server sets a
widget from code (picking a preset fills every field; a link, a page switch or a classic pair sets
the editors), the browser learns the new values only when that run's elements reach it. A second
click before then (seconds on a loaded server; a run that the click interrupts never sends them)
carries the browser's old values, which overwrite the ones just set: the preset select says
resnet110 while every field, and so the page, is resnet50's again. A widget mounted without the
server's value shows its element default (1, '', None) and sends that back on the next click:
"width_per_group=1 is not allowed", "input='' is not allowed", "level=None".

The fix, a ledger of what code set and whether the browser has seen it:

* ``set_widget(key, value)`` is the one way code sets a widget: it records ``(value, value before)``
  as pending and counts a new batch;
* ``finish_run()``, at the end of every full run, draws a hidden marker widget holding the latest
  batch number, after every other widget, so a browser that sends it back has seen them all;
* ``begin_run()``, before any widget: when the marker the browser sent is the latest, nothing is
  pending; otherwise each pending widget that the browser sent back at its old value gets the value
  code set (a stale echo, not a choice), one the browser changed to something else is the user's
  choice, and every pending value is set again, so the browser is told it in this run's elements.

``tests/e2e/test_sync.py`` shows the loss on a server slowed as by load and checks it no longer happens.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

#: The hidden widget holding the last batch of code-set values the browser has received.
MARKER_KEY = "_sync_marker"
_PENDING = "_sync_pending"  # widget key -> (value code set, value before it)
_BATCH = "_sync_batch"  # the number of the latest batch of code-set values
_MISSING = object()
#: Hides the marker (it is still mounted, so the browser sends its value back).
MARKER_CSS = "<style>.st-key-sync_marker { display: none; }</style>"


def set_widget(key: str, value: Any) -> None:
    """Set widget ``key`` to ``value`` from code (before the widget is created in this run, or in a
    callback), so that a browser which has not seen the value yet cannot undo it."""
    state = st.session_state
    pending: dict[str, tuple[Any, Any]] = state.setdefault(_PENDING, {})
    if _browser_is_current():
        pending.clear()
    before = state.get(key, _MISSING)
    if key in pending and before == pending[key][0]:
        before = pending[key][1]  # set again before the browser saw it: the browser still shows the older value
    pending[key] = (value, before)
    state[_BATCH] = state.get(_BATCH, 0) + 1
    state[key] = value


def begin_run() -> None:
    """Call before any widget of a full run: undo stale echoes of code-set values (see the module)."""
    state = st.session_state
    entries: dict[str, tuple[Any, Any]] = state.get(_PENDING, {})
    if not entries:
        return
    if _browser_is_current():
        entries.clear()  # the browser had every code-set value when it sent this
        return
    for key, (want, before) in list(entries.items()):
        now = state.get(key, _MISSING)
        # The browser's old value, or (a widget it had not shown when code set it) anything else, such as
        # the element default it mounted with, is an echo: set the value again, so this run tells the browser.
        if now is _MISSING or before is _MISSING or now in (want, before):
            state[key] = want
        else:
            del entries[key]  # changed in the browser to a third value: the user's choice


def finish_run() -> None:
    """Call at the end of every full run: the hidden marker, after every other widget."""
    state = st.session_state
    state[MARKER_KEY] = str(state.get(_BATCH, 0))
    with st.container(key="sync_marker"):
        st.text_input("sync", key=MARKER_KEY, label_visibility="collapsed")


def _browser_is_current() -> bool:
    """Whether the marker the browser sent back says it has seen every value code set."""
    return _as_int(st.session_state.get(MARKER_KEY)) >= st.session_state.get(_BATCH, 0)


def _as_int(text: Any) -> int:
    try:
        return int(text)
    except (TypeError, ValueError):
        return -1
