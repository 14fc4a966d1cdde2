"""The block diagram: valid DOT at every level, one shortcut edge per block, projections exactly where
the paper's options put them, folding that keeps the counts, and labels that cannot break the DOT."""

from __future__ import annotations

import dataclasses
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
    GraphvizError,
    GraphvizNotFound,
    block_figure,
    block_runs,
    dot_available,
    escape_html,
    render,
    to_dot,
)
from resnet_core.units import count

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


# -- an interactive view's keys, details and clicks (issue 13) ---------------------------------------

GRAPHVIZ_IDS = re.compile(r"^(node|clust|edge|graph|a_node|a_edge)\d+$")  # what diagram_view.js ignores


def view_keys(svg: bytes) -> set[str]:
    """The keys the interactive view knows boxes by in Graphviz's SVG: a node's or cluster's DOT id,
    else its DOT name (its <title>), as app/components/diagram_view/frontend/diagram_view.js reads them."""
    ns = {"s": "http://www.w3.org/2000/svg"}
    keys = set()
    for g in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}g"):
        if g.get("class") not in ("node", "cluster"):
            continue
        title = g.find("s:title", ns)
        gid = g.get("id", "")
        keys.add(gid if gid and not GRAPHVIZ_IDS.match(gid) else title.text if title is not None else "")
    return keys


def test_blocks_runs_and_stages_are_known_by_their_names() -> None:
    a = analyze(PRESETS["resnet50"])
    dot = to_dot(a, level="block")
    for b in ("layer1.0", "layer2.0", "layer2.1"):  # layer2.1 … layer2.3 fold into one box: its first block's
        assert re.search(rf'"block {re.escape(b)}" \[.*\bid="{re.escape(b)}"', dot)
    assert re.search(r'subgraph "?cluster_layer3"? \{\n\s*graph \[.*\bid=layer3\b', dot)
    layer = to_dot(a, level="layer", unfold=("layer2",))
    assert re.search(r'subgraph "cluster_layer2\.2" \{\n\s*graph \[.*\bid="layer2\.2"', layer), "a block's cluster"


@needs_dot
@pytest.mark.parametrize(
    ("arch", "options"),
    [
        ("resnet50", DiagramOptions()),
        ("resnet50", DiagramOptions(level="stage")),
        ("resnet50", DiagramOptions(level="layer", unfold=("layer3",))),
        ("resnet20", DiagramOptions(level="block", unfold=("layer1",), rankdir="LR")),
        ("resnext50_32x4d", DiagramOptions(level="layer", stages=("layer2", "head"))),
        ("seresnet50", DiagramOptions()),
        ("ecaresnet50t", DiagramOptions(level="layer", stages=("stem", "layer2"))),
        ("plain20", DiagramOptions()),
    ],
    ids=lambda v: v if isinstance(v, str) else f"{v.level}-{'-'.join(v.unfold or v.stages) or 'folded'}",
)
def test_node_details_name_drawn_boxes_and_every_box_has_them(arch: str, options: DiagramOptions) -> None:
    from resnet_core.diagram import node_details

    spec = PRESETS[arch]
    a = analyze(spec, 32 if spec.stem == "cifar" else 224)
    details = node_details(a, options)
    keys = view_keys(render(to_dot(a, dataclasses.replace(options, legend=False)), "svg"))
    assert set(details.rows) <= keys and set(details.toggles) <= keys and set(details.hints) == set(details.toggles)
    drawn = [k for k in keys if not k.startswith(("add ", "entry ", "from ", "input"))]
    assert set(drawn) <= set(details.rows), sorted(set(drawn) - set(details.rows))[:5]
    for key, rows in details.rows.items():
        assert "output" in rows or "shape" in rows, key
    # a folded run unfolds its stage; a stage's frame folds or unfolds it; nothing toggles at the stage level
    for key, stage in details.toggles.items():
        assert key == stage or details.rows[key]["blocks"].endswith("identical)")
        assert details.hints[key].startswith(f"click to {'fold' if stage in options.unfold else 'unfold'} {stage}")
    assert (options.level == "stage") == (not details.toggles)


