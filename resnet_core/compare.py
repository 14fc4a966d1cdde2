"""Numbers for comparing architectures, as data: totals, per-stage splits, classic pairs, the paper's Fig. 5.

``classic_panel(width, map_size)`` builds the real blocks of He et al. 2015, Fig. 5 (on the ``meta``
device, so even 2048-d costs no memory) and counts each conv from the module itself:
parameters are ``conv.weight.numel()``, multiply-adds are output pixels × that weight count / 1
(every weight is used once per output pixel), the output size from the conv's own kernel, stride and
padding. Three designs, all with ``width`` channels in and out unless said otherwise:

* ``bottleneck``: 1×1 d→d/4, 3×3 d/4→d/4, 1×1 d/4→d (Fig. 5 right; the paper's 256-d example);
* ``two_3x3``: two 3×3 convs d→d, i.e. a basic block at the same input/output width;
* ``basic_quarter``: two 3×3 convs at d/4 (Fig. 5 left, 64-d), the block the paper says has
  "similar time complexity" to the 256-d bottleneck (§4.1, "Deeper Bottleneck Architectures").

Fig. 5 itself pairs the 64-d basic block with the 256-d bottleneck; ``two_3x3`` (two 3×3 convs at
the bottleneck's own 256-d) is this project's comparison, not a figure of the paper.
``panel_network(design, width)`` is a one-stage network whose block ``PANEL_BLOCK`` is that design,
for drawing it (``resnet_core.diagram.block_figure``) from its analysis.

``CLASSIC_PAIRS`` lists the comparisons a lecture reaches for (ResNet-34 against ResNet-50, v1
against v1.5, shortcut options A/B/C, …) as data, the most asked first; ``classic_pairs()`` keeps those whose presets
and fields this library has, so a pair naming presets still to come appears once they exist.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from resnet_core.analysis import Analysis
from resnet_core.model import BasicBlock, Bottleneck, ResidualBlock
from resnet_core.spec import MAX_WIDTH, PRESETS, ResNetSpec

DESIGNS = ("bottleneck", "two_3x3", "basic_quarter")
MAX_MAP_SIZE = 1024


@dataclass(frozen=True)
class ConvCount:
    """One conv of a block, counted from the module: weights and multiply-adds at one map size."""

    name: str  # "conv1"
    kernel: int
    in_channels: int
    out_channels: int
    groups: int
    stride: int
    in_hw: tuple[int, int]
    out_hw: tuple[int, int]
    params: int  # conv.weight.numel() (no bias: ResNet convs have none)
    macs: int  # out_h · out_w · params

    def params_arithmetic(self) -> str:
        """'1×1, 256→64: 1·1·256·64 = 16,384' (grouped: '…·(64/32)·64 …')."""
        cin = f"({self.in_channels}/{self.groups})" if self.groups > 1 else f"{self.in_channels}"
        return (
            f"{self.kernel}×{self.kernel}, {self.in_channels}→{self.out_channels}: "
            f"{self.kernel}·{self.kernel}·{cin}·{self.out_channels} = {self.params:,}"
        )

    def macs_arithmetic(self) -> str:
        """'16,384 · 56·56 = 51,380,224'."""
        return f"{self.params:,} · {self.out_hw[0]}·{self.out_hw[1]} = {self.macs:,}"


@dataclass(frozen=True)
class BlockCount:
    """One design of the classic panel: its convs, their sums and the block's BatchNorm parameters."""

    design: str  # one of DESIGNS
    label: str  # "bottleneck, 256-d"
    in_channels: int
    out_channels: int
    convs: tuple[ConvCount, ...]
    bn_params: int

    @property
    def params(self) -> int:
        """Conv weights only, as the paper counts (BatchNorm's are in ``bn_params``)."""
        return sum(c.params for c in self.convs)

    @property
    def macs(self) -> int:
        return sum(c.macs for c in self.convs)

    def params_arithmetic(self) -> str:
        """'16,384 + 36,864 + 16,384 = 69,632'."""
        return " + ".join(f"{c.params:,}" for c in self.convs) + f" = {self.params:,}"

    def macs_arithmetic(self) -> str:
        return " + ".join(f"{c.macs:,}" for c in self.convs) + f" = {self.macs:,}"


