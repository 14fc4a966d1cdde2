"""A small page around the diagram view, for its end-to-end tests, screenshots and benchmark.

    streamlit run tests/e2e/diagram_view_demo.py      # then e.g. /?arch=resnet50&dir=LR&sel=layer2.0

Query parameters: ``arch`` (a preset, or ``custom110``: CIFAR ResNet-110 with option-B projection
shortcuts), ``graph=ids`` (instead, a two-node graph whose first node has a DOT ``id``), ``dir`` (TB | LR), ``unfold`` (comma-separated stages), ``sel`` (a node id), ``layout``
(auto | server | browser; browser passes only the DOT), ``height`` (px), and ``view`` (component |
graphviz_chart | noop: the benchmark's baselines draw the same DOT with ``st.graphviz_chart``, or
only the title). The last event the view sent is written under it as "last event: KIND NODE".

The node details, toggles and legend are ``resnet_core.diagram.node_details``', as on the explorer.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from app.components.diagram_view import DiagramEvent, diagram_view  # noqa: E402
from resnet_core import PRESETS, analyze, diagram  # noqa: E402
from resnet_core.spec import ResNetSpec  # noqa: E402

#: A hand-written graph for the node-id contract: "first" is known by its DOT id, "b" by its name.
IDS_DOT = 'digraph ids { node [shape=box, fontsize=16]; a [id="first", label="node a"]; b [label="node b"]; a -> b; }'
CUSTOM = {"custom110": ResNetSpec(block="basic", layers=(18, 18, 18), stem="cifar", width=16, shortcut="B")}
ARCHS = [*PRESETS, *CUSTOM]
VIEWS = ("component", "graphviz_chart", "noop")


def spec_of(arch: str) -> ResNetSpec:
    return CUSTOM.get(arch) or PRESETS[arch]


@st.cache_data(max_entries=8)
def drawing(arch: str, rankdir: str, unfold: tuple[str, ...]) -> tuple[str, dict, dict, dict, list]:
    """DOT, node details, toggle hints, toggled stages and legend of one block-level diagram."""
    spec = spec_of(arch)
    analysis = analyze(spec, 32 if spec.stem == "cifar" else 224)
    options = diagram.DiagramOptions(level="block", unfold=unfold, rankdir=rankdir, legend=False)  # type: ignore[arg-type]
    details = diagram.node_details(analysis, options)
    return diagram.to_dot(analysis, options), details.rows, details.hints, details.toggles, details.legend()


def on_event(event: DiagramEvent) -> None:
    st.session_state.last_event = event
    if event.kind == "select":
        st.session_state.sel = event.node
        return
    stage = st.session_state.toggled.get(event.node)
    if stage is not None:
        st.session_state.unfold = tuple(sorted(set(st.session_state.unfold) ^ {stage}))


st.set_page_config(page_title="diagram view demo", layout="wide")
params = st.query_params
if "unfold" not in st.session_state:
    st.session_state.unfold = tuple(s for s in params.get("unfold", "").split(",") if s)
    st.session_state.sel = params.get("sel") or None
arch = st.selectbox("Preset", ARCHS, index=ARCHS.index(params.get("arch", "resnet50")), key="arch")
rankdir = "LR" if params.get("dir") == "LR" else "TB"
view = params.get("view", "component")
if params.get("graph") == "ids":
    dot, nodes, toggles, legend = IDS_DOT, {"first": {"known by": "its DOT id"}, "b": {"known by": "its name"}}, {}, []
    st.session_state.toggled = {}
    title = "ids"
else:
    dot, nodes, toggles, st.session_state.toggled, legend = drawing(arch, rankdir, st.session_state.unfold)
    title = dot.split("<B>", 1)[1].split("</B>", 1)[0]

if view == "noop":
    st.subheader(title)
elif view == "graphviz_chart":
    st.graphviz_chart(dot, width="stretch")
else:
    height = params.get("height")
    diagram_view(
        dot=dot,
        key="demo",
        nodes=nodes,
        toggles=toggles,
        selected=st.session_state.sel,
        legend=legend,
        height=int(height) if height else None,
        layout=params.get("layout", "auto"),  # type: ignore[arg-type]
        on_event=on_event,
    )
    last = st.session_state.get("last_event")
    st.text(f"last event: {last.kind} {last.node}" if last else "last event: none")
    st.text(f"selected: {st.session_state.sel or 'none'} · unfolded: {', '.join(st.session_state.unfold) or 'none'}")
