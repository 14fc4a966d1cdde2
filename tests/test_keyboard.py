"""app.keyboard: the key listener's events are read strictly, and its script fetches nothing."""

from __future__ import annotations

import re

import pytest

from app.keyboard import JS, parse_step


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"index": 3, "seq": 1}, (3, 1)),
        ({"index": 0, "seq": 7}, (0, 7)),
        ({"index": -1, "seq": 1}, None),
        ({"index": 3, "seq": 0}, None),
        ({"index": "3", "seq": 1}, None),
        ({"index": True, "seq": 1}, None),
        ({"index": 3}, None),
        ("next", None),
        (None, None),
    ],
)
def test_parse_step_takes_a_position_and_a_sequence_number(value, expected):
    assert parse_step(value) == expected


def test_the_listener_loads_nothing_and_leaves_text_fields_their_keys():
    assert not re.search(r"https?://|import\s*\(|fetch\(|<script", JS)
    for key in ("ArrowRight", "ArrowLeft", "Home", "End"):
        assert key in JS
    assert "INPUT|TEXTAREA|SELECT" in JS and '"slider"' in JS
