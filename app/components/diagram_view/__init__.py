"""An interactive Graphviz diagram for Streamlit: zoom, pan, hover, click, fold — Graphviz's layout kept.

``diagram_view(svg=…)`` or ``diagram_view(dot=…)`` draws a Graphviz diagram that the user can zoom
(wheel, pinch, the +/− buttons), pan (drag, arrow keys, the minimap), fit, and open fullscreen.
Hovering a box shows the details the caller passed for it; clicking a box sends ``select`` back to
Python with the node's id (the caller makes it the selection and passes ``selected=``, which is
highlighted); clicking a box marked as a toggle (a folded "× n" run, a stage) sends ``toggle``
instead (the caller folds or unfolds and draws again; the toggled box keeps its place on screen).

**Legible by construction.** The browser reads the smallest font size in the laid-out SVG and opens
the diagram at the scale where that text is ``LEGIBLE_PX`` (12) CSS px or more: the whole diagram
if it fits so, else a legible zoom on its start (the top of a top-to-bottom graph, the left of a
left-to-right one, or the node passed as ``start=`` — or as ``selected=``), with a minimap for the
rest. The view's height follows the diagram, up to 75 % of the window.

**Why ``st.components.v2`` and not Plotly.** Plotly would need the diagram rebuilt from
``dot -Tjson`` coordinates as shapes and annotations (HTML-like labels, clusters, dashed and bold
edges, double borders redrawn by hand): a second drawing of everything Graphviz already draws, that
Plotly lays out again at every zoom or pan step (a relayout). The v2 component shows Graphviz's own
SVG: what is on screen is exactly the SVG/PNG download; pan and zoom change one CSS transform on one
wrapper, never the SVG (ResNet-1202 unfolded, 1,209 nodes, pans at a median frame of 16.7 ms:
``benchmarks/bench_diagram_view.py``); the selection is a CSS class; the component sits in the
page's DOM (no iframe), receives the theme as CSS variables, and sends its events back to Python as
trigger values. The cost is about 1,000 lines of plain JavaScript (no build step), tested end to end
in Chromium (``tests/e2e/test_diagram_view.py``).

**Layout.** ``svg=``: shown as given. ``dot=``: laid out by Graphviz's ``dot`` on the server when it
is installed (``layout="auto"`` or ``"server"``; cached per DOT text), else in the browser by
Graphviz compiled to WebAssembly (``layout="browser"``, or ``"auto"`` without ``dot``), in a Web
Worker so that the tab stays responsive. The WebAssembly build is vendored in ``vendor/`` (see its
README for the version, licence and how to update it) and served by this Streamlit server: nothing
is fetched from any other host.

**Themes.** The toolbar, legend, tooltip and minimap take the active Streamlit theme (its
``--st-*`` CSS variables); the selection and hover marks use the theme's primary colour. The
diagram itself lies on a light "paper" card in both themes: Graphviz's colours (Okabe & Ito's
palette, dark text) are chosen for contrast on white, so on a dark page every label, edge and box
stays as readable as on a light one, and the screen matches the downloads.

**Node ids.** A node is known by its DOT ``id`` attribute when it has one (Graphviz writes it into
the SVG ``<g id=…>``), else by its DOT name (Graphviz writes it as the ``<g>``'s ``<title>``);
Graphviz's own ids (``node12``, ``clust3``) never count. A cluster (a stage box) is known the same
way (``"cluster_layer1"`` unless it has an ``id``) and is clickable only when named in ``nodes`` or
``toggles``. When ``nodes`` and ``toggles`` are both empty every node is clickable.
"""

from __future__ import annotations

from app.components.diagram_view.view import (
    EVENT_KINDS,
    LAYOUTS,
    LEGIBLE_PX,
    DiagramEvent,
    LegendItem,
    build_payload,
    diagram_view,
    parse_event,
)

__all__ = [
    "EVENT_KINDS",
    "LAYOUTS",
    "LEGIBLE_PX",
    "DiagramEvent",
    "LegendItem",
    "build_payload",
    "diagram_view",
    "parse_event",
]