def test_tooltip_numbers_are_human_with_the_exact_value_beside_them() -> None:
    from resnet_core.diagram import node_details

    a = analyze(PRESETS["resnet50"])
    rows = node_details(a, DiagramOptions()).rows
    b = next(b for b in a.blocks if b.name == "layer1.0")
    assert rows["layer1.0"]["parameters"] == f"75 k ({b.params:,})"
    assert rows["layer1.0"]["receptive field"] == f"{b.rf} px, jump {b.jump}"
    assert rows["layer2.0"]["stride"] == "2 (on the 3×3)" and rows["layer2.0"]["shortcut"].startswith("projection")
    run = [b for b in a.blocks if b.stage == "layer3"][1:]
    assert rows["layer3.1"]["blocks"] == f"layer3.1 … layer3.5 ({len(run)} identical)"
    assert rows["layer3.1"]["parameters"].startswith(f"{count(sum(b.params for b in run))} (")
    assert rows["layer3"]["shortcuts"] == "1 projection, 5 identity"


@pytest.mark.parametrize("arch", ["resnet50", "resnext50_32x4d", "resnet18"])
def test_parameter_arithmetic_gives_each_layers_count(arch: str) -> None:
    from resnet_core.diagram import param_arithmetic, param_sum

    a = analyze(PRESETS[arch])
    for r in a.layers:
        formula = param_arithmetic(r)
        if r.kind in ("Conv2d", "BatchNorm2d", "Linear"):
            assert formula is not None, r.name
            assert eval(formula.replace("·", "*")) == r.params, (r.name, formula)  # digits, · and + only
    for block in a.blocks:
        assert sum(n for _, _, n in param_sum(block.layers)) == block.params
    conv2 = a.layer("layer1.0.conv2")
    assert (
        param_arithmetic(conv2)
        == f"{conv2.attrs['out_channels']}·{conv2.attrs['in_channels'] // conv2.attrs['groups']}·3·3"
    )


@pytest.mark.parametrize("level", ["stage", "block", "layer"])
def test_node_of_finds_the_box_that_shows_any_name(level: str) -> None:
    from resnet_core.diagram import find, node_details, node_of

    a = analyze(PRESETS["resnet50"])
    options = DiagramOptions(level=level, unfold=("layer2",))
    keys = set(node_details(a, options).rows)
    names = [s.name for s in a.stages] + [b.name for b in a.blocks] + [r.name for r in a.layers]
    for name in names:
        assert node_of(a, options, name) in keys, name
        assert find(a, name) is not None
    assert node_of(a, options, "layer3.4") == ("layer3" if level == "stage" else "layer3.1")  # folded into 3.1 … 3.5
    assert node_of(a, options, "layer2.2") == ("layer2" if level == "stage" else "layer2.2")  # unfolded
    assert node_of(a, options, "layer3.4.conv2") == {"stage": "layer3", "block": "layer3.1"}.get(
        level, "layer3.1.conv2"
    )
    assert node_of(a, options, "layer9") is None and find(a, "layer9") is None


def test_no_title_leaves_the_graph_label_out() -> None:
    a = analyze(small(), 32)
    assert "label=<<B>" in to_dot(a).split("\n", 2)[1]
    assert "label=" not in to_dot(a, title="").split("\n", 2)[1]


def test_figure_details_are_keyed_by_the_figures_node_ids() -> None:
    from resnet_core.diagram import figure_details

    a = analyze(PRESETS["resnet34"])
    for compact in (False, True):
        dot = block_figure(a, "layer2.0", compact=compact)
        rows = figure_details(a, "layer2.0", compact)
        ids = set(re.findall(r'^\s*"?([\w.]+)"? \[', dot, re.M)) - {"graph", "node", "edge"}
        assert set(rows) == ids
    assert rows["downsample.0"]["path"] == "shortcut"