def _conv_out(conv: nn.Conv2d, size: int) -> int:
    k, s, p, d = conv.kernel_size[0], conv.stride[0], conv.padding[0], conv.dilation[0]
    return (size + 2 * p - d * (k - 1) - 1) // s + 1  # PyTorch's Conv2d output size


def count_block(block: ResidualBlock, design: str, label: str, map_size: int) -> BlockCount:
    """Count every conv of ``block`` (on its branch, in order) at an input map of ``map_size``²."""
    convs = []
    size = map_size
    for i in range(1, block.num_convs + 1):
        conv: nn.Conv2d = getattr(block, f"conv{i}")
        out = _conv_out(conv, size)
        params = conv.weight.numel()
        convs.append(
            ConvCount(
                name=f"conv{i}",
                kernel=conv.kernel_size[0],
                in_channels=conv.in_channels,
                out_channels=conv.out_channels,
                groups=conv.groups,
                stride=conv.stride[0],
                in_hw=(size, size),
                out_hw=(out, out),
                params=params,
                macs=out * out * params,
            )
        )
        size = out
    bn = sum(p.numel() for m in block.modules() if isinstance(m, nn.BatchNorm2d) for p in m.parameters())
    return BlockCount(design, label, convs[0].in_channels, convs[-1].out_channels, tuple(convs), bn)


def check_panel_args(width: int, map_size: int) -> None:
    if not isinstance(width, int) or isinstance(width, bool) or not 4 <= width <= MAX_WIDTH or width % 4:
        raise ValueError(
            f"width={width!r} is not allowed: a multiple of 4 from 4 to {MAX_WIDTH} "
            "(the bottleneck narrows it to a quarter)"
        )
    if not isinstance(map_size, int) or isinstance(map_size, bool) or not 1 <= map_size <= MAX_MAP_SIZE:
        raise ValueError(f"map_size={map_size!r} is not allowed: an integer from 1 to {MAX_MAP_SIZE}")


def classic_panel(width: int = 256, map_size: int = 56) -> tuple[BlockCount, BlockCount, BlockCount]:
    """He et al. 2015, Fig. 5, at any width: (bottleneck at d, two 3×3 at d, basic block at d/4).

    The blocks are the library's own ``Bottleneck`` and ``BasicBlock`` (stride 1, identity shortcut),
    built on the meta device. ``map_size`` is the input map's side (the paper's 56 for stage conv2_x).
    """
    check_panel_args(width, map_size)
    quarter = width // 4
    with torch.device("meta"):
        # A stage-1 bottleneck with planes d/4 has a d/4-wide 3×3 and expands back to 4·d/4 = d.
        bottleneck = Bottleneck(ResNetSpec(block="bottleneck", width=quarter), width, quarter, 1, stage=0)
        same = BasicBlock(ResNetSpec(block="basic", width=width), width, width, 1)
        paper = BasicBlock(ResNetSpec(block="basic", width=quarter), quarter, quarter, 1)
    return (
        count_block(bottleneck, "bottleneck", f"bottleneck, {width}-d", map_size),
        count_block(same, "two_3x3", f"two 3×3 convs, {width}-d", map_size),
        count_block(paper, "basic_quarter", f"basic block, {quarter}-d (the paper's Fig. 5 left)", map_size),
    )


#: The block of ``panel_network`` that is the design (the second block of its one stage: stride 1,
#: identity shortcut, input and output at the design's width).
PANEL_BLOCK = "layer1.1"


def panel_network(design: str, width: int = 256) -> ResNetSpec:
    """A one-stage network whose block ``PANEL_BLOCK`` is ``design`` (one of ``DESIGNS``) at block
    width ``width``: the same block ``classic_panel`` counts, inside a network that ``analyze`` can
    trace and ``block_figure`` can draw. The CIFAR stem keeps the input's size, so an input of the
    panel's map side gives the block that map."""
    check_panel_args(width, 1)
    quarter = width // 4
    if design == "bottleneck":  # planes d/4, expanded ×4 back to d
        return ResNetSpec(block="bottleneck", layers=(2,), stem="cifar", width=quarter)
    if design == "two_3x3":
        return ResNetSpec(block="basic", layers=(2,), stem="cifar", width=width)
    if design == "basic_quarter":
        return ResNetSpec(block="basic", layers=(2,), stem="cifar", width=quarter)
    raise ValueError(f"design={design!r} is not allowed: one of {', '.join(DESIGNS)}")


