"""Closed-form counts of a plain ResNet, written from the architecture's formulas and independent of
the traced analysis: the oracles the explainer's numbers and questions are checked against."""

from __future__ import annotations

from resnet_core import ResNetSpec


def closed_form_params(spec: ResNetSpec) -> int:
    """Trainable parameters from the architecture's formulas (groups = 1, post-activation, A/B/C)."""
    w = spec.width
    stem_k = 7 if spec.stem == "imagenet" else 3
    total = spec.in_channels * w * stem_k**2 + 2 * w
    in_ch = w
    for i, n in enumerate(spec.layers):
        planes = w * 2**i
        for b in range(n):
            stride = (1 if i == 0 else 2) if b == 0 else 1
            if spec.block == "basic":
                out = planes
                total += in_ch * planes * 9 + planes * planes * 9 + 4 * planes
            else:
                out = 4 * planes
                total += in_ch * planes + planes * planes * 9 + planes * out + 4 * planes + 2 * out
            changes = stride != 1 or in_ch != out
            if spec.shortcut == "C" or (spec.shortcut == "B" and changes):
                total += in_ch * out + 2 * out
            in_ch = out
    return total + in_ch * spec.num_classes + spec.num_classes


def closed_form_depth(spec: ResNetSpec) -> int:
    return (2 if spec.block == "basic" else 3) * sum(spec.layers) + 2
