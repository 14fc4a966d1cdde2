"""Signal propagation at initialisation: what a plain and a residual net do to a signal before training.

Two measurements on real tensors, each from a net built with a fixed seed (torchvision's
initialisation, ``resnet_core.model``) and inputs drawn from a standard normal distribution per pixel
(the scale of normalised images), all seeded:

``propagation(spec)`` — one training step's forward and backward pass, BatchNorm in training mode as
    in training, loss = cross-entropy (mean over the batch) against fixed random labels:

    * ``forward_std``: std of each block's output (and the stem's) over every element of the batch;
    * ``backward_std``: std of ∂L/∂(that output);
    * ``grad_norm``: ‖∂L/∂W‖ (Frobenius) of every convolution's weight, in forward order.

    He et al. 2015, §4.1, on the plain nets: "These plain networks are trained with BN, which ensures
    forward propagated signals to have non-zero variances. We also verify that the backward propagated
    gradients exhibit healthy norms with BN." — so the paper argues the plain nets' trouble is not
    vanishing gradients. These arrays are that check, live.

``shattering(spec)`` — Balduzzi et al. 2017 (arXiv:1702.08591), "The Shattered Gradients Problem":
    they feed a 1-D input x through a net with a scalar output f, take the gradient df/dx at 256
    equally spaced inputs on [−2, 2], and show that its correlation between neighbouring inputs decays
    with depth, exponentially in plain nets and far more slowly with shortcuts (their Fig. 1–2 and
    §3). Here the image net is restricted to a line in input space, which makes it exactly such a
    1-D function:

    * the line: x(t) = x₀ + t·d, with x₀ and d drawn N(0, 1) per pixel, at ``points`` values of t
      centred on 0 and ``step`` apart (default 4/255 ≈ 0.0157 of a pixel's standard deviation: the
      spacing of the paper's 256 points on [−2, 2]);
    * the scalar outputs: for the stem, every block and the logits, ``readouts`` fixed random unit
      readouts r of that output, f(x) = ⟨r, h(x)⟩;
    * the gradient along the line: g(t) = df(x(t))/dt = ⟨∇ₓf(x(t)), d⟩, computed exactly by
      forward-mode differentiation (one forward pass carries every block's derivative along d);
    * ``correlation``: the lag-1 autocorrelation of g over the line (the Pearson correlation of
      g(t₁ … t_{n−1}) with g(t₂ … t_n)), averaged over the readouts — 1 for a smooth gradient,
      about 0 for white noise.

    BatchNorm: each point's gradient must be its own, so BatchNorm normalises with statistics taken
    from a separate calibration batch of ``calibration`` N(0, 1) inputs in training mode and then
    frozen (eval mode). That is the normalisation training applies, without coupling the points.

Every function returns plain frozen dataclasses whose per-layer arrays are tuples of floats, in
network order, with ``depth`` (weighted layers from the input, the paper's count) for the x axis.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.autograd.forward_ad as fwad
import torch.nn.functional as F
from torch import Tensor, nn

from resnet_core.analysis import Analysis, analyze
from resnet_core.model import ResNet, build
from resnet_core.runtime import resolve_device
from resnet_core.selection import normalize_input_size
from resnet_core.spec import PRESETS, ResNetSpec, default_input_size, describe

Progress = Callable[[int, int, str], None]  # (done, total, what is being measured)


@dataclass(frozen=True)
class Propagation:
    """One forward and backward pass at initialisation (see the module docstring)."""

    label: str
    spec: ResNetSpec
    input_size: tuple[int, int]
    batch: int
    seed: int
    loss: float
    names: tuple[str, ...]  # "stem", "layer1.0", …: the outputs measured
    depth: tuple[int, ...]  # weighted layers from the input to each output
    forward_std: tuple[float, ...]
    backward_std: tuple[float, ...]  # std of ∂L/∂(output)
    conv_names: tuple[str, ...]  # every Conv2d, in forward order ("conv1", "layer1.0.conv1", …)
    conv_depth: tuple[int, ...]  # its weighted depth (a shortcut projection: the depth where it runs)
    conv_path: tuple[str, ...]  # "main" or "shortcut"
    grad_norm: tuple[float, ...]  # ‖∂L/∂W‖_F
    weight_norm: tuple[float, ...]  # ‖W‖_F, for scale


@dataclass(frozen=True)
class Shattering:
    """Gradient correlation between neighbouring inputs on a line (see the module docstring)."""

    label: str
    spec: ResNetSpec
    input_size: tuple[int, int]
    points: int
    step: float
    readouts: int
    seed: int
    names: tuple[str, ...]  # "stem", "layer1.0", …, "fc"
    depth: tuple[int, ...]
    correlation: tuple[float, ...]  # lag-1 autocorrelation of the gradient along the line, mean over readouts


def _depths(a: Analysis) -> dict[str, int]:
    """Weighted depth (convs and linears off the shortcut, counted so far) at every record's output."""
    depth, out = 0, {}
    for r in a.layers:
        if r.kind in ("Conv2d", "Linear") and r.path != "shortcut":
            depth += 1
        out[r.name] = depth
    return out


