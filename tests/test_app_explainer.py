"""Explainer page (AppTest): every section and every lecture step renders, filled, with the model's numbers."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from app.teaching.figures import FILL_HIGHLIGHT
from app.teaching.numbers import fill
from app.teaching.questions import QUESTIONS
from app.teaching.sections import first_step_of, section, sections, steps
from app.teaching.sources import SOURCES
from resnet_core import PRESETS, analyze
from tests import apptest
from tests.test_teaching_figures import has_node

STEPS = steps()


def run_page(query: dict[str, str]) -> AppTest:
    return apptest.run_page("explainer", query, timeout=300)


def page_text(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [t.value for t in at.title] + [c.value for c in at.caption]
    parts += [t.value for t in at.table] if hasattr(at, "table") else []
    return "\n".join(str(p) for p in parts)


@pytest.mark.parametrize("slug", [s.slug for s in sections()])
def test_each_section_renders_filled(slug: str) -> None:
    at = run_page({"section": slug})
    shown = section(slug)
    assert at.title[0].value == f"{shown.number}. {shown.title}"
    text = page_text(at)
    assert "{{" not in text and "}}" not in text
    assert fill(shown.body) in text
    if slug in SOURCES:
        assert at.code, "the annotated source is shown"
        assert apptest.diagram_views(at), "the block diagram is shown"


def test_key_numbers_on_the_page_equal_the_analysis() -> None:
    text = page_text(run_page({"section": "family"}))
    for name in ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152"):
        a = analyze(PRESETS[name], 224)
        assert f"| {a.totals.params:,} |" in text
        assert f"| {a.totals.macs / 1e9:.2f} |" in text
    assert f"{analyze(PRESETS['resnet1202'], 32).totals.params:,}" in text


@pytest.mark.parametrize("n", range(1, len(STEPS) + 1))
def test_each_lecture_step_deep_link(n: int) -> None:
    at = run_page({"mode": "lecture", "step": str(n)})
    step = STEPS[n - 1]
    text = page_text(at)
    assert f"# {fill(step.title)}" in text
    assert fill(step.body) in text
    assert f"Step {n} of {len(STEPS)}" in text
    assert f"(?mode=lecture&step={n})" in text
    assert "{{" not in text
    assert at.button(key="ex_prev").disabled == (n == 1)
    assert at.button(key="ex_next").disabled == (n == len(STEPS))
    assert bool(apptest.diagram_views(at)) == bool(step.diagram)


@pytest.mark.parametrize("bad", ["0", "999", "abc"])
def test_a_bad_step_falls_back_with_a_notice(bad: str) -> None:
    at = run_page({"mode": "lecture", "step": bad})
    assert any(bad in c.value for c in at.caption)
    assert "Step " in page_text(at)


def test_next_and_previous_rewrite_the_step_in_the_url() -> None:
    at = run_page({"mode": "lecture", "step": "3"})
    at.button(key="ex_next").click().run()
    assert not at.exception
    assert f"# {fill(STEPS[3].title)}" in page_text(at)
    assert at.query_params["step"] == "4"
    at.button(key="ex_prev").click().run()
    at.button(key="ex_prev").click().run()
    assert f"# {fill(STEPS[1].title)}" in page_text(at)
    assert at.query_params["step"] == "2"


def test_present_opens_the_sections_first_step_and_exit_returns() -> None:
    at = run_page({"section": "stride"})
    at.button(key="ex_present").click().run()
    n = first_step_of("stride")
    assert at.query_params["mode"] == "lecture" and at.query_params["step"] == str(n)
    assert f"# {fill(STEPS[n - 1].title)}" in page_text(at)
    at.button(key="ex_exit").click().run()
    assert not at.exception
    assert at.title[0].value.endswith(section("stride").title)


def test_picking_an_annotation_highlights_its_node() -> None:
    at = run_page({"section": "shortcuts"})
    radio = at.radio(key="ex_ann_shortcuts")
    for i, ann in enumerate(SOURCES["shortcuts"].annotations):
        radio.set_value(i).run()
        view = apptest.diagram_views(at)[0]
        if view["svg"]:  # laid out by dot on the server: the SVG's nodes
            fills = apptest.svg_fills(view["svg"])
            assert ann.node in fills and [n for n, f in fills.items() if f == FILL_HIGHLIGHT] == [ann.node]
        else:
            dot = view["dot"]
            assert has_node(dot, ann.node)
            highlighted = [line for line in dot.splitlines() if FILL_HIGHLIGHT in line]
            assert len(highlighted) == 1 and has_node(highlighted[0], ann.node)
        assert f"◀◀ {i + 1}" in at.code[0].value


def test_check_yourself_on_the_learners_spec() -> None:
    at = run_page({"section": "shortcuts", "ex_q_arch": "resnet34", "ex_q_shortcut": "C"})
    spec = PRESETS["resnet34"].replace(shortcut="C")
    q = next(q for q in QUESTIONS if q.key == "shortcut_params")
    assert any("option C" in m.value for m in at.markdown)
    at.number_input(key="ex_q_shortcut_params").set_value(q.answer(spec)).run()
    at.button(key="ex_q_shortcut_params_check").click().run()
    assert at.success and f"{q.answer(spec):,}" in at.success[0].value
    at.number_input(key="ex_q_shortcut_params").set_value(1).run()
    at.button(key="ex_q_shortcut_params_check").click().run()
    assert at.error and f"{q.answer(spec):,}" in at.error[0].value


def test_a_bottleneck_question_on_a_basic_spec_says_so() -> None:
    at = run_page({"section": "stride", "ex_q_arch": "resnet18"})
    assert any("bottleneck" in i.value for i in at.info)
