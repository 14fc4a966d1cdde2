"""analyze(): every number checked against an oracle that does not share its code.

Oracles: torchinfo (per-layer shapes and parameter counts, total mult-adds under its own
convention), torch.utils.flop_counter.FlopCounterMode (total FLOPs), closed-form counts for
single blocks, and torchvision's published totals.
"""

from __future__ import annotations

import math

import pytest
import torch
import torchinfo
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from resnet_core import PRESETS, InputTooSmallError, ResNetSpec, analyze, build
from resnet_core.analysis import minimum_input_size

CUSTOM = {
    # the paper's v1 bottleneck with the ResNet-D shortcut and grouped convs, on a rectangular input
    "v1_D_grouped": (
        ResNetSpec(block="bottleneck", layers=(1, 2, 1), width=16, stride_on="1x1", shortcut="D", groups=4),
        (64, 48),
    ),
    # pre-activation basic blocks, the deep stem, projection on every block (option C)
    "preact_deep_C": (
        ResNetSpec(block="basic", layers=(2, 1), width=16, stem="deep", shortcut="C", preact=True, num_classes=7),
        64,
    ),
    # CIFAR stem, option A zero-pad shortcuts, two input channels
    "cifar_A_2ch": (
        ResNetSpec(block="basic", layers=(1, 1, 1), width=8, stem="cifar", shortcut="A", num_classes=10, in_channels=2),
        32,
    ),
}
TORCHINFO_CASES = {
    "resnet18@224": (PRESETS["resnet18"], 224),
    "resnet50@64": (PRESETS["resnet50"], 64),
    "resnext50_32x4d@64": (PRESETS["resnext50_32x4d"], 64),
    "resnet20@32": (PRESETS["resnet20"], 32),
    **{f"{k}@{v[1]}": v for k, v in CUSTOM.items()},
}


def _hw(size: int | tuple[int, int]) -> tuple[int, int]:
    return (size, size) if isinstance(size, int) else size


# -- the records ------------------------------------------------------------------------------------


def test_every_leaf_operation_is_a_record_including_the_add_and_the_zero_pad():
    spec = PRESETS["resnet20"]
    a = analyze(spec, 32)
    leaves = [
        n for n, m in build(spec, "meta").named_modules() if not list(m.children()) and not isinstance(m, nn.Identity)
    ]
    assert sorted(r.name for r in a.layers) == sorted(leaves)
    assert [r.index for r in a.layers] == list(range(len(a.layers)))
    adds = [r for r in a.layers if r.kind == "ResidualAdd"]
    assert len(adds) == sum(spec.layers) == 9
    assert all(r.path == "join" and len(r.inputs) == 2 for r in adds)
    pads = [r for r in a.layers if r.kind == "ZeroPadShortcut"]
    assert [r.name for r in pads] == ["layer2.0.downsample", "layer3.0.downsample"]
    assert all(r.path == "shortcut" and r.params == 0 and r.macs == 0 for r in pads)
    pad = a.layer("layer2.0.downsample")
    assert pad.output_shape == (1, 32, 16, 16) and (pad.kernel, pad.stride) == (1, 2)


def test_records_say_where_they_are_and_what_they_read():
    a = analyze(PRESETS["resnet50"])
    r = a.layer("layer2.0.conv2")
    assert (r.kind, r.stage, r.block, r.path) == ("Conv2d", "layer2", "layer2.0", "main")
    assert (r.kernel, r.stride, r.dilation, r.pad) == (3, 2, 1, 1)
    assert r.attrs == {"in_channels": 128, "out_channels": 128, "groups": 1}
    assert a.layer("layer2.0.downsample.0").path == "shortcut"
    assert a.layer("layer2.0.add").inputs == ("layer2.0.bn3", "layer2.0.downsample.1")
    assert a.layer("layer2.0.relu3").path == "join"
    assert a.layer("conv1").inputs == ("input",)
    assert (a.layer("conv1").stage, a.layer("fc").stage) == ("stem", "head")
    with pytest.raises(KeyError, match="no layer named"):
        a.layer("layer9.0.conv1")


# -- torchinfo: shapes, parameters, mult-adds ---------------------------------------------------------


