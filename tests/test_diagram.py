"""The block diagram: valid DOT at every level, one shortcut edge per block, projections exactly where
the paper's options put them, folding that keeps the counts, and labels that cannot break the DOT."""

from __future__ import annotations

import json
import re
import subprocess
import xml.etree.ElementTree as ET

import pytest

from resnet_core import PRESETS, ResNetSpec, analyze
from resnet_core.diagram import (
    FILL_HIGHLIGHT,
    SHORTCUT_KINDS,
    DiagramOptions,
    GraphvizNotFound,
    block_figure,
    block_runs,
    dot_available,
    escape_html,
    render,
    to_dot,
)

needs_dot = pytest.mark.skipif(not dot_available(), reason="Graphviz's dot is not installed (make test installs it)")


def small(shortcut: str = "B", **kw) -> ResNetSpec:
    """A 3-stage CIFAR-style net small enough to lay out in a blink."""
    return ResNetSpec(block="basic", layers=(2, 3, 2), stem="cifar", width=8, shortcut=shortcut, num_classes=10, **kw)


def layout(dot_text: str) -> dict:
    """Graphviz's own reading of the DOT, laid out: {'nodes': {name: attrs}, 'edges': [attrs + tail/head names]}."""
    proc = subprocess.run(["dot", "-Tjson0"], input=dot_text.encode(), capture_output=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"Error" not in proc.stderr and b"syntax" not in proc.stderr, proc.stderr.decode()
    graph = json.loads(proc.stdout)
    names = {o["_gvid"]: o["name"] for o in graph.get("objects", [])}
    nodes = {o["name"]: o for o in graph.get("objects", []) if "nodes" not in o and "pos" in o}
    edges = [dict(e, tail=names[e["tail"]], head=names[e["head"]]) for e in graph.get("edges", [])]
    return {"graph": graph, "nodes": nodes, "edges": edges}


def shortcut_edges(laid_out: dict) -> list[dict]:
    return [e for e in laid_out["edges"] if "shortcuts" in e]


# -- the DOT is valid --------------------------------------------------------------------------


@needs_dot
@pytest.mark.parametrize("level", ["stage", "block", "layer"])
@pytest.mark.parametrize("rankdir", ["TB", "LR"])
def test_dot_lays_out_at_every_level(level: str, rankdir: str) -> None:
    text = to_dot(
        analyze(PRESETS["resnet18"]),
        level=level,
        rankdir=rankdir,
        annotations=set(DiagramOptions().annotations) | {"rf"},
    )
    g = layout(text)
    assert g["nodes"], "dot read no nodes"


@needs_dot
def test_render_gives_svg_and_png() -> None:
    text = to_dot(analyze(small(), 32), level="stage")
    assert render(text, "png").startswith(b"\x89PNG\r\n\x1a\n")
    svg = render(text, "svg")
    assert ET.fromstring(svg).tag.endswith("svg")


def test_render_without_dot_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    assert not dot_available()
    with pytest.raises(GraphvizNotFound, match="graphviz") as info:
        render("digraph {}", "svg")
    assert "\n" not in str(info.value)


def test_render_rejects_unknown_format() -> None:
    with pytest.raises(ValueError, match="svg, png"):
        render("digraph {}", "gif")


# -- one shortcut edge per block -----------------------------------------------------------------


@needs_dot
@pytest.mark.parametrize("name", ["resnet18", "resnet50", "resnet56"])
@pytest.mark.parametrize("level", ["block", "layer"])
@pytest.mark.parametrize("fold", [True, False])
def test_shortcut_edges_stand_for_every_block(name: str, level: str, fold: bool) -> None:
    spec = PRESETS[name]
    a = analyze(spec, 32 if spec.stem == "cifar" else 224)
    edges = shortcut_edges(layout(to_dot(a, level=level, fold=fold)))
    assert sum(int(e["shortcuts"]) for e in edges) == len(a.blocks)
    if not fold:
        assert len(edges) == len(a.blocks)
        assert all(e["shortcuts"] == "1" for e in edges)


def _shortcut_kind_by_block(text: str) -> dict[str, str]:
    """Block name → the kind on its shortcut edge (block level: the edge's head is 'add <block>')."""
    return {e["head"].removeprefix("add "): e["kind"] for e in shortcut_edges(layout(text))}


@needs_dot
def test_option_b_projects_exactly_where_the_shape_changes() -> None:
    for spec in (small("B"), PRESETS["resnet50"]):
        a = analyze(spec, 32 if spec.stem == "cifar" else 224)
        kinds = _shortcut_kind_by_block(to_dot(a, fold=False))
        changes = {b.name for b in a.blocks if b.input_shape != b.output_shape}
        assert {n for n, k in kinds.items() if k == "projection"} == changes
        assert {n for n, k in kinds.items() if k == "identity"} == {b.name for b in a.blocks} - changes


@needs_dot
def test_option_c_projects_on_every_block_and_option_a_nowhere() -> None:
    a = analyze(small("C"), 32)
    assert set(_shortcut_kind_by_block(to_dot(a, fold=False)).values()) == {"projection"}
    a = analyze(small("A"), 32)
    kinds = _shortcut_kind_by_block(to_dot(a, fold=False))
    assert "projection" not in kinds.values()
    assert {n for n, k in kinds.items() if k == "zero-pad"} == {
        b.name for b in a.blocks if b.input_shape != b.output_shape
    }


@needs_dot
def test_option_d_pools_before_projecting_on_strided_blocks() -> None:
    a = analyze(small("D"), 32)
    kinds = _shortcut_kind_by_block(to_dot(a, fold=False))
    assert {n for n, k in kinds.items() if k == "avgpool-projection"} == {b.name for b in a.blocks if b.stride == 2}


def test_shortcut_labels_say_what_the_shortcut_does() -> None:
    text = to_dot(analyze(small("A"), 32))
    assert "stride 2, +8 zero channels" in text  # 8 → 16 channels
    text = to_dot(analyze(PRESETS["resnet50"]))
    assert "1×1 conv, stride 2, BN" in text
    assert "132 k params" in text  # layer2.0.downsample: 256·512 + 2·512 = 132 096
    assert "projection: 1×1 conv" in text  # the legend
    text = to_dot(analyze(PRESETS["resnet50"].replace(shortcut="D")))
    assert "2×2 avg-pool, stride 2, 1×1 conv, BN" in text


def test_strided_blocks_say_where_the_stride_sits() -> None:
    assert "stride 2 on 3×3" in to_dot(analyze(PRESETS["resnet50"]))
    text = to_dot(analyze(PRESETS["resnet50"].replace(stride_on="1x1")))
    assert "stride 2 on 1×1" in text and "stride 2 on 3×3" not in text


# -- folding ---------------------------------------------------------------------------------


def test_resnet1202_folds_to_two_nodes_a_stage() -> None:
    a = analyze(PRESETS["resnet1202"], 32)
    runs = [run for stage in a.stages if stage.blocks for run in block_runs(stage, DiagramOptions())]
    assert [len(run) for run in runs] == [200, 1, 199, 1, 199]
    text = to_dot(a)
    assert len(re.findall(r'^\s*"block [^"]*" \[label', text, re.M)) == 5
    assert "× 199 identity" in text and "× 200 identity" in text


@needs_dot
def test_unfolding_one_stage_keeps_the_counts() -> None:
    a = analyze(PRESETS["resnet110"], 32)
    g = layout(to_dot(a, unfold=("layer2",)))
    blocks = [n for n in g["nodes"] if n.startswith("block ")]
    assert len([n for n in blocks if n.startswith("block layer2.")]) == 18
    assert len(blocks) == 1 + 18 + 2  # layer1 folds whole (its first block changes no shape); layer3: 1 + 17
    assert sum(int(e["shortcuts"]) for e in shortcut_edges(g)) == len(a.blocks) == 54


def test_short_runs_stay_unfolded() -> None:
    a = analyze(PRESETS["resnet18"])
    assert all(len(run) == 1 for stage in a.stages if stage.blocks for run in block_runs(stage, DiagramOptions()))


# -- options ---------------------------------------------------------------------------------


def test_options_are_hashable_and_validated() -> None:
    assert hash(DiagramOptions(unfold=["layer3"], annotations={"rf"})) == hash(
        DiagramOptions(unfold=("layer3",), annotations=frozenset({"rf"}))
    )
    with pytest.raises(ValueError, match="level"):
        DiagramOptions(level="pixel")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="annotation"):
        DiagramOptions(annotations={"flops"})
    with pytest.raises(ValueError, match="rankdir"):
        DiagramOptions(rankdir="RL")  # type: ignore[arg-type]


