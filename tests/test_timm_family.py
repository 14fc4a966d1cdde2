"""The ResNet family since 2015 (issue 17), checked against timm, torchvision and torch's own counters.

timm is the oracle (``tests/timm_oracle.py``): for every new preset and a grid of custom specs, the
parameters, MACs and stage shapes equal timm's model's, and — timm's state_dict renamed by
``weights.from_timm`` and loaded with ``strict=True`` — so do the logits on a random input. Two
independent descriptions meet in each case: the spec written here, and the spec translated from the
arguments timm's entry point passes to its model class.
"""

from __future__ import annotations

import operator

import pytest
import torch
import torchinfo
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from resnet_core import PRESETS, ResNetSpec, analyze, build, weights
from resnet_core.model import BlurPool2d, SqueezeExcite, eca_kernel_size, make_divisible
from resnet_core.receptive_field import computed_span, measure_receptive_fields

from . import timm_oracle as oracle

#: The issue's presets and timm's arguments for the same net.
TIMM_PRESETS: dict[str, tuple[str, dict]] = {
    "resnet50d": ("resnet50d", {}),
    "resnet101d": ("resnet101d", {}),
    "resnet26t": ("resnet26t", {}),
    "resnet50t": ("resnet50t", {}),
    "seresnet50": ("seresnet50", {}),
    "seresnext50_32x4d": ("seresnext50_32x4d", {}),
    "ecaresnet50t": ("ecaresnet50t", {}),
    "resnetaa50d": ("resnetaa50d", {}),
    "resnetv2_50": ("resnetv2_50", {}),
    "resnet50_os16": ("resnet50", {"output_stride": 16}),
    "resnet50_os8": ("resnet50", {"output_stride": 8}),
}

_SMALL = (1, 1, 1, 1)
_ON18 = {"block": "basic", "layers": _SMALL}
#: A sampled grid of custom specs: (timm entry point, timm's keyword arguments, the spec written here).
GRID: dict[str, tuple[str, dict, ResNetSpec]] = {
    "basic-os8": ("resnet18", {"output_stride": 8}, PRESETS["resnet18"].replace(dilated_stages=2)),
    "basic-D-silu-droppath": (
        "resnet18d",
        {"act_layer": "silu", "drop_path_rate": 0.1, "layers": _SMALL},
        ResNetSpec(**_ON18, stem="deep", shortcut="D", activation="silu", drop_path_rate=0.1),
    ),
    "tiered-blur-os16": (
        "resnet26t",
        {"output_stride": 16, "aa_layer": "timm.layers.BlurPool2d", "layers": _SMALL},
        ResNetSpec(layers=_SMALL, stem="deep_tiered", shortcut="D", anti_alias="blur", dilated_stages=1),
    ),
    "groupnorm-eca": (
        "resnet26d",
        {"norm_layer": "groupnorm", "block_args": {"attn_layer": "eca"}, "layers": _SMALL},
        ResNetSpec(layers=_SMALL, stem="deep", shortcut="D", norm="groupnorm", attention="eca"),
    ),
    "seresnext-D-os8": (
        "seresnext26d_32x4d",
        {"output_stride": 8, "layers": _SMALL},
        ResNetSpec(
            layers=_SMALL, stem="deep", shortcut="D", groups=32, width_per_group=4, attention="se", dilated_stages=2
        ),
    ),
    "se-convpool-avgaa": (
        "resnet18",
        {"block_args": {"attn_layer": "se"}, "replace_stem_pool": True, "aa_layer": nn.AvgPool2d, "layers": _SMALL},
        ResNetSpec(**_ON18, attention="se", stem_pool="conv", anti_alias="avg"),
    ),
    "wide-stem-se4": (
        "resnetrs50",
        {"layers": _SMALL, "stem_width": 64},
        ResNetSpec(layers=_SMALL, stem="deep_wide", shortcut="D", attention="se", se_reduction=4, stem_pool="conv"),
    ),
    "aa-basic-D": ("resnetaa34d", {"layers": _SMALL}, ResNetSpec(**_ON18, stem="deep", shortcut="D", anti_alias="avg")),
    "preact-basic-D-os16": (
        "resnetv2_18d",
        {"output_stride": 16},
        ResNetSpec(block="basic", layers=(2, 2, 2, 2), stem="deep", shortcut="D", preact=True, dilated_stages=1),
    ),
    "preact-silu-gn": (
        "resnetv2_50d_gn",
        {"act_layer": "silu", "layers": _SMALL},
        ResNetSpec(layers=_SMALL, stem="deep", shortcut="D", preact=True, norm="groupnorm", activation="silu"),
    ),
    "bit-ws-gn-zeropad": (
        "resnetv2_50x1_bit",
        {},
        ResNetSpec(preact=True, norm="groupnorm", weight_standardization=True, stem_pool="max_zeropad"),
    ),
    "legacy-senet": (
        "legacy_seresnext26_32x4d",
        {},
        ResNetSpec(
            layers=(2, 2, 2, 2), groups=32, width_per_group=4, attention="se", stem_pool="max_ceil", num_classes=1000
        ),
    ),
}


