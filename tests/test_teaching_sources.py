"""The explainer's annotated source (app.teaching.sources): each annotated line is found once in the
project's own code and names a node of its block figure."""

from __future__ import annotations

import pytest

from app.teaching.figures import FILL_HIGHLIGHT, block_dot
from app.teaching.sources import SOURCES, Annotation, Source, annotated_lines, marked_code
from resnet_core import model as model_module
from tests.test_teaching_figures import has_node


@pytest.mark.parametrize("slug", list(SOURCES))
def test_annotated_lines_exist_and_name_a_diagram_node(slug: str) -> None:
    source = SOURCES[slug]
    found = annotated_lines(source)
    assert len(found) == len(source.annotations)
    code = source.code()
    for i, ann in found:
        assert ann.line in code.splitlines()[i]
        dot = block_dot(ann.diagram, highlight=ann.node)
        assert has_node(dot, ann.node), f"{slug}: node {ann.node} not in diagram {ann.diagram}"
        assert FILL_HIGHLIGHT in dot
    marked = marked_code(source, selected=1)
    assert "◀◀ 1" in marked and marked.count("# ◀") == len(source.annotations)


def test_a_missing_annotated_line_fails_loudly() -> None:
    broken = Source("x", lambda: model_module.make_shortcut, (Annotation("no such line", "", "residual", "add"),))
    with pytest.raises(LookupError, match="no such line"):
        annotated_lines(broken)