# -- the node budget (issue 15 item 5) ---------------------------------------------------------------


@needs_dot
@pytest.mark.parametrize(
    "options",
    [
        DiagramOptions(level=level, unfold=unfold, stages=stages, legend=legend, compact=compact)
        for level in ("stage", "block", "layer")
        for unfold, stages in (((), ()), (("layer2",), ()), ((), ("layer2", "head")))
        for legend in (True, False)
        for compact in (False, True)
    ],
)
def test_node_count_is_the_number_of_nodes_dot_reads(options: DiagramOptions) -> None:
    from resnet_core.diagram import node_count

    a = analyze(small("A"), 32)
    assert node_count(a, options) == len(layout(to_dot(a, options))["nodes"])


def test_a_drawing_within_the_budget_is_drawn_as_asked() -> None:
    from resnet_core.diagram import NODE_BUDGET, node_count, within_budget

    a = analyze(PRESETS["resnet1202"], 32)
    asked = DiagramOptions(level="block", unfold=("layer1", "layer2", "layer3"))
    fit = within_budget(a, asked, NODE_BUDGET["server"])
    assert fit.options == asked and fit.note is None and fit.drawn == fit.asked == node_count(a, asked)


def test_over_the_budget_the_latest_unfolded_stage_is_kept_and_the_page_is_told() -> None:
    from resnet_core.diagram import node_count, within_budget

    a = analyze(PRESETS["resnet1202"], 32)
    asked = DiagramOptions(level="layer", unfold=("layer1", "layer3"))
    one_stage = node_count(a, DiagramOptions(level="layer", unfold=("layer3",)))
    fit = within_budget(a, asked, one_stage)
    assert fit.options.unfold == ("layer3",) and fit.options.level == "layer" and fit.drawn == one_stage
    assert fit.asked > one_stage
    assert fit.note == (
        f"Drawing the layer level with layer1 and layer3 unfolded takes {fit.asked:,} boxes, more than the "
        f"{one_stage:,} that Graphviz lays out in a few seconds; shown instead: layer1 folded (× n), layer3 unfolded."
    )
    coarser = within_budget(a, DiagramOptions(level="layer"), 40)  # even folded, the layer level is too big
    assert coarser.options.level == "block" and coarser.drawn <= 40 and "shown instead: the block level" in coarser.note


@pytest.mark.slow
@needs_dot
def test_the_largest_network_allowed_is_summarised_not_left_to_time_out() -> None:
    """4 stages × 1000 basic blocks, every stage unfolded: dot crashed on its layer level and timed out
    (60 s) on its block level; within the budget it is a folded drawing dot lays out at once."""
    from resnet_core.diagram import NODE_BUDGET, node_count, within_budget

    a = analyze(ResNetSpec(block="basic", layers=(1000,) * 4), 64)
    every = ("layer1", "layer2", "layer3", "layer4")
    for level in ("block", "layer"):
        asked = DiagramOptions(level=level, unfold=every)
        fit = within_budget(a, asked, NODE_BUDGET["server"])
        assert fit.asked > 4 * 1000 and fit.drawn <= NODE_BUDGET["server"] and fit.options.level == level
        assert fit.note is not None and "layer1, layer2, layer3 and layer4 unfolded" in fit.note
        assert node_count(a, fit.options) == fit.drawn
        assert render(to_dot(a, fit.options), "svg", timeout=60).startswith(b"<?xml")


