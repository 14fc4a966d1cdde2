"""Hostile links on every page (issue 15, items 1, 2 and 10), through AppTest.

The parameters are not listed here: each page records the query parameters it reads
(``app.widgets.PARAMS_READ``: every ``url_param``, every spec editor's fields, every
``query_value``), and ``discover`` follows the values a page gives a meaning to (``n=4`` shows two
more editors, ``mode=lecture`` reads ``step``) until no new parameter turns up. A parameter a page
reads by any other road would be missed, so ``test_pages_read_the_url_only_through_the_widgets``
holds the pages to these readers.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app.widgets import PARAMS_READ, literal
from resnet_core.selection import MAX_VALUE_CHARS
from tests.apptest import no_exceptions, open_page

ROOT = Path(__file__).resolve().parents[1]
#: The pages: the modules of app/views with a main() (a panel such as erf_panel is part of a page).
PAGES = sorted(p.stem for p in (ROOT / "app" / "views").glob("*.py") if "\ndef main(" in p.read_text())
IMAGE = "![x](http://127.0.0.1:9/track.png)"
LINK = "[Session expired - log in again](https://evil.example/login)"
#: What shows that a text holds the payloads (their hosts and file name, escaped or not).
MARKERS = ("127.0.0.1", "evil.example", "track.png")
#: What Markdown needs, contiguous and unescaped, to make a link, an image, HTML or an autolink.
LINK_SYNTAX = ("](", "![", "<", "://", "www.", "@")
#: Elements whose text Streamlit renders as Markdown.
MARKDOWN_ELEMENTS = ("markdown", "caption", "warning", "error", "info", "success", "title", "header", "subheader")


def texts(at: AppTest) -> list[str]:
    found = []
    for kind in MARKDOWN_ELEMENTS:
        found += [str(e.value) for e in at.get(kind)]
    return found


def unescaped(text: str) -> list[str]:
    """The runs of ``text`` between backslash escapes: where Markdown could still find a link."""
    return re.split(r"\\[!-/:-@\[-`{-~]", text)


def leaks(shown: list[str]) -> list[str]:
    """Texts that hold a payload and, somewhere outside an escape, the syntax of a link or an image."""
    return [t for t in shown if any(m in t for m in MARKERS) and any(s in r for r in unescaped(t) for s in LINK_SYNTAX)]


def run(page: str, query: dict[str, str]) -> AppTest:
    return no_exceptions(open_page(page, query).run())


def params_read(at: AppTest) -> dict[str, tuple[str | None, tuple]]:
    return dict(at.session_state[PARAMS_READ]) if PARAMS_READ in at.session_state else {}


def widget_options(at: AppTest, key: str | None) -> tuple:
    """The options of the widget ``key`` (a select box, segmented control, radio…), if it has any."""
    if key is None:
        return ()
    for kind in ("selectbox", "button_group", "radio", "multiselect"):
        for w in at.get(kind):
            if getattr(w, "key", None) == key and getattr(w, "options", None):
                return tuple(w.options)
    return ()


@cache
def discover(page: str) -> dict[str, dict[str, str]]:
    """Every parameter ``page`` reads → a query that makes the page read it (e.g. ``{"n": "4"}``)."""
    found: dict[str, dict[str, str]] = {}
    queue: list[dict[str, str]] = [{}]
    tried: list[dict[str, str]] = []
    while queue:
        context = queue.pop(0)
        tried.append(context)
        at = run(page, context)
        new = {p: info for p, info in params_read(at).items() if p not in found}
        for param in new:
            found[param] = context
        for param, (key, options) in new.items():
            # One value each: the last a page offers is its widest (n=4 shows every editor; mode's
            # only value is the lecture). Presets, layers and samples (many values) show more of the same.
            values = options or widget_options(at, key)
            if not values or len(values) > 6:
                continue
            nxt = {**context, param: str(values[-1])}
            if nxt not in tried and nxt not in queue:
                queue.append(nxt)
    return found


def test_discovery_finds_the_page_parameters_the_issue_names():
    found = {page: set(discover(page)) for page in PAGES}
    assert {"arch", "level", "unfold", "annot", "dir", "draw", "stage", "input", "width", "layers"} <= found["explorer"]
    assert {"n", "panel_width", "panel_map", "a_arch", "b_layers", "d_arch", "d_input"} <= found["compare"]
    assert {"layer", "row", "col", "image", "arch"} <= found["receptive_field"]
    assert {"live_arch", "live_input", "live_width"} <= found["live"]
    assert {"section", "mode", "step", "ex_q_arch"} <= found["explainer"]


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("payload", [IMAGE, LINK], ids=["image", "link"])
def test_no_link_or_image_from_any_parameter(page: str, payload: str):
    """Every parameter the page reads gets the payload (per context, all at once): the page reports
    each one it ignored, and no Markdown text shows the payload's host outside a backslash escape."""
    by_context: dict[tuple, list[str]] = {}
    for param, context in discover(page).items():
        by_context.setdefault(tuple(sorted(context.items())), []).append(param)
    for context, params in by_context.items():
        # the context's own parameters keep their values (n=4 keeps four editors on screen)
        query = dict(context) | {p: payload for p in params if p not in dict(context)}
        at = run(page, query)
        shown = texts(at)
        assert not leaks(shown), (query, leaks(shown))
        reported = re.sub(r"\\(.)", r"\1", " ".join(shown))  # as the page shows it
        silent = [p for p in query if p not in dict(context) and p not in reported]
        assert not silent, f"{page}: no notice names {silent}"


