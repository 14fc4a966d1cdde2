"""The explainer's text: every placeholder filled from the live model, numbers checked independently."""

from __future__ import annotations

import math
import re

import pytest

from app.teaching import numbers as ex
from resnet_core import PRESETS, ResNetSpec, analyze
from resnet_core.spec import default_input_size

SECTIONS = ex.sections()
SLUGS = [s.slug for s in SECTIONS]


def all_texts(section: ex.Section) -> list[str]:
    return [section.title, section.body] + [t for step in section.steps for t in (step.title, step.body)]


# -- closed-form oracles (independent of the traced analysis) ----------------------------------------


def closed_form_params(spec: ResNetSpec) -> int:
    """Trainable parameters from the architecture's formulas (groups = 1, post-activation, A/B/C)."""
    w = spec.width
    stem_k = 7 if spec.stem == "imagenet" else 3
    total = spec.in_channels * w * stem_k**2 + 2 * w
    in_ch = w
    for i, n in enumerate(spec.layers):
        planes = w * 2**i
        for b in range(n):
            stride = (1 if i == 0 else 2) if b == 0 else 1
            if spec.block == "basic":
                out = planes
                total += in_ch * planes * 9 + planes * planes * 9 + 4 * planes
            else:
                out = 4 * planes
                total += in_ch * planes + planes * planes * 9 + planes * out + 4 * planes + 2 * out
            changes = stride != 1 or in_ch != out
            if spec.shortcut == "C" or (spec.shortcut == "B" and changes):
                total += in_ch * out + 2 * out
            in_ch = out
    return total + in_ch * spec.num_classes + spec.num_classes


def closed_form_depth(spec: ResNetSpec) -> int:
    return (2 if spec.block == "basic" else 3) * sum(spec.layers) + 2


# -- sections and placeholders --------------------------------------------------------------------------


def test_sections_cover_the_issue_in_order() -> None:
    assert SLUGS == [
        "degradation",
        "residual",
        "shortcuts",
        "vgg_rules",
        "blocks",
        "stride",
        "zero_init",
        "family",
        "sources",
    ]
    assert all(s.steps for s in SECTIONS)
    assert len(ex.steps()) == sum(len(s.steps) for s in SECTIONS)


@pytest.mark.parametrize("slug", SLUGS)
def test_every_placeholder_of_a_section_is_known_and_filled(slug: str) -> None:
    for text in all_texts(ex.section(slug)):
        for name in ex.placeholders_in(text):
            assert name in ex.PLACEHOLDERS, f"{slug}: unknown placeholder {name}"
        filled = ex.fill(text)
        assert "{{" not in filled and "}}" not in filled


@pytest.mark.parametrize("slug", SLUGS)
def test_no_number_is_typed_into_the_prose(slug: str) -> None:
    """Numbers the model can compute must be placeholders; only citations, %, years … may be literal."""
    for text in all_texts(ex.section(slug)):
        assert ex.bare_numbers(text) == [], f"{slug}: typed numbers {ex.bare_numbers(text)} in {text[:80]!r}"


def test_the_number_guard_catches_a_typed_count() -> None:
    assert ex.bare_numbers("ResNet-50 has 25,557,032 parameters and 4.09 GMACs") == ["25,557,032", "4.09"]
    assert ex.bare_numbers("Table 3: 24.52% top-1, §4.1, Fig. 4, 3×3, arXiv:1512.03385, 2015") == []


def test_unknown_placeholder_raises() -> None:
    with pytest.raises(ex.PlaceholderError, match="unknown placeholder"):
        ex.fill("ResNet-50 has {{resnet50.parameters}} parameters")
    with pytest.raises(ex.PlaceholderError):
        ex.value("no.such.thing")


def test_fill_leaves_plain_text_alone() -> None:
    assert ex.fill("no placeholders here") == "no placeholders here"
    with pytest.raises(ex.PlaceholderError, match="unfilled"):
        ex.fill("a broken {{ placeholder")


# -- key numbers equal the analysis and independent formulas ---------------------------------------------