@pytest.mark.parametrize("case", list(TORCHINFO_CASES))
def test_shapes_params_and_mult_adds_match_torchinfo(case):
    spec, size = TORCHINFO_CASES[case]
    h, w = _hw(size)
    a = analyze(spec, size)
    model = build(spec).eval()
    stats = torchinfo.summary(model, input_size=(1, spec.in_channels, h, w), verbose=0, device="cpu")
    names = {m: n for n, m in model.named_modules()}
    leaves = [li for li in stats.summary_list if li.is_leaf_layer and not isinstance(li.module, nn.Identity)]
    assert [names[li.module] for li in leaves] == [r.name for r in a.layers]
    for li, r in zip(leaves, a.layers, strict=True):
        assert tuple(li.output_size) == r.output_shape, r.name
        assert li.num_params == r.params, r.name
        assert li.trainable_params == r.trainable_params, r.name
    assert stats.total_params == a.totals.params
    assert stats.trainable_params == a.totals.trainable_params

    # torchinfo's "Mult-Adds" convention (torchinfo/layer_info.py, calculate_macs): a Conv's
    # weight and bias count once per output position, which is exactly our conv MACs; every other
    # layer counts its parameters once per sample: a Linear's weight (= our linear MACs) *and* its
    # bias, and each BatchNorm's weight and bias (our convention leaves both out of MACs).
    bn_params = sum(r.params for r in a.layers if r.kind == "BatchNorm2d")
    linear_bias = sum(m.bias.numel() for m in model.modules() if isinstance(m, nn.Linear))
    assert stats.total_mult_adds == a.totals.macs + bn_params + linear_bias


# -- torch's own FLOP counter -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec,size",
    [
        (PRESETS["resnet50"], 224),
        (PRESETS["resnext101_64x4d"], 224),
        (PRESETS["resnet56"], 32),
        *CUSTOM.values(),
    ],
    ids=["resnet50", "resnext101_64x4d", "resnet56", *CUSTOM],
)
def test_total_macs_are_half_of_flop_counter_mode(spec, size):
    """FlopCounterMode counts 2 FLOPs per multiply-add of conv and matmul, and nothing else."""
    h, w = _hw(size)
    model = build(spec, "meta").eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.empty(1, spec.in_channels, h, w, device="meta"))
    a = analyze(spec, size)
    assert counter.get_total_flops() == a.totals.flops == 2 * a.totals.macs


# -- closed forms for single blocks ---------------------------------------------------------------


def test_256d_bottleneck_closed_form():
    """He et al. 2015, Fig. 5 right: 256-d in, 1×1 64, 3×3 64, 1×1 256, on a 56×56 map."""
    block = next(b for b in analyze(PRESETS["resnet50"]).blocks if b.name == "layer1.1")
    hw = 56 * 56
    conv_weights = 256 * 64 + 64 * 64 * 3 * 3 + 64 * 256
    assert block.params == conv_weights + 2 * (64 + 64 + 256)  # + BatchNorm scale and shift
    assert block.macs == hw * conv_weights
    assert block.shortcut == "identity" and block.shortcut_params == block.shortcut_macs == 0
    bn = [r for r in block.layers if r.kind == "BatchNorm2d"]
    assert [r.other_ops for r in bn] == [2 * 64 * hw, 2 * 64 * hw, 2 * 256 * hw]


def test_basic_block_closed_form():
    """Fig. 5 left: two 3×3 convs of 64 channels on a 56×56 map."""
    block = next(b for b in analyze(PRESETS["resnet34"]).blocks if b.name == "layer1.1")
    assert block.params == 2 * 64 * 64 * 9 + 2 * (2 * 64)
    assert block.macs == 2 * 56 * 56 * 64 * 64 * 9
    assert block.output_shape == (1, 64, 56, 56)


@pytest.mark.parametrize(
    "option,kind,extra_params,extra_macs",
    [
        ("A", "zero-pad", 0, 0),
        # 1×1 stride-2 projection 64 → 128 on the 28×28 output, plus its BatchNorm
        ("B", "projection", 64 * 128 + 2 * 128, 28 * 28 * 64 * 128),
        ("C", "projection", 64 * 128 + 2 * 128, 28 * 28 * 64 * 128),
        # 2×2 average pool first, then a stride-1 projection on the pooled 28×28 map: same counts as B
        ("D", "avgpool-projection", 64 * 128 + 2 * 128, 28 * 28 * 64 * 128),
    ],
)
def test_each_shortcut_option_closed_form(option, kind, extra_params, extra_macs):
    """The first block of resnet18's layer2 (64 → 128 channels, stride 2) under each option (§3.3)."""
    a = analyze(PRESETS["resnet18"].replace(shortcut=option))
    block = next(b for b in a.blocks if b.name == "layer2.0")
    branch_params = 64 * 128 * 9 + 128 * 128 * 9 + 2 * (2 * 128)
    branch_macs = 28 * 28 * (64 * 128 * 9 + 128 * 128 * 9)
    assert block.shortcut == kind and block.stride == 2
    assert (block.shortcut_params, block.shortcut_macs) == (extra_params, extra_macs)
    assert (block.params, block.macs) == (branch_params + extra_params, branch_macs + extra_macs)
    # only option C projects where the shape stays the same
    same_shape = next(b for b in a.blocks if b.name == "layer1.0")
    expected = 64 * 64 + 2 * 64 if option == "C" else 0
    assert same_shape.shortcut_params == expected
    assert same_shape.shortcut == ("projection" if option == "C" else "identity")


