"""Per-layer numbers of a ResNet, read off the real module run on the ``meta`` device.

``analyze(spec, input_size)`` builds the network with ``build(spec, "meta")`` (no weight memory),
runs one forward pass of a 1-image meta tensor with a forward hook on every leaf module, and
records what each module actually did: its output shape, its parameters, its multiply-adds and
the receptive field of its output. Nothing here describes the architecture a second time, so the
table, the diagram and the model cannot disagree.

Three steps, as torchinfo does it: collect (hooks → ``LayerRecord``), aggregate (blocks, stages,
totals), and let the callers format. Conventions (see the README):

* ``macs``: multiply-accumulates of Conv2d and Linear layers for one image; ``flops = 2 × macs``.
  The convolutions of the family's additions count too: SE's two 1×1 convs (``fc1``, ``fc2``), ECA's
  1-D conv across channels, and BlurPool's fixed 3×3 depthwise blur (9 per output element). Biases
  are not multiply-adds and are not counted (as torch's FlopCounterMode).
* ``other_ops``: a separate, wider count of the rest, per output element: BatchNorm and GroupNorm 2
  (scale and shift; GroupNorm's statistics are not counted), ReLU, SiLU and sigmoid 1, residual add 1,
  attention's channel scaling 1, pooling one per input element of the window. Never in ``macs``.
* ``activation_bytes``: elements of the layer's output for one image × bytes of the dtype (none for
  stochastic depth's ``DropPath``, which at inference hands its input on).
* receptive field (``rf``, ``jump``, ``padding``): see ``resnet_core.geometry``. Dilation enters
  the recurrence through each conv's own ``dilation``. SE/ECA: the squeeze pools the whole map, so the
  records of the attention path (``path == "attention"``) show a field covering the whole input; the
  scaled output keeps the field of the convolutional path (the (rf, jump, padding) triple cannot say
  "plus a global per-channel gate"), and its record's ``attrs["global_gate"]`` says that it has one.
"""

from __future__ import annotations

import gc
import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import torch
from torch import Tensor, nn

from resnet_core.geometry import Field, field_after, output_size, union
from resnet_core.model import (
    BlurPool2d,
    ChannelConv1d,
    ChannelScale,
    DropPath,
    ResidualAdd,
    ResNet,
    SamePadAvgPool2d,
    StdConv2d,
    ZeroPadShortcut,
    build,
)
from resnet_core.selection import normalize_input_size
from resnet_core.spec import ResNetSpec

STEM_MODULES = ("conv1", "bn1", "relu", "maxpool")

#: This project's variants of torch's layers are recorded under the torch layer's kind, so that depth,
#: the diagram and the tables treat them as what they are; ``attrs["variant"]`` says what differs.
VARIANTS: dict[type, tuple[str, str]] = {
    StdConv2d: ("Conv2d", "weight-standardised"),
    SamePadAvgPool2d: ("AvgPool2d", "'same' padding at the end"),
    ChannelConv1d: ("Conv1d", "across channels"),
}


