"""One model class for every ResNetSpec, laid out as torchvision's ``models/resnet.py``.

Module names follow torchvision (``conv1, bn1, relu, maxpool, layer1..layerN, downsample.0/1,
avgpool, fc``) so that its published weight files load with ``strict=True``. Two departures, both
free of parameters and so invisible to a state_dict:

* each ReLU is its own module (``relu1``, ``relu2`` … inside a block) instead of one ``relu``
  called two or three times, and the residual addition is a module (``add``), so that every
  operation the network performs is exactly one module call the analysis can see;
* the option-A shortcut (zero-padded identity) is a parameter-free ``downsample`` module.

The later members of the family (issue 17: dilation, SE/ECA channel attention, anti-aliasing, SiLU,
GroupNorm, the ResNet-RS and Caffe stem pools, stochastic depth) are built as timm 1.0 builds them
(``timm/models/resnet.py``), with timm's module names (``se.fc1``, ``se.conv``, ``aa``, ``drop_path``), so a
state_dict of timm's ``ResNet`` loads as it is; ``resnet_core.weights.from_timm`` renames ResNetV2's and
the legacy SENets'.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from resnet_core.spec import GN_GROUPS, ResNetSpec


def conv3x3(in_channels: int, out_channels: int, stride: int = 1, groups: int = 1) -> nn.Conv2d:
    """3×3 convolution, padding 1: keeps the size at stride 1, halves it (rounding up) at stride 2."""
    return nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, groups=groups, bias=False)


def conv1x1(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    """1×1 convolution: mixes channels; with stride 2 it also subsamples."""
    return nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False)


class ResidualAdd(nn.Module):
    """out = F(x) + shortcut(x): the addition of §3.1, as a module so it shows up in traces."""

    def forward(self, residual: Tensor, shortcut: Tensor) -> Tensor:
        return residual + shortcut


class ZeroPadShortcut(nn.Module):
    """Option A (§3.3): identity, subsampled by ``stride``, with zero channels appended. No parameters."""

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        if out_channels < in_channels:
            raise ValueError(f"option A can only add channels, not drop them ({in_channels} → {out_channels})")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        if self.stride > 1:
            x = x[:, :, :: self.stride, :: self.stride]  # (N, C, ceil(H/s), ceil(W/s))
        return F.pad(x, (0, 0, 0, 0, 0, self.out_channels - self.in_channels))  # (N, C_out, H', W')

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, stride={self.stride}"


# -- the ResNet family since 2015 (issue 17): norm, activation, attention, anti-aliasing, drop path --------


def make_norm(spec: ResNetSpec, channels: int) -> nn.Module:
    """The spec's normalisation of ``channels``: BatchNorm, or GroupNorm with 32 groups (Wu & He 2018)."""
    return nn.GroupNorm(GN_GROUPS, channels) if spec.norm == "groupnorm" else nn.BatchNorm2d(channels)


def make_activation(spec: ResNetSpec) -> nn.Module:
    """The spec's nonlinearity. Its slot keeps torchvision's name (``relu``, ``relu1`` …) whichever it is."""
    return nn.SiLU(inplace=True) if spec.activation == "silu" else nn.ReLU(inplace=True)


def make_divisible(value: float, divisor: int = 8) -> int:
    """timm's rounding of SE's squeezed channels (``make_divisible(v, 8, round_limit=0.)``): the nearest
    multiple of ``divisor`` (halves round up), at least ``divisor``."""
    return max(divisor, int(value + divisor / 2) // divisor * divisor)


def eca_kernel_size(channels: int, gamma: int = 2, b: int = 1) -> int:
    """ECA's adaptive kernel size k = |log2(C)/γ + b/γ|, made odd, at least 3 (Wang et al., Eqn. 12; timm)."""
    t = int(abs(math.log2(channels) + b) / gamma)
    return max(t if t % 2 else t + 1, 3)


class ChannelScale(nn.Module):
    """x · gate, the gate one value per channel (N, C, 1, 1): attention's reweighting, as a module to trace."""

    def forward(self, x: Tensor, gate: Tensor) -> Tensor:
        return x * gate


class SqueezeExcite(nn.Module):
    """Squeeze-and-excitation (Hu et al. 2018, arXiv:1709.01507, Fig. 3): global average pool, 1×1 conv to
    C/r channels, ReLU, 1×1 conv back to C, sigmoid, and the input scaled channel by channel. timm's
    ``SEModule`` layout (``fc1``, ``fc2`` with biases; C/r rounded by ``make_divisible``)."""

    def __init__(self, channels: int, reduction: int) -> None:
        super().__init__()
        squeezed = make_divisible(channels / reduction)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, squeezed, 1)
        self.act = nn.ReLU(inplace=True)  # ReLU whatever the network's activation, as in timm
        self.fc2 = nn.Conv2d(squeezed, channels, 1)
        self.gate = nn.Sigmoid()
        self.scale = ChannelScale()

    def forward(self, x: Tensor) -> Tensor:
        gate = self.gate(self.fc2(self.act(self.fc1(self.pool(x)))))  # (N, C, 1, 1)
        return self.scale(x, gate)