def test_the_pages_own_parameters_one_at_a_time():
    """One parameter at a time (no other bad value to hide behind), for every page parameter that is
    not a spec editor's field."""
    editor = re.compile(r"^([a-d]_|live_|ex_q_)?(arch|input|" + "|".join(_field_names()) + ")$")
    for page in PAGES:
        for param, context in discover(page).items():
            if editor.match(param):
                continue
            at = run(page, {**context, param: IMAGE + LINK})
            assert not leaks(texts(at)), (page, param, leaks(texts(at)))


def _field_names() -> tuple[str, ...]:
    from resnet_core.spec import field_names

    return field_names()


@pytest.mark.parametrize("page", PAGES)
def test_a_value_over_the_limit_is_refused_without_being_echoed(page: str):
    long_value = "Q" * 10_000
    for param, context in list(discover(page).items())[:40]:
        if param in context:
            continue
        at = run(page, {**context, param: long_value})
        shown = texts(at)
        assert not [t for t in shown if "QQQQQ" in t], (page, param)
        assert any(f"{len(long_value):,} characters long" in t and param in t for t in shown), (page, param)
        notices = [str(e.value) for kind in ("warning", "error", "info", "caption") for e in at.get(kind)]
        assert not [t for t in notices if len(t) > 1_000], "no message grows with the value"
        break  # one parameter per page here; test_selection covers the codec for every field


@pytest.mark.parametrize(
    "raw",
    [
        IMAGE,
        LINK,
        "a*b _c_ `d` [e](f) <img src=x> $x^2$ :material/home: :red[x] ~~s~~ &amp; # h\n- item\r\n| t |",
        "https://evil.example/login www.evil.example mail@evil.example <https://evil.example>",
        "- a list",
        "1. a list",
        "=== underline",
        "stride_on='1x1' is not allowed",
    ],
)
def test_literal_leaves_no_markdown_construct(raw: str):
    text = literal(raw)
    assert "\n" not in text and "\r" not in text
    for run_ in unescaped(text):
        for syntax in (*LINK_SYNTAX, "`", "*", "$", "~", "&", "[", "|", "#"):
            assert syntax not in run_, (syntax, run_)
    assert not re.match(r"[-+=.]|\d+\.", text), "no list or heading at the start"
    assert re.sub(r"\\(.)", r"\1", text) == raw.replace("\r\n", " ").replace("\n", " ")
    if "stride_on" in raw:
        assert "stride_on='1x1'" in text  # a word's underscore and quotes need no escape


def test_pages_read_the_url_only_through_the_widgets():
    """``st.query_params`` is read only in app/widgets.py (query_value, the editor) and by the home
    redirect, which forwards it; the pages may write and delete through it, never read a value."""
    readers = []
    for path in sorted((ROOT / "app").rglob("*.py")):
        if path.name in ("widgets.py", "streamlit_app.py"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            # st.query_params.get(...), st.query_params[...] read (not assigned or deleted)
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("get", "to_dict", "get_all")
                and ast.unparse(node.func.value).endswith("query_params")
            ):
                readers.append(f"{path.name}:{node.lineno}")
            if (
                isinstance(node, ast.Subscript)
                and isinstance(node.ctx, ast.Load)
                and ast.unparse(node.value).endswith("query_params")
            ):
                readers.append(f"{path.name}:{node.lineno}")
    assert not readers, readers


def test_the_limit_is_the_spec_fields_one():
    from resnet_core.selection import bounded_value

    assert bounded_value("level", "x" * MAX_VALUE_CHARS) == ("x" * MAX_VALUE_CHARS, None)
    value, notice = bounded_value("level", "x" * (MAX_VALUE_CHARS + 1))
    assert value is None and "xxxx" not in notice and f"{MAX_VALUE_CHARS + 1:,} characters" in notice
