"""The Python half of the diagram view: argument checks, the payload for the browser, events back.

The package docstring (``app/components/diagram_view/__init__.py``) says what the view does and why
it is built this way; ``frontend/diagram_view.js`` is the browser half.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import streamlit as st
import streamlit.components.v1 as components_v1

from resnet_core import diagram as graphviz

HERE = Path(__file__).resolve().parent
FRONTEND = HERE / "frontend"
VENDOR = HERE / "vendor"
#: Graphviz compiled to WebAssembly (an ES module, the .wasm inlined), relative to ``VENDOR``.
GRAPHVIZ_WASM = "hpcc-js-wasm-graphviz/graphviz.js"
COMPONENT_NAME = "diagram_view"
VENDOR_NAME = "diagram_view_vendor"

#: No text is drawn smaller than this many CSS px at the default zoom (issue 13).
LEGIBLE_PX = 12
Layout = Literal["auto", "server", "browser"]
LAYOUTS: tuple[str, ...] = get_args(Layout)
EventKind = Literal["select", "toggle"]
EVENT_KINDS: tuple[str, ...] = get_args(EventKind)
MIN_HEIGHT = 160
MAX_HEIGHT = 4000
#: Graphviz-style attributes a legend entry may carry; the others have no meaning in a swatch.
LEGEND_KEYS = ("color", "fillcolor", "fontcolor", "style", "penwidth", "peripheries", "shape")
_COLOUR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})|[a-zA-Z]{3,20}")


@dataclass(frozen=True)
class DiagramEvent:
    """What the user did: clicked a box to select it, or clicked a toggle box (fold / unfold).

    ``node`` is the node's key (its DOT ``id``, else its DOT name; see the package docstring).
    """

    kind: EventKind
    node: str


@dataclass(frozen=True)
class LegendItem:
    """One legend entry as the browser draws it: a short edge or a small box, then ``text``.

    ``title`` (optional) is the longer explanation shown when the pointer rests on the entry.
    """

    text: str
    kind: Literal["edge", "node"] = "edge"
    color: str = "#555555"
    fill: str | None = None
    dash: Literal["solid", "dashed", "dotted"] = "solid"
    width: float = 2.0
    double: bool = False
    title: str | None = None

    @classmethod
    def from_style(cls, style: Mapping[str, object], text: str, title: str | None = None) -> LegendItem:
        """An entry from Graphviz attributes, e.g. ``diagram.SHORTCUT_STYLE["projection"]``.

        An entry with ``fillcolor``, ``peripheries`` or ``shape`` is a box (a node style), any other
        an edge. ``style`` may name ``dashed``, ``dotted`` or ``bold`` (comma-separated, as in DOT).
        """
        if not isinstance(style, Mapping):
            raise TypeError(f"a legend style must be a dict of Graphviz attributes, not {type(style).__name__}")
        unknown = sorted(set(style) - set(LEGEND_KEYS))
        if unknown:
            raise ValueError(f"legend style has unknown key(s) {', '.join(unknown)}; allowed: {', '.join(LEGEND_KEYS)}")
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"legend text must be a non-empty string, not {text!r}")
        if title is not None and not isinstance(title, str):
            raise TypeError(f"a legend entry's explanation must be a string, not {type(title).__name__}")
        styles = {part.strip() for part in str(style.get("style", "")).split(",") if part.strip()}
        dash = "dashed" if "dashed" in styles else "dotted" if "dotted" in styles else "solid"
        width = _number(style.get("penwidth", 4.0 if "bold" in styles else 2.0), "legend penwidth")
        is_node = any(k in style for k in ("fillcolor", "peripheries", "shape"))
        return cls(
            text=text,
            kind="node" if is_node else "edge",
            color=_colour(style.get("color", "#555555"), "legend color"),
            fill=_colour(style["fillcolor"], "legend fillcolor") if "fillcolor" in style else None,
            dash=dash,
            width=width,
            double=str(style.get("peripheries", "1")).strip() not in ("", "0", "1"),
            title=title,
        )


def _number(value: object, what: str) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a number, not {value!r}") from None
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"{what} must be a finite number ≥ 0, not {value!r}")
    return number


def _colour(value: object, what: str) -> str:
    if not isinstance(value, str) or not _COLOUR.fullmatch(value.strip()):
        raise ValueError(f"{what} must be a colour as #rgb, #rrggbb(aa) or a colour name, not {value!r}")
    return value.strip()


def _text_id(value: object, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise TypeError(f"{what} must be a node id (a non-empty string) or None, not {value!r}")
    return value


def _node_details(nodes: Mapping[str, Mapping[str, object]] | None) -> dict[str, dict[str, str]]:
    if nodes is None:
        return {}
    if not isinstance(nodes, Mapping):
        raise TypeError(f"nodes must map node id → {{label: value}}, not {type(nodes).__name__}")
    out: dict[str, dict[str, str]] = {}
    for node, rows in nodes.items():
        if not isinstance(node, str) or not node:
            raise TypeError(f"nodes: every key must be a node id (a non-empty string), not {node!r}")
        if not isinstance(rows, Mapping):
            raise TypeError(f"nodes[{node!r}] must map label → value, not {type(rows).__name__}")
        details: dict[str, str] = {}
        for label, value in rows.items():
            if not isinstance(label, str):
                raise TypeError(f"nodes[{node!r}]: labels must be strings, not {label!r}")
            if not isinstance(value, str | int | float):
                raise TypeError(
                    f"nodes[{node!r}][{label!r}] must be a string or a number (format it first), "
                    f"not {type(value).__name__}"
                )
            details[label] = value if isinstance(value, str) else f"{value:,}"
        out[node] = details
    return out


def _toggles(toggles: Iterable[str] | Mapping[str, str]) -> dict[str, str]:
    """node id → the hint shown in its tooltip ("" for the default hint)."""
    if isinstance(toggles, str):
        raise TypeError(f"toggles must be a collection of node ids, not one string ({toggles!r}); wrap it in a list")
    if isinstance(toggles, Mapping):
        items = list(toggles.items())
    else:
        try:
            items = [(node, "") for node in toggles]
        except TypeError:
            raise TypeError(f"toggles must be a collection of node ids, not {type(toggles).__name__}") from None
    out: dict[str, str] = {}
    for node, hint in items:
        if not isinstance(node, str) or not node:
            raise TypeError(f"toggles: every entry must be a node id (a non-empty string), not {node!r}")
        if not isinstance(hint, str):
            raise TypeError(f"toggles[{node!r}]: the hint must be a string, not {type(hint).__name__}")
        out[node] = hint
    return out


def _legend(legend: Iterable[object]) -> list[dict[str, Any]]:
    if isinstance(legend, str | bytes | Mapping):
        raise TypeError("legend must be a list of (style, text) or (style, text, explanation) entries")
    items = []
    for i, entry in enumerate(legend):
        if isinstance(entry, LegendItem):
            item = entry
        elif isinstance(entry, tuple | list) and len(entry) in (2, 3):
            item = LegendItem.from_style(*entry)
        else:
            raise TypeError(f"legend[{i}] must be (style, text), (style, text, explanation) or a LegendItem")
        items.append(asdict(item))
    return items


@functools.lru_cache(maxsize=16)
def server_svg(dot: str) -> str:
    """``dot`` laid out by Graphviz's ``dot`` on this machine, as SVG text (cached per DOT text)."""
    return graphviz.render(dot, "svg").decode("utf-8")


