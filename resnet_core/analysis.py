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

import functools
import gc
import math
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from resnet_core.geometry import Field, field_after, output_size, union
from resnet_core.memo import CACHE
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


@dataclass(frozen=True, slots=True)
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
    traced: int = field(default=0, compare=False)  # how many of ``layers`` were traced (the rest were written)

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

    def approx_bytes(self) -> int:
        """About how many bytes this analysis keeps alive, for the cache's budget: ``TRACED_RECORD_BYTES``
        per traced layer record, ``RECORD_BYTES`` per written one and ``GROUP_BYTES`` per block or stage
        summary (measured with tracemalloc; ``tests/test_analysis.py`` holds the estimate to a measurement)."""
        traced = min(self.traced, len(self.layers))
        return (
            TRACED_RECORD_BYTES * traced
            + RECORD_BYTES * (len(self.layers) - traced)
            + GROUP_BYTES * (len(self.blocks) + len(self.stages))
            + 32768  # the analysis, its totals, its tuples and the allocator's slack
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "spec": self.spec.to_dict(),
            "input_shape": list(self.input_shape),
            "totals": self.totals.as_dict(),
            "stages": [s.as_dict() for s in self.stages],
            "layers": [r.as_dict() for r in self.layers],
        }


#: Bytes one traced LayerRecord keeps alive with its name, shape tuples and attrs; a written copy
#: shares its template's tuples and attrs and costs less; and one block or stage summary with its
#: tuple of records: measured with tracemalloc on resnet152, seresnet50, resnet50_os8 and 4 × 300
#: basic blocks (see approx_bytes).
TRACED_RECORD_BYTES = 1500
RECORD_BYTES = 650
GROUP_BYTES = 400


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
        if block in post_add and path == "main":
            path = "join"  # the activation after the addition (ReLU or SiLU) belongs to neither branch
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
        # not attention's global pool (its "stride" is the map's size): the block's own subsampling
        strides = [r.stride for r in recs if r.stride is not None and r.path != "attention"]
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


#: Blocks per stage traced on the meta device; a longer stage's later blocks are copies of its third.
#: Only a stage's first block changes the resolution or the channels (``model.ResNet``), so blocks
#: 1 … n−1 of a stage are one block repeated: their records differ only in their names and in
#: where their receptive field starts. ``_expand`` writes those copies without tracing them, after
#: checking that the traced blocks 1 and 2 agree (else the whole network is traced).
TRACED_BLOCKS = 3


def analyze(spec: ResNetSpec, input_size: int | tuple[int, int] = 224, dtype: torch.dtype = torch.float32) -> Analysis:
    """Trace ``spec`` at ``input_size`` (an int or an (H, W) pair) and return every number.

    An input too small for the network is refused (``InputTooSmallError``) before anything is
    traced, from the network's main line (``check_input_size``). A stage of more than
    ``TRACED_BLOCKS`` blocks is traced in part and its repeated blocks written from the traced one
    (the numbers are the full trace's: ``tests/test_analysis.py`` compares them), so the largest
    spec allowed, 8 stages of 1000 blocks, takes seconds, not a minute.

    Results, refusals included, are cached on (spec, size, dtype) in ``resnet_core.memo.CACHE``,
    the process's one byte-bounded cache: ``analyze.cache_clear()`` empties this part of it and
    ``analyze.cache_info()`` reports its hits and misses; ``analyze_uncached`` always traces.
    """
    hw = normalize_input_size(input_size)
    return CACHE.get_or_compute(("analysis", spec, hw, dtype), lambda: _analyze(spec, hw, dtype), Analysis.approx_bytes)


def analyze_uncached(
    spec: ResNetSpec, input_size: int | tuple[int, int] = 224, dtype: torch.dtype = torch.float32
) -> Analysis:
    """``analyze`` without its cache: traces every time (what the benchmarks time)."""
    return _analyze(spec, normalize_input_size(input_size), dtype)


analyze.cache_clear = lambda: CACHE.clear("analysis")  # type: ignore[attr-defined]
analyze.cache_info = lambda: CACHE.stats("analysis")  # type: ignore[attr-defined]