@pytest.fixture(scope="module", autouse=True)
def timm():
    return oracle.import_timm()


def _assert_exact(comparison: oracle.Comparison) -> None:
    assert comparison.differences == []
    assert comparison.max_logit_diff is not None  # the logits were compared, not skipped


@pytest.mark.parametrize("preset", list(TIMM_PRESETS))
def test_preset_is_timms_net_in_params_macs_stages_and_logits(preset):
    name, kwargs = TIMM_PRESETS[preset]
    assert oracle.timm_spec(name, **kwargs).spec == PRESETS[preset]  # timm's own arguments say the same
    _assert_exact(oracle.compare(name, PRESETS[preset], **kwargs))


def _timm_objects(kwargs: dict) -> dict:
    """Arguments naming a timm class ('timm.layers.BlurPool2d') as the class, read once timm is imported."""
    timm = oracle.import_timm()
    named = lambda v: isinstance(v, str) and v.startswith("timm.")  # noqa: E731
    return {k: operator.attrgetter(v.removeprefix("timm."))(timm) if named(v) else v for k, v in kwargs.items()}


@pytest.mark.parametrize("case", list(GRID))
def test_custom_spec_is_timms_net_in_params_macs_stages_and_logits(case):
    name, kwargs, spec = GRID[case]
    kwargs = _timm_objects(kwargs)
    assert oracle.timm_spec(name, **kwargs).spec == spec
    _assert_exact(oracle.compare(name, spec, **kwargs))


def test_logit_check_tells_apart_nets_whose_counts_agree():
    """The Caffe stem pool changes which pixels each max sees, not a count or a shape: only logits differ."""
    c = oracle.compare("resnet18", PRESETS["resnet18"].replace(stem_pool="max_ceil"))
    assert c.params[0] == c.params[1] and c.macs[0] == c.macs[1] and c.stage_shapes[0] == c.stage_shapes[1]
    assert c.max_logit_diff is not None and c.max_logit_diff > 1e-3
    assert c.differences == [f"logits differ by {c.max_logit_diff:.2e}"]


def test_untranslatable_entry_points_say_why():
    assert "pruned" in oracle.timm_spec("ecaresnet50d_pruned").reason
    assert "3×3 projection" in oracle.timm_spec("senet154").reason or "block" in oracle.timm_spec("senet154").reason
    assert oracle.timm_spec("resnest50d").spec is None


# -- dilation: torchvision's replace_stride_with_dilation, and the receptive field ------------------------


@pytest.mark.parametrize(("dilated", "flags"), [(1, [False, False, True]), (2, [False, True, True])])
def test_dilated_stages_are_torchvisions_replace_stride_with_dilation(dilated, flags):
    import torchvision

    theirs = torchvision.models.resnet50(replace_stride_with_dilation=flags).eval()
    oracle.randomize_(theirs)
    spec = PRESETS["resnet50"].replace(dilated_stages=dilated)
    ours = build(spec).eval()
    ours.load_state_dict(theirs.state_dict(), strict=True)  # torchvision's names, unchanged
    for name, mine in ours.named_modules():
        if isinstance(mine, nn.Conv2d):
            other = theirs.get_submodule(name)
            assert (mine.stride, mine.dilation, mine.padding) == (other.stride, other.dilation, other.padding), name
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(ours(x), theirs(x), atol=oracle.LOGIT_TOLERANCE, rtol=0)
    assert spec.output_stride == {1: 16, 2: 8}[dilated]


def test_first_block_of_a_dilated_stage_keeps_the_previous_dilation():
    model = build(PRESETS["resnet50_os8"], "meta")
    assert model.layer3[0].conv2.dilation == (1, 1) and model.layer3[1].conv2.dilation == (2, 2)
    assert model.layer4[0].conv2.dilation == (2, 2) and model.layer4[1].conv2.dilation == (4, 4)
    assert [s["stride"] for s in model.stage_info] == [1, 2, 1, 1]


