"""The explainer's block figures (app.teaching.figures): drawn from the analysis records of their block."""

from __future__ import annotations

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
                assert f'"{r.name[len(d.block) + 1 :]}" [label=' in dot
    compact = block_dot(key, compact=True)
    assert '"bn1"' not in compact or not d.block
