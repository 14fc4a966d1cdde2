"""The effective receptive field (Luo, Li, Urtasun & Zemel 2016, arXiv:1701.04128).

The theoretical field (``resnet_core.receptive_field``) is every input pixel a unit *can* see. Luo et
al. measure how much each pixel actually moves it: the gradient of the unit with respect to the
input, whose magnitude they argue falls off roughly like a Gaussian from the centre, so that the
effective field fills only a fraction of the theoretical one. ``effective_receptive_field``:

* y = the sum over channels of ``layer``'s output at ``unit`` (row, col; default the centre of the
  map), for each of ``samples`` inputs drawn N(0, 1) per pixel (or the one image given);
* the heatmap = |∂y/∂x| summed over the input's channels, averaged over the inputs, divided by its
  total: an (H, W) array over the input that sums to 1;
* ``half_side_95``: the smallest r such that the square of pixels within Chebyshev distance r of the
  theoretical field's centre (a (2r + 1)-pixel square for a whole-pixel centre) holds at least 95 % of
  the mass; ``side_95`` = 2r + 1, to set beside the theoretical ``rf`` (the side of the square the
  unit can see at all; the analysis's number, not clipped to the image).

Weights: at initialisation (the project's ``build`` with a fixed seed; BatchNorm statistics from a
calibration batch of N(0, 1) inputs, then frozen, so each input's gradient is its own), or a model
given with its weights (its own BatchNorm statistics, eval mode). ``weights`` says which was used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from resnet_core.analysis import analyze
from resnet_core.receptive_field import Field, computed_span
from resnet_core.runtime import resolve_device
from resnet_core.selection import normalize_input_size
from resnet_core.signal import calibrate_batchnorm, normal_inputs, seeded_model
from resnet_core.spec import ResNetSpec, default_input_size

MASS = 0.95


@dataclass(frozen=True)
class EffectiveField:
    """A unit's effective receptive field beside its theoretical one."""

    layer: str
    unit: tuple[int, int]  # (row, col) in the layer's output map
    input_size: tuple[int, int]
    samples: int
    weights: str  # which weights, in words
    heatmap: np.ndarray  # (H, W) float64, sums to 1
    centre: tuple[float, float]  # (row, col) of the theoretical field's centre in input pixels
    half_side_95: float  # Chebyshev radius around ``centre`` holding MASS of the heatmap
    rf: int  # theoretical field side along the rows (the analysis's rf)
    rf_w: int  # … and along the columns
    span: tuple[tuple[int, int], tuple[int, int]]  # the theoretical field clipped to the image
    mass_in_theoretical: float  # share of the heatmap inside ``span`` (1 up to rounding: none can lie outside)

    @property
    def side_95(self) -> float:
        """Side, in pixels, of the square holding 95 % of the mass: 2 · half_side_95 + 1."""
        return 2 * self.half_side_95 + 1

    @property
    def theoretical_half_side(self) -> float:
        """(rf − 1) / 2: the theoretical field as a Chebyshev radius around the same centre."""
        return (max(self.rf, self.rf_w) - 1) / 2


def half_side(heatmap: np.ndarray, centre: tuple[float, float], mass: float = MASS) -> float:
    """The smallest Chebyshev distance r from ``centre`` (row, col) within which ``mass`` of ``heatmap`` lies."""
    rows, cols = np.indices(heatmap.shape)
    distance = np.maximum(np.abs(rows - centre[0]), np.abs(cols - centre[1])).ravel()
    order = np.argsort(distance, kind="stable")
    cumulative = np.cumsum(heatmap.ravel()[order])
    # The first distance at which the mass reaches the share (ties: the whole ring counts at once).
    i = int(np.searchsorted(cumulative, mass * cumulative[-1] - 1e-12))
    return float(distance[order][min(i, len(order) - 1)])


