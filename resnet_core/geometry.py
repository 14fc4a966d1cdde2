"""The arithmetic of one windowed layer: its output size and the receptive field it leaves.

A leaf module (it imports nothing from the project), so the analysis, the receptive-field views
and anything that checks sizes before tracing can all build on it.

A unit's field is described by three integers, along one axis:

* ``rf``      — its size in input pixels;
* ``jump``    — input pixels between neighbouring units of the same map (the product of strides);
* ``padding`` — output unit 0 sees input pixels ``-padding … -padding + rf - 1``; unit i is
  shifted by ``i × jump``.

A layer of kernel k, stride s, dilation d and padding p maps (rf, jump, padding) to::

    k_eff    = d·(k − 1) + 1
    rf'      = rf + (k_eff − 1) · jump
    jump'    = jump · s
    padding' = padding + p · jump

(Araujo, Norris & Sim, "Computing Receptive Fields of Convolutional Neural Networks", Distill 2019.)
Where two paths meet (the residual add), the field is the union of both paths' fields.

Its output has ``floor((in + 2·p − d·(k − 1) − 1) / s) + 1`` units along that axis (the formula of
``torch.nn.Conv2d``'s documentation, which ``MaxPool2d`` and ``AvgPool2d`` share with ``ceil_mode``
off).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    rf: int
    jump: int
    padding: int

    @staticmethod
    def input() -> Field:
        return Field(rf=1, jump=1, padding=0)

    def span(self, unit: int = 0) -> tuple[int, int]:
        """First and last input pixel (inclusive, may lie outside the image) seen by output ``unit``."""
        start = -self.padding + unit * self.jump
        return start, start + self.rf - 1


def field_after(f: Field, kernel: int, stride: int, dilation: int = 1, pad: int = 0) -> Field:
    """The recurrence above, for one layer."""
    k_eff = dilation * (kernel - 1) + 1
    return Field(rf=f.rf + (k_eff - 1) * f.jump, jump=f.jump * stride, padding=f.padding + pad * f.jump)


def union(fields: list[Field]) -> Field:
    """Field of a sum of paths: the smallest interval holding every path's interval (equal jumps)."""
    if len(fields) == 1:
        return fields[0]
    jumps = {f.jump for f in fields}
    if len(jumps) != 1:
        raise ValueError(f"paths with different jumps {sorted(jumps)} cannot be added")
    start = min(-f.padding for f in fields)
    end = max(-f.padding + f.rf - 1 for f in fields)
    return Field(rf=end - start + 1, jump=fields[0].jump, padding=-start)


def output_size(size: int, kernel: int, stride: int = 1, dilation: int = 1, pad: int = 0) -> int:
    """Units along one axis after a conv or pooling window: floor((in + 2·pad − d·(k − 1) − 1) / s) + 1.

    Zero or less means the window no longer fits: the layer would fail on such an input.
    """
    return (size + 2 * pad - dilation * (kernel - 1) - 1) // stride + 1
