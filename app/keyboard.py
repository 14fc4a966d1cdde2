"""Step through a list with the keyboard: ← → (and Home / End) move a position, held in the browser.

``step_keys(key, index, count, on_step)`` mounts an invisible ``st.components.v2`` component (inline
JavaScript, nothing fetched) that listens to the page's key presses. It keeps the position itself
and sends the *position* it moved to, not "one step", so presses faster than a rerun are never
lost: a widget callback that adds one to the state would read a stale slider value sent along with
the second press. Each event carries a sequence number that Python hands back in ``data``, so the
browser takes Python's position only once Python has seen its latest press.

Keys typed into a text field, a select box or a slider (which has its own arrow keys) are left to
them, and so are presses with Ctrl, Alt or Meta (the browser's own shortcuts).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

import streamlit as st

JS = """
const LISTENERS = new WeakMap(); // parentElement -> {state, listener}
const MOVES = { ArrowRight: 1, ArrowLeft: -1, Home: -Infinity, End: Infinity };

function typing(event) {
  const target = event.composedPath()[0];
  if (!target || !target.tagName) return false;
  if (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) return true;
  const role = target.getAttribute("role");
  return role === "slider" || role === "combobox" || role === "listbox" || role === "option";
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  let entry = LISTENERS.get(parentElement);
  if (!entry) {
    const state = { index: 0, count: 1, seq: 0 };
    const listener = (event) => {
      if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey || typing(event)) return;
      const move = MOVES[event.key];
      if (move === undefined) return;
      const next = Math.max(0, Math.min(state.count - 1, state.index + move));
      if (next === state.index) return;
      event.preventDefault();
      state.index = next;
      state.seq += 1;
      setTriggerValue("step", { index: next, seq: state.seq });
    };
    document.addEventListener("keydown", listener);
    entry = { state, listener };
    LISTENERS.set(parentElement, entry);
  }
  const { state } = entry;
  state.count = data.count;
  if (data.seq >= state.seq) {
    state.index = data.index; // Python has handled every press sent so far
    state.seq = data.seq;
  }
  return () => {
    document.removeEventListener("keydown", entry.listener);
    LISTENERS.delete(parentElement);
  };
}
"""


@functools.cache
def _component() -> Callable[..., Any]:
    return st.components.v2.component("step_keys", js=JS, isolate_styles=True)


def parse_step(value: object) -> tuple[int, int] | None:
    """The browser's event as (position, sequence number); anything malformed is None."""
    if not isinstance(value, Mapping):
        return None
    index, seq = value.get("index"), value.get("seq")
    if not isinstance(index, int) or not isinstance(seq, int) or isinstance(index, bool) or index < 0 or seq < 1:
        return None
    return index, seq


def step_keys(key: str, index: int, count: int, on_step: Callable[[int], None]) -> None:
    """Listen for ← → Home End on the page; ``on_step(position)`` runs (before the rerun) when one
    moves the position ``index`` within ``0 … count - 1``."""
    seq_key = f"{key}_seq"

    def dispatch() -> None:
        state = st.session_state.get(key)
        event = parse_step(state.get("step") if isinstance(state, Mapping) else None)
        if event is None or event[1] <= st.session_state.get(seq_key, 0) or event[0] >= count:
            return
        st.session_state[seq_key] = event[1]
        on_step(event[0])

    data = {"index": index, "count": count, "seq": st.session_state.get(seq_key, 0)}
    _component()(key=key, data=data, on_step_change=dispatch, height=0)
