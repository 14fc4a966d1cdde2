"""Shared widgets: the spec editor (preset + fields, synced with the URL), cached analysis, errors.

The pages' API, kept small:

* ``spec_editor(prefix, *, sidebar=True, default_arch="resnet50", title=None) -> Selection``
  draws a preset select, the input size and every ``ResNetSpec`` field as its ``FieldInfo``
  (``resnet_core.spec.FIELDS``) describes it — label, help, choices and their texts, range, and
  the ``advanced`` ones in an expander — and returns what they describe. Widget keys
  are ``prefix + name`` where name is ``arch``, ``input`` or a spec field (``stride_on``,
  ``layers``, …), so tests find them with ``at.selectbox(key=prefix + "arch")``. The query
  parameters use the same names (``resnet_core.selection.to_query(choice, prefix)``): on a session's first run
  the widgets start from the URL (each bad value shown as a warning, never raised), and every run
  writes the choice back, touching only this editor's parameters. Choosing a preset resets the
  fields to it; a field changed on top reads "resnet50 (modified: stride on 1×1)". Fields that do
  not fit together show an error saying what to change, and the last valid choice stays on screen.
* ``url_param(key, param, default, parse)`` seeds a page's own widget (``key``) from query
  parameter ``param`` on first load; ``write_url({param: text or None})`` writes them back.
* ``get_analysis(spec, input_size) -> Analysis``: ``resnet_core.analyze`` cached on the frozen spec.
* ``show_error(e, hint=None)``: one ``st.error`` line with the message, never a traceback;
  ``show_notice(text)`` a warning about a link. Both show their text literally (``literal``).
* ``literal(text)``: any text as Markdown that shows exactly those characters. Every message that
  can hold text from the user (a link's values, a file name, an exception's message) goes through
  it, so ``?arch=![x](http://…)`` is shown as those characters, never as an image or a link.
* ``query_value(param)``: the one reader of ``st.query_params`` for the pages: a value longer than
  ``MAX_VALUE_CHARS`` is refused with a notice that gives its length, not its text. It records each
  parameter a page reads (``PARAMS_READ``), so a test can find every parameter of every page.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import streamlit as st

from app.sync import set_widget
from resnet_core.analysis import Analysis, analyze
from resnet_core.memo import memoize
from resnet_core.selection import (
    ARCH_KEY,
    INPUT_KEY,
    Selection,
    bounded_value,
    format_input_size,
    format_value,
    from_query,
    parse_input_size,
    parse_value,
    to_query,
)
from resnet_core.spec import FIELDS, PRESETS, FieldInfo, ResNetSpec, default_input_size, field_names

T = TypeVar("T")

#: Session-state key holding the url_path of the page being run (set by streamlit_app.py).
PAGE_KEY = "_current_page"
_KEEP = "_keep_"  # shadow copies of widget values: Streamlit drops a widget's state on pages not shown


# -- cached computation --------------------------------------------------------------------------


@memoize("app.analysis")
def get_analysis(spec: ResNetSpec, input_size: int | tuple[int, int]) -> Analysis:
    """``analyze(spec, input_size)``, computed once per (spec, size) for all sessions.

    Held in the process's one byte-bounded cache (``resnet_core.memo``), which hands back the same
    frozen object (no copy per rerun) and charges it once however many caches hold it. Raises what
    ``analyze`` raises (``ValueError``, ``InputTooSmallError``; a refusal is remembered too): pass it
    to ``show_error``.
    """
    return analyze(spec, input_size)


#: Pages that build the real network (Live, the receptive field's gradient check) share one server:
#: beyond this many parameters (2 GiB of float32 weights, four times wide_resnet101_2) they decline.
#: The analysis counts a network of any size without building it.
MAX_BUILD_PARAMS = 500_000_000


def too_big_to_build(choice: Selection, doing: str) -> bool:
    """Say so, and return True, when ``choice``'s network is too large to build on this server
    (or its input too small to run); ``doing`` completes the message, e.g. "the live page builds"."""
    try:
        params = get_analysis(choice.spec, choice.input_size).totals.params
    except ValueError as e:
        show_error(e)
        return True
    if params <= MAX_BUILD_PARAMS:
        return False
    st.error(
        f"{choice.title} has {params:,} parameters ({params * 4 / 2**30:,.1f} GiB as float32); {doing} "
        f"networks of up to {MAX_BUILD_PARAMS:,} parameters. Fewer blocks or a smaller width will run here; "
        "the explorer and Compare count a network of any size without building it.",
        icon=":material/error:",
    )
    return True


#: What makes Markdown (GitHub's, as Streamlit renders it) more than text: link and image brackets,
#: HTML and autolink angles, code, emphasis, strikethrough, tables, headings, LaTeX (``$``), icon and
#: colour directives and URL schemes (``:``), e-mail autolinks (``@``), entities (``&``), braces.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*\[\]()!<>#|$:~&@{}])")
#: ``_`` emphasises only at a word's edge (CommonMark's flanking rules): ``stride_on`` stays as it is.
_EDGE_UNDERSCORE = re.compile(r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")
_WWW_DOT = re.compile(r"(?i)\b(www)\.")  # GitHub's "www." autolink
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def literal(text: str) -> str:
    """``text`` as Markdown that shows exactly its characters: never a link, an image, HTML, an
    autolink, a heading, LaTeX, emphasis or an icon directive; one paragraph.

    Each character that can start a construct is backslash-escaped (CommonMark: any ASCII
    punctuation may be), a ``www.`` keeps its dot escaped and a leading ``-``, ``+``, ``=``, ``.``
    (a list or heading underline) too; line breaks and other control characters become one space.
    Quotes, commas, ``=`` and ``_`` inside a word stay as they are, so a message still reads
    ``layers='3,x' is not allowed`` in its source.
    """
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", _CONTROL.sub(" ", str(text)))
    text = _WWW_DOT.sub(r"\1\\.", _EDGE_UNDERSCORE.sub(r"\\_", text))
    if text[:1] in ("-", "+", "=", "."):
        text = "\\" + text
    return re.sub(r"^(\d+)\.", r"\1\\.", text)  # "1. …" would start an ordered list


def show_error(e: BaseException, hint: str | None = None) -> None:
    """The exception as one readable message (what is wrong, what is allowed), never a traceback;
    shown literally (its message may quote the user's input)."""
    text = str(e) or type(e).__name__
    st.error(literal(text + (f" — {hint}" if hint else "")), icon=":material/error:")


def show_notice(text: str) -> None:
    """A warning about what a link asked for (shown literally: it quotes the link)."""
    st.warning(literal(text), icon=":material/link:")


# -- URL <-> widgets -----------------------------------------------------------------------------

#: Session-state key of the query parameters the pages have read this session (for tests).
PARAMS_READ = "_params_read"


def _note_read(param: str, key: str | None = None, options: Iterable[Any] = ()) -> None:
    """Record that a page reads ``param`` (seeding widget ``key``; ``options``: values it accepts)."""
    seen = st.session_state.setdefault(PARAMS_READ, {})
    old_key, old_options = seen.get(param, (None, ()))
    seen[param] = (key or old_key, tuple(options) or old_options)


def query_value(param: str, options: Iterable[str] = ()) -> str | None:
    """The value of query parameter ``param``, or None when it is absent or longer than
    ``MAX_VALUE_CHARS`` (then a notice says so and gives its length, never its text).

    ``options`` are values the page gives a meaning to (recorded for tests; not checked here)."""
    _note_read(param, options=options)
    value, notice = bounded_value(param, st.query_params.get(param))
    if notice:
        show_notice(notice)
    return value


def _query_dict() -> dict[str, str]:
    """Every query parameter as text, for ``from_query`` (which bounds each value as ``query_value`` does)."""
    return {k: st.query_params[k] for k in st.query_params}


def write_url(params: dict[str, str | None]) -> None:
    """Set each query parameter (None removes it), leaving the others; writes only what changed."""
    current = _query_dict()
    for name, value in params.items():
        if value is None:
            if name in current:
                del st.query_params[name]
        elif current.get(name) != value:
            st.query_params[name] = value


def _remember(key: str) -> None:
    if key in st.session_state:
        st.session_state[_KEEP + key] = st.session_state[key]


def _restore(key: str) -> bool:
    """Put back a widget value Streamlit dropped while another page was shown; True if there was one."""
    if key in st.session_state:
        return True
    if _KEEP + key in st.session_state:
        set_widget(key, st.session_state[_KEEP + key])
        return True
    return False


def url_param(key: str, param: str, default: T, parse: Callable[[str], T]) -> None:
    """Seed widget ``key`` from query parameter ``param`` on first load (``parse`` raises ValueError
    on a bad value: the default is used and a warning says so). Call before creating the widget,
    and create it with ``key=key`` and no ``value``/``index``."""
    _note_read(param, key, getattr(parse, "options", ()))
    if _restore(key):
        return
    text = query_value(param)
    value = default
    if text is not None:
        try:
            value = parse(text)
        except ValueError as e:
            show_notice(f"Ignored {param} from the link: {e}")
    set_widget(key, value)


def remember(*keys: str) -> None:
    """Keep these widget values across page switches (call after creating the widgets)."""
    for key in keys:
        _remember(key)


def parse_choice(options: Iterable[str]) -> Callable[[str], str]:
    """A ``parse`` for ``url_param`` that accepts one of ``options``."""
    allowed = tuple(options)

    def parse(text: str) -> str:
        if text not in allowed:
            raise ValueError(f"{text!r} is not one of {', '.join(allowed)}")
        return text

    parse.options = allowed  # type: ignore[attr-defined]  # what url_param records for the tests
    return parse


def parse_list(options: Iterable[str]) -> Callable[[str], list[str]]:
    """A ``parse`` for a comma-separated subset of ``options`` (empty text is the empty list)."""
    allowed = tuple(options)

    def parse(text: str) -> list[str]:
        items = [t for t in text.split(",") if t]
        bad = [t for t in items if t not in allowed]
        if bad:
            raise ValueError(f"{', '.join(map(repr, bad))} not among {', '.join(allowed)}")
        return items

    return parse


# -- the spec editor -----------------------------------------------------------------------------


def _widget_value(info: FieldInfo, spec: ResNetSpec) -> Any:
    """A field's value as its widget holds it: text for the blocks per stage, the value itself otherwise."""
    value = getattr(spec, info.name)
    return format_value(info.name, value) if info.kind == "layers" else value


def _spec_value(info: FieldInfo, widget_value: Any) -> Any:
    """The widget's value as the field's type (ValueError says what the text should be)."""
    if info.kind == "layers":
        return parse_value(info.name, widget_value.replace(" ", ""))
    if info.kind == "int":
        return int(widget_value)
    return float(widget_value) if info.kind == "float" else widget_value


def _set_widgets(prefix: str, choice: Selection) -> None:
    for info in FIELDS:
        set_widget(prefix + info.name, _widget_value(info, choice.spec))
    set_widget(prefix + INPUT_KEY, format_input_size(choice.input_size))


def _on_preset(prefix: str) -> None:
    arch = st.session_state[prefix + ARCH_KEY]
    spec = PRESETS[arch]
    _set_widgets(prefix, Selection(arch, spec, default_input_size(spec)))


def _field_widget(prefix: str, info: FieldInfo) -> Any:
    """The widget of one field's kind, labelled and explained by its FieldInfo."""
    key, label, help_text = prefix + info.name, info.label, info.help
    if info.kind == "choice":
        return st.selectbox(label, info.choices, key=key, help=help_text, format_func=info.option_text)
    if info.kind == "layers":
        return st.text_input(label, key=key, help=help_text)
    if info.kind == "bool":
        return st.toggle(label, key=key, help=help_text)
    if info.kind == "float":  # allowed: minimum up to, not including, maximum
        top = info.maximum - info.step
        return st.number_input(label, min_value=info.minimum, max_value=top, step=info.step, key=key, help=help_text)
    lo, hi = int(info.minimum), int(info.maximum)
    return st.number_input(label, min_value=lo, max_value=hi, step=1, key=key, help=help_text)


def _page_switched(seen_key: str) -> bool:
    """Whether this run's page differs from the one that last ran this code (named by ``seen_key``)."""
    page = st.session_state.get(PAGE_KEY, "")
    switched = seen_key in st.session_state and st.session_state[seen_key] != page
    st.session_state[seen_key] = page
    return switched


def _editor_keys(prefix: str) -> list[str]:
    return [prefix + ARCH_KEY, prefix + INPUT_KEY] + [prefix + n for n in field_names()]


def spec_editor(
    prefix: str = "", *, sidebar: bool = True, default_arch: str = "resnet50", title: str | None = None
) -> Selection:
    """Draw the editor (in the sidebar, or inline in the current container) and return its Selection.

    ``prefix`` keeps several editors apart (widget keys and query parameters alike), e.g. "a_" and
    "b_" on a comparison page. ``title`` is an optional heading above the widgets.
    """
    state_key = f"_choice_{prefix}"
    for key in _editor_keys(prefix):
        _note_read(key, key)
    if state_key not in st.session_state:  # the session's first run: the URL decides
        first = from_query(_query_dict(), prefix=prefix, default_arch=default_arch)
        st.session_state[state_key] = first
        st.session_state[f"_notices_{prefix}"] = first.notices
        for key in _editor_keys(prefix):
            st.session_state.pop(_KEEP + key, None)
        set_widget(prefix + ARCH_KEY, first.arch)
        _set_widgets(prefix, first)
    last: Selection = st.session_state[state_key]
    if _page_switched(f"_editor_page_{prefix}"):
        # A widget's identity includes its page, so the same key on another page is a new widget that
        # would start from its default (index 0: resnet18) unless its value is set again, here.
        set_widget(prefix + ARCH_KEY, last.arch)
        _set_widgets(prefix, last)
    for key in _editor_keys(prefix):
        if not _restore(key):  # a page that never showed this editor: start from the last choice
            if key == prefix + ARCH_KEY:
                set_widget(key, last.arch)
            else:
                _set_widgets(prefix, last)

    box = st.sidebar if sidebar else st.container()
    with box:
        if title:
            st.subheader(title)
        names = list(PRESETS)
        arch = st.selectbox(
            "Preset",
            names,
            key=prefix + ARCH_KEY,
            on_change=_on_preset,
            args=(prefix,),
            help="A named architecture; the fields below start from it and can be changed on top.",
        )
        typed_size = st.text_input(
            "Input size (pixels)",
            key=prefix + INPUT_KEY,
            help="N for N×N, or HxW such as 224x160. ImageNet presets use 224, CIFAR ones 32.",
        )
        values = {info.name: _field_widget(prefix, info) for info in FIELDS if not info.advanced}
        with st.expander("Advanced fields"):
            values |= {info.name: _field_widget(prefix, info) for info in FIELDS if info.advanced}
        errors: list[str] = []
        try:
            spec = ResNetSpec(**{info.name: _spec_value(info, values[info.name]) for info in FIELDS})
        except ValueError as e:
            errors.append(str(e))
            spec = last.spec if last.arch == arch else PRESETS[arch]
        try:
            input_size = parse_input_size(typed_size.strip())
        except ValueError as e:
            errors.append(str(e))
            input_size = last.input_size
        choice = Selection(arch=arch, spec=spec, input_size=input_size)
        for message in errors:
            show_error(ValueError(message), f"change it above; still showing {choice.title}.")
        st.markdown(f"**Showing:** {literal(choice.title)}, input {format_input_size(input_size).replace('x', '×')}")

    notices = st.session_state.get(f"_notices_{prefix}", ())
    if choice != st.session_state[state_key]:
        notices = st.session_state[f"_notices_{prefix}"] = ()  # the user moved on from the link
    for notice in notices:
        show_notice(notice)
    st.session_state[state_key] = choice
    remember(*_editor_keys(prefix))

    wanted = to_query(choice, prefix)
    write_url({key: wanted.get(key) for key in _editor_keys(prefix)})
    return choice


# -- an editor driven from outside it (issue 14: Compare's preset rows and classic pairs) ---------


def set_choice(prefix: str, choice: Selection) -> None:
    """Point editor ``prefix`` at ``choice`` (preset, every field, input size) as picking its preset
    does; call it from a widget's callback, so the editor draws it on the next run."""
    set_widget(prefix + ARCH_KEY, choice.arch)
    _set_widgets(prefix, choice)


def link_notices(prefix: str = "") -> tuple[str, ...]:
    """What editor ``prefix`` said about its link (values it ignored), until the choice changes."""
    return tuple(st.session_state.get(f"_notices_{prefix}", ()))
