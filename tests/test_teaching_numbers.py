"""The explainer's live numbers (app.teaching.numbers): every placeholder equals the analysis and an
independent formula; the papers' values agree with the live model and name their source."""

from __future__ import annotations

import re

import pytest

from app.teaching.numbers import COUNTS, PAPER, VGG_CHANNELS, PlaceholderError, fill, stride_cost, v1, value
from resnet_core import PRESETS, analyze
from tests.closed_form import closed_form_depth, closed_form_params


def test_counts_are_exact_when_read_and_human_on_a_slide() -> None:
    params = analyze(PRESETS["resnet50"], 224).totals.params
    assert value("resnet50.params") == f"{params:,}" and value("resnet50.params", human=True) == "25.6 M"
    slide = fill("{{resnet50.params}} parameters", human=True)
    assert slide == f'<span class="ex-num" title="{params:,}">25.6 M</span> parameters'
    assert fill("{{resnet50.depth}} layers", human=True) == "50 layers"  # not a count: as it is
    assert "resnet50.macs" in COUNTS and "resnet50.depth" not in COUNTS


def test_unknown_placeholder_raises() -> None:
    with pytest.raises(PlaceholderError, match="unknown placeholder"):
        fill("ResNet-50 has {{resnet50.parameters}} parameters")
    with pytest.raises(PlaceholderError):
        value("no.such.thing")


def test_fill_leaves_plain_text_alone() -> None:
    assert fill("no placeholders here") == "no placeholders here"
    with pytest.raises(PlaceholderError, match="unfilled"):
        fill("a broken {{ placeholder")


# -- key numbers equal the analysis and independent formulas ---------------------------------------------


