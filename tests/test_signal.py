"""Signal propagation at initialisation: per-layer arrays of the right length, finite, reproducible, and
what they show about plain and residual nets (each a seeded measurement, so the same every run)."""

from __future__ import annotations

import math

import pytest
import torch

from resnet_core import PRESETS, analyze, build
from resnet_core.signal import (
    calibrate_batchnorm,
    cifar_net,
    depth_sweep,
    lag1_autocorrelation,
    normal_inputs,
    propagation,
    shattering,
)

pytestmark = pytest.mark.usefixtures("one_cpu_thread")


def _finite(values) -> bool:
    return all(math.isfinite(v) for v in values)


@pytest.mark.parametrize(
    ("name", "size", "shortcut_convs"), [("plain20", 32, 0), ("resnet20", 32, 0), ("resnet18", 64, 3)]
)
def test_propagation_arrays_have_one_entry_per_block_and_per_conv(name, size, shortcut_convs):
    spec = PRESETS[name]
    a = analyze(spec, size)
    p = propagation(spec, size, batch=4)
    assert p.names == ("stem", *(b.name for b in a.blocks))
    assert len(p.depth) == len(p.forward_std) == len(p.backward_std) == len(a.blocks) + 1
    convs = [r.name for r in a.layers if r.kind == "Conv2d"]
    assert p.conv_names == tuple(convs)
    assert len(p.conv_depth) == len(p.conv_path) == len(p.grad_norm) == len(p.weight_norm) == len(convs)
    assert p.conv_path.count("shortcut") == shortcut_convs
    # depth: the stem's conv is layer 1; each block's output sits after all its convs; the fc is not counted
    assert p.depth[0] == 1 and list(p.depth) == sorted(p.depth) and p.depth[-1] == a.weighted_depth - 1
    assert [d for d, path in zip(p.conv_depth, p.conv_path, strict=True) if path == "main"] == list(
        range(1, a.weighted_depth)
    )
    for values in (p.forward_std, p.backward_std, p.grad_norm, p.weight_norm):
        assert _finite(values) and min(values) > 0
    assert math.isfinite(p.loss)


def test_propagation_is_reproducible_and_matches_plain_autograd():
    spec = PRESETS["plain20"]
    first, again = propagation(spec, 32, batch=4, seed=3), propagation(spec, 32, batch=4, seed=3)
    assert first == again
    # The first conv's gradient norm, recomputed here with the same seeded net, inputs and labels.
    model = build_seeded(spec, 3)
    x = normal_inputs((4, 3, 32, 32), 4, torch.device("cpu"))
    y = torch.randint(0, 10, (4,), generator=torch.Generator().manual_seed(5))
    torch.nn.functional.cross_entropy(model(x), y).backward()
    assert first.grad_norm[0] == pytest.approx(float(model.conv1.weight.grad.norm()), rel=1e-5)


def build_seeded(spec, seed):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build(spec).train()


def test_plain56_gradients_do_not_vanish_at_initialisation():
    """§4.1: with BN, "the backward propagated gradients exhibit healthy norms" in the plain nets.
    Measured: the first conv's weight gradient is not smaller than the last one's."""
    p = propagation(PRESETS["plain56"], 32, batch=16)
    main = [g for g, path in zip(p.grad_norm, p.conv_path, strict=True) if path == "main"]
    assert main[0] >= main[-1] > 0
    assert min(p.forward_std) > 0.1  # BN keeps every block's output from collapsing


def test_shattering_has_one_correlation_per_block_plus_the_logits():
    spec = PRESETS["resnet20"]
    a = analyze(spec, 32)
    s = shattering(spec, 32, points=16, readouts=4)
    assert s.names == ("stem", *(b.name for b in a.blocks), "fc")
    assert len(s.depth) == len(s.correlation) == len(a.blocks) + 2
    assert s.depth[-1] == a.weighted_depth
    assert _finite(s.correlation) and all(-1 <= c <= 1 for c in s.correlation)


def test_gradients_shatter_with_depth_in_the_plain_net_and_much_less_with_shortcuts():
    """Balduzzi et al. 2017: correlation decays with depth in plain nets, far more slowly in resnets."""
    plain = shattering(PRESETS["plain20"], 32, points=32)
    residual = shattering(PRESETS["resnet20"], 32, points=32)
    assert plain.correlation[0] > 0.8 and residual.correlation[0] > 0.8  # near the input: smooth
    assert plain.correlation[-1] < min(0.3, plain.correlation[0] - 0.5)  # plain-20's logits: nearly white noise
    assert residual.correlation[-1] > plain.correlation[-1] + 0.3


def test_lag1_autocorrelation_of_known_series():
    t = torch.linspace(0, 1, 200, dtype=torch.float64)
    smooth = torch.sin(2 * math.pi * t)
    alternating = torch.tensor([(-1.0) ** i for i in range(200)], dtype=torch.float64)
    noise = torch.randn(20000, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    got = lag1_autocorrelation(torch.stack([smooth, alternating], dim=1))
    assert got[0] > 0.99 and got[1] == pytest.approx(-1.0)
    assert abs(float(lag1_autocorrelation(noise[:, None])[0])) < 0.03


def test_calibrated_batchnorm_normalises_the_calibration_batch_in_eval_mode():
    model = build(PRESETS["resnet20"])
    x = 3 + 2 * normal_inputs((64, 3, 32, 32), 0, torch.device("cpu"))
    calibrate_batchnorm(model, x)
    assert not model.training and model.bn1.momentum == 0.1
    seen = {}

    def keep(_m, _i, out):  # read before the in-place ReLU that follows; return None (keep the output)
        seen["out"] = out.detach().clone()

    model.bn1.register_forward_hook(keep)
    with torch.no_grad():
        model(x)
    out = seen["out"]
    assert out.mean(dim=(0, 2, 3)).abs().max() < 1e-4
    assert (out.var(dim=(0, 2, 3), unbiased=False) - 1).abs().max() < 1e-3


def test_depth_sweep_reports_progress_and_one_point_per_net():
    calls = []
    points = depth_sweep((8, 14), batch=4, points=8, progress=lambda *a: calls.append(a))
    assert [(p.depth, p.shortcut) for p in points] == [(8, "none"), (8, "A"), (14, "none"), (14, "A")]
    assert calls == [(0, 4, "plain8"), (1, 4, "resnet8"), (2, 4, "plain14"), (3, 4, "resnet14"), (4, 4, "done")]
    for p in points:
        assert p.propagation.spec == p.shattering.spec == cifar_net(p.depth, p.shortcut)
        assert p.shattering.depth[-1] == p.depth and math.isfinite(p.output_correlation)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: cifar_net(21, "A"), r"6n \+ 2 layers"),
        (lambda: shattering(PRESETS["resnet20"], 32, points=2), "points=2 is not allowed"),
        (lambda: shattering(PRESETS["resnet20"], 32, step=0), "step=0 is not allowed"),
        (lambda: propagation(PRESETS["resnet20"], 32, batch=1), "batch=1 is not allowed"),
    ],
)
def test_bad_arguments_say_what_is_allowed(call, message):
    with pytest.raises(ValueError, match=message):
        call()
