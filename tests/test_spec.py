"""ResNetSpec: validation that names the field, dict round trips, preset overrides."""

from __future__ import annotations

import pytest

from resnet_core import PRESETS, ResNetSpec, describe, preset


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"layers": ()}, "layers"),  # no stages
        ({"layers": (1,) * 9}, "layers"),  # nine stages
        ({"layers": (3, 0, 6, 3)}, "layers"),
        ({"layers": (3, -1, 6, 3)}, "layers"),
        ({"layers": (3, 1001)}, "layers"),
        ({"layers": (3, 4.0, 6, 3)}, "layers"),  # non-integer blocks
        ({"layers": (True, 2)}, "layers"),
        ({"layers": "3,4,6,3"}, "layers"),
        ({"block": "basic", "groups": 32, "width_per_group": 4}, "groups"),
        ({"width": 10, "width_per_group": 4}, "width_per_group"),  # 0.625 channels per group
        ({"width": 0}, "width"),
        ({"width": 2.5}, "width"),
        ({"width": 65, "stem": "deep"}, "width"),
        ({"shortcut": "E"}, "shortcut"),
        ({"shortcut": "b"}, "shortcut"),
        ({"stem": "vgg"}, "stem"),
        ({"block": "dense"}, "block"),
        ({"stride_on": "7x7"}, "stride_on"),
        ({"groups": 0}, "groups"),
        ({"groups": "32"}, "groups"),
        ({"num_classes": 0}, "num_classes"),
        ({"in_channels": 1.5}, "in_channels"),
        ({"preact": "yes"}, "preact"),
    ],
)
def test_invalid_spec_raises_value_error_naming_the_field(overrides, field):
    with pytest.raises(ValueError, match=rf"^{field}=") as info:
        ResNetSpec(**overrides)
    message = str(info.value)
    assert "allowed" in message or "must" in message or "choose" in message or "expected" in message


def test_error_message_says_what_is_allowed():
    with pytest.raises(ValueError) as info:
        ResNetSpec(shortcut="E")
    assert "'A', 'B', 'C', 'D'" in str(info.value)
    with pytest.raises(ValueError) as info:
        ResNetSpec(layers=(3, 1001))
    assert "1 to 1000" in str(info.value) and "stage 2" in str(info.value)


def test_grouped_width_that_splits_into_fractional_channels_is_refused():
    # ResNeXt at width 10: stage 1 has 10 planes, 10·4/64 = 0.625 channels per group.
    with pytest.raises(ValueError, match=r"^width_per_group=4 .*0\.625"):
        ResNetSpec(width=10, groups=8, width_per_group=4)


def test_spec_is_frozen_and_hashable():
    spec = PRESETS["resnet50"]
    with pytest.raises(AttributeError):
        spec.width = 32  # type: ignore[misc]
    assert hash(spec) == hash(ResNetSpec.from_dict(spec.to_dict()))


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_dict_round_trip(name):
    spec = PRESETS[name]
    data = spec.to_dict()
    assert data["layers"] == list(spec.layers)
    assert ResNetSpec.from_dict(data) == spec


def test_from_dict_rejects_unknown_fields():
    with pytest.raises(ValueError, match="unknown spec field.*depth"):
        ResNetSpec.from_dict({"depth": 50})


def test_preset_overridden_field_by_field():
    spec = PRESETS["resnet50"].replace(stride_on="1x1")
    assert spec.stride_on == "1x1" and spec.layers == PRESETS["resnet50"].layers
    assert describe(spec, base="resnet50") == "resnet50 (modified: stride on 1×1)"
    assert describe(PRESETS["resnet50"]) == "resnet50"
    with pytest.raises(ValueError, match="^shortcut="):
        PRESETS["resnet50"].replace(shortcut="Z")
    with pytest.raises(ValueError, match="unknown spec field"):
        PRESETS["resnet50"].replace(depth=3)


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown preset 'resnet51'.*resnet50"):
        preset("resnet51")


def test_cifar_presets_follow_section_4_2():
    for n, name in [
        (3, "resnet20"),
        (5, "resnet32"),
        (7, "resnet44"),
        (9, "resnet56"),
        (18, "resnet110"),
        (200, "resnet1202"),
    ]:
        spec = PRESETS[name]
        assert spec.layers == (n, n, n) and 6 * n + 2 == int(name.removeprefix("resnet"))
        assert [spec.planes(i) for i in range(3)] == [16, 32, 64]
        assert (spec.shortcut, spec.num_classes, spec.stem) == ("A", 10, "cifar")
