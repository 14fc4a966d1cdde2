"""The selection codec: every choice round-trips through query parameters (bad values fall back with a
notice), old links decode as they did, and every spec field has its metadata, its flag and its README entry."""

from __future__ import annotations

import pytest

from resnet_core import PRESETS
from resnet_core.selection import Selection, from_query, to_query


def test_round_trip_of_a_modified_preset():
    spec = PRESETS["resnet50"].replace(stride_on="1x1", layers=(3, 4, 23, 3), preact=True)
    choice = Selection("resnet50", spec, (224, 160))
    query = to_query(choice)
    assert query == {"arch": "resnet50", "layers": "3,4,23,3", "stride_on": "1x1", "preact": "1", "input": "224x160"}
    back = from_query(query)
    assert back == choice and back.notices == ()
    assert back.title == "resnet50 (modified: layers 3,4,23,3, stride on 1×1, preact on)"


def test_unmodified_preset_has_a_short_link():
    assert to_query(Selection("resnet56", PRESETS["resnet56"], 32)) == {"arch": "resnet56"}
    assert from_query({}) == Selection("resnet50", PRESETS["resnet50"], 224)


def test_prefix_keeps_several_choices_apart():
    a = Selection("resnet18", PRESETS["resnet18"].replace(shortcut="C"), 224)
    q = to_query(a, prefix="a_") | to_query(Selection("resnet34", PRESETS["resnet34"], 224), prefix="b_")
    assert from_query(q, prefix="a_") == a
    assert from_query(q, prefix="b_").arch == "resnet34"


@pytest.mark.parametrize(
    ("query", "expect_in_notice"),
    [
        ({"arch": "resnet51"}, "Unknown preset 'resnet51'"),
        ({"arch": "resnet50", "shortcut": "Z"}, "shortcut='Z'"),
        ({"arch": "resnet50", "layers": "3,x"}, "layers='3,x'"),
        ({"arch": "resnet50", "layers": "3,0,6,3"}, "stage 2 has 0 blocks"),
        ({"arch": "resnet50", "width": "wide"}, "width='wide'"),
        ({"arch": "resnet50", "preact": "maybe"}, "preact='maybe'"),
        ({"arch": "resnet50", "input": "huge"}, "input='huge'"),
        ({"arch": "resnet50", "input": "0"}, "input_size=0"),
    ],
)
def test_bad_link_values_fall_back_with_a_notice(query, expect_in_notice):
    choice = from_query(query)
    assert choice.arch in PRESETS
    assert len(choice.notices) == 1 and expect_in_notice in choice.notices[0]
    assert choice.spec == PRESETS[choice.arch]


def test_each_bad_field_is_dropped_alone():
    choice = from_query({"arch": "resnet50", "stride_on": "1x1", "groups": "-3"})
    assert choice.spec == PRESETS["resnet50"].replace(stride_on="1x1")
    assert len(choice.notices) == 1 and "groups" in choice.notices[0]


def test_fields_valid_alone_but_not_together_fall_back_to_the_preset():
    # block=basic is fine on its own, and so is stride_on=1x1 on resnet50, but not both.
    choice = from_query({"arch": "resnet50", "block": "basic", "stride_on": "1x1"})
    assert choice.spec == PRESETS["resnet50"]
    assert "do not fit together" in choice.notices[0]


@pytest.mark.parametrize(
    ("arch", "changes"),
    [
        ("wide_resnet50_2", {"block": "basic", "width_per_group": 64}),
        ("resnext50_32x4d", {"block": "basic", "groups": 1, "width_per_group": 64}),
        ("resnet20", {"block": "bottleneck", "stride_on": "1x1"}),
        ("resnext50_32x4d", {"width": 8, "width_per_group": 8}),
    ],
)
def test_changes_valid_only_together_round_trip(arch, changes):
    # each of these changes is refused on its own against the preset, but the set is a valid network
    spec = PRESETS[arch].replace(**changes)
    back = from_query(to_query(Selection(arch, spec, 224)))
    assert back.spec == spec and back.notices == ()


def test_a_huge_bad_value_is_not_echoed_whole():
    choice = from_query({"arch": "resnet50", "layers": "9" * 5000, "input": "x" * 5000})
    assert choice.spec == PRESETS["resnet50"] and len(choice.notices) == 2
    assert all(len(n) < 400 for n in choice.notices), [len(n) for n in choice.notices]


def test_input_size_accepts_the_times_sign_it_is_shown_with():
    assert from_query({"arch": "resnet50", "input": "224×160"}).input_size == (224, 160)