def _outputs(a: Analysis) -> list[tuple[str, str, int]]:
    """(label, module name, depth) of the stem's output and every block's output, in order."""
    depths = _depths(a)
    stem_last = a.stage("stem").layers[-1].name
    rows = [("stem", stem_last, depths[stem_last])]
    rows += [(b.name, b.name, depths[b.layers[-1].name]) for b in a.blocks]
    return rows


def seeded_model(spec: ResNetSpec, seed: int, device: torch.device) -> ResNet:
    """``build(spec)`` with the global generator seeded (and restored after), ReLUs not in place."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = build(spec)  # on the CPU, so the weights are the same on every device
    for m in model.modules():
        if isinstance(m, nn.ReLU):
            m.inplace = False  # hooks read block outputs; nothing may overwrite them afterwards
    return model.to(device)


def normal_inputs(shape: tuple[int, ...], seed: int, device: torch.device) -> Tensor:
    """N(0, 1) values of ``shape`` from a CPU generator seeded with ``seed`` (the same on every device)."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=g).to(device)


def _hw(spec: ResNetSpec, input_size: int | tuple[int, int] | None) -> tuple[int, int]:
    return normalize_input_size(default_input_size(spec) if input_size is None else input_size)


def propagation(
    spec: ResNetSpec,
    input_size: int | tuple[int, int] | None = None,
    batch: int = 32,
    seed: int = 0,
    device: str = "cpu",
    label: str | None = None,
) -> Propagation:
    """Forward std, backward std and weight-gradient norms of ``spec`` at initialisation (one pass)."""
    _check_count("batch", batch, 2, 1024)  # BatchNorm in training mode needs two values per channel
    hw = _hw(spec, input_size)
    a = analyze(spec, hw)
    dev = resolve_device(device)
    model = seeded_model(spec, seed, dev).train()
    modules = dict(model.named_modules())
    x = normal_inputs((batch, spec.in_channels, *hw), seed + 1, dev)
    y = torch.randint(0, spec.num_classes, (batch,), generator=torch.Generator().manual_seed(seed + 2)).to(dev)
    outputs = _outputs(a)
    forward: dict[str, float] = {}
    backward: dict[str, float] = {}

    def capture(name: str) -> Callable[..., None]:
        def hook(_m: nn.Module, _i: Any, out: Tensor) -> None:
            forward[name] = out.detach().float().std().item()
            out.register_hook(lambda g: backward.__setitem__(name, g.detach().float().std().item()))

        return hook

    handles = [modules[module].register_forward_hook(capture(name)) for name, module, _ in outputs]
    try:
        loss = F.cross_entropy(model(x).float(), y)
        loss.backward()
    finally:
        for h in handles:
            h.remove()
    depths = _depths(a)
    convs = [r for r in a.layers if r.kind == "Conv2d"]
    grads = [modules[r.name].weight.grad for r in convs]
    return Propagation(
        label=label or describe(spec),
        spec=spec,
        input_size=hw,
        batch=batch,
        seed=seed,
        loss=loss.item(),
        names=tuple(name for name, _, _ in outputs),
        depth=tuple(d for _, _, d in outputs),
        forward_std=tuple(forward[name] for name, _, _ in outputs),
        backward_std=tuple(backward[name] for name, _, _ in outputs),
        conv_names=tuple(r.name for r in convs),
        conv_depth=tuple(depths[r.name] for r in convs),
        conv_path=tuple("shortcut" if r.path == "shortcut" else "main" for r in convs),
        grad_norm=tuple(float(g.norm()) if g is not None else 0.0 for g in grads),
        weight_norm=tuple(float(modules[r.name].weight.detach().norm()) for r in convs),
    )


