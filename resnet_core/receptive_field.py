"""Receptive fields, step by step from the input to any layer, and a way to measure them.

The arithmetic (``Field``, ``field_after``, ``union``: rf, jump and padding through one layer) is
``resnet_core.geometry``'s; the analysis applies it to every traced layer. This module sits above
the analysis: ``receptive_field_steps`` reads the chain of layers behind one output off an
``Analysis``, and ``measure_receptive_field`` checks all of it against autograd: with every weight
positive, the BatchNorms identities, the ReLUs removed and max-pooling replaced by average
pooling, a unit's input gradient is non-zero exactly on the pixels it sees.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from resnet_core.analysis import Analysis, LayerRecord
from resnet_core.geometry import Field
from resnet_core.model import build
from resnet_core.selection import normalize_input_size
from resnet_core.spec import ResNetSpec


@dataclass(frozen=True)
class Step:
    """One row of the recurrence: a layer that changes the field, and the field after it."""

    name: str
    kind: str
    kernel: int
    stride: int
    dilation: int
    pad: int
    rf: int
    jump: int
    padding: int
    note: str = ""  # e.g. "union with the shortcut (rf 7)"


def receptive_field_steps(analysis: Analysis, layer: str) -> list[Step]:
    """The chain of field-changing steps from the input to ``layer``'s output.

    Walks back through each record's first input (the residual branch at an add), keeps layers
    with a geometry, and marks additions whose union with the shortcut widened the field.
    """
    by_name = {r.name: r for r in analysis.layers}
    if layer not in by_name:
        raise KeyError(f"no layer named {layer!r}")
    chain: list[LayerRecord] = []
    name = layer
    while name != "input":
        record = by_name[name]
        chain.append(record)
        name = record.inputs[0]
    chain.reverse()
    steps = [Step("input", "image", 1, 1, 1, 0, 1, 1, 0)]
    for r in chain:
        if r.kernel is not None:
            steps.append(Step(r.name, r.kind, r.kernel, r.stride, r.dilation, r.pad, r.rf, r.jump, r.padding))
        elif r.kind == "ResidualAdd" and (r.rf, r.padding) != (steps[-1].rf, steps[-1].padding):
            other = by_name[r.inputs[1]] if r.inputs[1] != "input" else None
            note = f"union with the shortcut (rf {other.rf})" if other else "union with the shortcut"
            steps.append(Step(r.name, r.kind, 1, 1, 1, 0, r.rf, r.jump, r.padding, note))
    return steps


# -- measuring the field with autograd -----------------------------------------------------------


def _linearise(model: nn.Module) -> nn.Module:
    """Constant positive weights, identity BatchNorm, no ReLU, average instead of max pooling."""
    for m in list(model.modules()):
        for child_name, child in list(m.named_children()):
            if isinstance(child, nn.ReLU):
                setattr(m, child_name, nn.Identity())
            elif isinstance(child, nn.MaxPool2d):
                setattr(
                    m,
                    child_name,
                    nn.AvgPool2d(child.kernel_size, child.stride, child.padding, ceil_mode=child.ceil_mode),
                )
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                fan_in = m.weight[0].numel()
                m.weight.fill_(1.0 / fan_in)
            elif isinstance(m, nn.Linear):
                m.weight.fill_(1.0 / m.in_features)
                m.bias.zero_()
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.fill_(1.0)
                m.bias.zero_()
                m.running_mean.zero_()
                m.running_var.fill_(1.0)
                m.eps = 0.0
    return model.eval()


class _AllCaptured(Exception):
    """Raised by the last hook a measurement needs, to skip the rest of the forward pass."""


def measure_receptive_field(
    spec: ResNetSpec,
    layer: str,
    input_size: int | tuple[int, int] = 224,
    unit: tuple[int, int] | None = None,
) -> tuple[tuple[int, int], tuple[int, int]]:
    """Input rows and columns (first, last; clipped to the image) that output ``unit`` of ``layer`` sees.

    ``unit`` is (row, col) in the layer's output map; by default the centre unit.
    """
    return measure_receptive_fields(spec, [(layer, unit)], input_size)[0]


def measure_receptive_fields(
    spec: ResNetSpec,
    requests: list[tuple[str, tuple[int, int] | None]],
    input_size: int | tuple[int, int] = 224,
) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """``measure_receptive_field`` for several (layer, unit) pairs with one model and one backward pass.

    Request i gets image i of a batch: in eval mode the images never mix, so the gradient of the
    sum of every request's unit, read image by image, is each unit's own input gradient.
    """
    h, w = normalize_input_size(input_size)
    model = _linearise(build(spec).double())
    modules = dict(model.named_modules())
    missing = [layer for layer, _ in requests if layer not in modules]
    if missing:
        raise KeyError(f"no layer named {missing[0]!r}")
    wanted = {layer for layer, _ in requests}
    captured: dict[str, torch.Tensor] = {}

    def capture(layer: str, out: torch.Tensor) -> None:
        captured.setdefault(layer, out)
        if len(captured) == len(wanted):
            raise _AllCaptured  # the rest of the network cannot change these units' fields

    handles = [modules[layer].register_forward_hook(lambda m, i, o, layer=layer: capture(layer, o)) for layer in wanted]
    x = torch.ones(len(requests), spec.in_channels, h, w, dtype=torch.float64, requires_grad=True)
    try:
        model(x)
    except _AllCaptured:
        pass
    finally:
        for handle in handles:
            handle.remove()
    units = []
    total = x.new_zeros(())
    for i, (layer, unit) in enumerate(requests):
        out = captured[layer]  # (N, C, H', W')
        if unit is None:
            unit = (out.shape[2] // 2, out.shape[3] // 2)
        units.append(unit)
        total = total + out[i, :, unit[0], unit[1]].sum()
    total.backward()
    spans = []
    for i in range(len(requests)):
        touched = x.grad[i].abs().sum(dim=0) > 0  # (H, W): the pixels request i's unit depends on
        rows = torch.nonzero(touched.any(dim=1)).flatten()
        cols = torch.nonzero(touched.any(dim=0)).flatten()
        spans.append(((int(rows.min()), int(rows.max())), (int(cols.min()), int(cols.max()))))
    return spans


def computed_span(
    record: LayerRecord, unit: tuple[int, int], size: tuple[int, int]
) -> tuple[tuple[int, int], tuple[int, int]]:
    """The analysis's field of ``unit`` in ``record``'s output, clipped to an image of ``size`` (H, W)."""
    r0, r1 = Field(record.rf, record.jump, record.padding).span(unit[0])
    c0, c1 = Field(record.rf_w, record.jump_w, record.padding_w).span(unit[1])
    return (max(r0, 0), min(r1, size[0] - 1)), (max(c0, 0), min(c1, size[1] - 1))