def test_a_failed_layout_is_remembered_not_run_again(monkeypatch: pytest.MonkeyPatch) -> None:
    from resnet_core import diagram

    calls = []
    real = subprocess.run

    def counting_run(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(diagram.subprocess, "run", counting_run)
    monkeypatch.setattr(diagram.shutil, "which", lambda name: "/bin/false")  # a "dot" that always fails
    diagram.forget_render_failures()
    for _ in range(3):
        with pytest.raises(GraphvizError, match=r"dot failed \(exit status 1\)"):
            render("digraph { a }", "svg")
    assert len(calls) == 1
    render_other = "digraph { b }"
    with pytest.raises(GraphvizError):
        render(render_other, "svg")
    assert len(calls) == 2  # another diagram is tried
    diagram.forget_render_failures()


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


# -- the ResNet family since 2015 (issue 17), drawn from the analysis records --------------------------


def family(name: str, **changes: object) -> ResNetSpec:
    return PRESETS[name].replace(**changes) if changes else PRESETS[name]


#: timm's family and a custom spec with every training-time and layer choice off its default.
CUSTOM = dict(activation="silu", norm="groupnorm", drop_path_rate=0.1, weight_standardization=True)


@needs_dot
@pytest.mark.parametrize(
    ("spec", "level", "stages"),
    [
        (family("seresnet50"), level, stages)
        for level in ("stage", "block", "layer")
        for stages in ((), ("layer2",))
        if level != "layer" or stages
    ]
    + [
        (family("ecaresnet50t"), "block", ()),
        (family("ecaresnet50t"), "layer", ("stem", "layer1")),
        (family("resnetv2_50"), "layer", ("layer2",)),
        (family("resnet50", **CUSTOM), "layer", ("layer4", "head")),
        (family("resnet50", anti_alias="blur"), "block", ()),
        (family("resnet50", stem_pool="max_zeropad"), "layer", ("stem",)),
        (family("plain34"), "block", ()),
    ],
    ids=str,
)
@pytest.mark.parametrize("compact", [False, True])
def test_node_count_holds_for_the_family(spec: ResNetSpec, level: str, stages: tuple, compact: bool) -> None:
    from resnet_core.diagram import node_count

    a = analyze(spec)
    options = DiagramOptions(level=level, stages=stages, compact=compact)  # type: ignore[arg-type]
    assert node_count(a, options) == len(layout(to_dot(a, options))["nodes"])


@needs_dot
@pytest.mark.parametrize("arch", ["seresnet50", "ecaresnet50t"])
def test_channel_attention_is_a_side_branch_of_its_block_with_its_cost(arch: str) -> None:
    from resnet_core.diagram import ATTENTION_STYLE, attention_records

    a = analyze(PRESETS[arch])
    b = next(b for b in a.blocks if b.name == "layer2.0")
    att = attention_records(b)
    params, macs = sum(r.params for r in att), sum(r.macs for r in att)
    assert params > 0 and macs > 0
    g = layout(to_dot(a, level="block", stages=("layer2",)))
    side = g["nodes"]["attention layer2.0"]
    assert side["id"] == "layer2.0.se"  # the module's name: what a click or a link's sel= selects
    assert f"{count(params)} params · {count(macs)} MACs" in side["label"]
    assert ("ECA" if arch == "ecaresnet50t" else "SE") in side["label"]
    block = g["nodes"]["block layer2.0"]
    assert float(side["pos"].split(",")[1]) == pytest.approx(float(block["pos"].split(",")[1]))  # beside it
    edge = next(e for e in g["edges"] if (e["tail"], e["head"]) == ("block layer2.0", "attention layer2.0"))
    assert (edge["color"], edge["style"], edge["dir"]) == (ATTENTION_STYLE["color"], "dashed", "both")
    # the folded run's attention states all n blocks' cost
    run = [b for b in a.blocks if b.stage == "layer2"][1:]
    run_params = sum(r.params for b in run for r in attention_records(b))
    assert (
        f"{count(run_params)} params" in g["nodes"]["attention layer2.1"]["label"]
        and "(all 3)" in g["nodes"]["attention layer2.1"]["label"]
    )
    # layer level: the branch in a frame of its own that states its cost; the scaling a "×" on the main line
    text = to_dot(a, level="layer", stages=("layer2",))
    frame = re.search(r'subgraph "cluster_layer2\.0\.se" \{\n\s*graph \[(.*)\]', text)
    assert (
        frame
        and f"{count(params)} params · {count(macs)} MACs" in frame.group(1)
        and 'id="layer2.0.se"' in frame.group(1)
    )
    laid = layout(text)
    assert laid["nodes"]["layer2.0.se.scale"]["label"] == "×"
    into = {(e["tail"], e["head"]): e for e in laid["edges"]}
    assert into[("layer2.0.se.gate", "layer2.0.se.scale")]["style"] == "dashed"
    assert into[("layer2.0.bn3", "layer2.0.se.scale")].get("style") != "dashed"  # the branch it scales


def test_attention_is_found_selected_and_explained() -> None:
    from resnet_core.diagram import find, node_details, node_of

    a = analyze(PRESETS["seresnet50"])
    kind, branch = find(a, "layer3.2.se")  # type: ignore[misc]
    assert (
        kind == "branch"
        and branch.block == "layer3.2"
        and branch.params == sum(r.params for r in a.layers if r.name.startswith("layer3.2.se."))
    )
    assert find(a, "layer3.2.s") is None
    block = DiagramOptions()
    assert node_of(a, block, "layer3.2.se") == "layer3.1.se"  # folded into the run's box
    assert node_of(a, DiagramOptions(level="stage"), "layer3.2.se") == "layer3"
    assert node_of(a, DiagramOptions(level="layer", unfold=("layer3",)), "layer3.2.se") == "layer3.2.se"
    details = node_details(a, block)
    rows = details.rows["layer2.0.se"]
    assert rows["parameters"] == f"{count(branch.params)} ({branch.params:,})" or rows["parameters"].startswith(
        count(sum(r.params for r in a.layers if r.name.startswith("layer2.0.se.")))
    )
    assert rows["layers"].startswith("global pool → 1×1, 32 → ReLU → 1×1, 512 → sigmoid")
    assert details.rows["layer2.0"]["stride"] == "2 (on the 3×3)"  # not the squeeze's global pool
    assert details.rows["layer2.0"]["attention"].startswith("SE side branch: ")
    assert (details.attention, details.legend()[-2][1]) == ("SE", "SE")


def test_anti_aliased_downsampling_is_shown_where_the_stride_sits() -> None:
    from resnet_core.diagram import op_text, stride_text

    for spec, pool in (
        (family("resnetaa50d"), "2×2 avg-pool"),
        (family("resnet50", anti_alias="blur"), "3×3 blur-pool"),
    ):
        a = analyze(spec)
        b = next(b for b in a.blocks if b.name == "layer2.0")
        assert stride_text(b) == f"stride 2 by {pool} (anti-alias)"
        conv2 = a.layer("layer2.0.conv2")
        assert conv2.stride == 1 and op_text(conv2) == "3×3 conv, 128"  # the 3×3 runs at stride 1
        assert op_text(a.layer("layer2.0.aa")) == f"{pool}, stride 2 (anti-alias)"
        text = to_dot(a, level="block", stages=("layer2",))
        assert re.search(rf'"block layer2\.0" \[label=<.*stride 2 by {pool} \(anti-alias\).*fillcolor="#FDEBC8"', text)


def test_dilated_convs_say_their_dilation() -> None:
    from resnet_core.diagram import main_convs_text, op_text

    a = analyze(PRESETS["resnet50_os8"])
    for name in ("layer4.1", "layer3.0"):
        b = next(b for b in a.blocks if b.name == name)
        d = b.layers[3].dilation  # conv2, as the record has it
        assert b.layers[3].name == f"{name}.conv2"
        expected = f"3×3, {b.layers[3].output_shape[1]}" + (f", d={d}" if d > 1 else "")
        assert main_convs_text(b).split(" → ")[1] == expected
    assert op_text(a.layer("layer4.1.conv2")) == "3×3 conv, 512, d=4"
    stage = to_dot(a, level="stage")
    assert "dilated 3×3 convs: d=2, 4" in stage and "dilated 3×3 convs: d=2<" in stage  # layer4 and layer3


@pytest.mark.parametrize(
    ("stem_pool", "line"),
    [
        ("max", "3×3 max-pool, stride 2"),
        ("max_ceil", "3×3 max-pool, stride 2, ceil"),
        ("max_zeropad", "zero-pad 1"),
        ("conv", "3×3 conv, 64, stride 2 · BN · ReLU"),
    ],
)
def test_stem_pools_are_labelled(stem_pool: str, line: str) -> None:
    a = analyze(family("resnet50", stem_pool=stem_pool))
    assert f'<BR/><FONT POINT-SIZE="15">{line}</FONT>' in to_dot(a, level="block", stages=("stem",))


def test_layer_kinds_of_the_family_have_words() -> None:
    from resnet_core.diagram import op_text

    a = analyze(family("resnet50", **CUSTOM))
    assert op_text(a.layer("layer1.0.conv1")) == "1×1 conv (WS), 64"
    assert (op_text(a.layer("layer1.0.bn1")), op_text(a.layer("layer1.0.relu1"))) == ("GroupNorm", "SiLU")
    p = a.layer("layer4.2.drop_path").attrs["drop_probability"]
    assert op_text(a.layer("layer4.2.drop_path")) == f"drop path p={p:.3g} (training only)"
    eca = analyze(PRESETS["ecaresnet50t"])
    k = eca.layer("layer1.0.se.conv").attrs["kernel_size"]
    assert op_text(eca.layer("layer1.0.se.conv")) == f"1-D conv across channels, k={k}"
    assert (op_text(eca.layer("layer1.0.se.gate")), op_text(eca.layer("layer1.0.se.scale"))) == (
        "sigmoid",
        "× gate (scales each channel)",
    )
    # nothing of the family falls back to a bare class name
    for r in [*a.layers, *eca.layers]:
        assert op_text(r) != r.kind or r.kind in ("GroupNorm", "SiLU", "ReLU"), r


def test_drop_path_and_layer_choices_are_written_on_the_block() -> None:
    from resnet_core.diagram import node_details

    a = analyze(family("resnet50", **CUSTOM))
    text = to_dot(a, level="block", stages=("layer1",), unfold=("layer1",))
    blocks = [b for b in a.blocks if b.stage == "layer1"]
    ps = [next((r.attrs["drop_probability"] for r in b.layers if r.kind == "DropPath"), 0.0) for b in blocks]
    assert ps[0] == 0 < ps[1] < ps[2]  # the rate grows with depth (timm's linear rule), the first block none
    for b, p in zip(blocks, ps, strict=True):
        line = re.search(rf'"block {re.escape(b.name)}" \[label=<(.*)>', text).group(1)
        assert "WS convs · GroupNorm · SiLU" in line
        assert (f"drop path p={p:.2g}, training only" in line) == (p > 0)
    assert "drop path p=" in node_details(a, DiagramOptions()).rows["layer4.1"]["drop path"]
    # the counts are the same as without stochastic depth (training-time only)
    assert a.totals.params == analyze(family("resnet50", **{**CUSTOM, "drop_path_rate": 0.0})).totals.params


def test_a_pre_activation_projection_is_drawn_and_explained_without_bn() -> None:
    from resnet_core.diagram import node_details, shortcut_legend

    a = analyze(PRESETS["resnetv2_50"])
    b = next(b for b in a.blocks if b.name == "layer2.0")
    assert not any(r.kind == "BatchNorm2d" for r in b.layers if r.path == "shortcut")
    text = to_dot(a, level="block", stages=("layer2",))
    assert "1×1 conv, stride 2, no norm" in text and " and BN" not in text
    legend = dict((k, t) for _, k, t in node_details(a, DiagramOptions()).legend())
    assert (
        legend["projection"] == shortcut_legend("projection", a.blocks)
        and "no norm (pre-activation" in legend["projection"]
    )
    assert "and BN" in shortcut_legend("projection", analyze(PRESETS["resnet50"]).blocks)