DILATED_FIELDS = {
    "bottleneck-os8": (
        ResNetSpec(layers=(1, 2, 2, 1), width=8, dilated_stages=2),
        64,
        ["layer3.0.conv2", "layer3.1.add", "layer4.0.relu3", "layer4.0.downsample.1"],
    ),
    "basic-D-os16": (
        ResNetSpec(block="basic", layers=(1, 1, 2), width=8, stem="deep", shortcut="D", dilated_stages=1),
        48,
        ["layer3.0.conv1", "layer3.0.downsample.0", "layer3.0.add", "layer3.1.conv2"],
    ),
    "aa-blur": (
        ResNetSpec(block="basic", layers=(1, 1), width=8, anti_alias="blur"),
        40,
        ["maxpool.1", "layer2.0.aa", "layer2.0.add"],
    ),
    "zeropad-stem-pool": (
        ResNetSpec(block="basic", layers=(1, 1), width=8, stem_pool="max_zeropad", preact=True),
        38,
        ["maxpool.1", "layer1.0.add"],  # (maxpool.0's corner unit is padding: it sees no pixel)
    ),
}


@pytest.mark.parametrize("case", list(DILATED_FIELDS))
def test_dilated_and_anti_aliased_fields_match_autograds(case):
    spec, size, layers = DILATED_FIELDS[case]
    a = analyze(spec, size)
    requests = []
    for layer in layers:
        oh, ow = a.layer(layer).output_shape[2:]
        requests += [(layer, u) for u in [(0, 0), (oh // 2, ow // 2), (oh - 1, ow - 1)]]
    measured = measure_receptive_fields(spec, requests, size)
    for (layer, unit), got in zip(requests, measured, strict=True):
        assert got == computed_span(a.layer(layer), unit, (size, size)), (layer, unit)


def test_dilation_grows_the_field_as_the_stride_did():
    """Each dilated 3×3 at half the jump adds what a 3×3 at the full jump added: the field keeps its size."""
    base = analyze(PRESETS["resnet50"]).final_field
    for name in ("resnet50_os16", "resnet50_os8"):
        f = analyze(PRESETS[name]).final_field
        assert f.rf == base.rf and f.jump == PRESETS[name].output_stride


def test_attention_gives_every_unit_the_whole_image_and_the_analysis_says_so():
    spec = ResNetSpec(block="basic", layers=(1, 1), width=8, attention="se")
    a = analyze(spec, 48)
    scaled = a.layer("layer1.0.se.scale")
    assert scaled.path == "attention" and scaled.attrs["global_gate"]
    assert a.layer("layer1.0.se.pool").rf >= 48  # the squeeze sees the whole map
    # autograd: even a corner unit right after the gate depends on every pixel
    (rows, cols) = measure_receptive_fields(spec, [("layer1.0.se.scale", (0, 0))], 48)[0]
    assert rows == (0, 47) and cols == (0, 47)
    # and the conv path's field is what the analysis reports for the scaled map
    assert scaled.rf == a.layer("layer1.0.bn2").rf


# -- counts: FlopCounterMode and torchinfo -------------------------------------------------------------

COUNTED = {
    "seresnet50": PRESETS["seresnet50"],
    "ecaresnet50t": PRESETS["ecaresnet50t"],
    "resnetaa50d": PRESETS["resnetaa50d"],
    "resnet50_os8": PRESETS["resnet50_os8"],
    "blur-gn-silu": ResNetSpec(layers=(1, 1, 1), anti_alias="blur", norm="groupnorm", activation="silu"),
    "rs-stem-preact": ResNetSpec(layers=(1, 1), stem="deep_wide", stem_pool="conv", preact=True, attention="se"),
    "bit-ws-zeropad": ResNetSpec(layers=(1, 1), preact=True, weight_standardization=True, stem_pool="max_zeropad"),
}


@pytest.mark.parametrize("case", list(COUNTED))
def test_macs_are_half_of_flop_counter_mode(case):
    """FlopCounterMode counts conv (SE's 1×1s, ECA's 1-D conv, BlurPool's blur) and matmul FLOPs, 2 per MAC."""
    spec = COUNTED[case]
    model = build(spec, "meta").eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.empty(1, 3, 224, 224, device="meta"))
    assert counter.get_total_flops() == 2 * analyze(spec, 224).totals.macs


@pytest.mark.parametrize("case", [c for c in COUNTED if COUNTED[c].anti_alias != "blur"])
def test_layers_params_and_mult_adds_match_torchinfo(case):
    """torchinfo sees the same leaf layers and parameters. Its mult-adds (torchinfo/layer_info.py,
    calculate_macs) add each norm's parameters and each bias once, and count ECA's 1-D conv once per
    position of its (N, C, 1, 1) output, so k instead of C·k; BlurPool's functional blur it cannot see,
    so blurred specs are left out here."""
    spec = COUNTED[case]
    a = analyze(spec, 96)
    model = build(spec).eval()
    stats = torchinfo.summary(model, input_size=(1, 3, 96, 96), verbose=0, device="cpu")
    names = {m: n for n, m in model.named_modules()}
    leaves = [li for li in stats.summary_list if li.is_leaf_layer and not isinstance(li.module, nn.Identity)]
    assert [names[li.module] for li in leaves] == [r.name for r in a.layers]
    assert [tuple(li.output_size) for li in leaves] == [r.output_shape for r in a.layers]
    assert stats.total_params == a.totals.params
    norms = sum(r.params for r in a.layers if r.kind in ("BatchNorm2d", "GroupNorm"))
    biases = sum(
        m.bias.numel() for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d)) and m.bias is not None
    )
    eca = [r for r in a.layers if r.kind == "Conv1d"]
    eca_seen_by_torchinfo = sum(r.params for r in eca)  # the k weights, once
    assert stats.total_mult_adds == a.totals.macs + norms + biases - sum(r.macs for r in eca) + eca_seen_by_torchinfo