def _analyze(spec: ResNetSpec, hw: tuple[int, int], dtype: torch.dtype, expand: bool = True) -> Analysis:
    check_input_size(spec, hw)
    # The trace allocates thousands of small, acyclic objects (modules, meta tensors, records);
    # letting the cyclic collector rescan that growing heap made the time per block grow with
    # depth (≈2× slower per block at 1000 blocks than at 100). Nothing here forms a cycle.
    collecting = gc.isenabled()
    gc.disable()
    try:
        if expand:
            traced = spec.replace(layers=tuple(min(n, TRACED_BLOCKS) for n in spec.layers))
            if traced != spec:
                records, _ = _trace_spec(traced, hw, dtype)
                expanded = _expand(records, spec.layers, spec.drop_path_rate)
                if expanded is not None:
                    params = sum(r.params for r in expanded)
                    trainable = sum(r.trainable_params for r in expanded)
                    return _assemble(spec, hw, dtype, expanded, params, trainable, traced=len(records))
        records, (params, trainable) = _trace_spec(spec, hw, dtype)
        return _assemble(spec, hw, dtype, records, params, trainable, traced=len(records))
    finally:
        if collecting:
            gc.enable()


def _trace_spec(spec: ResNetSpec, hw: tuple[int, int], dtype: torch.dtype) -> tuple[list[LayerRecord], tuple[int, int]]:
    """The records of ``spec``'s meta model at ``hw``, and its (parameters, trainable parameters)."""
    model = build(spec, device="meta")
    x = torch.empty(1, spec.in_channels, *hw, device="meta", dtype=dtype)
    if any(p.dtype != dtype for p in model.parameters()):
        model = model.to(dtype)  # walks every module: skipped in the usual float32 case
    model.eval()
    dtype_bytes = torch.empty((), dtype=dtype).element_size()
    records = _trace(model, x, dtype_bytes)
    params = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return records, (params, trainable)


def _assemble(
    spec: ResNetSpec,
    hw: tuple[int, int],
    dtype: torch.dtype,
    records: list[LayerRecord],
    params: int,
    trainable: int,
    traced: int,
) -> Analysis:
    blocks, stages = _aggregate(records)
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
        dtype_bytes=torch.empty((), dtype=dtype).element_size(),
        layers=tuple(records),
        blocks=blocks,
        stages=stages,
        totals=totals,
        traced=traced,
    )


# -- repeated blocks written, not traced ----------------------------------------------------------


def _field_of(r: LayerRecord) -> tuple[int, int, int, int, int, int]:
    return (r.rf, r.jump, r.padding, r.rf_w, r.jump_w, r.padding_w)


def _relative(block: list[LayerRecord], given: LayerRecord) -> list[tuple] | None:
    """What a repeated block's records are, relative to the record ``given`` that feeds it: kinds, shapes,
    counts, geometry, paths, inputs (by position) and each field's offset from the input's field.
    None when the block's convolutional path changes the jump (a stride): then its copies would not be
    plain shifts. Attention's squeeze pools the whole map (its jump is the map's size, the same in every
    repeated block of a stage), and its field is still the block input's plus a fixed amount."""
    position = {given.name: -1} | {r.name: i for i, r in enumerate(block)}
    out = []
    for r in block:
        if any(i not in position for i in r.inputs):
            return None
        if r.path != "attention" and (r.jump, r.jump_w) != (given.jump, given.jump_w):
            return None
        out.append(
            (
                r.name.split(".", 2)[2],
                r.kind,
                r.path,
                tuple(position[i] for i in r.inputs),
                r.input_shape,
                r.output_shape,
                r.params,
                r.trainable_params,
                r.macs,
                r.other_ops,
                r.activation_bytes,
                (r.kernel, r.stride, r.dilation, r.pad, r.jump, r.jump_w),
                (r.rf - given.rf, r.padding - given.padding, r.rf_w - given.rf_w, r.padding_w - given.padding_w),
                {k: v for k, v in r.attrs.items() if k != "drop_probability"},  # set by the block's place
            )
        )
    return out


