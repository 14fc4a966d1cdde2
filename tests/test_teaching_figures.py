"""The explainer's block figures (app.teaching.figures): drawn from the analysis records of their block."""

from __future__ import annotations

import re

import pytest

from app.teaching.figures import DIAGRAMS, block_dot
from resnet_core import analyze
from resnet_core.spec import default_input_size


@pytest.mark.parametrize("key", list(DIAGRAMS))
def test_diagrams_are_drawn_from_the_records(key: str) -> None:
    d = DIAGRAMS[key]
    dot = block_dot(key)
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")
    if d.block:
        a = analyze(d.spec, default_input_size(d.spec))
        for r in a.layers:
            if r.block == d.block:
                assert has_node(dot, r.name[len(d.block) + 1 :])
    compact = block_dot(key, compact=True)
    assert not has_node(compact, "bn1") or not d.block


def has_node(dot: str, node_id: str) -> bool:
    """Whether ``dot`` declares node ``node_id`` on a line of its own (quoted or not: DOT allows both)."""
    return re.search(rf'^\s*"?{re.escape(node_id)}"? \[label=', dot, re.M) is not None
