"""The explainer's text (app.teaching.sections): every section and lecture step parsed, in order, and
every number in it a placeholder the live model fills."""

from __future__ import annotations

import pytest

from app.teaching.numbers import PLACEHOLDERS, bare_numbers, fill, placeholders_in
from app.teaching.sections import Section, section, sections, steps

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
        "sources",
    ]
    assert all(s.steps for s in SECTIONS)
    assert len(steps()) == sum(len(s.steps) for s in SECTIONS)


@pytest.mark.parametrize("slug", SLUGS)
def test_every_placeholder_of_a_section_is_known_and_filled(slug: str) -> None:
    for text in all_texts(section(slug)):
        for name in placeholders_in(text):
            assert name in PLACEHOLDERS, f"{slug}: unknown placeholder {name}"
        filled = fill(text)
        assert "{{" not in filled and "}}" not in filled


@pytest.mark.parametrize("slug", SLUGS)
def test_no_number_is_typed_into_the_prose(slug: str) -> None:
    """Numbers the model can compute must be placeholders; only citations, %, years … may be literal."""
    for text in all_texts(section(slug)):
        assert bare_numbers(text) == [], f"{slug}: typed numbers {bare_numbers(text)} in {text[:80]!r}"