def test_se_costs_what_its_two_1x1_convs_cost():
    """SE on C channels: C·C'/1 + C'·C MACs and C·C' + C' + C'·C + C parameters, C' = C/16 rounded as timm."""
    a, plain = analyze(PRESETS["seresnet50"]), analyze(PRESETS["resnet50"])
    expected_macs = expected_params = 0
    for spec_stage, n in enumerate(PRESETS["resnet50"].layers):
        c = PRESETS["resnet50"].stage_out_channels(spec_stage)
        squeezed = make_divisible(c / 16)
        expected_macs += n * 2 * c * squeezed
        expected_params += n * (2 * c * squeezed + squeezed + c)
    assert a.totals.macs - plain.totals.macs == expected_macs
    assert a.totals.params - plain.totals.params == expected_params
    assert a.weighted_depth == plain.weighted_depth == 50  # the side branch is not depth


def test_rounding_and_kernel_sizes_are_timms():
    timm = oracle.import_timm()
    for channels in (64, 100, 256, 1000, 2048):
        for ratio in (16, 4):
            theirs = timm.layers.squeeze_excite.SEModule(channels, rd_ratio=1 / ratio, device="meta")
            assert SqueezeExcite(channels, ratio).fc1.out_channels == theirs.fc1.out_channels
        assert eca_kernel_size(channels) == timm.layers.EcaModule(channels).conv.kernel_size[0]


def test_blurpool_filter_is_timms():
    timm = oracle.import_timm()
    ours, theirs = BlurPool2d(4, 2), timm.layers.BlurPool2d(4, stride=2)
    torch.testing.assert_close(ours.filt, theirs.filt)
    x = torch.randn(1, 4, 9, 9)
    torch.testing.assert_close(ours(x), theirs(x))
    assert "filt" not in ours.state_dict()


# -- pre-activation fidelity -------------------------------------------------------------------------------


def test_preact_projection_is_a_bare_conv():
    """Identity Mappings' code (resnet-pre-act.lua) and timm's ResNetV2: no BN on the projection."""
    model = build(PRESETS["resnetv2_50"], "meta")
    projections = [b.downsample for s in model.stages() for b in s if b.downsample is not None]
    assert len(projections) == 4
    assert all(len(p) == 1 and isinstance(p[0], nn.Conv2d) for p in projections)
    a = analyze(PRESETS["resnetv2_50"])
    assert sum(b.shortcut_params for b in a.blocks) == sum(p[0].weight.numel() for p in projections)
    assert a.totals.params == oracle.param_count(oracle.create("resnetv2_50"))  # timm's, BN-free projections


# -- stochastic depth ---------------------------------------------------------------------------------------


def test_drop_path_acts_in_training_only_and_changes_no_count():
    spec = ResNetSpec(block="basic", layers=(2, 2), width=8, stem="cifar", drop_path_rate=0.5)
    plain = spec.replace(drop_path_rate=0.0)
    assert analyze(spec, 32).totals == analyze(plain, 32).totals
    torch.manual_seed(0)
    model = build(spec)
    rates = [b.drop_path.p if b.drop_path is not None else 0.0 for s in model.stages() for b in s]
    assert rates == pytest.approx([0.0, 0.5 / 3, 1.0 / 3, 0.5])  # timm's rule: rate · i / (n − 1)
    reference = build(plain)
    reference.load_state_dict(model.state_dict())
    x = torch.randn(16, 3, 32, 32)
    model.eval()
    reference.eval()
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference(x), atol=0, rtol=0)
        block = model.layer2[1].train()
        h = torch.randn(64, 16, 4, 4)
        outs = {tuple(block(h).flatten(1).sum(1).round(decimals=3).tolist()) for _ in range(3)}
    assert len(outs) > 1  # some samples lost their branch, differently each time