@dataclass(frozen=True)
class LayerRecord:
    """What one leaf module did in the forward pass (batch of one image)."""

    index: int  # execution order, 0-based
    name: str  # torchvision-style module path: "layer2.0.downsample.0", "layer2.0.add"
    kind: str  # the module's class: "Conv2d", "BatchNorm2d", "ResidualAdd", "ZeroPadShortcut", ... (see VARIANTS)
    stage: str  # "stem", "layer1" … "layerN", "head"
    block: str | None  # "layer2.0", or None in the stem and head
    # "main" (the residual branch or the stem/head line), "shortcut", "join" (add, post-add ReLU), or
    # "attention" (SE/ECA's side branch: pool → convs → gate, and the scaling of the branch by the gate)
    path: str
    inputs: tuple[str, ...]  # names of the records whose outputs this one read ("input" = the image)
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    params: int
    trainable_params: int
    macs: int
    other_ops: int
    activation_bytes: int
    # the layer's own geometry (None where it has none, e.g. BatchNorm)
    kernel: int | None
    stride: int | None
    dilation: int | None
    pad: int | None
    # receptive field of this layer's output, along the height axis (rows) and the width axis
    rf: int
    jump: int
    padding: int
    rf_w: int
    jump_w: int
    padding_w: int
    attrs: dict[str, Any] = field(default_factory=dict, compare=False)  # e.g. groups, channels

    @property
    def output_elements(self) -> int:
        return math.prod(self.output_shape[1:])

    def as_dict(self) -> dict[str, Any]:
        """The JSON/CSV row (the CLI's ``layers`` entries)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "stage": self.stage,
            "block": self.block,
            "path": self.path,
            "output_shape": list(self.output_shape),
            "params": self.params,
            "macs": self.macs,
            "other_ops": self.other_ops,
            "activation_bytes": self.activation_bytes,
            "kernel": self.kernel,
            "stride": self.stride,
            "rf": self.rf,
            "jump": self.jump,
            "padding": self.padding,
        }


@dataclass(frozen=True)
class GroupSummary:
    """A block or a stage: its records added up, with the shape and field of its last output."""

    name: str
    stage: str
    layers: tuple[LayerRecord, ...]
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    params: int
    macs: int
    other_ops: int
    activation_bytes: int
    rf: int
    jump: int
    padding: int

    @classmethod
    def of(cls, name: str, stage: str, layers: list[LayerRecord]) -> GroupSummary:
        last = layers[-1]
        return cls(
            name=name,
            stage=stage,
            layers=tuple(layers),
            input_shape=layers[0].input_shape,
            output_shape=last.output_shape,
            params=sum(r.params for r in layers),
            macs=sum(r.macs for r in layers),
            other_ops=sum(r.other_ops for r in layers),
            activation_bytes=sum(r.activation_bytes for r in layers),
            rf=last.rf,
            jump=last.jump,
            padding=last.padding,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "output_shape": list(self.output_shape),
            "params": self.params,
            "macs": self.macs,
            "other_ops": self.other_ops,
            "activation_bytes": self.activation_bytes,
            "rf": self.rf,
            "jump": self.jump,
            "padding": self.padding,
        }


@dataclass(frozen=True)
class BlockSummary(GroupSummary):
    index: int = 0  # position within its stage
    shortcut: str = "identity"  # "identity" | "zero-pad" | "projection" | "avgpool-projection" | "none" (plain)
    stride: int = 1
    shortcut_params: int = 0
    shortcut_macs: int = 0

    def signature(self) -> tuple:
        """Blocks with equal signatures are interchangeable in a diagram ("× 33")."""
        return (
            self.shortcut,
            self.stride,
            self.input_shape,
            self.output_shape,
            self.params,
            self.macs,
            tuple(r.kind for r in self.layers),
        )


@dataclass(frozen=True)
class StageSummary(GroupSummary):
    blocks: tuple[BlockSummary, ...] = ()


@dataclass(frozen=True)
class Totals:
    params: int
    trainable_params: int
    macs: int
    flops: int
    other_ops: int
    activation_bytes: int

    def as_dict(self) -> dict[str, int]:
        return {
            "params": self.params,
            "trainable_params": self.trainable_params,
            "macs": self.macs,
            "flops": self.flops,
            "activation_bytes": self.activation_bytes,
            "other_ops": self.other_ops,
        }


@dataclass(frozen=True)
class Analysis:
    spec: ResNetSpec
    input_shape: tuple[int, int, int, int]  # (1, C, H, W)
    dtype_bytes: int
    layers: tuple[LayerRecord, ...]
    blocks: tuple[BlockSummary, ...]
    stages: tuple[StageSummary, ...]  # stem, layer1 … layerN, head
    totals: Totals

    def layer(self, name: str) -> LayerRecord:
        for r in self.layers:
            if r.name == name:
                return r
        raise KeyError(f"no layer named {name!r}; layers run from {self.layers[0].name!r} to {self.layers[-1].name!r}")

    def stage(self, name: str) -> StageSummary:
        for s in self.stages:
            if s.name == name:
                return s
        raise KeyError(f"no stage named {name!r}; stages: {', '.join(s.name for s in self.stages)}")

    @property
    def weighted_depth(self) -> int:
        """Conv and linear layers on the longest path, shortcut projections and attention's side branch
        excluded (the paper's depth; SE-ResNet-50 is still 50 layers deep, Hu et al. Table 2)."""
        return sum(1 for r in self.layers if r.kind in ("Conv2d", "Linear") and r.path in ("main", "join"))

    @property
    def final_field(self) -> LayerRecord:
        """The last spatial layer (the global pool's input): its ``rf`` is the network's receptive field."""
        return [r for r in self.layers if r.stage != "head" and len(r.output_shape) == 4][-1]

    def as_dict(self) -> dict[str, Any]:
        return {
            "spec": self.spec.to_dict(),
            "input_shape": list(self.input_shape),
            "totals": self.totals.as_dict(),
            "stages": [s.as_dict() for s in self.stages],
            "layers": [r.as_dict() for r in self.layers],
        }


class InputTooSmallError(ValueError):
    """The input shrinks to nothing before the head."""


def _pair(v: int | tuple[int, ...]) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[-1]))


