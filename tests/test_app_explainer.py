"""Explainer page (AppTest): every section and every lecture step renders, filled, with the model's numbers."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from app.teaching.figures import FILL_HIGHLIGHT
from app.teaching.numbers import fill
from app.teaching.questions import QUESTIONS
from app.teaching.sections import first_step_of, glossary_terms, section, sections, steps
from app.teaching.slides import CHARTS
from app.teaching.sources import SOURCES
from app.views.explainer import NEXT_KEYS, PREV_KEYS
from resnet_core import PRESETS, analyze
from tests import apptest
from tests.test_teaching_figures import has_node

STEPS = steps()
NEXT = [k for k, _ in NEXT_KEYS]
PREV = [k for k, _ in PREV_KEYS]


def run_page(query: dict[str, str]) -> AppTest:
    return apptest.run_page("explainer", query, timeout=300)


def page_text(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [t.value for t in at.title] + [c.value for c in at.caption]
    parts += [h.value for h in at.subheader]
    parts += [t.value for t in at.table] if hasattr(at, "table") else []
    return "\n".join(str(p) for p in parts)


@pytest.mark.parametrize("slug", [s.slug for s in sections()])
def test_each_section_renders_filled(slug: str) -> None:
    at = run_page({"section": slug})
    shown = section(slug)
    assert at.title[0].value == f"{shown.number}. {shown.title}"
    text = page_text(at)
    assert "{{" not in text and "}}" not in text
    for anchor, part in shown.parts():
        assert (part in [h.value for h in at.subheader]) if anchor else (fill(part) in text)
    if slug in SOURCES:
        assert at.code, "the annotated source is shown"
        assert apptest.diagram_views(at), "the block diagram is shown"
    assert bool(at.button(key="ex_present") if shown.steps else True)


def test_the_glossary_terms_are_linkable_subheaders() -> None:
    at = run_page({"section": "glossary"})
    anchors = {h.proto.anchor: h.value for h in at.subheader}
    assert {a: anchors.get(a) for a in glossary_terms()} == glossary_terms()
    assert not [b for b in at.button if b.key == "ex_present"]  # nothing to present


def test_a_link_to_one_term_shows_it_first() -> None:
    at = run_page({"section": "glossary", "term": "v1-v15"})
    assert at.subheader[0].value == glossary_terms()["v1-v15"]
    assert "first 1×1 convolution" in at.markdown[1].value or any("first 1×1" in m.value for m in at.markdown[:3])
    assert run_page({"section": "glossary", "term": "nonsense"}).subheader[0].value == glossary_terms()["relu"]
    other = run_page({"section": "stride"})  # no term asked for: no box, the text filled
    assert not [c for c in other.get("flex_container") if "ex_term" in str(c.proto)]
    assert "{{" not in page_text(other) and other.subheader[0].value == "The code, line by line"


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
    assert f"# {fill(step.title, human=True)}" in text
    assert fill(step.body, human=True) in text
    assert f"Step {n} of {len(STEPS)}" in text
    assert f"(?mode=lecture&step={n})" in text
    assert "{{" not in text
    for key in ("ex_first", *PREV):
        assert at.button(key=key).disabled == (n == 1)
    for key in ("ex_last", *NEXT):
        assert at.button(key=key).disabled == (n == len(STEPS))
    assert len(apptest.diagram_views(at)) == len(step.diagrams)  # "Two kinds of block": both blocks
    charts = at.get("plotly_chart")
    assert len(charts) == (1 if step.chart else 0)
    if step.chart:
        assert CHARTS[step.chart]().title in text


def test_a_slide_writes_counts_for_people_with_the_exact_value_on_hover() -> None:
    at = run_page({"mode": "lecture", "step": str(next(i for i, s in enumerate(STEPS, 1) if s.chart == "stride_cost"))})
    text = page_text(at)
    macs = analyze(PRESETS["resnet50"], 224).totals.macs
    assert f'title="{macs:,}">4.09 G</span>' in text
    assert f"{macs:,} MACs" not in text  # never the machine's number on the slide itself


def test_every_lecture_key_has_its_shortcut() -> None:
    """→ PageDown Space next, ← PageUp previous, Home first, End last (a clicker sends PageDown/PageUp)."""
    at = run_page({"mode": "lecture", "step": "3"})
    shortcuts = {b.key: b.proto.shortcut for b in at.button}  # Streamlit stores them lower-case
    assert {k: shortcuts[k] for k, _ in NEXT_KEYS} == {
        "ex_next": "right",
        "ex_next_pagedown": "pagedown",
        "ex_next_space": "space",
    }
    assert {k: shortcuts[k] for k, _ in PREV_KEYS} == {"ex_prev": "left", "ex_prev_pageup": "pageup"}
    assert shortcuts["ex_first"] == "home" and shortcuts["ex_last"] == "end"
    for key, _ in NEXT_KEYS:  # every way forward goes to step 4, every way back to step 2
        again = run_page({"mode": "lecture", "step": "3"})
        again.button(key=key).click().run()
        assert again.query_params["step"] == "4", key
    for key, _ in PREV_KEYS:
        again = run_page({"mode": "lecture", "step": "3"})
        again.button(key=key).click().run()
        assert again.query_params["step"] == "2", key
    last = run_page({"mode": "lecture", "step": "3"})
    last.button(key="ex_last").click().run()
    assert last.query_params["step"] == str(len(STEPS))
    last.button(key="ex_first").click().run()
    assert last.query_params["step"] == "1"


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