def test_unknown_stage_names_list_the_real_ones() -> None:
    a = analyze(PRESETS["resnet18"])
    with pytest.raises(ValueError, match="layer1, layer2, layer3, layer4"):
        to_dot(a, unfold=("layer9",))
    with pytest.raises(ValueError, match="stem, layer1"):
        to_dot(a, stages=("layer9",))


def test_annotations_switch_on_and_off() -> None:
    a = analyze(PRESETS["resnet18"])
    default = to_dot(a)
    assert "MACs" in default and "params" in default and "64×56×56" in default
    assert "receptive field" not in default
    bare = to_dot(a, annotations=frozenset())
    assert "MACs" not in bare and " params" not in bare.split("legend")[0] and "64×56×56" not in bare
    assert "receptive field 435 px" in to_dot(a, annotations={"rf"})  # resnet18's final field, from the analysis


@needs_dot
def test_one_stage_at_layer_level_draws_its_records_and_where_it_comes_from() -> None:
    a = analyze(PRESETS["resnet34"])
    g = layout(to_dot(a, level="layer", stages=("layer2",), fold=False))
    layer2 = [r.name for r in a.layers if r.stage == "layer2"]
    assert set(layer2) <= set(g["nodes"])
    assert "from layer1" in g["nodes"] and "input" not in g["nodes"]
    assert not any(n.startswith("layer1.") or n.startswith("layer3.") for n in g["nodes"])


