"""Plain networks (shortcut "none"): the paper's baselines, analysed, built and compared with their ResNets."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from resnet_core import PRESETS, ResNetSpec, analyze, build
from resnet_core.compare import ShortcutCost, Summary, stage_split
from resnet_core.receptive_field import computed_span, measure_receptive_field, receptive_field_steps
from resnet_core.weights import expected_shapes

PLAIN = ("plain18", "plain34", "plain20", "plain32", "plain44", "plain56", "plain110")


def _size(spec: ResNetSpec) -> int:
    return 32 if spec.stem == "cifar" else 224


@pytest.mark.parametrize("name", PLAIN)
def test_plain_preset_is_its_resnet_without_shortcuts(name):
    """Each plain preset is the ResNet of the same depth (option A for CIFAR, §4.2) with shortcut 'none'."""
    spec = PRESETS[name]
    depth = int(name.removeprefix("plain"))
    residual = PRESETS[f"resnet{depth}"]
    assert spec.shortcut == "none"
    assert spec.replace(shortcut=residual.shortcut) == residual
    a = analyze(spec, _size(spec))
    assert a.weighted_depth == depth  # the number in the name is the paper's count of weighted layers
    assert {b.shortcut for b in a.blocks} == {"none"}
    assert not [r for r in a.layers if r.kind == "ResidualAdd" or r.path in ("shortcut", "join")]
    assert all(b.shortcut_params == b.shortcut_macs == 0 for b in a.blocks)


def test_post_activation_plain_block_keeps_its_last_relu_right_after_the_bn():
    a = analyze(PRESETS["plain20"], 32)
    block = next(b for b in a.blocks if b.name == "layer2.0")
    assert [r.kind for r in block.layers] == ["Conv2d", "BatchNorm2d", "ReLU"] * 2
    last = block.layers[-1]
    assert last.name == "layer2.0.relu2" and last.inputs == ("layer2.0.bn2",)
    model = build(PRESETS["plain20"])
    assert model.layer2[0].add is None and model.layer2[0].downsample is None


def test_pre_activation_plain_net_is_the_same_sequence_of_operations():
    """BN → ReLU → conv per conv, no add: the post-activation plain net's ops, grouped differently."""
    post = analyze(PRESETS["plain20"], 32)
    pre = analyze(PRESETS["plain20"].replace(preact=True), 32)
    assert (pre.totals.params, pre.totals.macs) == (post.totals.params, post.totals.macs)
    assert [r.kind for r in pre.layers if r.kind != "Identity"] == [r.kind for r in post.layers]
    out = build(PRESETS["plain20"].replace(preact=True))(torch.randn(2, 3, 32, 32))
    assert out.shape == (2, 10) and torch.isfinite(out).all()


def test_zero_init_residual_is_refused_for_a_plain_net():
    with pytest.raises(ValueError, match=r"zero_init_residual=True.*plain net .* no shortcut"):
        PRESETS["plain20"].replace(zero_init_residual=True)
    block = build(PRESETS["plain20"]).layer1[0]
    with pytest.raises(ValueError, match="plain block has no shortcut"):
        block.zero_init_last()


def test_plain34_has_exactly_the_state_dict_of_resnet34_option_a():
    """Option A's shortcuts hold no weights, so the two nets share every key and shape."""
    assert expected_shapes(PRESETS["plain34"]) == expected_shapes(PRESETS["resnet34"].replace(shortcut="A"))


def test_plain34_and_resnet34_option_a_differ_only_in_the_adds():
    """§4.1, Table 2: "the ResNets have no extra parameter compared to their plain counterparts"."""
    plain = analyze(PRESETS["plain34"], 224)
    residual = analyze(PRESETS["resnet34"].replace(shortcut="A"), 224)
    assert residual.totals.params == plain.totals.params
    assert residual.totals.macs == plain.totals.macs
    cost = ShortcutCost.of(plain, residual)
    assert cost.params == cost.macs == 0 and cost.explained
    assert cost.adds == sum(PRESETS["resnet34"].layers) > 0
    # The adds are the whole difference in other ops: one addition per element of each block's output.
    assert (
        cost.other_ops
        == cost.add_other_ops
        == sum(b.output_shape[1] * b.output_shape[2] * b.output_shape[3] for b in residual.blocks)
    )
    # Record by record: the residual net is the plain one plus its adds and zero-pad shortcuts.
    extra = {"ResidualAdd", "ZeroPadShortcut"}
    kept = [
        (r.name, r.kind, r.output_shape, r.params, r.macs, r.other_ops) for r in residual.layers if r.kind not in extra
    ]
    assert kept == [(r.name, r.kind, r.output_shape, r.params, r.macs, r.other_ops) for r in plain.layers]


def test_option_b_adds_exactly_its_projections():
    plain = analyze(PRESETS["plain34"], 224)
    residual = analyze(PRESETS["resnet34"], 224)  # torchvision's: projections where the shape changes
    cost = ShortcutCost.of(plain, residual)
    assert cost.explained and cost.projections == 3
    # An oracle outside the analysis: the downsample modules' own parameters, read off the model.
    model = build(PRESETS["resnet34"], "meta")
    projection_params = sum(
        p.numel()
        for block in model.modules()
        if getattr(block, "downsample", None) is not None
        for p in block.downsample.parameters()
    )
    assert cost.params == projection_params > 0
    # Their multiply-adds: a 1×1 conv costs in_channels × out_channels per output pixel.
    convs = [r for r in residual.layers if r.path == "shortcut" and r.kind == "Conv2d"]
    assert cost.macs == sum(r.input_shape[1] * r.output_shape[1] * r.output_shape[2] * r.output_shape[3] for r in convs)


def test_cost_needs_a_plain_and_a_residual_counterpart():
    with pytest.raises(ValueError, match="plain net"):
        ShortcutCost.of(analyze(PRESETS["resnet20"], 32), analyze(PRESETS["resnet20"], 32))
    with pytest.raises(ValueError, match="differ in more than the shortcut"):
        ShortcutCost.of(analyze(PRESETS["plain20"], 32), analyze(PRESETS["resnet32"], 32))


def test_compare_summaries_work_on_plain_nets():
    plain, residual = analyze(PRESETS["plain56"], 32), analyze(PRESETS["resnet56"], 32)
    a, b = Summary.of(plain), Summary.of(residual)
    assert (a.params, a.macs, a.weighted_depth) == (b.params, b.macs, b.weighted_depth)
    assert stage_split(plain) == stage_split(residual)  # option A: no weight on any shortcut


def test_plain_receptive_field_is_the_main_path_alone():
    """No add, so no union with a shortcut: the field grows by exactly the convs, and autograd agrees."""
    spec = PRESETS["plain20"]
    a = analyze(spec, 32)
    steps = receptive_field_steps(a, "layer3.2.relu2")
    assert not any(s.note for s in steps)
    assert [s.kind for s in steps[1:]] == ["Conv2d"] * 19
    record = a.layer("layer2.1.relu2")
    unit = (3, 4)
    assert measure_receptive_field(spec, "layer2.1.relu2", 32, unit) == computed_span(record, unit, (32, 32))


def test_plain_nets_train_end_to_end():
    model = build(PRESETS["plain20"])
    loss = nn.functional.cross_entropy(model(torch.randn(4, 3, 32, 32)), torch.tensor([0, 1, 2, 3]))
    loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