@pytest.mark.parametrize("name", ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152"])
def test_imagenet_numbers_equal_the_analysis(name: str) -> None:
    spec = PRESETS[name]
    a = analyze(spec, 224)
    assert ex.value(f"{name}.params") == f"{a.totals.params:,}"
    assert a.totals.params == closed_form_params(spec)
    assert ex.value(f"{name}.gmacs") == f"{a.totals.macs / 1e9:.2f}"
    assert ex.value(f"{name}.depth") == str(a.weighted_depth) == str(closed_form_depth(spec)) == name[6:]
    assert ex.value(f"{name}.layers") == ", ".join(map(str, spec.layers))


@pytest.mark.parametrize("name", ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152"])
def test_paper_table1_flops_match_the_v1_layout(name: str) -> None:
    """Table 1's "FLOPs" are multiply-adds of the paper's layout (stride on the 1×1)."""
    live = analyze(ex.v1(PRESETS[name]), 224).totals.macs / 1e9
    paper = ex.PAPER[f"paper.table1.{name}.gflops"].value
    assert abs(live - paper) < 0.1
    assert float(ex.value("table1.max_gap")) >= abs(live - paper)


@pytest.mark.parametrize("name", ["resnet20", "resnet32", "resnet44", "resnet56", "resnet110", "resnet1202"])
def test_cifar_params_match_table6_and_the_formula(name: str) -> None:
    spec = PRESETS[name]
    n = spec.layers[0]
    params = closed_form_params(spec)
    assert ex.value(f"{name}.params") == f"{params:,}"
    assert ex.value(f"{name}.params_m") == ex.PAPER[f"paper.table6.{name}.params"].text
    assert ex.value(f"{name}.depth") == str(6 * n + 2) == name[6:]


def test_option_c_adds_the_papers_thirteen_projections() -> None:
    spec = PRESETS["resnet34"]
    assert ex.value("resnet34.projections_B") == "3"
    assert ex.value("resnet34.projections_C") == str(sum(spec.layers)) == "16"
    assert ex.value("resnet34.extra_projections_C") == "13"
    for option in "ABC":
        assert ex.value(f"resnet34.params_{option}") == f"{closed_form_params(spec.replace(shortcut=option)):,}"


def test_fig5_blocks_and_the_bottleneck_projection() -> None:
    assert ex.value("block.basic64.params") == f"{2 * 9 * 64 * 64 + 4 * 64:,}"
    assert ex.value("block.bottleneck256.params") == f"{256 * 64 + 9 * 64 * 64 + 64 * 256 + 4 * 64 + 2 * 256:,}"
    assert ex.value("block.bottleneck256.projection_params") == f"{256 * 256 + 2 * 256:,}"
    assert ex.value("block.basic64.mmacs") == f"{56 * 56 * 2 * 9 * 64 * 64 / 1e6:.1f}"
    assert ex.value("block.basic64.shortcut_params") == "0"


def test_vgg_stack_of_three_3x3_against_one_7x7() -> None:
    c = ex.VGG_CHANNELS
    assert ex.value("rf.stack3x3") == ex.value("rf.one7x7") == "7"
    assert ex.value("rf.stack2x3x3") == "5"
    assert ex.value("params.stack3x3") == f"{27 * c * c:,}"
    assert ex.value("params.one7x7") == f"{49 * c * c:,}"
    assert ex.value("params.one7x7_more_pct") == "81%"


def test_halving_the_map_and_doubling_the_filters_keeps_a_convs_cost() -> None:
    costs = {ex.value(f"resnet34.stage{i}.conv_macs") for i in range(1, 5)}
    assert costs == {f"{56 * 56 * 64 * 64 * 9:,}"}
    elements = [int(ex.value(f"resnet34.stage{i}.out_elements").replace(",", "")) for i in range(1, 5)]
    assert elements == [56 * 56 * 64 // 2**i for i in range(4)]


def test_stride_placement_changes_cost_and_field_not_parameters() -> None:
    assert ex.value("resnet50.params") == ex.value("resnet50.params_v1")
    assert float(ex.value("resnet50.gmacs")) > float(ex.value("resnet50.gmacs_v1"))
    assert ex.value("resnet50.rf") != ex.value("resnet50.rf_v1")


def test_zero_init_makes_an_identity_block_an_identity() -> None:
    assert ex.value("zeroinit.resnet20.max_abs_diff") == "0"
    spec = PRESETS["resnet50"]
    assert ex.value("zeroinit.resnet50.zeroed_bns") == str(sum(spec.layers))
    expected = sum(n * 4 * 64 * 2**i for i, n in enumerate(spec.layers))
    assert ex.value("zeroinit.resnet50.zeroed_gammas") == f"{expected:,}"


def test_identity_mappings_depths_are_the_papers() -> None:
    assert ex.value("preact164.depth") == "164"
    assert ex.value("preact1001.depth") == "1001"


def test_every_paper_value_names_its_source() -> None:
    for key, v in ex.PAPER.items():
        assert re.search(r"(Table|§|Fig\.)", v.source), key


# -- annotated source and diagrams ------------------------------------------------------------------------


@pytest.mark.parametrize("slug", list(ex.SOURCES))
def test_annotated_lines_exist_and_name_a_diagram_node(slug: str) -> None:
    source = ex.SOURCES[slug]
    found = ex.annotated_lines(source)
    assert len(found) == len(source.annotations)
    code = source.code()
    for i, ann in found:
        assert ann.line in code.splitlines()[i]
        dot = ex.block_dot(ann.diagram, highlight=ann.node)
        assert f'"{ann.node}" [label=' in dot, f"{slug}: node {ann.node} not in diagram {ann.diagram}"
        assert ex.FILL_HIGHLIGHT in dot
    marked = ex.marked_code(source, selected=1)
    assert "◀◀ 1" in marked and marked.count("# ◀") == len(source.annotations)


def test_a_missing_annotated_line_fails_loudly() -> None:
    broken = ex.Source(
        "x", lambda: ex.model_module.make_shortcut, (ex.Annotation("no such line", "", "residual", "add"),)
    )
    with pytest.raises(LookupError, match="no such line"):
        ex.annotated_lines(broken)


@pytest.mark.parametrize("key", list(ex.DIAGRAMS))
def test_diagrams_are_drawn_from_the_records(key: str) -> None:
    d = ex.DIAGRAMS[key]
    dot = ex.block_dot(key)
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")
    if d.block:
        a = analyze(d.spec, default_input_size(d.spec))
        for r in a.layers:
            if r.block == d.block:
                assert f'"{r.name[len(d.block) + 1 :]}" [label=' in dot
    compact = ex.block_dot(key, compact=True)
    assert '"bn1"' not in compact or not d.block


# -- check yourself --------------------------------------------------------------------------------------

SPECS = [
    PRESETS["resnet18"],
    PRESETS["resnet50"],
    PRESETS["resnet34"].replace(shortcut="C"),
    PRESETS["resnet50"].replace(shortcut="A", stride_on="1x1"),
    PRESETS["resnet20"],
    ResNetSpec(block="bottleneck", layers=(1, 2), stem="cifar", width=8, shortcut="C", num_classes=7),
]


def independent_answer(key: str, spec: ResNetSpec) -> int:
    size = default_input_size(spec)
    w = spec.width
    e = 1 if spec.block == "basic" else 4
    if key == "depth":
        return closed_form_depth(spec)
    if key == "additions":
        return sum(spec.layers)
    if key in ("shortcut_params", "stage2_shortcut"):
        total, in_ch, first_stage2 = 0, w, None
        for i, n in enumerate(spec.layers):
            out = w * 2**i * e
            for b in range(n):
                stride = (1 if i == 0 else 2) if b == 0 else 1
                changes = stride != 1 or in_ch != out
                p = in_ch * out + 2 * out if spec.shortcut == "C" or (spec.shortcut == "B" and changes) else 0
                total += p
                if (i, b) == ((1 if len(spec.layers) > 1 else 0), 0):
                    first_stage2 = p
                in_ch = out
        return total if key == "shortcut_params" else first_stage2
    if key == "conv_macs":
        hw = size // (4 if spec.stem == "imagenet" else 1)
        return hw * hw * w * w * 9
    if key == "out_channels":
        return w * 2 ** (spec.num_stages - 1) * e
    if key == "downsample_paths":
        count, in_ch = 0, w
        for i, n in enumerate(spec.layers):
            out = w * 2**i * e
            for b in range(n):
                stride = (1 if i == 0 else 2) if b == 0 else 1
                changes = stride != 1 or in_ch != out
                count += spec.shortcut == "C" or changes
                in_ch = out
        return count
    if key == "other_layout_macs":
        other = spec.replace(stride_on="3x3" if spec.stride_on == "1x1" else "1x1")
        return round(analyze(other, size).totals.macs / 1e6)
    if key == "zeroed_gammas":
        return sum(n * w * 2**i * e for i, n in enumerate(spec.layers))
    if key == "params":
        return closed_form_params(spec)
    raise KeyError(key)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.block}-{s.layers}-{s.shortcut}-{s.stride_on}")
@pytest.mark.parametrize("question", ex.QUESTIONS, ids=lambda q: q.key)
def test_question_answers_match_an_independent_computation(question: ex.Question, spec: ResNetSpec) -> None:
    if not question.applies(spec):
        assert spec.block == "basic"
        return
    assert "{" not in question.text(spec, "net")
    expected = independent_answer(question.key, spec)
    assert question.answer(spec) == expected
    assert ex.check_answer(question, spec, expected)
    assert not ex.check_answer(question, spec, expected + 1)


def test_every_section_with_code_has_questions() -> None:
    for slug in ex.SOURCES:
        assert ex.questions_for(slug), slug
    assert math.isclose(len(ex.QUESTIONS), 10)