def test_stride_on_the_1x1_conv_saves_the_first_convs_macs_on_the_full_map():
    """v1 subsamples before the 1×1 reduce (56² → 28² positions); v1.5 subsamples in the 3×3."""
    v15 = next(b for b in analyze(PRESETS["resnet50"]).blocks if b.name == "layer2.0")
    v1 = next(b for b in analyze(PRESETS["resnet50"].replace(stride_on="1x1")).blocks if b.name == "layer2.0")
    assert v15.macs - v1.macs == (56 * 56 - 28 * 28) * 256 * 128
    assert v15.params == v1.params


# -- torchvision's published totals ----------------------------------------------------------------

#: (GFLOPS, num_params) as torchvision publishes them for each model's IMAGENET1K_V1 weights: the
#: "_ops" and "num_params" entries of the weights' meta in torchvision/models/resnet.py, rendered on
#: the docs pages (e.g. "GFLOPS 4.09", "num_params 25557032"). torchvision's "GFLOPS" are
#: multiply-adds of conv and linear layers at 224×224 (its convention; our ``macs``).
TORCHVISION_PUBLISHED = {
    "resnet18": (1.814, 11_689_512),
    "resnet34": (3.664, 21_797_672),
    "resnet50": (4.089, 25_557_032),
    "resnet101": (7.801, 44_549_160),
    "resnet152": (11.514, 60_192_808),
    "resnext50_32x4d": (4.23, 25_028_904),
    "resnext101_32x8d": (16.414, 88_791_336),
    "resnext101_64x4d": (15.46, 83_455_272),
    "wide_resnet50_2": (11.398, 68_883_240),
    "wide_resnet101_2": (22.753, 126_886_696),
}


@pytest.mark.parametrize("name", list(TORCHVISION_PUBLISHED))
def test_presets_match_torchvisions_published_totals(name):
    """Sources: https://github.com/pytorch/vision/blob/main/torchvision/models/resnet.py ("_ops",
    "num_params" of each *_Weights.IMAGENET1K_V1) and the model pages of
    https://pytorch.org/vision/stable/models.html, e.g.
    https://pytorch.org/vision/stable/models/generated/torchvision.models.resnet50.html
    (ResNet50_Weights.IMAGENET1K_V1: num_params 25557032, GFLOPS 4.09). Compared at the precision
    published: as many decimals as the published GFLOPS figure has.
    """
    gflops, num_params = TORCHVISION_PUBLISHED[name]
    decimals = len(repr(gflops).split(".")[1])
    t = analyze(PRESETS[name], 224).totals
    assert t.params == t.trainable_params == num_params
    assert round(t.macs / 1e9, decimals) == gflops


def test_resnet50_exact_totals():
    t = analyze(PRESETS["resnet50"], 224).totals
    assert (t.params, t.macs, t.flops) == (25_557_032, 4_089_184_256, 8_178_368_512)
    assert analyze(PRESETS["resnet50"]).final_field.rf == 427


# -- aggregates and totals --------------------------------------------------------------------------


def test_blocks_and_stages_add_up_to_the_totals():
    for spec, size in [(PRESETS["resnet50"], 224), CUSTOM["v1_D_grouped"], CUSTOM["preact_deep_C"]]:
        a = analyze(spec, size)
        assert [s.name for s in a.stages] == ["stem", *(f"layer{i + 1}" for i in range(spec.num_stages)), "head"]
        assert [len(s.blocks) for s in a.stages[1:-1]] == list(spec.layers)
        for field in ("params", "macs", "other_ops", "activation_bytes"):
            total = getattr(a.totals, field)
            assert sum(getattr(s, field) for s in a.stages) == total
            assert sum(getattr(r, field) for r in a.layers) == total
            for s in a.stages:
                if s.blocks:
                    assert sum(getattr(b, field) for b in s.blocks) == getattr(s, field)
        for group in (*a.stages, *a.blocks):
            last = group.layers[-1]
            assert (group.rf, group.jump, group.padding, group.output_shape) == (
                last.rf,
                last.jump,
                last.padding,
                last.output_shape,
            )
        assert a.totals.flops == 2 * a.totals.macs


