"""Receptive fields: the recurrence by hand, the step-by-step chain, and autograd as the oracle.

The measurement (``measure_receptive_fields``) builds the real model with constant positive
weights, identity BatchNorm, no ReLU and average instead of max pooling, so a unit's input
gradient is non-zero exactly on the pixels it sees; it never reads the analysis.
"""

from __future__ import annotations

import itertools

import pytest

from resnet_core import PRESETS, ResNetSpec, analyze
from resnet_core.geometry import Field, field_after, union
from resnet_core.receptive_field import (
    computed_span,
    measure_receptive_field,
    measure_receptive_fields,
    receptive_field_steps,
)

# -- the recurrence, by hand ------------------------------------------------------------------------


def test_recurrence_through_the_imagenet_stem_by_hand():
    f = field_after(Field.input(), kernel=7, stride=2, pad=3)  # conv1 7×7/2
    assert f == Field(rf=7, jump=2, padding=3)
    f = field_after(f, kernel=3, stride=2, pad=1)  # maxpool 3×3/2: rf 7 + 2·2, jump 4, padding 3 + 1·2
    assert f == Field(rf=11, jump=4, padding=5)
    assert f.span(0) == (-5, 5) and f.span(3) == (7, 17)


def test_dilation_widens_the_kernel():
    assert field_after(Field(5, 2, 2), kernel=3, stride=1, dilation=2, pad=2) == Field(rf=13, jump=2, padding=6)


def test_union_of_two_paths_is_the_interval_holding_both():
    branch, shortcut = Field(rf=19, jump=4, padding=9), Field(rf=11, jump=4, padding=5)
    assert union([branch, shortcut]) == branch
    assert union([Field(3, 2, 0), Field(3, 2, 2)]) == Field(rf=5, jump=2, padding=2)
    with pytest.raises(ValueError, match="different jumps"):
        union([Field(3, 2, 1), Field(3, 4, 1)])


# -- the chain a learner follows ------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec,size,layer",
    [
        (PRESETS["resnet50"], 224, "layer4.2.relu3"),
        (PRESETS["resnet50"].replace(stride_on="1x1", shortcut="D"), 224, "layer3.0.add"),
        (PRESETS["resnet56"], 32, "layer3.8.relu2"),
    ],
)
def test_steps_follow_the_recurrence_from_the_input_to_the_layer(spec, size, layer):
    a = analyze(spec, size)
    steps = receptive_field_steps(a, layer)
    assert (steps[0].name, steps[0].rf, steps[0].jump, steps[0].padding) == ("input", 1, 1, 0)
    for prev, step in itertools.pairwise(steps):
        if step.kind == "ResidualAdd":  # the union with the shortcut widened the field
            assert step.note.startswith("union with the shortcut") and step.rf >= prev.rf
            continue
        expected = field_after(
            Field(prev.rf, prev.jump, prev.padding), step.kernel, step.stride, step.dilation, step.pad
        )
        assert (step.rf, step.jump, step.padding) == (expected.rf, expected.jump, expected.padding), step.name
    record = a.layer(layer)
    assert (steps[-1].rf, steps[-1].jump, steps[-1].padding) == (record.rf, record.jump, record.padding)


def test_resnet50_chain_starts_with_the_stem_and_ends_at_427():
    steps = receptive_field_steps(analyze(PRESETS["resnet50"]), "layer4.2.relu3")
    assert [(s.name, s.rf, s.jump, s.padding) for s in steps[:4]] == [
        ("input", 1, 1, 0),
        ("conv1", 7, 2, 3),
        ("maxpool", 11, 4, 5),
        ("layer1.0.conv1", 11, 4, 5),
    ]
    assert steps[-1].rf == 427 and steps[-1].jump == 32
    with pytest.raises(KeyError):
        receptive_field_steps(analyze(PRESETS["resnet50"]), "nope")


