"""Shared widgets: the spec editor (preset + fields, synced with the URL), cached analysis, errors.

The pages' API, kept small:

* ``spec_editor(prefix, *, sidebar=True, default_arch="resnet50", title=None) -> Choice``
  draws a preset select, the input size and every ``ResNetSpec`` field (the rarely changed ones in
  an expander), each with its help from ``FIELD_HELP``, and returns what they describe. Widget keys
  are ``prefix + name`` where name is ``arch``, ``input`` or a spec field (``stride_on``,
  ``layers``, …), so tests find them with ``at.selectbox(key=prefix + "arch")``. The query
  parameters use the same names (``app.state.to_query(choice, prefix)``): on a session's first run
  the widgets start from the URL (each bad value shown as a warning, never raised), and every run
  writes the choice back, touching only this editor's parameters. Choosing a preset resets the
  fields to it; a field changed on top reads "resnet50 (modified: stride on 1×1)". Fields that do
  not fit together show an error saying what to change, and the last valid choice stays on screen.
* ``url_param(key, param, default, parse)`` seeds a page's own widget (``key``) from query
  parameter ``param`` on first load; ``write_url({param: text or None})`` writes them back.
* ``get_analysis(spec, input_size) -> Analysis``: ``resnet_core.analyze`` cached on the frozen spec.
* ``show_error(e, hint=None)``: one ``st.error`` line with the message, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import streamlit as st

from app.state import (
    ARCH_KEY,
    INPUT_KEY,
    Choice,
    decode_input_size,
    decode_value,
    encode_input_size,
    from_query,
    to_query,
)
from resnet_core.analysis import Analysis, analyze
from resnet_core.spec import (
    BLOCKS,
    FIELD_HELP,
    MAX_CLASSES,
    MAX_GROUPS,
    MAX_IN_CHANNELS,
    MAX_WIDTH,
    PRESETS,
    SHORTCUTS,
    STEMS,
    STRIDE_ONS,
    ResNetSpec,
    default_input_size,
    field_names,
)

T = TypeVar("T")

MAIN_FIELDS = ("block", "layers", "stem", "width", "shortcut", "stride_on")
ADVANCED_FIELDS = ("groups", "width_per_group", "preact", "zero_init_residual", "num_classes", "in_channels")

_CHOICES: dict[str, tuple[str, ...]] = {"block": BLOCKS, "stem": STEMS, "shortcut": SHORTCUTS, "stride_on": STRIDE_ONS}
_LABELS: dict[str, str] = {
    "block": "Block",
    "layers": "Blocks per stage",
    "stem": "Stem",
    "width": "Width (stem channels)",
    "shortcut": "Shortcut",
    "stride_on": "Stride placement",
    "groups": "Groups (cardinality)",
    "width_per_group": "Width per group",
    "preact": "Pre-activation blocks",
    "zero_init_residual": "Zero-init last BN",
    "num_classes": "Classes",
    "in_channels": "Input channels",
}
_OPTION_TEXT: dict[str, dict[str, str]] = {
    "shortcut": {
        "A": "A: zero-pad identity",
        "B": "B: project on change",
        "C": "C: project always",
        "D": "D: avg-pool + project",
    },
    "stride_on": {"3x3": "3×3 (v1.5, torchvision)", "1x1": "first 1×1 (v1, paper)"},
    "stem": {"imagenet": "imagenet: 7×7/2 + max-pool", "cifar": "cifar: 3×3/1", "deep": "deep: three 3×3 + max-pool"},
}
_INT_MAX: dict[str, int] = {
    "width": MAX_WIDTH,
    "groups": MAX_GROUPS,
    "width_per_group": MAX_WIDTH,
    "num_classes": MAX_CLASSES,
    "in_channels": MAX_IN_CHANNELS,
}
#: Session-state key holding the url_path of the page being run (set by streamlit_app.py).
PAGE_KEY = "_current_page"
_KEEP = "_keep_"  # shadow copies of widget values: Streamlit drops a widget's state on pages not shown


# -- cached computation --------------------------------------------------------------------------


@st.cache_resource(show_spinner=False, max_entries=64, hash_funcs={ResNetSpec: repr})
def get_analysis(spec: ResNetSpec, input_size: int | tuple[int, int]) -> Analysis:
    """``analyze(spec, input_size)``, computed once per (spec, size) for all sessions.

    ``cache_resource`` hands back the same frozen object (no pickling copy per rerun). Raises what
    ``analyze`` raises (``ValueError``, ``InputTooSmallError``): pass it to ``show_error``.
    """
    return analyze(spec, input_size)


#: Pages that build the real network (Live, the receptive field's gradient check) share one server:
#: beyond this many parameters (2 GiB of float32 weights, four times wide_resnet101_2) they decline.
#: The analysis counts a network of any size without building it.
MAX_BUILD_PARAMS = 500_000_000


def too_big_to_build(choice: Choice, doing: str) -> bool:
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


def show_error(e: BaseException, hint: str | None = None) -> None:
    """The exception as one readable message (what is wrong, what is allowed), never a traceback."""
    text = str(e) or type(e).__name__
    st.error(text + (f" — {hint}" if hint else ""), icon=":material/error:")


# -- URL <-> widgets -----------------------------------------------------------------------------


def _query_dict() -> dict[str, str]:
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
        st.session_state[key] = st.session_state[_KEEP + key]
        return True
    return False


def url_param(key: str, param: str, default: T, parse: Callable[[str], T]) -> None:
    """Seed widget ``key`` from query parameter ``param`` on first load (``parse`` raises ValueError
    on a bad value: the default is used and a warning says so). Call before creating the widget,
    and create it with ``key=key`` and no ``value``/``index``."""
    if _restore(key):
        return
    text = st.query_params.get(param)
    value = default
    if text is not None:
        try:
            value = parse(text)
        except ValueError as e:
            st.warning(f"Ignored {param} from the link: {e}", icon=":material/link:")
    st.session_state[key] = value


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


def _widget_value(name: str, spec: ResNetSpec) -> Any:
    value = getattr(spec, name)
    return ",".join(str(n) for n in value) if name == "layers" else value


def _set_widgets(prefix: str, choice: Choice) -> None:
    for name in field_names():
        st.session_state[prefix + name] = _widget_value(name, choice.spec)
    st.session_state[prefix + INPUT_KEY] = encode_input_size(choice.input_size)


def _on_preset(prefix: str) -> None:
    arch = st.session_state[prefix + ARCH_KEY]
    spec = PRESETS[arch]
    _set_widgets(prefix, Choice(arch, spec, default_input_size(spec)))


def _field_widget(prefix: str, name: str) -> Any:
    key, label, help_text = prefix + name, _LABELS[name], FIELD_HELP[name]
    if name in _CHOICES:
        texts = _OPTION_TEXT.get(name, {})
        return st.selectbox(label, _CHOICES[name], key=key, help=help_text, format_func=lambda v: texts.get(v, v))
    if name == "layers":
        return st.text_input(label, key=key, help=help_text)
    if name in ("preact", "zero_init_residual"):
        return st.toggle(label, key=key, help=help_text)
    return st.number_input(label, min_value=1, max_value=_INT_MAX[name], step=1, key=key, help=help_text)


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
) -> Choice:
    """Draw the editor (in the sidebar, or inline in the current container) and return its Choice.

    ``prefix`` keeps several editors apart (widget keys and query parameters alike), e.g. "a_" and
    "b_" on a comparison page. ``title`` is an optional heading above the widgets.
    """
    state_key = f"_choice_{prefix}"
    if state_key not in st.session_state:  # the session's first run: the URL decides
        first = from_query(_query_dict(), prefix=prefix, default_arch=default_arch)
        st.session_state[state_key] = first
        st.session_state[f"_notices_{prefix}"] = first.notices
        for key in _editor_keys(prefix):
            st.session_state.pop(_KEEP + key, None)
        st.session_state[prefix + ARCH_KEY] = first.arch
        _set_widgets(prefix, first)
    last: Choice = st.session_state[state_key]
    if _page_switched(f"_editor_page_{prefix}"):
        # A widget's identity includes its page, so the same key on another page is a new widget that
        # would start from its default (index 0: resnet18) unless its value is set again, here.
        st.session_state[prefix + ARCH_KEY] = last.arch
        _set_widgets(prefix, last)
    for key in _editor_keys(prefix):
        if not _restore(key):  # a page that never showed this editor: start from the last choice
            if key == prefix + ARCH_KEY:
                st.session_state[key] = last.arch
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
        size_text = st.text_input(
            "Input size (pixels)",
            key=prefix + INPUT_KEY,
            help="N for N×N, or HxW such as 224x160. ImageNet presets use 224, CIFAR ones 32.",
        )
        values = {name: _field_widget(prefix, name) for name in MAIN_FIELDS}
        with st.expander("Advanced fields"):
            values |= {name: _field_widget(prefix, name) for name in ADVANCED_FIELDS}
        errors: list[str] = []
        try:
            values["layers"] = decode_value("layers", values["layers"].replace(" ", ""))
            spec = ResNetSpec(**{n: int(v) if n in _INT_MAX else v for n, v in values.items()})
        except ValueError as e:
            errors.append(str(e))
            spec = last.spec if last.arch == arch else PRESETS[arch]
        try:
            input_size = decode_input_size(size_text.strip())
        except ValueError as e:
            errors.append(str(e))
            input_size = last.input_size
        choice = Choice(arch=arch, spec=spec, input_size=input_size)
        for message in errors:
            show_error(ValueError(message), f"change it above; still showing {choice.title}.")
        st.markdown(f"**Showing:** {choice.title}, input {encode_input_size(input_size).replace('x', '×')}")

    notices = st.session_state.get(f"_notices_{prefix}", ())
    if choice != st.session_state[state_key]:
        notices = st.session_state[f"_notices_{prefix}"] = ()  # the user moved on from the link
    for notice in notices:
        st.warning(notice, icon=":material/link:")
    st.session_state[state_key] = choice
    remember(*_editor_keys(prefix))

    wanted = to_query(choice, prefix)
    write_url({key: wanted.get(key) for key in _editor_keys(prefix)})
    return choice