def calibrate_batchnorm(model: nn.Module, x: Tensor) -> nn.Module:
    """Set every BatchNorm's running statistics to those of batch ``x`` (one training-mode pass, no
    gradients, cumulative average), then put the model in eval mode: each input is then normalised as
    in training, independently of the others."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative: after one batch, exactly that batch's statistics
    model.train()
    with torch.no_grad():
        model(x)
    for m, momentum in zip(norms, momenta, strict=True):
        m.momentum = momentum
    return model.eval()


def lag1_autocorrelation(series: Tensor) -> Tensor:
    """Pearson correlation of ``series[:-1]`` with ``series[1:]``, per column of a (points, k) tensor."""
    a, b = series[:-1], series[1:]
    a = a - a.mean(dim=0)
    b = b - b.mean(dim=0)
    return (a * b).sum(dim=0) / (a.norm(dim=0) * b.norm(dim=0)).clamp_min(torch.finfo(series.dtype).tiny)


def shattering(
    spec: ResNetSpec,
    input_size: int | tuple[int, int] | None = None,
    points: int = 64,
    step: float = 4 / 255,
    readouts: int = 16,
    calibration: int = 64,
    seed: int = 0,
    device: str = "cpu",
    label: str | None = None,
) -> Shattering:
    """The correlation of the input gradient between neighbouring points of a line, at every block."""
    _check_count("points", points, 8, 4096)
    _check_count("readouts", readouts, 1, 256)
    _check_count("calibration", calibration, 2, 1024)
    if not isinstance(step, (int, float)) or isinstance(step, bool) or not 0 < step <= 1:
        raise ValueError(f"step={step!r} is not allowed: a number above 0 and at most 1")
    hw = _hw(spec, input_size)
    a = analyze(spec, hw)
    dev = resolve_device(device)
    model = seeded_model(spec, seed, dev)
    shape = (spec.in_channels, *hw)
    calibrate_batchnorm(model, normal_inputs((calibration, *shape), seed + 3, dev))
    x0 = normal_inputs((1, *shape), seed + 4, dev)
    d = normal_inputs((1, *shape), seed + 5, dev)
    t = ((torch.arange(points, device=dev) - (points - 1) / 2) * step).view(points, 1, 1, 1)
    line = x0 + t * d  # (points, C, H, W)
    outputs = [*_outputs(a), ("fc", "fc", a.weighted_depth)]
    modules = dict(model.named_modules())
    tangents: dict[str, Tensor] = {}

    def capture(name: str) -> Callable[..., None]:
        def hook(_m: nn.Module, _i: Any, out: Tensor) -> None:
            tangents[name] = fwad.unpack_dual(out).tangent.flatten(1)  # (points, elements): dh/dt

        return hook

    handles = [modules[module].register_forward_hook(capture(name)) for name, module, _ in outputs]
    try:
        with torch.no_grad(), fwad.dual_level():
            model(fwad.make_dual(line, d.expand_as(line)))
    finally:
        for h in handles:
            h.remove()
    g = torch.Generator().manual_seed(seed + 6)
    correlation = []
    for name, _, _ in outputs:
        tangent = tangents[name].double()
        r = torch.randn(readouts, tangent.shape[1], generator=g, dtype=torch.float64).to(dev)
        r = r / r.norm(dim=1, keepdim=True)
        series = tangent @ r.T  # (points, readouts): g(t) = ⟨r, dh(x(t))/dt⟩ for each readout
        correlation.append(float(lag1_autocorrelation(series).mean()))
    return Shattering(
        label=label or describe(spec),
        spec=spec,
        input_size=hw,
        points=points,
        step=float(step),
        readouts=readouts,
        seed=seed,
        names=tuple(name for name, _, _ in outputs),
        depth=tuple(dep for _, _, dep in outputs),
        correlation=tuple(correlation),
    )


def _check_count(name: str, value: Any, lo: int, hi: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise ValueError(f"{name}={value!r} is not allowed: an integer from {lo} to {hi}")


# -- a sweep over depth ---------------------------------------------------------------------------


def cifar_net(depth: int, shortcut: str) -> ResNetSpec:
    """The §4.2 CIFAR net of ``depth`` = 6n + 2 weighted layers, with ``shortcut`` ("none" = plain)."""
    if not isinstance(depth, int) or isinstance(depth, bool) or depth < 8 or (depth - 2) % 6:
        raise ValueError(f"depth={depth!r} is not allowed: the CIFAR nets have 6n + 2 layers (8, 14, 20, 26, …)")
    n = (depth - 2) // 6
    return PRESETS["resnet20"].replace(layers=(n, n, n), shortcut=shortcut)


@dataclass(frozen=True)
class SweepPoint:
    depth: int
    shortcut: str
    propagation: Propagation
    shattering: Shattering

    @property
    def output_correlation(self) -> float:
        """The logits' gradient correlation (the last entry): one number per net, for a depth axis."""
        return self.shattering.correlation[-1]


def depth_sweep(
    depths: tuple[int, ...] = (20, 56, 110),
    shortcuts: tuple[str, ...] = ("none", "A"),
    batch: int = 32,
    points: int = 64,
    seed: int = 0,
    device: str = "cpu",
    progress: Progress | None = None,
) -> tuple[SweepPoint, ...]:
    """``propagation`` and ``shattering`` of the CIFAR net at each depth and shortcut (plain: "none")."""
    specs = [(d, s, cifar_net(d, s)) for d in depths for s in shortcuts]  # all checked before any work
    out = []
    for i, (d, s, spec) in enumerate(specs):
        label = f"{'plain' if s == 'none' else 'resnet'}{d}"
        if progress is not None:
            progress(i, len(specs), label)
        out.append(
            SweepPoint(
                d,
                s,
                propagation(spec, 32, batch=batch, seed=seed, device=device, label=label),
                shattering(spec, 32, points=points, seed=seed, device=device, label=label),
            )
        )
    if progress is not None:
        progress(len(specs), len(specs), "done")
    return tuple(out)
