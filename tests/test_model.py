"""The model: torchvision's layout and numbers, and every spec builds and trains."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from resnet_core import PRESETS, ResNetSpec, build
from resnet_core.model import ZeroPadShortcut

from .conftest import reference_input, reference_state_dict

REFERENCE_MODELS = [
    "resnet18",
    "resnet34",
    "resnet50",
    "resnet101",
    "resnet152",
    "wide_resnet50_2",
    "resnext50_32x4d",
]


def param_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_reference_file_covers_the_models_we_test(torchvision_reference):
    assert sorted(torchvision_reference["models"]) == sorted(REFERENCE_MODELS)


@pytest.mark.parametrize("name", REFERENCE_MODELS)
def test_state_dict_keys_and_shapes_match_torchvision(name, torchvision_reference):
    ref = torchvision_reference["models"][name]
    model = build(PRESETS[name], device="meta")
    ours = {k: list(t.shape) for k, t in model.state_dict().items()}
    assert list(ours) == list(ref["state_dict"]), "keys differ (or are in another order)"
    assert ours == ref["state_dict"]
    assert param_count(model) == ref["num_params"]


@pytest.mark.parametrize("name", REFERENCE_MODELS)
def test_logits_match_torchvision_under_reference_weights(name, torchvision_reference):
    ref = torchvision_reference["models"][name]
    model = build(PRESETS[name]).eval()
    model.load_state_dict(reference_state_dict(model), strict=True)
    with torch.no_grad():
        logits = model(reference_input()).double()
    first16 = torch.tensor(ref["logits_first16"], dtype=torch.float64)
    torch.testing.assert_close(logits[:, :16], first16, atol=1e-4, rtol=0)
    # per image: the sum of all 1000 logits; overall: the largest magnitude
    torch.testing.assert_close(
        logits.sum(dim=1), torch.tensor(ref["logits_sum"], dtype=torch.float64), atol=1e-3, rtol=0
    )
    torch.testing.assert_close(
        logits.abs().max(), torch.tensor(ref["logits_absmax"], dtype=torch.float64), atol=1e-4, rtol=0
    )


CUSTOM_SPECS = {
    "basic-A-cifar": ResNetSpec(block="basic", layers=(1, 1, 1), stem="cifar", width=8, shortcut="A"),
    "bottleneck-A": ResNetSpec(layers=(1, 2), width=8, shortcut="A"),
    "bottleneck-C-1x1": ResNetSpec(layers=(2, 1), width=8, shortcut="C", stride_on="1x1"),
    "bottleneck-D-deep": ResNetSpec(layers=(1, 1, 1), width=8, shortcut="D", stem="deep"),
    "basic-D": ResNetSpec(block="basic", layers=(1, 2), width=8, shortcut="D"),
    "preact-basic": ResNetSpec(block="basic", layers=(2, 2), width=8, preact=True, stem="cifar"),
    "preact-bottleneck-B": ResNetSpec(layers=(2, 2), width=8, preact=True, shortcut="B"),
    "preact-A": ResNetSpec(block="basic", layers=(1, 1), width=8, preact=True, shortcut="A"),
    "resnext-tiny": ResNetSpec(layers=(1, 1), width=8, groups=4, width_per_group=16),
    "one-stage": ResNetSpec(block="basic", layers=(3,), width=4, stem="cifar", num_classes=7),
    "eight-stages": ResNetSpec(block="basic", layers=(1,) * 8, width=2, stem="cifar"),
    "grayscale": ResNetSpec(block="basic", layers=(1, 1), width=8, in_channels=1, num_classes=2),
    "zero-init": ResNetSpec(block="basic", layers=(1, 1), width=8, zero_init_residual=True),
}


def _forward_backward(spec: ResNetSpec, size: int) -> tuple[torch.Tensor, nn.Module]:
    torch.manual_seed(0)
    model = build(spec).train()
    x = torch.randn(2, spec.in_channels, size, size)
    out = model(x)
    out.square().mean().backward()
    return out, model


@pytest.mark.parametrize("name", sorted(CUSTOM_SPECS))
def test_custom_spec_runs_forward_and_every_parameter_gets_a_gradient(name):
    spec = CUSTOM_SPECS[name]
    out, model = _forward_backward(spec, 32 if spec.stem == "cifar" else 64)
    assert out.shape == (2, spec.num_classes)
    assert torch.isfinite(out).all()
    for pname, p in model.named_parameters():
        assert p.grad is not None, pname
        if not spec.zero_init_residual:
            assert p.grad.abs().sum() > 0, f"{pname} got an all-zero gradient"


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_builds_and_runs(name):
    spec = PRESETS[name]
    if name == "resnet1202":  # 1202 layers: keep it, but on the meta device (shape check only)
        model = build(spec, device="meta")
        assert model(torch.empty(1, 3, 32, 32, device="meta")).shape == (1, 10)
        return
    out, model = _forward_backward(spec, 32)
    assert out.shape == (2, spec.num_classes)
    assert all(p.grad is not None for p in model.parameters())


def test_meta_build_allocates_no_storage():
    model = build(PRESETS["resnet152"], device="meta")
    assert all(p.device.type == "meta" for p in model.parameters())


def _shortcuts(model: nn.Module) -> list[nn.Module | None]:
    return [block.downsample for stage in model.stages() for block in stage]


def test_option_a_adds_no_parameters():
    b = build(PRESETS["resnet50"], device="meta")
    a = build(PRESETS["resnet50"].replace(shortcut="A"), device="meta")
    projections = sum(param_count(s) for s in _shortcuts(b) if s is not None)
    assert projections > 0
    assert param_count(a) == param_count(b) - projections
    assert all(s is None or isinstance(s, ZeroPadShortcut) for s in _shortcuts(a))


def test_cifar_resnet_has_option_a_and_6n_plus_2_weighted_layers():
    for n, name in [(3, "resnet20"), (5, "resnet32"), (9, "resnet56"), (200, "resnet1202")]:
        model = build(PRESETS[name], device="meta")
        weighted = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
        assert len(weighted) == 6 * n + 2
        assert [s.out_channels for s in model.stages()[0][0].modules() if isinstance(s, nn.Conv2d)] == [16, 16]


def test_option_c_puts_a_projection_on_every_block():
    model = build(PRESETS["resnet50"].replace(shortcut="C"), device="meta")
    shortcuts = _shortcuts(model)
    assert len(shortcuts) == sum(PRESETS["resnet50"].layers)
    assert all(isinstance(s, nn.Sequential) and isinstance(s[0], nn.Conv2d) for s in shortcuts)


def test_option_b_projects_only_where_the_shape_changes():
    model = build(PRESETS["resnet34"], device="meta")
    where = [(i, b) for i, st in enumerate(model.stages()) for b, blk in enumerate(st) if blk.downsample is not None]
    assert where == [(1, 0), (2, 0), (3, 0)]  # resnet34's layer1 keeps 64 channels at stride 1


def test_option_d_average_pools_before_a_stride_one_projection():
    model = build(PRESETS["resnet50"].replace(shortcut="D"), device="meta")
    ds = model.layer2[0].downsample
    assert isinstance(ds[0], nn.AvgPool2d) and ds[0].stride == 2
    assert ds[1].stride == (1, 1) and ds[1].kernel_size == (1, 1)
    assert isinstance(model.layer1[0].downsample[0], nn.Identity)  # channels change, size does not


def test_stride_on_moves_the_stride_between_the_1x1_and_the_3x3():
    v15 = build(PRESETS["resnet50"], device="meta").layer2[0]
    v1 = build(PRESETS["resnet50"].replace(stride_on="1x1"), device="meta").layer2[0]
    assert (v15.conv1.stride, v15.conv2.stride) == ((1, 1), (2, 2))
    assert (v1.conv1.stride, v1.conv2.stride) == ((2, 2), (1, 1))
    x = torch.empty(1, 3, 224, 224, device="meta")
    assert build(PRESETS["resnet50"].replace(stride_on="1x1"), device="meta")(x).shape == (1, 1000)


def _call_order(model: nn.Module, block: nn.Module, x: torch.Tensor) -> list[str]:
    names = {m: n for n, m in block.named_children()}
    order: list[str] = []
    hooks = [m.register_forward_hook(lambda m, i, o: order.append(names[m])) for m in names]
    try:
        model(x)
    finally:
        for h in hooks:
            h.remove()
    return order


def test_preact_puts_bn_and_relu_before_each_conv():
    post = build(ResNetSpec(block="basic", layers=(1,), width=4, stem="cifar"), device="meta")
    pre = build(ResNetSpec(block="basic", layers=(1,), width=4, stem="cifar", preact=True), device="meta")
    x = torch.empty(1, 3, 8, 8, device="meta")
    assert _call_order(post, post.layer1[0], x) == ["conv1", "bn1", "relu1", "conv2", "bn2", "add", "relu2"]
    assert _call_order(pre, pre.layer1[0], x) == ["bn1", "relu1", "conv1", "bn2", "relu2", "conv2", "add"]
    assert isinstance(pre.final_bn, nn.BatchNorm2d)
    # the stem is the conv alone: the first block's BN → ReLU follows it directly, not a second pair
    assert (
        isinstance(post.bn1, nn.BatchNorm2d) and isinstance(pre.bn1, nn.Identity) and isinstance(pre.relu, nn.Identity)
    )
    leaves = {m: n for n, m in pre.named_modules() if not list(m.children()) and not isinstance(m, nn.Identity)}
    order: list[str] = []
    hooks = [m.register_forward_hook(lambda m, i, o: order.append(leaves[m])) for m in leaves]
    pre(x)
    for h in hooks:
        h.remove()
    assert order[:3] == ["conv1", "layer1.0.bn1", "layer1.0.relu1"]


def test_deep_stem_has_three_3x3_convs():
    model = build(PRESETS["resnet50"].replace(stem="deep"), device="meta")
    convs = [m for m in model.conv1.modules() if isinstance(m, nn.Conv2d)]
    assert [c.kernel_size for c in convs] == [(3, 3)] * 3
    assert [c.stride for c in convs] == [(2, 2), (1, 1), (1, 1)]
    assert convs[-1].out_channels == 64


def test_zero_init_residual_makes_every_block_an_identity_at_start():
    spec = ResNetSpec(block="basic", layers=(2,), width=8, stem="cifar", zero_init_residual=True)
    model = build(spec).eval()
    assert all(blk.bn2.weight.abs().sum() == 0 for blk in model.layer1)
    x = torch.relu(torch.randn(1, 8, 8, 8))  # a post-ReLU input, as the stem produces
    with torch.no_grad():
        assert torch.equal(model.layer1(x), x)


def test_wide_and_resnext_bottleneck_widths():
    assert build(PRESETS["wide_resnet50_2"], device="meta").layer1[0].conv2.out_channels == 128
    conv = build(PRESETS["resnext101_32x8d"], device="meta").layer1[0].conv2
    assert (conv.groups, conv.out_channels) == (32, 256)
