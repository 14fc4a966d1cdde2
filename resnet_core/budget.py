"""Memory budgets before work: how much a forward pass or a gradient measurement will take, in closed
form from the analysis, and a refusal that says what fits when it is more than one job may have.

A server shares its memory between everyone: one "Time batch 4096" of resnet18 (≈ 34 GB) or one
gradient measurement of resnet50 at 2,500 px (> 24 GB) would take it all. So before the work:

* ``inference_estimate(analysis, batch, dtype)``: the weights (float32, as ``build`` makes them) plus
  ``INFERENCE_FACTOR`` × the activations of one image (``Totals.activation_bytes``: every layer's
  output, in the dtype the pass runs in) × the batch. Under ``torch.inference_mode`` a layer's output
  is freed once the next layer has read it, so the peak is a fraction of the sum of all outputs;
  the factor is that fraction as measured here (``benchmarks/bench_memory.py``: peak RSS growth of a
  process that has run a small pass before, for resnet18/50/101, resnext50 and resnet56 at batch
  1–64), rounded up to cover every case measured.
* ``gradient_estimate(analysis, layer, batch)``: the measurement of ``receptive_field``
  (``measure_receptive_fields``) converts the network to float64 and runs forward to ``layer`` and
  back. Weights: 8 bytes per parameter, and 8 more for the gradient of each parameter the pass
  reaches; activations: ``GRADIENT_FACTOR`` × what a convolution works on for its backward pass,
  its input unfolded into columns (input elements × kernel area, float64), summed over the
  convolutions up to ``layer``, × the batch. Measured peaks follow that sum (0.34–1.09 of it over
  resnet18/50/56 at 64–448 px, two runs; hence 1.2) far more closely than the sum of the layers'
  outputs (0.35–2.6).
* The timm family's fields enter through the analysis: dilation keeps the resolution (resnet50 at
  output stride 8 has 2.3× the activations of resnet50), SE/ECA's side branch and the channel scaling
  are layers with outputs like any other, GroupNorm and SiLU are shape-preserving layers. Measured
  (``bench_memory.py --family``: resnet50_os8/os16, seresnet50, ecaresnet50t, resnetaa50d,
  resnetv2_50, GroupNorm and SiLU resnet50s) the peaks were 0.53–0.78 of the inference estimates
  and 0.81–0.88 of the gradient ones, so the two factors hold for them; ``tests/test_budget.py``
  measures resnet50_os8.
* ``job_budget()``: what one job may take, ``$RESNET_EXPLORER_JOB_MB`` MiB, default 1024: a 2 GB
  server holds Python, torch and Streamlit (≈ 450 MB), the caches (``resnet_core.memo``, 384 MB)
  and one job at a time (``runtime``'s device lock).
* ``check_inference`` / ``check_gradient`` raise ``OverBudget`` (a ``ValueError``) with the
  estimate, the budget and what fits: the largest batch, or the largest input side.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from resnet_core.analysis import Analysis, analyze
from resnet_core.memo import env_mib
from resnet_core.selection import MAX_SIDE, normalize_input_size
from resnet_core.spec import ResNetSpec
from resnet_core.units import byte_size

JOB_ENV = "RESNET_EXPLORER_JOB_MB"
DEFAULT_JOB_MB = 1024
#: Peak activation memory of an inference pass ÷ the sum of its layers' outputs, batch for batch:
#: 0.04–0.19 measured by benchmarks/bench_memory.py (resnet18/50/101, resnext50, resnet56; batch 1–64;
#: 32–512 px), rounded up to the largest.
INFERENCE_FACTOR = 0.2
#: The same for the gradient measurement: peak memory above the weights ÷ the float64 columns of the
#: convolutions up to the measured layer (input elements × kernel area; see the module docstring).
GRADIENT_FACTOR = 1.2


def job_budget() -> int:
    """Bytes one job may take: ``$RESNET_EXPLORER_JOB_MB`` MiB, or ``DEFAULT_JOB_MB``."""
    return env_mib(JOB_ENV, DEFAULT_JOB_MB)


class OverBudget(ValueError):
    """A job whose estimated memory is more than one job may take; the message says what fits."""


@dataclass(frozen=True)
class Estimate:
    """Bytes a job is estimated to take: ``weights`` + ``activations`` = ``total``."""

    weights: int
    activations: int

    @property
    def total(self) -> int:
        return self.weights + self.activations


def _dtype_bytes(dtype: str | torch.dtype) -> int:
    if isinstance(dtype, str):
        dtype = getattr(torch, dtype)
    return torch.empty((), dtype=dtype).element_size()


def inference_estimate(analysis: Analysis, batch: int, dtype: str | torch.dtype = "float32") -> Estimate:
    """The peak memory of one inference pass of ``batch`` images (see the module docstring)."""
    per_image = analysis.totals.activation_bytes // analysis.dtype_bytes * _dtype_bytes(dtype)
    _, c, h, w = analysis.input_shape
    return Estimate(
        weights=analysis.totals.params * 4,
        activations=round(INFERENCE_FACTOR * per_image * batch) + batch * c * h * w * 4,  # + the float32 input
    )


def gradient_estimate(analysis: Analysis, layer: str | None = None, batch: int = 1) -> Estimate:
    """The peak memory of ``measure_receptive_fields`` up to ``layer`` (default: the last spatial one)."""
    last = analysis.layer(layer).index if layer else analysis.final_field.index
    reached = analysis.layers[: last + 1]
    columns = sum(math.prod(r.input_shape[1:]) * r.kernel**2 for r in reached if r.kind == "Conv2d")
    _, c, h, w = analysis.input_shape
    return Estimate(
        weights=analysis.totals.params * 8 + sum(r.params for r in reached) * 8,
        activations=round(GRADIENT_FACTOR * columns * 8 * batch)
        + 2 * batch * c * h * w * 8,  # + the input and its gradient
    )


def largest_batch(analysis: Analysis, dtype: str | torch.dtype = "float32", budget: int | None = None) -> int:
    """The largest batch whose inference estimate fits ``budget`` (0 when not even one image fits)."""
    budget = job_budget() if budget is None else budget
    one = inference_estimate(analysis, 1, dtype)
    if one.total > budget:
        return 0
    return max(1, int((budget - one.weights) // max(1, one.activations)))


def check_inference(
    analysis: Analysis, batch: int, dtype: str | torch.dtype = "float32", doing: str = "this run"
) -> Estimate:
    """The estimate, or ``OverBudget`` naming the largest batch that fits."""
    budget = job_budget()
    est = inference_estimate(analysis, batch, dtype)
    if est.total <= budget:
        return est
    fits = largest_batch(analysis, dtype, budget)
    advice = f"batch {fits:,} fits" if fits else "not even one image fits: try a smaller input or network"
    raise OverBudget(
        f"{doing} would need about {byte_size(est.total)} (weights {byte_size(est.weights)}, activations "
        f"{byte_size(est.activations)} for {batch:,} images), and one job here may take {byte_size(budget)}; {advice}"
    )


def check_gradient(
    spec: ResNetSpec, input_size: int | tuple[int, int], layer: str | None = None, batch: int = 1
) -> Estimate:
    """The gradient measurement's estimate, or ``OverBudget`` naming the largest square input that fits."""
    budget = job_budget()
    est = gradient_estimate(analyze(spec, input_size), layer, batch)
    if est.total <= budget:
        return est
    h, w = normalize_input_size(input_size)
    fits = largest_gradient_side(spec, layer, budget, batch, aspect=w / h, start=h)
    if fits:
        side = f"{fits}×{max(1, round(fits * w / h))}" if h != w else f"{fits}×{fits}"
        advice = f"an input of {side} fits"
    else:
        advice = "no input fits: try a smaller network"
    raise OverBudget(
        f"measuring by gradient would need about {byte_size(est.total)} (weights and their gradients "
        f"{byte_size(est.weights)}, saved activations {byte_size(est.activations)} in float64), and one job here "
        f"may take {byte_size(budget)}; {advice}"
    )


def largest_gradient_side(
    spec: ResNetSpec, layer: str | None, budget: int, batch: int = 1, aspect: float = 1.0, start: int = 224
) -> int:
    """The largest height (width = height × ``aspect``) whose gradient estimate fits ``budget``; 0 when
    none does. The activations grow with the input's area, so the side that fits is read off one
    analysis (at ``start``) by that square law, then checked and stepped down until it does fit."""

    def estimate(h: int) -> Estimate | None:
        try:
            a = analyze(spec, (h, max(1, round(h * aspect))))
            return gradient_estimate(a, layer, batch)
        except (ValueError, KeyError):  # too small for the network, or the layer is gone
            return None

    first = estimate(start)
    if first is None:
        return 0
    room = budget - first.weights
    if room <= 0:
        return 0
    side = min(MAX_SIDE, int(start * (room / max(1, first.activations)) ** 0.5))
    for _ in range(40):
        if side < 1:
            return 0
        est = estimate(side)
        if est is not None and est.total <= budget:
            return side
        side = int(side * 0.97) if est is not None else side // 2
    return 0