def _expand(
    records: list[LayerRecord], layers: tuple[int, ...], drop_path_rate: float = 0.0
) -> list[LayerRecord] | None:
    """The records of the network with ``layers`` blocks per stage, from those of the network traced
    with at most ``TRACED_BLOCKS`` per stage; None if the traced repeats do not agree.

    Inside a stage every block after the first keeps the jump (stride 1), so each of its records sees
    the field of the block's input widened by fixed amounts: the copies are the third block's records
    renamed, their fields shifted by one block's growth each. Every later record (the next stages, the
    head) is the traced one with its field shifted by the growth of all the copies before it; a
    record that read the last traced block reads the last copy instead. Stochastic depth's probability
    depends on the block's place in the whole network (``model.BlockPlace.of``), so every ``DropPath``
    record gets the full network's ``drop_path_rate · i / (n − 1)``, traced and written alike.
    """
    by_block: dict[str, list[LayerRecord]] = {}
    for r in records:
        if r.block is not None:
            by_block.setdefault(r.block, []).append(r)
    last_of = {name: recs[-1] for name, recs in by_block.items()}
    growth: dict[str, tuple[int, int, int, int]] = {}  # stage → one repeated block's (rf, pad, rf_w, pad_w) growth
    for i, n in enumerate(layers):
        stage = f"layer{i + 1}"
        if n <= TRACED_BLOCKS:
            continue
        first, second = by_block[f"{stage}.1"], by_block[f"{stage}.2"]
        rel = _relative(second, last_of[f"{stage}.1"])
        if rel is None or rel != _relative(first, last_of[f"{stage}.0"]):
            return None
        given, out = last_of[f"{stage}.1"], second[-1]
        growth[stage] = (
            out.rf - given.rf,
            out.padding - given.padding,
            out.rf_w - given.rf_w,
            out.padding_w - given.padding_w,
        )
    renamed: dict[str, str] = {}  # the last traced block's last record → the last copy's
    for stage, n in ((f"layer{i + 1}", n) for i, n in enumerate(layers)):
        if stage in growth:
            renamed[last_of[f"{stage}.{TRACED_BLOCKS - 1}"].name] = last_of[
                f"{stage}.{TRACED_BLOCKS - 1}"
            ].name.replace(f"{stage}.{TRACED_BLOCKS - 1}.", f"{stage}.{n - 1}.", 1)

    out_records: list[LayerRecord] = []
    shift = [0, 0, 0, 0]  # what the copies so far add to every later field: rf, padding, rf_w, padding_w

    total = sum(layers)
    first_of_stage = [sum(layers[:i]) for i in range(len(layers))]

    def emit(
        r: LayerRecord, name: str, block: str | None, inputs: tuple[str, ...], add: tuple[int, int, int, int]
    ) -> None:
        attrs = r.attrs
        if "drop_probability" in attrs and block is not None:
            stage, index = block.removeprefix("layer").split(".")
            place = first_of_stage[int(stage) - 1] + int(index)
            attrs = {**attrs, "drop_probability": drop_path_rate * place / max(total - 1, 1)}
        out_records.append(
            LayerRecord(
                len(out_records), name, r.kind, r.stage, block, r.path, inputs, r.input_shape, r.output_shape,
                r.params, r.trainable_params, r.macs, r.other_ops, r.activation_bytes,
                r.kernel, r.stride, r.dilation, r.pad,
                r.rf + add[0], r.jump, r.padding + add[1], r.rf_w + add[2], r.jump_w, r.padding_w + add[3],
                attrs,
            )
        )  # fmt: skip

    for r in records:
        inputs = tuple(renamed.get(i, i) for i in r.inputs)
        emit(r, r.name, r.block, inputs, tuple(shift))
        stage = r.stage
        if stage not in growth or r is not last_of.get(f"{stage}.{TRACED_BLOCKS - 1}"):
            continue
        # r closes the last traced block of a long stage: write blocks TRACED_BLOCKS … n−1 after it
        n = layers[int(stage.removeprefix("layer")) - 1]
        template = by_block[f"{stage}.{TRACED_BLOCKS - 1}"]
        g = growth[stage]
        prev_last = r.name
        for k in range(TRACED_BLOCKS, n):
            block = f"{stage}.{k}"
            local = {t.name: f"{block}.{t.name.split('.', 2)[2]}" for t in template}
            local[by_block[f"{stage}.{TRACED_BLOCKS - 2}"][-1].name] = prev_last
            step = k - (TRACED_BLOCKS - 1)
            add = (shift[0] + step * g[0], shift[1] + step * g[1], shift[2] + step * g[2], shift[3] + step * g[3])
            for t in template:
                emit(t, local[t.name], block, tuple(local[i] for i in t.inputs), add)
            prev_last = local[template[-1].name]
        copies = n - TRACED_BLOCKS
        shift = [shift[j] + copies * g[j] for j in range(4)]
        # the record just emitted for r keeps its traced name; the next stage reads the last copy
    return out_records


