"""The comparison numbers: the paper's Fig. 5 counted from real blocks, totals and stage splits."""

from __future__ import annotations

import pytest

from resnet_core import PRESETS, analyze
from resnet_core.compare import Summary, classic_panel, stage_split


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