def test_the_zero_pad_shortcut_sees_fewer_pixels_than_the_branch_it_joins():
    a = analyze(PRESETS["resnet20"], 32)
    pad, add, branch = a.layer("layer2.0.downsample"), a.layer("layer2.0.add"), a.layer("layer2.0.bn2")
    assert (pad.rf, pad.jump, pad.padding) == (15, 2, 7)  # layer1's output field (rf 15), subsampled
    # the branch: 3×3/2 then 3×3 on top of rf 15 → 15 + 2·1 = 17, then 17 + 2·2 = 21
    assert (add.rf, add.jump, add.padding) == (branch.rf, branch.jump, branch.padding) == (21, 2, 10)


# -- measured by autograd == computed ---------------------------------------------------------------

MEASURED = {
    # an ImageNet preset: stem, a stride-1 block, a stride-2 block with a projection, its shortcut alone
    "resnet18": (
        PRESETS["resnet18"],
        64,
        ["conv1", "maxpool", "layer1.0.conv2", "layer1.1.add", "layer2.0.relu2", "layer2.0.downsample.1"],
    ),
    # a CIFAR preset with option A: the zero-pad shortcut, the add it joins, the last block
    "resnet20": (
        PRESETS["resnet20"],
        32,
        ["layer1.0.conv2", "layer2.0.downsample", "layer2.0.add", "layer2.2.relu2", "layer3.2.relu2"],
    ),
    # custom: the stride on the 1×1 conv (paper v1), the ResNet-D shortcut, an odd input size
    "v1_D": (
        ResNetSpec(block="bottleneck", layers=(1, 1, 1), width=8, stem="cifar", stride_on="1x1", shortcut="D"),
        33,
        ["layer2.0.conv1", "layer2.0.conv2", "layer2.0.downsample.1", "layer2.0.add", "layer3.0.relu3"],
    ),
    # pre-activation, deep stem, option C, a rectangular input
    "preact_deep_C": (
        ResNetSpec(block="basic", layers=(1, 1), width=8, stem="deep", shortcut="C", preact=True),
        (64, 48),
        ["conv1.6", "maxpool", "layer1.0.add", "layer2.0.add", "final_relu"],
    ),
}


@pytest.mark.parametrize("arch", list(MEASURED))
def test_gradient_measured_field_equals_the_computed_one(arch):
    spec, size, layers = MEASURED[arch]
    a = analyze(spec, size)
    hw = (size, size) if isinstance(size, int) else size
    requests = []
    for layer in layers:
        oh, ow = a.layer(layer).output_shape[2:]
        # the corner units (padding clips their field), the centre, and one off-centre unit
        for unit in [(0, 0), (oh // 2, ow // 2), (oh - 1, ow - 1), (min(1, oh - 1), ow // 3)]:
            requests.append((layer, unit))
    measured = measure_receptive_fields(spec, requests, size)
    for (layer, unit), got in zip(requests, measured, strict=True):
        assert got == computed_span(a.layer(layer), unit, hw), (layer, unit)


def test_an_interior_unit_sees_exactly_rf_pixels():
    """Away from the border nothing is clipped: the measured extent is the computed rf itself."""
    spec = PRESETS["resnet18"]
    a = analyze(spec, 96)
    record = a.layer("layer1.1.add")  # rf 43, jump 4
    rows, cols = measure_receptive_field(spec, "layer1.1.add", 96, unit=(12, 12))
    assert rows[1] - rows[0] + 1 == record.rf == 43
    assert cols == rows == (12 * record.jump - record.padding, 12 * record.jump - record.padding + record.rf - 1)


def test_computed_span_clips_to_the_image():
    record = analyze(PRESETS["resnet50"]).layer("layer4.2.relu3")
    assert computed_span(record, (0, 0), (224, 224)) == ((0, 213), (0, 213))
    assert computed_span(record, (3, 3), (224, 224)) == ((0, 223), (0, 223))