# -- escaping --------------------------------------------------------------------------------

NASTY = 'a "quoted" {brace} <b>angle</b> & back\\slash ]; evil [label="x'


def test_html_escape() -> None:
    assert escape_html('<b> & "q"') == "&lt;b&gt; &amp; &quot;q&quot;"
    assert escape_html("two\nlines") == "two<BR/>lines"


@needs_dot
def test_a_nasty_title_cannot_break_the_dot() -> None:
    text = to_dot(analyze(small(), 32), title=NASTY)
    g = layout(text)
    assert "evil" not in g["nodes"]
    svg = ET.fromstring(render(text, "svg"))
    texts = "".join(t.text or "" for t in svg.iter() if t.tag.endswith("text"))
    assert NASTY in texts


# -- the stage level keeps the shortcuts ----------------------------------------------------------


@needs_dot
@pytest.mark.parametrize(
    "spec",
    [
        PRESETS["resnet18"],
        PRESETS["resnet50"],
        PRESETS["resnet56"],
        PRESETS["resnet34"].replace(shortcut="C"),
        PRESETS["resnet50"].replace(shortcut="D"),
        PRESETS["resnet50"].replace(shortcut="A"),
    ],
    ids=["resnet18", "resnet50", "resnet56", "resnet34-C", "resnet50-D", "resnet50-A"],
)
@pytest.mark.parametrize("rankdir", ["TB", "LR"])
def test_stage_level_loops_each_stages_shortcuts_around_it(spec: ResNetSpec, rankdir: str) -> None:
    a = analyze(spec, 32 if spec.stem == "cifar" else 224)
    edges = shortcut_edges(layout(to_dot(a, level="stage", rankdir=rankdir)))
    assert sum(int(e["shortcuts"]) for e in edges) == len(a.blocks)
    for stage in a.stages:
        loops = [e for e in edges if e["tail"] == stage.name]
        assert all(e["head"] == stage.name for e in loops)  # around the stage's own box
        kinds = [b.shortcut for b in stage.blocks]
        assert {e["kind"]: int(e["shortcuts"]) for e in loops} == {k: kinds.count(k) for k in set(kinds)}
        for e in loops:
            assert f"{e['shortcuts']} {e['kind']}" in e["label"]
            identity_side = {e["tailport"], e["headport"]} == ({"nw", "sw"} if rankdir == "TB" else {"nw", "ne"})
            assert identity_side == (e["kind"] == "identity")  # identity down one side, the others the other


@needs_dot
def test_stage_level_legend_names_the_kinds_drawn() -> None:
    g = layout(to_dot(analyze(PRESETS["resnet50"].replace(shortcut="D")), level="stage"))
    legend = {n.removeprefix("legend ").removesuffix(" from") for n in g["nodes"] if n.endswith(" from")}
    assert legend == {"identity", "projection", "avgpool-projection"}
    assert not any(
        n.startswith("legend") for n in layout(to_dot(analyze(small(), 32), level="stage", legend=False))["nodes"]
    )