def _geometry(
    m: nn.Module, in_hw: tuple[int, int]
) -> tuple[tuple[int, int, int, int], tuple[int, int, int, int]] | None:
    """(kernel, stride, dilation, pad) along height and along width, or None if the module is pointwise."""
    if isinstance(m, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d, BlurPool2d)):
        k, s, p = _pair(m.kernel_size), _pair(m.stride), _pair(m.padding)
        d = _pair(getattr(m, "dilation", 1))
        return (k[0], s[0], d[0], p[0]), (k[1], s[1], d[1], p[1])
    if isinstance(m, ZeroPadShortcut):
        return (1, m.stride, 1, 0), (1, m.stride, 1, 0)
    if isinstance(m, nn.ConstantPad2d):  # (left, right, top, bottom): the field moves by the leading pad
        left, _, top, _ = m.padding
        return (1, 1, 1, top), (1, 1, 1, left)
    if isinstance(m, nn.AdaptiveAvgPool2d) and _pair(m.output_size) == (1, 1):
        # global pooling: one window over the whole map
        return (in_hw[0], in_hw[0], 1, 0), (in_hw[1], in_hw[1], 1, 0)
    return None


def _counts(m: nn.Module, inp: Tensor, out: Tensor) -> tuple[int, int]:
    """(macs, other_ops) for one image."""
    out_el = math.prod(out.shape[1:])
    if isinstance(m, (nn.Conv2d, nn.Conv1d)):  # Conv1d: ECA's conv across channels, (N, C, 1, 1) out
        k = math.prod(m.kernel_size)
        return out_el * (m.in_channels // m.groups) * k, 0
    if isinstance(m, BlurPool2d):  # a fixed depthwise 3×3 convolution
        return out_el * m.kernel_size**2, 0
    if isinstance(m, nn.Linear):
        return m.in_features * m.out_features, 0
    if isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
        return 0, 2 * out_el
    if isinstance(m, (nn.ReLU, nn.SiLU, nn.Sigmoid, ResidualAdd, ChannelScale)):
        return 0, out_el
    if isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
        return 0, out_el * math.prod(_pair(m.kernel_size))
    if isinstance(m, nn.AdaptiveAvgPool2d):
        return 0, math.prod(inp.shape[1:])
    return 0, 0


def _shortcut_kind(block_records: list[LayerRecord]) -> str:
    if not any(r.kind == "ResidualAdd" for r in block_records):
        return "none"  # a plain block (§3.3): no shortcut, no add, so no "join" records either
    kinds = [r.kind for r in block_records if r.path == "shortcut"]
    if not kinds:
        return "identity"
    if kinds == ["ZeroPadShortcut"]:
        return "zero-pad"
    return "avgpool-projection" if "AvgPool2d" in kinds else "projection"


def _place(name: str) -> tuple[str, str | None, str]:
    """(stage, block, path) of a module path."""
    parts = name.split(".")
    if parts[0].startswith("layer"):
        block = ".".join(parts[:2])
        if "downsample" in parts:
            path = "shortcut"
        elif parts[2] == "se":
            path = "attention"
        elif parts[2] == "add":
            path = "join"
        else:
            path = "main"
        return parts[0], block, path
    if parts[0] in STEM_MODULES:
        return "stem", None, "main"
    return "head", None, "main"


def _meta_add(a: Tensor, b: Tensor) -> Tensor:
    """The residual addition on meta tensors: the real add where the shapes differ (so it raises as it
    would on real data), a fresh tensor of the same shape otherwise."""
    return a.new_empty(a.shape) if a.shape == b.shape else a + b


def _meta_same_shape(t: Tensor) -> Tensor:
    # new_empty is a direct meta kernel; empty_like on meta runs a Python reference (≈5× slower)
    return t.new_empty(t.shape)


def _trace(model: ResNet, x: Tensor, dtype_bytes: int) -> list[LayerRecord]:
    names = {m: n for n, m in model.named_modules() if not list(m.children()) and not isinstance(m, nn.Identity)}
    fields: dict[int, tuple[Field, Field, str]] = {id(x): (Field.input(), Field.input(), "input")}
    keep: list[Tensor] = [x]  # keeps every traced tensor alive, so no id() is reused mid-trace
    records: list[LayerRecord] = []
    post_add: set[str] = set()

    def hook(m: nn.Module, args: tuple[Any, ...], out: Tensor) -> None:
        name = names[m]
        tensors = [a for a in args if isinstance(a, Tensor)]
        try:
            ins = [fields[id(t)] for t in tensors]
        except KeyError:
            raise RuntimeError(f"{name}: input produced outside any traced module") from None
        # The channel scaling multiplies the branch by a 1×1 gate: its field is the branch's (see the docstring).
        spatial = ins[:1] if isinstance(m, ChannelScale) else ins
        fh = union([f[0] for f in spatial])
        fw = union([f[1] for f in spatial])
        inp = tensors[0]
        geom = _geometry(m, tuple(inp.shape[2:4]) if inp.dim() == 4 else (1, 1))
        if geom is not None:
            fh, fw = field_after(fh, *geom[0]), field_after(fw, *geom[1])
        if isinstance(m, ResidualAdd):
            post_add.add(name.rsplit(".", 1)[0])
        macs, other = _counts(m, inp, out)
        stage, block, path = _place(name)
        if isinstance(m, nn.ReLU) and block in post_add and path == "main":
            path = "join"  # the ReLU after the addition belongs to neither branch
        params = sum(p.numel() for p in m.parameters(recurse=False))
        trainable = sum(p.numel() for p in m.parameters(recurse=False) if p.requires_grad)
        attrs: dict[str, Any] = {}
        if isinstance(m, nn.Conv2d):
            attrs = {"in_channels": m.in_channels, "out_channels": m.out_channels, "groups": m.groups}
        elif isinstance(m, nn.Linear):
            attrs = {"in_features": m.in_features, "out_features": m.out_features}
        elif isinstance(m, nn.Conv1d):  # ECA's conv across channels: no spatial geometry, a k-tap kernel
            attrs = {"kernel_size": m.kernel_size[0]}
        elif isinstance(m, nn.MaxPool2d) and m.ceil_mode:
            attrs = {"ceil_mode": True}  # Caffe's rounding (stem_pool 'max_ceil')
        elif isinstance(m, ChannelScale):
            attrs = {"global_gate": True}
        elif isinstance(m, DropPath):
            attrs = {"drop_probability": m.p}  # training only: at inference it hands its input on
        stored = 0 if isinstance(m, DropPath) else math.prod(out.shape[1:]) * dtype_bytes
        kind, variant = VARIANTS.get(type(m), (type(m).__name__, None))
        if variant is not None:
            attrs["variant"] = variant
        records.append(
            LayerRecord(
                index=len(records),
                name=name,
                kind=kind,
                stage=stage,
                block=block,
                path=path,
                inputs=tuple(f[2] for f in ins),
                input_shape=tuple(inp.shape),
                output_shape=tuple(out.shape),
                params=params,
                trainable_params=trainable,
                macs=macs,
                other_ops=other,
                activation_bytes=stored,
                kernel=geom[0][0] if geom else None,
                stride=geom[0][1] if geom else None,
                dilation=geom[0][2] if geom else None,
                pad=geom[0][3] if geom else None,
                rf=fh.rf,
                jump=fh.jump,
                padding=fh.padding,
                rf_w=fw.rf,
                jump_w=fw.jump,
                padding_w=fw.padding,
                attrs=attrs,
            )
        )
        fields[id(out)] = (fh, fw, name)
        keep.append(out)

    for m in names:
        if not x.is_meta:
            break
        # Shape-preserving by definition; torch's meta kernels for these run as Python decompositions
        # (BatchNorm: dozens of ops per call), most of the trace's time. A fresh tensor keeps ids distinct.
        if isinstance(m, (nn.BatchNorm2d, nn.GroupNorm, nn.ReLU, nn.SiLU, nn.Sigmoid)):
            m.forward = _meta_same_shape  # type: ignore[method-assign]
        elif isinstance(m, ResidualAdd):
            m.forward = _meta_add  # type: ignore[method-assign]
    handles = [m.register_forward_hook(hook) for m in names]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    return records


def _aggregate(records: list[LayerRecord]) -> tuple[tuple[BlockSummary, ...], tuple[StageSummary, ...]]:
    by_block: dict[str, list[LayerRecord]] = {}
    by_stage: dict[str, list[LayerRecord]] = {}
    for r in records:
        by_stage.setdefault(r.stage, []).append(r)
        if r.block is not None:
            by_block.setdefault(r.block, []).append(r)
    blocks = []
    for name, recs in by_block.items():
        base = GroupSummary.of(name, recs[0].stage, recs)
        shortcut = [r for r in recs if r.path == "shortcut"]
        strides = [r.stride for r in recs if r.stride is not None]
        blocks.append(
            BlockSummary(
                **{f: getattr(base, f) for f in GroupSummary.__dataclass_fields__},
                index=int(name.split(".")[1]),
                shortcut=_shortcut_kind(recs),
                stride=max(strides, default=1),
                shortcut_params=sum(r.params for r in shortcut),
                shortcut_macs=sum(r.macs for r in shortcut),
            )
        )
    stages = []
    for name, recs in by_stage.items():
        base = GroupSummary.of(name, name, recs)
        stages.append(
            StageSummary(
                **{f: getattr(base, f) for f in GroupSummary.__dataclass_fields__},
                blocks=tuple(b for b in blocks if b.stage == name),
            )
        )
    return tuple(blocks), tuple(stages)


def analyze(spec: ResNetSpec, input_size: int | tuple[int, int] = 224, dtype: torch.dtype = torch.float32) -> Analysis:
    """Trace ``spec`` at ``input_size`` (an int or an (H, W) pair) and return every number.

    Results are cached on (spec, size, dtype): specs are frozen and hashable. ``analyze.cache_clear()``
    empties the cache and ``analyze.cache_info()`` reports its hits and misses (``functools.lru_cache``'s);
    ``analyze_uncached`` always traces.
    """
    return _analyze_cached(spec, normalize_input_size(input_size), dtype)


def analyze_uncached(
    spec: ResNetSpec, input_size: int | tuple[int, int] = 224, dtype: torch.dtype = torch.float32
) -> Analysis:
    """``analyze`` without its cache: traces every time (what the benchmarks time)."""
    return _analyze(spec, normalize_input_size(input_size), dtype)


@lru_cache(maxsize=64)
def _analyze_cached(spec: ResNetSpec, hw: tuple[int, int], dtype: torch.dtype) -> Analysis:
    return _analyze(spec, hw, dtype)


analyze.cache_clear = _analyze_cached.cache_clear  # type: ignore[attr-defined]
analyze.cache_info = _analyze_cached.cache_info  # type: ignore[attr-defined]


def _analyze(spec: ResNetSpec, hw: tuple[int, int], dtype: torch.dtype) -> Analysis:
    # The trace allocates thousands of small, acyclic objects (modules, meta tensors, records);
    # letting the cyclic collector rescan that growing heap made the time per block grow with
    # depth (≈2× slower per block at 1000 blocks than at 100). Nothing here forms a cycle.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _analyze_uncollected(spec, hw, dtype)
    finally:
        if collecting:
            gc.enable()


def _analyze_uncollected(spec: ResNetSpec, hw: tuple[int, int], dtype: torch.dtype) -> Analysis:
    model = build(spec, device="meta")
    x = torch.empty(1, spec.in_channels, *hw, device="meta", dtype=dtype)
    if any(p.dtype != dtype for p in model.parameters()):
        model = model.to(dtype)  # walks every module: skipped in the usual float32 case
    model.eval()
    dtype_bytes = torch.empty((), dtype=dtype).element_size()
    records = _trace(model, x, dtype_bytes)
    _check_input_size(spec, hw, records)
    blocks, stages = _aggregate(records)
    params = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    macs = sum(r.macs for r in records)
    totals = Totals(
        params=params,
        trainable_params=trainable,
        macs=macs,
        flops=2 * macs,
        other_ops=sum(r.other_ops for r in records),
        activation_bytes=sum(r.activation_bytes for r in records),
    )
    return Analysis(
        spec=spec,
        input_shape=(1, spec.in_channels, *hw),
        dtype_bytes=dtype_bytes,
        layers=tuple(records),
        blocks=blocks,
        stages=stages,
        totals=totals,
    )


def _main_line(records: list[LayerRecord]) -> list[LayerRecord]:
    """The strided or windowed layers on the path every pixel takes (shortcuts and global pool excluded)."""
    return [r for r in records if r.kernel is not None and r.path != "shortcut" and r.kind != "AdaptiveAvgPool2d"]


def _undersized(records: list[LayerRecord], hw: tuple[int, int]) -> LayerRecord | None:
    """The first strided layer whose input has fewer pixels than its stride along some axis, if any."""
    for r in _main_line(records):
        if r.stride and r.stride > 1 and min(r.input_shape[2:4]) < r.stride:
            return r
    return None


def minimum_input_size(records: list[LayerRecord] | tuple[LayerRecord, ...]) -> int:
    """The smallest square input at which every stride-2 layer still has at least 2 pixels to halve.

    Computed from the traced layers' own geometry (``geometry.output_size``).
    """
    line = _main_line(list(records))
    for n in range(1, 8193):
        size, ok = n, True
        for r in line:
            if r.stride > 1 and size < r.stride:
                ok = False
                break
            size = output_size(size, r.kernel, r.stride, r.dilation or 1, r.pad)
        if ok:
            return n
    return 8193


def _check_input_size(spec: ResNetSpec, hw: tuple[int, int], records: list[LayerRecord]) -> None:
    bad = _undersized(records, hw)
    if bad is not None:
        h, w = bad.input_shape[2:4]
        least = minimum_input_size(records)  # per side: height and width shrink by the same rule
        raise InputTooSmallError(
            f"input {hw[0]}×{hw[1]} is too small for this network: {bad.name} (stride {bad.stride}) would get a "
            f"{h}×{w} map with nothing left to halve; use at least {max(hw[0], least)}×{max(hw[1], least)} "
            f"(each side {least} or more)"
        )