class ChannelConv1d(nn.Conv1d):
    """ECA's 1-D convolution across the channels of a pooled (N, C, 1, 1) map: each channel's gate reads its
    k neighbours' means, no squeeze. A ``Conv1d`` (weight 1×1×k, no bias), as timm's ``EcaModule.conv``."""

    def __init__(self, kernel_size: int) -> None:
        super().__init__(1, 1, kernel_size, padding=(kernel_size - 1) // 2, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        n, c = x.shape[:2]
        return super().forward(x.view(n, 1, c)).view(n, c, 1, 1)  # (N, 1, C) along the channel axis


class EfficientChannelAttention(nn.Module):
    """ECA (Wang et al. 2020, arXiv:1910.03151, Fig. 2): global average pool, a k-tap 1-D conv across
    channels with k adapted to C (``eca_kernel_size``), sigmoid, and the input scaled channel by channel."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.conv = ChannelConv1d(eca_kernel_size(channels))
        self.gate = nn.Sigmoid()
        self.scale = ChannelScale()

    def forward(self, x: Tensor) -> Tensor:
        return self.scale(x, self.gate(self.conv(self.pool(x))))


def make_attention(spec: ResNetSpec, channels: int) -> nn.Module | None:
    if spec.attention == "se":
        return SqueezeExcite(channels, spec.se_reduction)
    if spec.attention == "eca":
        return EfficientChannelAttention(channels)
    return None


class BlurPool2d(nn.Module):
    """Anti-aliased subsampling (Zhang 2019, arXiv:1904.11486): reflect-pad by 1, then a fixed 3×3 binomial
    blur ([1, 2, 1]/4 ⊗ [1, 2, 1]/4) per channel at ``stride``, as timm's ``BlurPool2d``. Its filter is a
    non-persistent buffer: nothing in the state_dict."""

    def __init__(self, channels: int, stride: int = 2) -> None:
        super().__init__()
        self.channels = channels
        self.stride = stride
        self.kernel_size = 3
        self.padding = ((stride - 1) + (self.kernel_size - 1)) // 2  # timm's get_padding(3, stride)
        taps = torch.tensor([1.0, 2.0, 1.0]) / 4
        self.register_buffer("filt", (taps[:, None] * taps[None, :]).expand(channels, 1, 3, 3).clone(), False)

    def forward(self, x: Tensor) -> Tensor:
        x = F.pad(x, [self.padding] * 4, mode="reflect")
        return F.conv2d(x, self.filt, stride=self.stride, groups=self.channels)

    def extra_repr(self) -> str:
        return f"{self.channels}, stride={self.stride}"


def make_anti_alias(spec: ResNetSpec, channels: int, stride: int) -> nn.Module:
    """timm's ``create_aa``: ``nn.AvgPool2d(stride)`` (2×2 windows at stride 2) or ``BlurPool2d``."""
    return BlurPool2d(channels, stride) if spec.anti_alias == "blur" else nn.AvgPool2d(stride)


class SamePadAvgPool2d(nn.AvgPool2d):
    """A 2×2 average pool at stride 1 that keeps the size: zero-pads one row and one column at the end
    ("SAME"), then averages over all four values, padding included. timm's ``AvgPool2dSame(2, 1)``, the
    average pool of a D shortcut in a dilated stage."""

    def __init__(self) -> None:
        super().__init__(2, 1)

    def forward(self, x: Tensor) -> Tensor:
        return F.avg_pool2d(F.pad(x, (0, 1, 0, 1)), 2, 1)


class StdConv2d(nn.Conv2d):
    """A conv whose weights are standardised per output channel before use: (w − mean) / sqrt(var + ε), the
    variance biased (Qiao et al. 2019, arXiv:1903.10520). Computed as timm's ``StdConv2d`` computes it, with
    BiT's ε = 1e-8 (Kolesnikov et al. 2020). The stored weight is the raw one: state_dicts are unchanged."""

    eps = 1e-8

    def forward(self, x: Tensor) -> Tensor:
        w = F.batch_norm(self.weight.reshape(1, self.out_channels, -1), None, None, training=True, eps=self.eps)
        return self._conv_forward(x, w.reshape_as(self.weight), self.bias)


def standardize_convs(model: nn.Module) -> None:
    """Make every conv of the stem, the blocks and the shortcuts a ``StdConv2d`` (same name, geometry and
    parameters); attention's convs and the classifier stay as they are, as in BiT and timm."""
    for parent in list(model.modules()):
        if isinstance(parent, (SqueezeExcite, EfficientChannelAttention)):
            continue
        for name, conv in list(parent.named_children()):
            if type(conv) is nn.Conv2d:
                std = StdConv2d(
                    conv.in_channels,
                    conv.out_channels,
                    conv.kernel_size,
                    conv.stride,
                    conv.padding,
                    conv.dilation,
                    conv.groups,
                    conv.bias is not None,
                    device=conv.weight.device,
                )
                setattr(parent, name, std)  # keeps the child's place: state_dict order unchanged


class DropPath(nn.Module):
    """Stochastic depth (Huang et al. 2016, arXiv:1603.09382): in training, each sample's residual branch is
    dropped with probability ``p`` and kept ones scaled by 1/(1 − p); the identity in eval (timm's DropPath)."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0:
            return x
        keep = 1 - self.p
        mask = x.new_empty((x.shape[0],) + (1,) * (x.dim() - 1)).bernoulli_(keep)  # (N, 1, 1, 1)
        return x * mask.div_(keep)

    def extra_repr(self) -> str:
        return f"p={self.p:g}"


@dataclass(frozen=True)
class BlockPlace:
    """What a block's position gives it: its stride, the dilation of its first and later 3×3 convs, and its
    stochastic-depth probability."""

    stride: int
    first_dilation: int = 1
    dilation: int = 1
    drop_path: float = 0.0

    @classmethod
    def at(cls, place: BlockPlace | int) -> BlockPlace:
        """A place, or a bare stride (an undilated block without stochastic depth, e.g. for a lone block)."""
        return place if isinstance(place, BlockPlace) else cls(stride=place)

    @classmethod
    def of(cls, spec: ResNetSpec, stage: int, block: int, stride: int) -> BlockPlace:
        first, later = spec.block_dilations(stage, block)
        index = sum(spec.layers[:stage]) + block
        total = sum(spec.layers)
        # timm's linear decay rule: block i of n drops with rate · i / (n − 1), the first block never
        return cls(
            stride=stride,
            first_dilation=first,
            dilation=later,
            drop_path=spec.drop_path_rate * index / max(total - 1, 1),
        )


def make_shortcut(spec: ResNetSpec, in_channels: int, out_channels: int, stride: int) -> nn.Module | None:
    """The shortcut of one block under the spec's option; ``None`` means a plain identity, or, for
    ``shortcut="none"``, no shortcut at all (the block then has no add either)."""
    if spec.shortcut == "none":
        return None
    shape_changes = stride != 1 or in_channels != out_channels
    if spec.shortcut == "A":
        return ZeroPadShortcut(in_channels, out_channels, stride) if shape_changes else None
    # Identity Mappings' projection is a bare 1×1 conv on the pre-activated input, no BN
    # (resnet-pre-act.lua, timm's ResNetV2); a GroupNorm net normalises it with GroupNorm.
    norm = [] if spec.preact else [make_norm(spec, out_channels)]
    if spec.shortcut == "C" or (spec.shortcut == "B" and shape_changes):
        if spec.preact or spec.norm != "batchnorm":
            return nn.Sequential(conv1x1(in_channels, out_channels, stride), *norm)
        return nn.Sequential(conv1x1(in_channels, out_channels, stride), nn.BatchNorm2d(out_channels))
    if spec.shortcut == "D" and shape_changes:
        # "ResNet-D" (He et al. 2019, Bag of Tricks §4.1): average-pool, then a stride-1 projection,
        # so the shortcut no longer ignores three quarters of its input.
        pool: nn.Module = (
            nn.AvgPool2d(stride, stride=stride, ceil_mode=True, count_include_pad=False)
            if stride > 1
            else nn.Identity()
        )
        return nn.Sequential(pool, conv1x1(in_channels, out_channels), *norm)
    return None


class ResidualBlock(nn.Module):
    """A residual block: a branch of convs ``conv1 … convK`` plus a shortcut, joined by ``add``.

    Post-activation (the 2015 paper): conv → BN → ReLU for each conv, no ReLU after the last BN,
    then add, then ReLU. Pre-activation (He et al. 2016): BN → ReLU → conv for each conv, then add,
    and nothing after it; a projecting shortcut reads the pre-activated input, as in that paper.

    The block's place (``BlockPlace``) is applied to the convs its subclass built, as timm does it:
    the first 3×3 conv takes ``first_dilation`` and later ones ``dilation`` (padding = dilation, so the
    size stays); with anti-aliasing the strided 3×3 runs at stride 1 and ``aa`` subsamples after its
    activation; ``se`` (SE or ECA) reweights the branch's channels and ``drop_path`` drops the branch,
    both before the addition.

    ``spec.shortcut == "none"`` is the paper's plain block (§3.3 "Plain Network", Fig. 3 middle): the same
    convs, BNs and ReLUs, with no shortcut and no ``add`` module. Post-activation it is conv → BN →
    ReLU for every conv (the last ReLU stays, now right after its BN); pre-activation it is BN → ReLU →
    conv for every conv, which strings together exactly the same sequence of operations.
    """

    expansion: int = 1

    def __init__(
        self,
        convs: list[nn.Conv2d],
        shortcut: nn.Module | None,
        spec: ResNetSpec,
        place: BlockPlace,
    ) -> None:
        super().__init__()
        if spec.shortcut == "none" and shortcut is not None:
            raise ValueError("a plain block (shortcut 'none') has no shortcut to hold a downsample module")
        self.num_convs = len(convs)
        self.preact = spec.preact
        self.residual = spec.shortcut != "none"
        for i, conv in enumerate(convs, start=1):
            setattr(self, f"conv{i}", conv)
            setattr(self, f"bn{i}", make_norm(spec, conv.in_channels if self.preact else conv.out_channels))
            if self.preact or i < self.num_convs:
                setattr(self, f"relu{i}", make_activation(spec))
        self.downsample = shortcut
        # A plain block has no add: None keeps the attribute (and the state_dict) as it is, with no module.
        self.add = ResidualAdd() if self.residual else None
        if not self.preact:
            setattr(self, f"relu{self.num_convs}", make_activation(spec))  # after the add (plain: after the BN)
        self.stride = max(conv.stride[0] for conv in convs)

        threes = [i for i, conv in enumerate(convs) if conv.kernel_size == (3, 3)]
        for i in threes:
            d = place.first_dilation if i == threes[0] else place.dilation
            convs[i].dilation, convs[i].padding = (d, d), (d, d)
        self.aa_after = 0  # the conv whose activation the anti-aliasing pool follows (1-based), 0 for none
        if spec.anti_alias != "none" and (place.stride > 1 or place.first_dilation != place.dilation):
            strided = convs[threes[0]]
            strided.stride = (1, 1)
            self.aa = make_anti_alias(spec, strided.out_channels, place.stride)
            self.aa_after = threes[0] + 1
        self.se = make_attention(spec, convs[-1].out_channels)
        self.drop_path = DropPath(place.drop_path) if place.drop_path > 0 else None
        if (
            isinstance(shortcut, nn.Sequential)
            and isinstance(shortcut[0], nn.Identity)
            and max(place.first_dilation, place.dilation) > 1
        ):
            shortcut[0] = SamePadAvgPool2d()  # timm's D shortcut in a dilated stage: 2×2 pool, stride 1

    def _branch_end(self, out: Tensor) -> Tensor:
        """Attention, then stochastic depth: what the residual branch does after its last conv (and BN)."""
        if self.se is not None:
            out = self.se(out)
        if self.drop_path is not None:
            out = self.drop_path(out)
        return out

    def _part(self, kind: str, i: int) -> nn.Module:
        return getattr(self, f"{kind}{i}")

    def forward(self, x: Tensor) -> Tensor:
        if self.preact:
            out = x
            preactivated = x
            for i in range(1, self.num_convs + 1):
                out = self._part("relu", i)(self._part("bn", i)(out))
                if i == 1:
                    preactivated = out
                out = self._part("conv", i)(out)
            out = self._branch_end(out)
            if self.add is None:
                return out  # plain block
            if self.downsample is None:
                shortcut = x
            elif isinstance(self.downsample, ZeroPadShortcut):
                shortcut = self.downsample(x)
            else:
                shortcut = self.downsample(preactivated)
            return self.add(out, shortcut)

        out = x
        for i in range(1, self.num_convs + 1):
            out = self._part("bn", i)(self._part("conv", i)(out))
            if i < self.num_convs:
                out = self._part("relu", i)(out)
                if i == self.aa_after:
                    out = self.aa(out)
        out = self._branch_end(out)
        if self.add is None:
            return self._part("relu", self.num_convs)(out)  # plain block: conv → BN → ReLU, nothing added
        shortcut = x if self.downsample is None else self.downsample(x)
        return self._part("relu", self.num_convs)(self.add(out, shortcut))

    def zero_init_last(self) -> None:
        """Make the block start as an identity (Goyal et al. 2017, §5.1): the residual branch outputs 0."""
        if not self.residual:
            raise ValueError("a plain block has no shortcut: zeroing its branch would zero its output")
        if self.preact:
            nn.init.zeros_(self._part("conv", self.num_convs).weight)  # the branch ends in a conv
        else:
            nn.init.zeros_(self._part("bn", self.num_convs).weight)


class BasicBlock(ResidualBlock):
    """Two 3×3 convs (Fig. 5 left); the first carries the stride."""

    expansion = 1

    def __init__(self, spec: ResNetSpec, in_channels: int, planes: int, place: BlockPlace | int) -> None:
        out_channels = planes * self.expansion
        place = BlockPlace.at(place)
        stride = place.stride
        super().__init__(
            [conv3x3(in_channels, planes, stride), conv3x3(planes, out_channels)],
            make_shortcut(spec, in_channels, out_channels, stride),
            spec,
            place,
        )


class Bottleneck(ResidualBlock):
    """1×1 reduce, 3×3 (grouped for ResNeXt), 1×1 expand ×4 (Fig. 5 right).

    The paper puts the stride on the first 1×1 conv ("v1"); torchvision puts it on the 3×3 conv
    ("v1.5", after the Caffe2 / Goyal et al. training recipe), which sees every input pixel
    instead of one in four and costs more multiply-adds. ``spec.stride_on`` chooses.
    """

    expansion = 4

    def __init__(self, spec: ResNetSpec, in_channels: int, planes: int, place: BlockPlace | int, stage: int) -> None:
        width = spec.bottleneck_width(stage)
        out_channels = planes * self.expansion
        place = BlockPlace.at(place)
        stride = place.stride
        s1, s3 = (stride, 1) if spec.stride_on == "1x1" else (1, stride)
        super().__init__(
            [
                conv1x1(in_channels, width, s1),
                conv3x3(width, width, s3, groups=spec.groups),
                conv1x1(width, out_channels),
            ],
            make_shortcut(spec, in_channels, out_channels, stride),
            spec,
            place,
        )


def make_stem(spec: ResNetSpec) -> tuple[nn.Module, nn.Module]:
    """The stem's first module (``conv1``) and its pooling (``maxpool``, or an Identity)."""
    w = spec.stem_channels
    if spec.stem == "imagenet":
        return nn.Conv2d(spec.in_channels, w, 7, stride=2, padding=3, bias=False), make_stem_pool(spec)
    if spec.stem == "cifar":
        return conv3x3(spec.in_channels, w), nn.Identity()
    # "ResNet-C" (Bag of Tricks §4.1): three 3×3 convs replace the 7×7, same stride; timm's deep stems
    # differ only in widths (spec.stem_widths: 32/32/64, tiered 24/32/64, wide 64/64/128).
    a, b, _ = spec.stem_widths
    deep = nn.Sequential(
        conv3x3(spec.in_channels, a, stride=2),
        make_norm(spec, a),
        make_activation(spec),
        conv3x3(a, b),
        make_norm(spec, b),
        make_activation(spec),
        conv3x3(b, w),
    )
    return deep, make_stem_pool(spec)


def make_stem_pool(spec: ResNetSpec) -> nn.Module:
    """The stem's subsampling, as timm builds it with and without anti-aliasing (``maxpool`` in any case)."""
    w = spec.stem_channels
    if spec.stem_pool == "max_ceil":
        # Caffe's pooling rounds up instead of padding: the original SENets (timm's legacy_seresnet*).
        return nn.MaxPool2d(3, 2, ceil_mode=True)
    if spec.stem_pool == "max_zeropad":
        # BiT (timm's stem_type 'fixed'): pad with zeros, not −∞, then pool without padding.
        return nn.Sequential(nn.ConstantPad2d(1, 0.0), nn.MaxPool2d(3, 2))
    if spec.stem_pool == "conv":
        # ResNet-RS (Bello et al. 2021, arXiv:2103.07579): a 3×3/2 conv, norm and activation replace the max-pool.
        if spec.anti_alias == "none":
            return nn.Sequential(conv3x3(w, w, stride=2), make_norm(spec, w), make_activation(spec))
        return nn.Sequential(conv3x3(w, w), make_anti_alias(spec, w, 2), make_norm(spec, w), make_activation(spec))
    if spec.anti_alias == "avg":
        return nn.AvgPool2d(2)  # timm's resnetaa*: a 2×2 average pool instead of the 3×3 max-pool
    if spec.anti_alias == "blur":
        return nn.Sequential(nn.MaxPool2d(3, 1, 1), BlurPool2d(w, 2))  # max, then blur-subsample
    return nn.MaxPool2d(3, 2, 1)


class ResNet(nn.Module):
    """Stem → ``layer1`` … ``layerN`` → global average pool → ``fc``, for any ``ResNetSpec``."""

    def __init__(self, spec: ResNetSpec) -> None:
        super().__init__()
        self.spec = spec
        conv1, maxpool = make_stem(spec)
        self.conv1 = conv1
        # A pre-activation net's first block opens with its own BN → ReLU, so its stem is the conv (and
        # pool) alone, as in timm's ResNetV2; BN → ReLU here as well would normalise twice in a row.
        self.bn1: nn.Module = nn.Identity() if spec.preact else make_norm(spec, spec.stem_channels)
        self.relu: nn.Module = nn.Identity() if spec.preact else make_activation(spec)
        self.maxpool = maxpool

        in_channels = spec.stem_channels
        for i, num_blocks in enumerate(spec.layers):
            blocks: list[nn.Module] = []
            for b in range(num_blocks):
                stride = spec.stage_stride(i) if b == 0 else 1  # only a stage's first block subsamples
                place = BlockPlace.of(spec, i, b, stride)
                if spec.block == "basic":
                    blocks.append(BasicBlock(spec, in_channels, spec.planes(i), place))
                else:
                    blocks.append(Bottleneck(spec, in_channels, spec.planes(i), place, stage=i))
                in_channels = spec.stage_out_channels(i)
            setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
        #: Per-stage metadata, as data (timm's habit): name, channels in/out, stride, blocks.
        self.stage_info: list[dict[str, Any]] = [
            {
                "name": f"layer{i + 1}",
                "in_channels": spec.stem_channels if i == 0 else spec.stage_out_channels(i - 1),
                "out_channels": spec.stage_out_channels(i),
                "stride": spec.stage_stride(i),
                "dilation": spec.stage_dilation(i),
                "blocks": n,
            }
            for i, n in enumerate(spec.layers)
        ]
        # Pre-activation nets end their last block on an addition; one BN → ReLU closes them.
        self.final_bn: nn.Module = make_norm(spec, in_channels) if spec.preact else nn.Identity()
        self.final_relu: nn.Module = make_activation(spec) if spec.preact else nn.Identity()
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.flatten = nn.Flatten(1)  # torchvision calls torch.flatten; a module keeps the trace complete
        self.fc = nn.Linear(in_channels, spec.num_classes)
        if spec.weight_standardization:
            standardize_convs(self)

        if self.fc.weight.is_meta:
            return  # a meta model holds no values to initialise (and meta init ops are slow)
        # torchvision's initialisation (He et al. 2015b for convs; BN as identity).
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        if spec.zero_init_residual:
            for m in self.modules():
                if isinstance(m, ResidualBlock):
                    m.zero_init_last()

    def stages(self) -> list[nn.Sequential]:
        return [getattr(self, f"layer{i + 1}") for i in range(self.spec.num_stages)]

    def forward(self, x: Tensor) -> Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))  # stem
        for stage in self.stages():
            x = stage(x)
        x = self.final_relu(self.final_bn(x))
        x = self.avgpool(x)  # (N, C, 1, 1)
        return self.fc(self.flatten(x))  # (N, C) → (N, num_classes)


def build(spec: ResNetSpec, device: str | torch.device = "cpu") -> ResNet:
    """The ``nn.Module`` for ``spec`` on ``device``; ``"meta"`` allocates no weights at all."""
    if not isinstance(spec, ResNetSpec):
        raise TypeError(f"build() takes a ResNetSpec, got {type(spec).__name__}")
    with torch.device(device):
        return ResNet(spec)