def effective_receptive_field(
    spec: ResNetSpec,
    layer: str,
    input_size: int | tuple[int, int] | None = None,
    unit: tuple[int, int] | None = None,
    samples: int = 16,
    image: Tensor | None = None,
    model: nn.Module | None = None,
    weights: str | None = None,
    seed: int = 0,
    calibration: int = 64,
    device: str = "cpu",
) -> EffectiveField:
    """The effective field of ``unit`` of ``layer`` (a module name of the analysis, e.g. "layer3.2").

    ``image``: a (C, H, W) or (1, C, H, W) input to use instead of ``samples`` random ones (then
    ``input_size`` is its size). ``model``: a built model of ``spec`` with its weights (not modified;
    ``weights`` describes them); without it, the net at initialisation with ``seed``.
    """
    if image is not None:
        image = image if image.dim() == 4 else image.unsqueeze(0)
        if image.shape[0] != 1 or image.shape[1] != spec.in_channels:
            raise ValueError(f"image must be ({spec.in_channels}, H, W); got {tuple(image.shape)}")
        hw = (int(image.shape[2]), int(image.shape[3]))
    else:
        hw = normalize_input_size(default_input_size(spec) if input_size is None else input_size)
        if not isinstance(samples, int) or isinstance(samples, bool) or not 1 <= samples <= 256:
            raise ValueError(f"samples={samples!r} is not allowed: an integer from 1 to 256")
    a = analyze(spec, hw)
    try:
        record = a.layer(layer)
    except KeyError:
        blocks = {b.name: b for b in a.blocks}
        if layer not in blocks:
            raise ValueError(f"layer={layer!r} is not a layer or block of this network") from None
        record = blocks[layer].layers[-1]  # a block's output is its last record's
    if len(record.output_shape) != 4:
        raise ValueError(
            f"layer={layer!r} has no spatial output ({record.output_shape}); choose a conv, block or stage"
        )
    oh, ow = record.output_shape[2:]
    if unit is None:
        unit = (oh // 2, ow // 2)
    if not (0 <= unit[0] < oh and 0 <= unit[1] < ow):
        raise ValueError(f"unit={unit!r} is outside {layer}'s {oh}×{ow} output map")

    dev = resolve_device(device)
    if model is None:
        net = seeded_model(spec, seed, dev)
        calibrate_batchnorm(net, normal_inputs((calibration, spec.in_channels, *hw), seed + 3, dev))
        described = f"random initialisation (seed {seed}), BatchNorm statistics from {calibration} N(0, 1) inputs"
    else:
        net = model
        described = weights or "the given weights"
    was_training = net.training
    net.eval()
    x = image.to(dev).float() if image is not None else normal_inputs((samples, spec.in_channels, *hw), seed + 7, dev)
    x = x.clone().requires_grad_(True)
    captured: dict[str, Tensor] = {}

    def hook(_m: nn.Module, _i: Any, out: Tensor) -> None:
        captured["out"] = out

    module = dict(net.named_modules())[record.name]
    handle = module.register_forward_hook(hook)
    try:
        with torch.enable_grad():
            net(x)
            y = captured["out"][
                :, :, unit[0], unit[1]
            ].sum()  # every input's unit: the inputs are independent in eval mode
            (grad,) = torch.autograd.grad(y, x)
    finally:
        handle.remove()
        net.train(was_training)
    heat = grad.detach().abs().sum(dim=1).mean(dim=0).double().cpu().numpy()  # (H, W)
    total = heat.sum()
    heat = heat / total if total > 0 else np.full(heat.shape, 1.0 / heat.size)

    row_field = Field(record.rf, record.jump, record.padding)
    col_field = Field(record.rf_w, record.jump_w, record.padding_w)
    centre = (sum(row_field.span(unit[0])) / 2, sum(col_field.span(unit[1])) / 2)
    span = computed_span(record, unit, hw)
    inside = heat[span[0][0] : span[0][1] + 1, span[1][0] : span[1][1] + 1].sum()
    return EffectiveField(
        layer=layer,
        unit=unit,
        input_size=hw,
        samples=1 if image is not None else samples,
        weights=described,
        heatmap=heat,
        centre=centre,
        half_side_95=half_side(heat, centre),
        rf=record.rf,
        rf_w=record.rf_w,
        span=span,
        mass_in_theoretical=float(inside),
    )