# -- highlight and compact ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "node"), [("stage", "layer2"), ("block", "block layer2.0"), ("layer", "layer2.0.downsample.0")]
)
def test_highlight_fills_one_node_at_every_level(level: str, node: str) -> None:
    a = analyze(PRESETS["resnet18"])
    text = to_dot(a, level=level, highlight=node)
    lines = [line for line in text.splitlines() if FILL_HIGHLIGHT in line]
    assert len(lines) == 1 and re.match(rf'\s*"?{re.escape(node)}"? \[', lines[0])
    assert FILL_HIGHLIGHT not in to_dot(a, level=level)


def test_highlight_of_a_node_not_drawn_names_the_nodes() -> None:
    with pytest.raises(ValueError, match=r"highlight='layer9' is not a node.*layer1"):
        to_dot(analyze(PRESETS["resnet18"]), level="stage", highlight="layer9")


@needs_dot
def test_compact_layer_level_leaves_out_bn_and_relu_but_keeps_every_path() -> None:
    a = analyze(PRESETS["resnet50"])
    full = layout(to_dot(a, level="layer", fold=False))
    compact_text = to_dot(a, level="layer", fold=False, compact=True)
    g = layout(compact_text)
    kinds = {r.name: r.kind for r in a.layers}
    drawn = [n for n in g["nodes"] if n in kinds]
    last_of_block = {b.layers[-1].name for b in a.blocks}
    assert all(kinds[n] not in ("BatchNorm2d", "ReLU") or n in last_of_block for n in drawn)
    assert len(drawn) < len([n for n in full["nodes"] if n in kinds])
    # still one connected chain from the input to the classifier, every shortcut counted
    heads = {e["head"] for e in g["edges"]}
    assert all(n in heads for n in drawn)
    assert sum(int(e["shortcuts"]) for e in shortcut_edges(g)) == len(a.blocks)
    assert "resnet50 · input" not in compact_text  # a slide has its own title
    assert 'POINT-SIZE="25"' in compact_text  # larger type: 18 pt titles × 1.4


# -- one block, for a figure ----------------------------------------------------------------------

FIGURES = [
    (PRESETS["resnet34"], "layer1.1", "identity"),
    (PRESETS["resnet34"], "layer2.0", "projection"),
    (PRESETS["resnet34"].replace(shortcut="A"), "layer2.0", "zero-pad"),
    (PRESETS["resnet34"].replace(shortcut="C"), "layer2.1", "projection"),
    (PRESETS["resnet50"], "layer1.0", "projection"),
    (PRESETS["resnet50"].replace(stride_on="1x1"), "layer2.0", "projection"),
    (PRESETS["resnet50"].replace(shortcut="D"), "layer3.0", "avgpool-projection"),
]


@needs_dot
@pytest.mark.parametrize(("spec", "block", "kind"), FIGURES)
def test_block_figure_draws_the_blocks_records_by_their_short_names(spec: ResNetSpec, block: str, kind: str) -> None:
    a = analyze(spec)
    records = [r for r in a.layers if r.block == block]
    g = layout(block_figure(a, block))
    short = {r.name.removeprefix(block + ".") for r in records}
    assert set(g["nodes"]) == short | {"x", "out"}
    (edge,) = shortcut_edges(g)
    assert (edge["head"], edge["kind"], edge["shortcuts"]) == ("add", kind, "1")
    # every record's inputs are its edges: x for the block's input
    for r in records:
        tails = sorted(e["tail"] for e in g["edges"] if e["head"] == r.name.removeprefix(block + "."))
        assert tails == sorted(i.removeprefix(block + ".") if i.startswith(block + ".") else "x" for i in r.inputs)


@needs_dot
@pytest.mark.parametrize(("spec", "block", "kind"), FIGURES)
def test_compact_block_figure_keeps_the_convs_the_add_and_the_output(spec: ResNetSpec, block: str, kind: str) -> None:
    a = analyze(spec)
    records = [r for r in a.layers if r.block == block]
    g = layout(block_figure(a, block, compact=True, rankdir="LR"))
    kept = {r.name.removeprefix(block + ".") for r in records if r.kind not in ("BatchNorm2d", "ReLU")}
    assert set(g["nodes"]) == kept | {records[-1].name.removeprefix(block + "."), "x", "out"}
    heads = {e["head"] for e in g["edges"]}
    assert set(g["nodes"]) - {"x"} <= heads  # nothing left dangling


