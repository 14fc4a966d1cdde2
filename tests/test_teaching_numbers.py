"""The explainer's live numbers (app.teaching.numbers): every placeholder equals the analysis and an
independent formula; the papers' values agree with the live model and name their source."""

from __future__ import annotations

import re

import pytest

from app.teaching.numbers import PAPER, VGG_CHANNELS, PlaceholderError, bare_numbers, fill, v1, value
from resnet_core import PRESETS, analyze
from tests.closed_form import closed_form_depth, closed_form_params


def test_the_number_guard_catches_a_typed_count() -> None:
    assert bare_numbers("ResNet-50 has 25,557,032 parameters and 4.09 GMACs") == ["25,557,032", "4.09"]
    assert bare_numbers("Table 3: 24.52% top-1, §4.1, Fig. 4, 3×3, arXiv:1512.03385, 2015") == []


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