# -- the input size, before any trace -------------------------------------------------------------


@dataclass(frozen=True)
class _Window:
    """One strided or windowed layer of the main line: its name and (kernel, stride, dilation, pad) per axis."""

    name: str
    height: tuple[int, int, int, int]
    width: tuple[int, int, int, int]


def _main_line_of(spec: ResNetSpec) -> tuple[_Window, ...]:
    """The windowed layers every pixel passes through (stem, each stage's first block, no shortcut, no
    global pool), read off a one-block-per-stage meta model: its geometry does not depend on the input
    size or on how many blocks repeat. Cached per structure (the spec with one block per stage)."""
    skeleton = spec.replace(layers=(1,) * spec.num_stages)
    return CACHE.get_or_compute(("main line", skeleton), lambda: _trace_main_line(skeleton))


def _trace_main_line(skeleton: ResNetSpec) -> tuple[_Window, ...]:
    model = build(skeleton, device="meta")
    modules = dict(model.named_modules())
    side = 8192  # large enough for any spec: the geometry, not the sizes, is what is read here
    records, _ = _trace_spec(skeleton, (side, side), torch.float32)
    line = []
    for r in _main_line(records):
        geom = _geometry(modules[r.name], tuple(r.input_shape[2:4]))
        if geom is not None:
            line.append(_Window(r.name, geom[0], geom[1]))
    return tuple(line)


def _walk(line: tuple[_Window, ...], hw: tuple[int, int]) -> tuple[_Window, tuple[int, int]] | None:
    """The first layer of ``line`` whose input (h, w) has fewer pixels than its stride or than its
    window along an axis, with that input size; None when the whole line fits."""
    h, w = hw
    for win in line:
        kh, sh, dh, ph = win.height
        kw, sw, dw, pw = win.width
        if (sh > 1 and h < sh) or (sw > 1 and w < sw):
            return win, (h, w)
        nh, nw = output_size(h, kh, sh, dh, ph), output_size(w, kw, sw, dw, pw)
        if nh < 1 or nw < 1:
            return win, (h, w)
        h, w = nh, nw
    return None


def check_input_size(spec: ResNetSpec, input_size: int | tuple[int, int]) -> None:
    """Raise ``InputTooSmallError`` when the input is too small for ``spec``: some strided layer of the
    main line would get fewer pixels than its stride. Microseconds once the network's structure has
    been seen (``geometry.output_size`` along the cached main line); nothing is traced for the size."""
    hw = normalize_input_size(input_size)
    line = _main_line_of(spec)
    bad = _walk(line, hw)
    if bad is None:
        return
    win, (h, w) = bad
    least = _least_side(line)  # per side: height and width shrink by the same rule
    raise InputTooSmallError(
        f"input {hw[0]}×{hw[1]} is too small for this network: {win.name} (stride {win.height[1]}) would get a "
        f"{h}×{w} map with nothing left to halve; use at least {max(hw[0], least)}×{max(hw[1], least)} "
        f"(each side {least} or more)"
    )


@functools.lru_cache(maxsize=256)
def _least_side(line: tuple[_Window, ...]) -> int:
    for n in range(1, 8193):
        if _walk(line, (n, n)) is None:
            return n
    return 8193


def _main_line(records: list[LayerRecord]) -> list[LayerRecord]:
    """The strided or windowed layers on the path every pixel takes (shortcuts and global pool excluded)."""
    return [r for r in records if r.kernel is not None and r.path != "shortcut" and r.kind != "AdaptiveAvgPool2d"]


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
