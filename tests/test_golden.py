"""The CLI's documented outputs, compared with golden files written by the code before the redesign.

``tests/golden/generate.py`` wrote ``tests/golden/*.out`` (the exact standard output of each
command in its ``COMMANDS``). Summaries (table, JSON, CSV) must match byte for byte. Diagrams are
compared as graphs, as Graphviz's ``dot`` reads them (every node, edge and cluster with every
attribute, in order; layout positions left out), because building the DOT with ``graphviz.Digraph``
writes it with other whitespace and attribute order; and the documented SVG must be byte for byte
what ``dot`` lays out from the golden DOT.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from resnet_core.diagram import dot_available, render
from tests.golden.generate import COMMANDS, output_of

GOLDEN = Path(__file__).parent / "golden"
needs_dot = pytest.mark.skipif(not dot_available(), reason="Graphviz's dot is not installed (make test installs it)")

#: What ``dot -Tjson0`` adds by laying the graph out; everything else is the graph as written.
LAYOUT_KEYS = {"_gvid", "_subgraph_cnt", "bb", "pos", "lp", "lwidth", "lheight", "head_lp", "tail_lp", "xlp"}


def golden(stem: str) -> bytes:
    return (GOLDEN / f"{stem}.out").read_bytes()


def graph(dot_text: bytes) -> dict:
    """Graphviz's reading of ``dot_text``: graph attributes, nodes (in order), edges (in order) and
    clusters (attributes and member nodes), each attribute as dot resolved it, positions left out."""
    proc = subprocess.run(["dot", "-Tjson0"], input=dot_text, capture_output=True, timeout=120, check=False)
    assert proc.returncode == 0 and not proc.stderr, proc.stderr.decode()
    g = json.loads(proc.stdout)
    objects = g.get("objects", [])
    names = {o["_gvid"]: o["name"] for o in objects if "nodes" not in o}

    def attrs(d: dict) -> dict:
        return {k: v for k, v in d.items() if k not in LAYOUT_KEYS and k not in ("objects", "edges", "nodes", "subgraphs")}

    return {
        "graph": attrs(g),
        "nodes": [attrs(o) for o in objects if "nodes" not in o],
        "edges": [dict(attrs(e), tail=names[e["tail"]], head=names[e["head"]]) for e in g.get("edges", [])],
        "clusters": [
            dict(attrs(o), members=sorted(names[i] for i in o.get("nodes", []))) for o in objects if "nodes" in o
        ],
    }


SUMMARIES = [stem for stem, argv in COMMANDS.items() if argv[0] == "summary"]
DIAGRAMS = [stem for stem, argv in COMMANDS.items() if argv[0] == "diagram"]


@pytest.mark.parametrize("stem", SUMMARIES)
def test_summary_output_is_byte_identical(stem: str) -> None:
    assert output_of(COMMANDS[stem]) == golden(stem), " ".join(COMMANDS[stem])


@needs_dot
@pytest.mark.parametrize("stem", DIAGRAMS)
def test_diagram_is_the_same_graph(stem: str) -> None:
    assert graph(output_of(COMMANDS[stem])) == graph(golden(stem)), " ".join(COMMANDS[stem])


@needs_dot
def test_documented_svg_is_what_dot_lays_out_from_the_golden_dot() -> None:
    assert output_of(["diagram", "resnet50", "--format", "svg"]) == render(golden("diagram_resnet50").decode(), "svg")