def test_activation_bytes_are_output_elements_times_dtype_size():
    a32 = analyze(PRESETS["resnet18"], 224)
    a16 = analyze(PRESETS["resnet18"], 224, dtype=torch.float16)
    for r in a32.layers:
        assert r.activation_bytes == math.prod(r.output_shape[1:]) * 4
    assert a16.totals.activation_bytes * 2 == a32.totals.activation_bytes
    assert a16.totals.macs == a32.totals.macs


def test_other_ops_are_a_separate_figure_never_in_macs():
    a = analyze(PRESETS["resnet18"], 224)
    for r in a.layers:
        if r.kind in ("Conv2d", "Linear"):
            assert r.macs > 0 and r.other_ops == 0
        else:
            assert r.macs == 0
    relu = a.layer("layer1.0.relu1")
    assert relu.other_ops == 64 * 56 * 56
    assert a.layer("maxpool").other_ops == 64 * 56 * 56 * 9
    assert a.layer("avgpool").other_ops == 512 * 7 * 7
    assert a.totals.other_ops == sum(r.other_ops for r in a.layers) > 0


def test_as_dict_is_the_cli_json_payload():
    a = analyze(PRESETS["resnet20"], 32)
    d = a.as_dict()
    assert d["input_shape"] == [1, 3, 32, 32]
    assert d["spec"] == PRESETS["resnet20"].to_dict()
    assert set(d["totals"]) >= {"params", "trainable_params", "macs", "flops", "activation_bytes"}
    assert [s["name"] for s in d["stages"]] == ["stem", "layer1", "layer2", "layer3", "head"]
    assert len(d["layers"]) == len(a.layers)


# -- input sizes ------------------------------------------------------------------------------------


def test_input_size_is_an_int_or_an_hw_pair():
    square = analyze(PRESETS["resnet18"], 128)
    assert square is analyze(PRESETS["resnet18"], (128, 128))  # the same cached analysis
    rect = analyze(PRESETS["resnet18"], (224, 160))
    assert rect.input_shape == (1, 3, 224, 160)
    assert rect.layer("layer4.1.relu2").output_shape == (1, 512, 7, 5)
    last = rect.layer("layer4.1.relu2")
    assert (last.rf, last.jump) == (last.rf_w, last.jump_w)
    for bad in (0, -3, (224,), (224, 160, 3), 2.5, True, "224"):
        with pytest.raises(ValueError, match="input_size"):
            analyze(PRESETS["resnet18"], bad)


def test_input_too_small_names_the_layer_and_the_smallest_size_that_works():
    spec = PRESETS["resnet50"]
    with pytest.raises(InputTooSmallError, match=r"input 8×8 is too small.*use at least 17×17"):
        analyze(spec, 8)
    assert minimum_input_size(analyze(spec).layers) == 17
    analyze(spec, 17)  # the smallest that works
    with pytest.raises(InputTooSmallError, match=r"use at least 224×17 \(each side 17 or more\)"):
        analyze(spec, (224, 8))  # only the short side needs to grow
    analyze(spec, (224, 17))
    with pytest.raises(InputTooSmallError):
        analyze(spec, 16)
    analyze(PRESETS["resnet20"], 4)
    with pytest.raises(InputTooSmallError, match="layer3.0.conv1"):
        analyze(PRESETS["resnet20"], 2)


# -- long stages written, not traced (issue 15, item 4) ---------------------------------------------

EXPANDED = {
    "resnet152": (PRESETS["resnet152"], (224, 160)),
    "resnet1202": (PRESETS["resnet1202"], 32),
    "preact_bottleneck_C": (PRESETS["resnet101"].replace(preact=True, shortcut="C", layers=(4, 5, 6, 7)), 96),
    "deep_D_grouped_1x1": (
        ResNetSpec(
            block="bottleneck", layers=(7, 4, 9), width=16, stem="deep", shortcut="D", groups=4, stride_on="1x1"
        ),
        (80, 64),
    ),
    "cifar_A_uneven": (PRESETS["resnet20"].replace(layers=(12, 3, 30, 5)), 64),
    "one_long_stage": (ResNetSpec(block="basic", layers=(40,), width=8, stem="cifar", num_classes=3), 16),
    # the timm family's fields: attention's side branch, dilation keeping the resolution, anti-aliasing,
    # pre-activation, GroupNorm and SiLU, and stochastic depth (a probability set by the block's place)
    "seresnet_long": (PRESETS["seresnet50"].replace(layers=(3, 5, 7, 4)), 96),
    "ecaresnet50t": (PRESETS["ecaresnet50t"], 128),
    "resnet50_os8": (PRESETS["resnet50_os8"].replace(layers=(3, 4, 8, 5)), 96),
    "resnetaa50d": (PRESETS["resnetaa50d"], 96),
    "resnetv2_50": (PRESETS["resnetv2_50"], 96),
    "groupnorm_silu_drop_path": (
        PRESETS["resnet50"].replace(norm="groupnorm", activation="silu", drop_path_rate=0.2, layers=(2, 5, 7, 4)),
        64,
    ),
}


