"""The comparison numbers: the paper's Fig. 5 counted from real blocks, totals and stage splits."""

from __future__ import annotations

import pytest

from resnet_core import PRESETS, analyze
from resnet_core.compare import (
    CLASSIC_PAIRS,
    DESIGNS,
    PANEL_BLOCK,
    Pair,
    Summary,
    classic_pairs,
    classic_panel,
    panel_network,
    stage_split,
)


def test_fig5_bottleneck_at_256d_matches_the_papers_arithmetic():
    bottleneck, two_3x3, basic64 = classic_panel(256, 56)
    # 1×1 256→64, 3×3 64→64, 1×1 64→256 (He et al. 2015, Fig. 5 right)
    assert [c.params for c in bottleneck.convs] == [256 * 64, 3 * 3 * 64 * 64, 64 * 256]
    assert bottleneck.params == 256 * 64 + 3 * 3 * 64 * 64 + 64 * 256
    assert two_3x3.params == 2 * (3 * 3 * 256 * 256)
    assert basic64.params == 2 * (3 * 3 * 64 * 64)
    assert (bottleneck.in_channels, bottleneck.out_channels) == (256, 256)
    assert (basic64.in_channels, basic64.out_channels) == (64, 64)
    for block in (bottleneck, two_3x3, basic64):
        assert block.macs == 56 * 56 * block.params  # stride 1, "same" padding: every weight once per pixel


def test_bottleneck_count_agrees_with_the_traced_resnet50_block():
    # resnet50's layer1.1 is exactly the 256-d bottleneck on a 56×56 map, with an identity shortcut.
    traced = next(b for b in analyze(PRESETS["resnet50"], 224).blocks if b.name == "layer1.1")
    bottleneck, _, _ = classic_panel(256, 56)
    assert traced.macs == bottleneck.macs
    assert traced.params == bottleneck.params + bottleneck.bn_params


def test_arithmetic_is_written_out():
    bottleneck, two_3x3, _ = classic_panel(256, 56)
    assert bottleneck.convs[0].params_arithmetic() == f"1×1, 256→64: 1·1·256·64 = {256 * 64:,}"
    assert bottleneck.params_arithmetic() == f"{256 * 64:,} + {9 * 64 * 64:,} + {64 * 256:,} = {bottleneck.params:,}"
    assert two_3x3.convs[0].macs_arithmetic() == f"{9 * 256 * 256:,} · 56·56 = {9 * 256 * 256 * 56 * 56:,}"


@pytest.mark.parametrize("width", [64, 512, 2048])
def test_any_width_scales_quadratically(width):
    bottleneck, two_3x3, basic = classic_panel(width, 7)
    q = width // 4
    assert bottleneck.params == 2 * width * q + 9 * q * q
    assert two_3x3.params == 18 * width * width
    assert basic.params == 18 * q * q


@pytest.mark.parametrize(("width", "map_size"), [(250, 56), (0, 56), (256, 0), (256, 5000), (True, 56)])
def test_bad_panel_arguments_say_what_is_allowed(width, map_size):
    with pytest.raises(ValueError, match="is not allowed"):
        classic_panel(width, map_size)


def test_summary_and_stage_split_add_up():
    a = analyze(PRESETS["resnet18"], 224)
    s = Summary.of(a)
    assert (s.params, s.macs, s.flops) == (a.totals.params, a.totals.macs, 2 * a.totals.macs)
    assert s.weighted_depth == 18 and s.final_rf == a.final_field.rf
    split = stage_split(a)
    assert list(split) == ["stem", "layer1", "layer2", "layer3", "layer4", "head"]
    assert sum(p for p, _ in split.values()) == a.totals.params
    assert sum(m for _, m in split.values()) == a.totals.macs


@pytest.mark.parametrize("width", [64, 256, 1024])
@pytest.mark.parametrize("design", DESIGNS)
def test_panel_network_holds_the_counted_block(design, width):
    """The block drawn on the Compare page is the block counted: same convs, same map, identity shortcut."""
    counted = dict(zip(DESIGNS, classic_panel(width, 14), strict=True))[design]
    a = analyze(panel_network(design, width), 14)
    block = next(b for b in a.blocks if b.name == PANEL_BLOCK)
    convs = [r for r in block.layers if r.kind == "Conv2d"]
    assert [r.params for r in convs] == [c.params for c in counted.convs]
    assert [r.macs for r in convs] == [c.macs for c in counted.convs]
    assert block.input_shape[1:] == (counted.in_channels, 14, 14) and block.shortcut == "identity"


def test_classic_pairs_keep_only_what_the_library_has(monkeypatch):
    labels = [p.label for p in classic_pairs()]
    assert labels[:3] == ["ResNet-34 vs 50", "Plain vs ResNet-34", "v1 vs v1.5"]  # the most asked first
    v1, v15 = next(p for p in classic_pairs() if p.label == "v1 vs v1.5").specs()
    assert (v1[1].stride_on, v15[1].stride_on) == ("1x1", PRESETS["resnet50"].stride_on) and v1[1] != v15[1]
    assert all(2 <= len(p.members) <= 4 for p in CLASSIC_PAIRS)
    # a pair naming a preset still to come appears once the preset exists
    waiting = Pair("new vs 50", (("resnet_new", {}), ("resnet50", {})))
    bad_field = Pair("bad field", (("resnet50", {"colour": "red"}), ("resnet50", {})))
    assert classic_pairs((waiting, bad_field)) == []
    monkeypatch.setitem(PRESETS, "resnet_new", PRESETS["resnet18"])
    assert classic_pairs((waiting, bad_field)) == [waiting]