# -- classic pairs -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pair:
    """A comparison of 2–4 architectures, each a preset and the fields changed on top of it."""

    label: str  # the button's text: "ResNet-34 vs 50"
    members: tuple[tuple[str, Mapping[str, object]], ...]  # (preset, {field: value}), A first
    why: str = field(default="", compare=False)  # the button's tooltip

    def specs(self) -> list[tuple[str, ResNetSpec]]:
        """(preset, spec) of each member; KeyError for a preset not (yet) in ``PRESETS``,
        ValueError (``ResNetSpec``'s) for a field or value it does not take."""
        return [(arch, PRESETS[arch].replace(**dict(changes))) for arch, changes in self.members]


CLASSIC_PAIRS: tuple[Pair, ...] = (
    Pair(
        "ResNet-34 vs 50",
        (("resnet34", {}), ("resnet50", {})),
        "Basic blocks against bottlenecks at the same four stages (He et al. 2015, Table 1).",
    ),
    Pair(
        "Plain vs ResNet-34",
        (("plain34", {}), ("resnet34", {"shortcut": "A"}), ("resnet34", {"shortcut": "B"})),
        "The same 34 layers without shortcuts, with parameter-free shortcuts (A) and with projections where "
        "the shape changes (B): He et al. 2015, Fig. 3, Table 2 and §3.3.",
    ),
    Pair(
        "v1 vs v1.5",
        (("resnet50", {"stride_on": "1x1"}), ("resnet50", {})),
        "ResNet-50 with the stride on the first 1×1 conv (the paper) against on the 3×3 (torchvision).",
    ),
    Pair(
        "ResNet-50 vs 50-D vs SE vs ECA-50-T",
        (("resnet50", {}), ("resnet50d", {}), ("seresnet50", {}), ("ecaresnet50t", {})),
        "timm's most used tweaks of ResNet-50: the deep stem and average-pool shortcut (ResNet-D, "
        "arXiv:1812.01187), squeeze-excitation (arXiv:1709.01507), ECA with a tiered stem (arXiv:1910.03151).",
    ),
    Pair(
        "Shortcuts A vs B vs C",
        (("resnet34", {"shortcut": "A"}), ("resnet34", {"shortcut": "B"}), ("resnet34", {"shortcut": "C"})),
        "ResNet-34 with zero-padded, projection-where-needed and projection-everywhere shortcuts (§3.3, Table 3).",
    ),
    Pair(
        "ResNet-18 vs 34 vs 50 vs 101",
        (("resnet18", {}), ("resnet34", {}), ("resnet50", {}), ("resnet101", {})),
        "The ImageNet family, shallow to deep.",
    ),
    Pair(
        "ResNet-50 vs ResNeXt-50 vs Wide-50",
        (("resnet50", {}), ("resnext50_32x4d", {}), ("wide_resnet50_2", {})),
        "Three ways to spend a bottleneck: plain, grouped (32×4d), twice as wide.",
    ),
    Pair(
        "ResNet-50 vs 50-D vs anti-aliased 50-D",
        (("resnet50", {}), ("resnet50d", {}), ("resnetaa50d", {})),
        "ResNet-D and its anti-aliased version: each strided 3×3 runs at stride 1 and a 2×2 average pool "
        "subsamples (Zhang, arXiv:1904.11486).",
    ),
    Pair(
        "CIFAR ResNet-20 vs 56 vs 110",
        (("resnet20", {}), ("resnet56", {}), ("resnet110", {})),
        "The paper's CIFAR-10 nets (§4.2, Table 6).",
    ),
)


def classic_pairs(pairs: tuple[Pair, ...] = CLASSIC_PAIRS) -> list[Pair]:
    """The pairs whose every preset and field this library has (the others wait for them)."""
    available = []
    for pair in pairs:
        try:
            pair.specs()
        except (KeyError, ValueError, TypeError):
            continue
        available.append(pair)
    return available


# -- totals and per-stage splits of analysed networks ----------------------------------------------