@pytest.mark.parametrize("name", list(EXPANDED))
def test_written_blocks_equal_the_full_trace(name):
    """Every record (names, inputs, shapes, counts, fields along both axes), block, stage and total."""
    from resnet_core.analysis import TRACED_BLOCKS, _analyze
    from resnet_core.selection import normalize_input_size

    spec, size = EXPANDED[name]
    hw = normalize_input_size(size)
    assert max(spec.layers) > TRACED_BLOCKS  # the case exercises the written path
    fast = _analyze(spec, hw, torch.float32)
    full = _analyze(spec, hw, torch.float32, expand=False)
    assert fast.traced < len(fast.layers) == full.traced  # blocks were written, not all traced
    assert [r.name for r in fast.layers] == [r.name for r in full.layers]
    for a, b in zip(fast.layers, full.layers, strict=True):
        assert a == b and a.attrs == b.attrs, a.name
    assert fast == full


def test_the_largest_spec_allowed_is_analysed_without_tracing_every_block(monkeypatch):
    """8 stages of 1000 blocks: only TRACED_BLOCKS per stage go through the meta trace."""
    from resnet_core import analysis

    traced: list[int] = []
    real = analysis._trace

    def counting(model, x, dtype_bytes):
        records = real(model, x, dtype_bytes)
        traced.append(len(records))
        return records

    monkeypatch.setattr(analysis, "_trace", counting)
    spec = ResNetSpec(block="bottleneck", layers=(1000,) * 8, width=8)
    a = analysis.analyze_uncached(spec, 512)
    assert len(a.blocks) == 8000 and a.layers[-1].name == "fc"
    assert a.layer("layer8.999.add").inputs == ("layer8.999.bn3", "layer8.998.relu3")
    assert max(traced) < 8 * (analysis.TRACED_BLOCKS + 1) * 12  # a few blocks per stage, not 8000
    # the field keeps growing through the written blocks: 2 px per 3×3 conv at each stage's jump
    b1, b2 = a.layer("layer8.500.relu3"), a.layer("layer8.501.relu3")
    assert (b2.rf - b1.rf, b2.jump) == (2 * b1.jump, b1.jump)


def test_an_input_too_small_is_refused_before_any_trace(monkeypatch):
    from resnet_core import analysis

    spec = ResNetSpec(block="basic", layers=(1000,) * 8, width=8)
    analysis.check_input_size(spec, 512)  # learns the main line once (one block per stage)
    monkeypatch.setattr(analysis, "_trace", lambda *a: pytest.fail("traced"))
    with pytest.raises(InputTooSmallError, match=r"input 224×224 is too small.*layer8\.0\.conv1.*use at least 257×257"):
        analysis.analyze_uncached(spec, 224)
    with pytest.raises(InputTooSmallError):
        analyze(spec, 224)
    hits = analyze.cache_info().hits
    with pytest.raises(InputTooSmallError):
        analyze(spec, 224)  # the refusal is cached
    assert analyze.cache_info().hits == hits + 1


def test_the_cache_charge_of_an_analysis_is_close_to_what_it_holds():
    """``Analysis.approx_bytes`` against tracemalloc: at least what is held, at most 1.6 times it."""
    import gc
    import tracemalloc

    from resnet_core.analysis import analyze_uncached

    analyze_uncached(PRESETS["resnet50"], 224)  # one-off allocations (the main line, torch's caches)
    cases = (
        (PRESETS["resnet18"], 224),
        (PRESETS["resnet152"], 224),
        (PRESETS["seresnet50"], 224),  # SE's side branch: more records per block, none written
        (PRESETS["resnet50_os8"], 224),  # dilated: the resolution kept
        (ResNetSpec(block="basic", layers=(300,) * 4, width=8), 224),
    )
    for spec, size in cases:
        analyze_uncached(spec, size)
        gc.collect()
        tracemalloc.start()
        a = analyze_uncached(spec, size)
        gc.collect()
        held, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert held <= a.approx_bytes() <= 1.6 * held, (spec.layers, held, a.approx_bytes())