def build_payload(
    svg: str | None = None,
    dot: str | None = None,
    *,
    nodes: Mapping[str, Mapping[str, object]] | None = None,
    toggles: Iterable[str] | Mapping[str, str] = (),
    selected: str | None = None,
    start: str | None = None,
    legend: Iterable[object] = (),
    height: int | None = None,
    layout: Layout = "auto",
    selectable: bool = True,
) -> dict[str, Any]:
    """Check every argument of ``diagram_view`` and return the JSON the browser half reads.

    ``layout="auto"`` with ``dot`` lays the DOT out on the server when Graphviz's ``dot`` is
    installed and leaves it to the browser otherwise. A ``TypeError`` or ``ValueError`` names the
    argument, what it was, and what is allowed; ``resnet_core.diagram.GraphvizNotFound`` says that
    ``layout="server"`` needs ``dot``; ``GraphvizError`` that ``dot`` failed on this DOT.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout={layout!r} is not allowed: choose one of {', '.join(LAYOUTS)}")
    if (svg is None) == (dot is None):
        raise ValueError("give exactly one of svg= (laid out already) and dot= (laid out here or in the browser)")
    if svg is not None:
        if not isinstance(svg, str) or "<svg" not in svg:
            raise ValueError("svg= must be SVG text (Graphviz's `dot -Tsvg` output), with an <svg> element")
        if layout == "browser":
            raise ValueError('layout="browser" lays DOT out in the browser: pass dot=, not svg=')
        where = "given"
    else:
        if not isinstance(dot, str) or not re.search(r"\b(di)?graph\b[^{]*\{", dot):
            raise ValueError("dot= must be DOT text: 'digraph name { … }' or 'graph name { … }'")
        if layout == "server" or (layout == "auto" and graphviz.dot_available()):
            svg, dot, where = server_svg(dot), None, "server"
        else:
            where = "browser"
    if height is not None and (
        not isinstance(height, int) or isinstance(height, bool) or not MIN_HEIGHT <= height <= MAX_HEIGHT
    ):
        raise ValueError(f"height={height!r} is not allowed: None (follow the diagram) or {MIN_HEIGHT}–{MAX_HEIGHT} px")
    if not isinstance(selectable, bool):
        raise TypeError(f"selectable must be True or False, not {selectable!r}")
    return {
        "svg": svg,
        "dot": dot,
        "layout": where,
        "nodes": _node_details(nodes),
        "toggles": _toggles(toggles),
        "selected": _text_id(selected, "selected"),
        "start": _text_id(start, "start"),
        "legend": _legend(legend),
        "height": height,
        "legible_px": LEGIBLE_PX,
        "selectable": selectable,
    }


def parse_event(value: object) -> DiagramEvent | None:
    """The browser's trigger value as a ``DiagramEvent``; anything malformed is None."""
    if not isinstance(value, Mapping):
        return None
    kind, node = value.get("kind"), value.get("node")
    if kind not in EVENT_KINDS or not isinstance(node, str) or not node:
        return None
    return DiagramEvent(kind=kind, node=node)  # type: ignore[arg-type]


