"""The explainer's text (app.teaching.sections): every section and lecture step parsed, in order, and
every number in it a placeholder the live model fills."""

from __future__ import annotations

import pytest

from app.teaching.figures import DIAGRAMS
from app.teaching.numbers import PLACEHOLDERS, fill, placeholders_in
from app.teaching.sections import Section, glossary_terms, section, sections, steps
from app.teaching.slides import CHARTS

SECTIONS = sections()
SLUGS = [s.slug for s in SECTIONS]


def all_texts(s: Section) -> list[str]:
    return [s.title, s.body] + [t for step in s.steps for t in (step.title, step.body)]


def test_sections_cover_the_issue_in_order() -> None:
    assert SLUGS == [
        "degradation",
        "residual",
        "shortcuts",
        "vgg_rules",
        "blocks",
        "stride",
        "zero_init",
        "family",
        "since2015",
        "sources",
        "glossary",
    ]
    assert all(s.steps for s in SECTIONS if s.slug != "glossary")
    assert not section("glossary").steps  # reading only
    assert len(steps()) == sum(len(s.steps) for s in SECTIONS)


def test_every_steps_figures_and_chart_exist() -> None:
    for step in steps():
        assert set(step.diagrams) <= set(DIAGRAMS), step.title
        assert step.chart is None or step.chart in CHARTS, step.title
    assert section("blocks").steps[0].diagrams == ("residual", "bottleneck_identity")  # basic beside bottleneck
    assert {step.chart for step in steps()} - {None} == set(CHARTS)  # every chart is on a slide


def test_the_glossary_is_cut_at_its_terms() -> None:
    glossary = section("glossary")
    parts = glossary.parts()
    anchors = [a for a, _ in parts if a]
    assert anchors == list(glossary_terms()) and len(anchors) >= 8
    assert all(text for _, text in parts)


@pytest.mark.parametrize("slug", SLUGS)
def test_every_placeholder_of_a_section_is_known_and_filled(slug: str) -> None:
    for text in all_texts(section(slug)):
        for name in placeholders_in(text):
            assert name in PLACEHOLDERS, f"{slug}: unknown placeholder {name}"
        filled = fill(text)
        assert "{{" not in filled and "}}" not in filled


@pytest.mark.parametrize("slug", SLUGS)
def test_every_placeholder_also_fills_for_a_slide(slug: str) -> None:
    for text in all_texts(section(slug)):
        assert "{{" not in fill(text, human=True)


def test_the_degradation_section_links_to_the_why_residual_page() -> None:
    """Issue 16 item 2: the explainer sends a reader to /why-residual (a relative link, so it works under
    any host and whichever branch registers the page) and names the plain presets it measures."""
    body = section("degradation").body
    assert "[Why residual?](./why-residual)" in body
    assert "`plain20`" in body and "{{plain56.depth}}" in body