@dataclass(frozen=True)
class Summary:
    """The totals row of one architecture in the comparison table."""

    params: int
    macs: int
    flops: int
    other_ops: int
    activation_bytes: int
    weighted_depth: int
    final_rf: int
    input_hw: tuple[int, int]

    @classmethod
    def of(cls, analysis: Analysis) -> Summary:
        return cls(
            params=analysis.totals.params,
            macs=analysis.totals.macs,
            flops=analysis.totals.flops,
            other_ops=analysis.totals.other_ops,
            activation_bytes=analysis.totals.activation_bytes,
            weighted_depth=analysis.weighted_depth,
            final_rf=analysis.final_field.rf,
            input_hw=(analysis.input_shape[2], analysis.input_shape[3]),
        )


def stage_split(analysis: Analysis) -> dict[str, tuple[int, int]]:
    """``{stage: (params, macs)}`` in network order: stem, layer1 … layerN, head."""
    return {s.name: (s.params, s.macs) for s in analysis.stages}


# -- what the shortcuts cost: a residual net against its plain counterpart (He et al. 2015, §4.1) ----------


@dataclass(frozen=True)
class ShortcutCost:
    """``residual`` minus ``plain``, both read from their analyses, and where the difference comes from.

    The paper's plain nets (§3.3) are its ResNets without shortcuts and additions, so every difference
    lies in two kinds of records the plain net lacks: the residual adds (``ResidualAdd``, path "join";
    no parameters, no multiply-adds, one other op per output element) and the shortcut paths (option A's
    zero-padding: nothing counted; B/C/D's 1×1 projection and its BatchNorm: parameters, multiply-adds
    and BatchNorm's two ops per element). ``explained`` says the totals differ by exactly those.
    """

    params: int  # totals: residual − plain
    macs: int
    other_ops: int
    adds: int  # ResidualAdd modules in the residual net
    add_other_ops: int  # their other ops (one addition per output element, per image)
    shortcut_params: int  # records on the shortcut paths (projections and their BatchNorms)
    shortcut_macs: int
    shortcut_other_ops: int
    projections: int  # blocks whose shortcut holds a projection (options B, C, D)

    @classmethod
    def of(cls, plain: Analysis, residual: Analysis) -> ShortcutCost:
        """The cost of ``residual``'s shortcuts; ``plain`` must be the same spec with ``shortcut="none"``."""
        if plain.spec.shortcut != "none" or residual.spec.shortcut == "none":
            raise ValueError(
                f"compare a plain net (shortcut 'none') with a residual one; got shortcut "
                f"{plain.spec.shortcut!r} and {residual.spec.shortcut!r}"
            )
        if residual.spec.replace(shortcut="none") != plain.spec or residual.input_shape != plain.input_shape:
            raise ValueError("the two nets differ in more than the shortcut (or were analysed at different sizes)")
        adds = [r for r in residual.layers if r.kind == "ResidualAdd"]
        shortcut = [r for r in residual.layers if r.path == "shortcut"]
        return cls(
            params=residual.totals.params - plain.totals.params,
            macs=residual.totals.macs - plain.totals.macs,
            other_ops=residual.totals.other_ops - plain.totals.other_ops,
            adds=len(adds),
            add_other_ops=sum(r.other_ops for r in adds),
            shortcut_params=sum(r.params for r in shortcut),
            shortcut_macs=sum(r.macs for r in shortcut),
            shortcut_other_ops=sum(r.other_ops for r in shortcut),
            projections=sum(1 for b in residual.blocks if b.shortcut in ("projection", "avgpool-projection")),
        )

    @property
    def explained(self) -> bool:
        """True when the totals differ by exactly the adds and the shortcut paths, nothing else."""
        return (
            self.params == self.shortcut_params
            and self.macs == self.shortcut_macs
            and self.other_ops == self.add_other_ops + self.shortcut_other_ops
        )


def shortcut_costs(analyses: Sequence[Analysis]) -> list[tuple[int, int, ShortcutCost]]:
    """``(plain, residual, cost)`` for every pair of ``analyses`` (by index) where one is a plain net
    and the other is that same net with shortcuts, at the same input: what its shortcuts cost."""
    found = []
    for i, plain in enumerate(analyses):
        if plain.spec.shortcut != "none":
            continue
        for j, residual in enumerate(analyses):
            if (
                residual.spec.shortcut != "none"
                and residual.spec.replace(shortcut="none") == plain.spec
                and residual.input_shape == plain.input_shape
            ):
                found.append((i, j, ShortcutCost.of(plain, residual)))
    return found