@functools.cache
def _component() -> Callable[..., Any]:
    js = (FRONTEND / "diagram_view.js").read_text(encoding="utf-8")
    css = (FRONTEND / "diagram_view.css").read_text(encoding="utf-8")
    return st.components.v2.component(COMPONENT_NAME, js=js, css=css, isolate_styles=True)


def graphviz_wasm_url() -> str:
    """Where this Streamlit server serves the vendored WebAssembly Graphviz, relative to the page.

    Streamlit serves a declared component's folder under ``component/<name>/``; the folder declared
    here is ``vendor/`` alone, so nothing else of the package is served.
    """
    vendor = components_v1.declare_component(VENDOR_NAME, path=str(VENDOR))
    base = vendor.url.rstrip("/") if vendor.url else f"component/{vendor.name}"
    return f"{base}/{GRAPHVIZ_WASM}"


def diagram_view(
    svg: str | None = None,
    dot: str | None = None,
    *,
    key: str,
    nodes: Mapping[str, Mapping[str, object]] | None = None,
    toggles: Iterable[str] | Mapping[str, str] = (),
    selected: str | None = None,
    start: str | None = None,
    legend: Iterable[object] = (),
    height: int | None = None,
    layout: Layout = "auto",
    selectable: bool = True,
    on_event: Callable[[DiagramEvent], None] | None = None,
) -> DiagramEvent | None:
    """Draw a Graphviz diagram the user can zoom, pan, hover and click; return what was clicked.

    Args:
        svg: Graphviz SVG (``dot -Tsvg``), shown as it is. Give this or ``dot``.
        dot: DOT text, laid out on the server by ``dot`` if installed, else in the browser.
        key: the component's key (required: the view keeps its zoom and pan across reruns by it).
        nodes: node id → {label: value} shown when the pointer rests on the node, e.g.
            ``{"block layer2.0": {"output": "512×28×28", "parameters": "379,392"}}``. Numbers are
            formatted with thousands separators; pass strings to format them yourself. When given,
            only these nodes (and the toggles) are clickable.
        toggles: node ids whose click sends ``toggle`` instead of ``select`` (a folded "× n" run, a
            stage); a dict maps each to the hint its tooltip shows ("click to unfold layer3").
        selected: the node to highlight (the caller's selection); brought into view when it changes.
        start: the node a too-big diagram opens on (default: the selection, else the top or left).
        legend: one row of ``(style, text)`` or ``(style, text, explanation)`` entries, the style in
            Graphviz attributes (``diagram.SHORTCUT_STYLE[kind]``), or ``LegendItem``s.
        height: the component's height in px; None follows the diagram, up to 75 % of the window.
        layout: "auto", "server" (``dot`` required) or "browser" (WebAssembly Graphviz).
        selectable: False for a figure whose boxes only explain themselves: hovering (or Tab) shows
            their details, a click sends nothing (toggles still do).
        on_event: called with the ``DiagramEvent`` before the script reruns, so that state the
            caller changes there (the selection, the unfolded stages) is already in this run.

    Returns:
        The ``DiagramEvent`` of the click that caused this run, else None.

    Example::

        event = diagram_view(
            dot=diagram.to_dot(analysis, legend=False),
            key="explorer-diagram",
            nodes={"block layer1.0": {"parameters": "75,008", "output": "256×56×56"}},
            toggles={"block layer1.1": "click to unfold layer1"},
            selected=st.session_state.get("sel"),
            legend=[(diagram.SHORTCUT_STYLE["identity"], "identity")],
            on_event=lambda e: st.session_state.update(sel=e.node) if e.kind == "select" else None,
        )
    """
    if not isinstance(key, str) or not key:
        raise TypeError(f"key must be a non-empty string, not {key!r}")
    payload = build_payload(
        svg,
        dot,
        nodes=nodes,
        toggles=toggles,
        selected=selected,
        start=start,
        legend=legend,
        height=height,
        layout=layout,
        selectable=selectable,
    )
    payload["graphviz_url"] = graphviz_wasm_url() if payload["layout"] == "browser" else None

    def dispatch() -> None:
        event = parse_event(_trigger_value(key))
        if event is not None and on_event is not None:
            on_event(event)

    result = _component()(key=key, data=payload, on_event_change=dispatch)
    return parse_event(getattr(result, "event", None))


def _trigger_value(key: str) -> object:
    state = st.session_state.get(key)
    return state.get("event") if isinstance(state, Mapping) else None