@pytest.mark.parametrize("name", ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152"])
def test_imagenet_numbers_equal_the_analysis(name: str) -> None:
    spec = PRESETS[name]
    a = analyze(spec, 224)
    assert value(f"{name}.params") == f"{a.totals.params:,}"
    assert a.totals.params == closed_form_params(spec)
    assert value(f"{name}.gmacs") == f"{a.totals.macs / 1e9:.2f}"
    assert value(f"{name}.depth") == str(a.weighted_depth) == str(closed_form_depth(spec)) == name[6:]
    assert value(f"{name}.layers") == ", ".join(map(str, spec.layers))


@pytest.mark.parametrize("name", ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152"])
def test_paper_table1_flops_match_the_v1_layout(name: str) -> None:
    """Table 1's "FLOPs" are multiply-adds of the paper's layout (stride on the 1×1)."""
    live = analyze(v1(PRESETS[name]), 224).totals.macs / 1e9
    paper = PAPER[f"paper.table1.{name}.gflops"].value
    assert abs(live - paper) < 0.1
    assert float(value("table1.max_gap")) >= abs(live - paper)


@pytest.mark.parametrize("name", ["resnet20", "resnet32", "resnet44", "resnet56", "resnet110", "resnet1202"])
def test_cifar_params_match_table6_and_the_formula(name: str) -> None:
    spec = PRESETS[name]
    n = spec.layers[0]
    params = closed_form_params(spec)
    assert value(f"{name}.params") == f"{params:,}"
    assert value(f"{name}.params_m") == PAPER[f"paper.table6.{name}.params"].text
    assert PAPER[f"paper.table6.{name}.params"].value == pytest.approx(params, rel=0.05)
    assert value(f"{name}.depth") == str(6 * n + 2) == name[6:]


def test_option_c_adds_the_papers_thirteen_projections() -> None:
    spec = PRESETS["resnet34"]
    assert value("resnet34.projections_B") == "3"
    assert value("resnet34.projections_C") == str(sum(spec.layers)) == "16"
    assert value("resnet34.extra_projections_C") == "13"
    for option in "ABC":
        assert value(f"resnet34.params_{option}") == f"{closed_form_params(spec.replace(shortcut=option)):,}"


def test_fig5_blocks_and_the_bottleneck_projection() -> None:
    assert value("block.basic64.params") == f"{2 * 9 * 64 * 64 + 4 * 64:,}"
    assert value("block.bottleneck256.params") == f"{256 * 64 + 9 * 64 * 64 + 64 * 256 + 4 * 64 + 2 * 256:,}"
    assert value("block.bottleneck256.projection_params") == f"{256 * 256 + 2 * 256:,}"
    assert value("block.basic64.mmacs") == f"{56 * 56 * 2 * 9 * 64 * 64 / 1e6:.1f}"
    assert value("block.basic64.shortcut_params") == "0"


def test_vgg_stack_of_three_3x3_against_one_7x7() -> None:
    c = VGG_CHANNELS
    assert value("rf.stack3x3") == value("rf.one7x7") == "7"
    assert value("rf.stack2x3x3") == "5"
    assert value("params.stack3x3") == f"{27 * c * c:,}"
    assert value("params.one7x7") == f"{49 * c * c:,}"
    assert value("params.one7x7_more_pct") == "81%"


def test_halving_the_map_and_doubling_the_filters_keeps_a_convs_cost() -> None:
    costs = {value(f"resnet34.stage{i}.conv_macs") for i in range(1, 5)}
    assert costs == {f"{56 * 56 * 64 * 64 * 9:,}"}
    elements = [int(value(f"resnet34.stage{i}.out_elements").replace(",", "")) for i in range(1, 5)]
    assert elements == [56 * 56 * 64 // 2**i for i in range(4)]


def test_stride_placement_changes_cost_and_field_not_parameters() -> None:
    assert value("resnet50.params") == value("resnet50.params_v1")
    assert float(value("resnet50.gmacs")) > float(value("resnet50.gmacs_v1"))
    assert value("resnet50.rf") != value("resnet50.rf_v1")


@pytest.mark.parametrize("name", ["resnet50", "resnet101", "resnet152", "resnext50_32x4d"])
def test_v15_costs_more_only_by_its_full_resolution_first_1x1(name: str) -> None:
    """Issue 12 item 2: the downsampling blocks' first 1×1, conv by conv, sums exactly to the total difference."""
    spec = PRESETS[name]
    cost = stride_cost(spec)
    v15, paper = analyze(spec, 224), analyze(v1(spec), 224)
    assert cost.total_difference == v15.totals.macs - paper.totals.macs > 0
    assert cost.extra == cost.total_difference  # exactly, in integers
    strided = [b.name for b in v15.blocks if b.stride != 1]
    assert [row[0] for row in cost.rows] == [f"{b}.conv1" for b in strided]  # the strided 3×3 costs the same
    for layer, macs_v15, macs_v1 in cost.rows:
        assert macs_v15 == 4 * macs_v1  # the full map: twice the rows and twice the columns
        assert v15.layer(layer).output_shape[2] == 2 * paper.layer(layer).output_shape[2]
    if name == "resnet50":
        assert value("stride.resnet50.extra") == value("stride.resnet50.total_difference") == f"{231_211_008:,}"
        assert value("stride.resnet50.convs") == "3"
        assert value("stride.resnet50.conv1_v15") == f"{56 * 56 * 256 * 128:,}"
        assert value("stride.resnet50.conv1_v1") == f"{28 * 28 * 256 * 128:,}"


def test_zero_init_makes_an_identity_block_an_identity() -> None:
    assert value("zeroinit.resnet20.max_abs_diff") == "0"
    spec = PRESETS["resnet50"]
    assert value("zeroinit.resnet50.zeroed_bns") == str(sum(spec.layers))
    expected = sum(n * 4 * 64 * 2**i for i, n in enumerate(spec.layers))
    assert value("zeroinit.resnet50.zeroed_gammas") == f"{expected:,}"


def test_identity_mappings_depths_are_the_papers() -> None:
    assert value("preact164.depth") == "164"
    assert value("preact1001.depth") == "1001"


def test_every_paper_value_names_its_source() -> None:
    for key, v in PAPER.items():
        assert re.search(r"(Table|§|Fig\.)", v.source), key


def test_preact_nets_are_the_papers_code_stride_on_the_first_1x1() -> None:
    """Issue 17 item 7: resnet-pre-act.lua (KaimingHe/resnet-1k-layers) strides the *first 1×1* of a
    downsampling unit. The teaching nets use the library's presets of these names when there are any."""
    from torch import nn

    from app.teaching.numbers import PREACT
    from resnet_core.model import build

    for name, spec in PREACT.items():
        assert spec.preact and spec.stride_on == "1x1", name
        if name in PRESETS:
            assert spec is PRESETS[name]
    m = build(PREACT["preact164"], "meta")
    first = dict(m.named_modules())["layer2.0"]
    strides = [c.stride for _, c in first.named_children() if isinstance(c, nn.Conv2d)]
    assert strides[0] == (2, 2) and all(s == (1, 1) for s in strides[1:]), strides


@pytest.mark.parametrize("name", ["resnet50d", "seresnet50", "ecaresnet50t", "resnetaa50d", "resnetv2_50"])
def test_the_family_since_2015_numbers_are_the_analysis(name: str) -> None:
    from app.teaching.numbers import SINCE_2015

    base = next(b for n, b, _ in SINCE_2015 if n == name)
    a, b = analyze(PRESETS[name], 224), analyze(PRESETS[base], 224)
    assert value(f"since2015.{name}.params_change") == f"{a.totals.params - b.totals.params:,}"
    assert value(f"since2015.{name}.macs_change") == f"{a.totals.macs - b.totals.macs:,}"
    assert value(f"{name}.output_stride") == "32"
    for field in PRESETS[base].differences(PRESETS[name]):
        assert field.replace("_", " ") in value(f"since2015.{name}.change")


def test_dilation_keeps_weights_and_field_and_multiplies_macs() -> None:
    """Output stride 16 and 8 (DeepLab): the same weights, more multiply-adds, the same theoretical field."""
    r50 = analyze(PRESETS["resnet50"], 224)
    for name, stride in (("resnet50_os16", "16"), ("resnet50_os8", "8")):
        a = analyze(PRESETS[name], 224)
        assert value(f"{name}.output_stride") == stride
        assert value(f"since2015.{name}.params_change") == "0" and a.totals.macs > r50.totals.macs
        assert value(f"{name}.rf") == value("resnet50.rf")