@pytest.mark.parametrize("node", ["x", "conv1", "bn2", "add", "downsample.0", "out"])
def test_block_figure_highlights_any_of_its_nodes(node: str) -> None:
    text = block_figure(analyze(PRESETS["resnet34"]), "layer2.0", highlight=node, title="ResNet-34, block layer2.0")
    lines = [line for line in text.splitlines() if FILL_HIGHLIGHT in line]
    assert len(lines) == 1 and re.match(rf'\s*"?{re.escape(node)}"? \[', lines[0])
    assert "ResNet-34, block layer2.0" in text


def test_block_figure_names_what_it_cannot_draw() -> None:
    a = analyze(PRESETS["resnet18"])
    with pytest.raises(ValueError, match=r"no block 'layer5.0'.*'layer1.0' to 'layer4.1'"):
        block_figure(a, "layer5.0")
    with pytest.raises(ValueError, match=r"highlight='conv3' is not a node"):
        block_figure(a, "layer1.0", highlight="conv3")


def test_every_shortcut_kind_has_a_style_and_a_legend() -> None:
    from resnet_core.diagram import SHORTCUT_LEGEND, SHORTCUT_STYLE

    assert set(SHORTCUT_STYLE) == set(SHORTCUT_LEGEND) == set(SHORTCUT_KINDS)


# -- the statements are graphviz.Digraph's ------------------------------------------------------------


def test_the_canvas_writes_what_the_digraph_api_writes() -> None:
    """The diagram writes its statements into the Digraph's body itself (quoted once each, for speed):
    they must be the very lines Digraph.node / edge / subgraph / attr write for the same calls."""
    import graphviz

    from resnet_core import diagram

    def attrs(**kw: str | None) -> dict[str, str | None]:
        return kw

    node = attrs(label='<<B>a "b"</B>>', fillcolor="#E8F1FA", color=None, penwidth="2.5")
    edge = attrs(label="<&#160;x>", kind="identity", shortcuts="3", weight="0", style="bold")
    cluster = attrs(label="<<B>layer1</B>>", fontsize="18", style="rounded,filled", peripheries="1")

    api = graphviz.Digraph(name="resnet", graph_attr={"rankdir": "TB"})
    api.node("block layer1.0", **node)
    api.edge("entry layer1", "add layer1.0", **edge)
    with api.subgraph(name="cluster_layer1") as c:
        c.attr("graph", **cluster)
        c.node("layer1.0.conv1", **node)
        with c.subgraph(name="cluster_layer1.0") as b:
            b.attr("graph", **cluster)
            b.edge("layer1.0.conv1", "node", **edge)  # "node" is a DOT keyword: quoted
        with c.subgraph() as row:
            row.attr(rank="same")
            row.node("legend a")
            row.node("legend b")

    canvas = diagram._Canvas(DiagramOptions(), diagram._Type())
    ours = graphviz.Digraph(name="resnet", graph_attr={"rankdir": "TB"})
    root = diagram._Graph(ours.body)
    canvas.node(root, "block layer1.0", **node)
    canvas.edge(root, "entry layer1", "add layer1.0", **edge)
    with canvas.subgraph(root, "cluster_layer1", **cluster) as c:
        canvas.node(c, "layer1.0.conv1", **node)
        with canvas.subgraph(c, "cluster_layer1.0", **cluster) as b:
            canvas.edge(b, "layer1.0.conv1", "node", **edge)
        diagram._same_rank(canvas, c, ["legend a", "legend b"])
    assert ours.source == api.source


# -- plain nets: no shortcut, no addition -----------------------------------------------------------


@needs_dot
@pytest.mark.parametrize("level", ["stage", "block", "layer"])
def test_a_plain_net_is_drawn_without_shortcuts_or_additions(level: str) -> None:
    a = analyze(PRESETS["plain20"])
    g = layout(to_dot(a, level=level))
    assert shortcut_edges(g) == []
    assert not [n for n in g["nodes"] if n.startswith("add ") or n.endswith(".add")]
    assert "no shortcut, no addition" in to_dot(a, level=level)  # the legend says why none is drawn
    # the blocks still follow one another: every block node has exactly one edge in
    if level == "block":
        heads = [e["head"] for e in g["edges"]]
        assert all(heads.count(n) == 1 for n in g["nodes"] if n.startswith("block "))
