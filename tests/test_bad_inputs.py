"""The bad-input table (issue 15, ``docs/bad_input.md``): each case says what was wrong and what is allowed.

The cases are ``tests/bad_inputs.py``'s; each runs the code path the app runs for that input. A message
must contain the case's ``sees``, stay short (no message grows with the input) and name no internal.
"""

from __future__ import annotations

import re

import pytest

from tests import bad_inputs
from tests.bad_inputs import MAX_MESSAGE, Case, cases, message

RUN = [c for c in cases() if c.run is not None]
#: What a message written for a user never shows: Python's reprs of objects, memory addresses,
#: exception class names in parentheses, tracebacks, the zip reader's and the unpickler's own words.
INTERNALS = re.compile(
    r"<[\w.]+ object at 0x|0x[0-9a-f]{6,}|Traceback|\((EOFError|KeyError|RuntimeError|OSError)|PytorchStreamReader|miniz|_pickle"
)


@pytest.mark.parametrize("case", RUN, ids=[c.id for c in RUN])
def test_the_user_sees_what_is_wrong_and_what_is_allowed(case: Case):
    shown = message(case)
    assert case.sees in shown, shown
    assert len(shown) <= MAX_MESSAGE, len(shown)
    assert not INTERNALS.search(shown), shown
    assert "Q" * 50 not in shown, "an over-long value is never echoed"


def test_the_cases_are_many_distinct_and_cover_every_field():
    from resnet_core.spec import FIELDS

    all_cases = cases()
    assert len(all_cases) >= 150
    ids = [c.id for c in all_cases]
    assert len(ids) == len(set(ids))
    for info in FIELDS:
        assert {f"{info.name}-image", f"{info.name}-link", f"{info.name}-long"} <= set(ids), info.name


def test_rows_checked_elsewhere_name_tests_that_exist():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    for case in cases():
        if case.run is not None:
            continue
        path, name = case.test.split("::")
        source = (root / path).read_text(encoding="utf-8")
        function = name.split("[")[0]
        assert f"def {function}(" in source, case.test


def test_the_document_is_the_table_of_these_cases():
    assert bad_inputs.DOC.read_text(encoding="utf-8") == bad_inputs.table(), (
        "docs/bad_input.md is out of date: run .venv/bin/python -m tests.bad_inputs"
    )