# -- validation ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"dilated_stages": 4}, "dilated_stages", "from 0 to 3"),
        ({"dilated_stages": -1}, "dilated_stages", "from 0 to 3"),
        ({"attention": "cbam"}, "attention", "'none', 'se', 'eca'"),
        ({"attention": "eca", "se_reduction": 8}, "se_reduction", "only squeeze-and-excitation"),
        ({"attention": "se", "se_reduction": 0}, "se_reduction", "from 1 to"),
        ({"anti_alias": "gauss"}, "anti_alias", "'none', 'avg', 'blur'"),
        ({"anti_alias": "avg", "preact": True}, "anti_alias", "post-activation"),
        ({"anti_alias": "blur", "stride_on": "1x1"}, "anti_alias", "stride_on='1x1'"),
        ({"anti_alias": "avg", "stem_pool": "max_ceil"}, "anti_alias", "no anti-aliased form"),
        ({"anti_alias": "blur", "stem_pool": "max_zeropad"}, "anti_alias", "no anti-aliased form"),
        ({"weight_standardization": 1}, "weight_standardization", "true or false"),
        ({"activation": "gelu"}, "activation", "'relu', 'silu'"),
        ({"norm": "layernorm"}, "norm", "'batchnorm', 'groupnorm'"),
        ({"norm": "groupnorm", "stem": "deep_tiered"}, "norm", "stem conv 1 has 24 channels"),
        ({"norm": "groupnorm", "width": 16}, "norm", "32 groups"),
        ({"stem_pool": "avg"}, "stem_pool", "'max', 'max_ceil', 'max_zeropad', 'conv'"),
        ({"stem": "cifar", "stem_pool": "conv"}, "stem_pool", "no pooling"),
        ({"stem": "deep_tiered", "width": 60}, "width", "multiple of 8"),
        ({"drop_path_rate": 1.0}, "drop_path_rate", "up to (not including) 1"),
        ({"drop_path_rate": "0.1"}, "drop_path_rate", "a number"),
        ({"drop_path_rate": True}, "drop_path_rate", "a number"),
    ],
)
def test_invalid_family_fields_name_the_field_the_value_and_what_is_allowed(overrides, field, words):
    with pytest.raises(ValueError, match=rf"^{field}=") as info:
        ResNetSpec(**overrides)
    assert words in str(info.value)


def test_new_fields_round_trip_through_a_dict():
    spec = ResNetSpec(
        stem="deep_wide", dilated_stages=1, attention="se", se_reduction=4, anti_alias="blur",
        activation="silu", norm="groupnorm", stem_pool="conv", drop_path_rate=0.05, weight_standardization=True,
    )  # fmt: skip
    assert ResNetSpec.from_dict(spec.to_dict()) == spec


# -- timm's state_dict files through resnet_core.weights ---------------------------------------------------


@pytest.mark.parametrize(
    ("timm_name", "preset", "layout"),
    [("seresnet50", "seresnet50", None), ("resnetv2_50", "resnetv2_50", "ResNetV2"), ("resnet50d", "resnet50d", None)],
)
def test_timm_state_dict_file_loads_through_weights(tmp_path, timm_name, preset, layout):
    theirs = oracle.randomize_(oracle.create(timm_name, "cpu"))
    path = tmp_path / f"{timm_name}.pth"
    torch.save(theirs.state_dict(), path)
    state = weights.load_state_dict(path)
    spec = PRESETS[preset]
    model = build(spec).eval()
    report = weights.load_into(model, spec, state)
    assert report.ok and report.renamed_from == layout
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(model(x), theirs(x), atol=oracle.LOGIT_TOLERANCE, rtol=0)
    # under another architecture the report names the preset that fits
    other = weights.check_fit(PRESETS["resnet50"], state)
    assert not other.ok and other.fits_preset == preset
    assert (layout is None) == ("converted from timm" not in other.summary())


def test_legacy_senet_names_are_converted():
    theirs = oracle.create("legacy_seresnet50", "meta")
    spec = oracle.timm_spec("legacy_seresnet50").spec
    converted = weights.from_timm(theirs.state_dict(), spec)
    assert set(converted) == set(build(spec, "meta").state_dict())
    assert "layer1.0.se.fc1.weight" in converted and "fc.weight" in converted
