"""One model class for every ResNetSpec, laid out as torchvision's ``models/resnet.py``.

Module names follow torchvision (``conv1, bn1, relu, maxpool, layer1..layerN, downsample.0/1,
avgpool, fc``) so that its published weight files load with ``strict=True``. Two departures, both
free of parameters and so invisible to a state_dict:

* each ReLU is its own module (``relu1``, ``relu2`` … inside a block) instead of one ``relu``
  called two or three times, and the residual addition is a module (``add``), so that every
  operation the network performs is exactly one module call the analysis can see;
* the option-A shortcut (zero-padded identity) is a parameter-free ``downsample`` module.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from resnet_core.spec import ResNetSpec


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


def make_shortcut(spec: ResNetSpec, in_channels: int, out_channels: int, stride: int) -> nn.Module | None:
    """The shortcut of one block under the spec's option; ``None`` means a plain identity, or, for
    ``shortcut="none"``, no shortcut at all (the block then has no add either)."""
    if spec.shortcut == "none":
        return None
    shape_changes = stride != 1 or in_channels != out_channels
    if spec.shortcut == "A":
        return ZeroPadShortcut(in_channels, out_channels, stride) if shape_changes else None
    if spec.shortcut == "C" or (spec.shortcut == "B" and shape_changes):
        return nn.Sequential(conv1x1(in_channels, out_channels, stride), nn.BatchNorm2d(out_channels))
    if spec.shortcut == "D" and shape_changes:
        # "ResNet-D" (He et al. 2019, Bag of Tricks §4.1): average-pool, then a stride-1 projection,
        # so the shortcut no longer ignores three quarters of its input.
        pool: nn.Module = (
            nn.AvgPool2d(stride, stride=stride, ceil_mode=True, count_include_pad=False)
            if stride > 1
            else nn.Identity()
        )
        return nn.Sequential(pool, conv1x1(in_channels, out_channels), nn.BatchNorm2d(out_channels))
    return None


class ResidualBlock(nn.Module):
    """A residual block: a branch of convs ``conv1 … convK`` plus a shortcut, joined by ``add``.

    Post-activation (the 2015 paper): conv → BN → ReLU for each conv, no ReLU after the last BN,
    then add, then ReLU. Pre-activation (He et al. 2016): BN → ReLU → conv for each conv, then add,
    and nothing after it; a projecting shortcut reads the pre-activated input, as in that paper.

    ``residual=False`` is the paper's plain block (§3.3 "Plain Network", Fig. 3 middle): the same
    convs, BNs and ReLUs, with no shortcut and no ``add`` module. Post-activation it is conv → BN →
    ReLU for every conv (the last ReLU stays, now right after its BN); pre-activation it is BN → ReLU →
    conv for every conv, which strings together exactly the same sequence of operations.
    """

    expansion: int = 1

    def __init__(
        self,
        convs: list[nn.Conv2d],
        shortcut: nn.Module | None,
        preact: bool,
        residual: bool = True,
    ) -> None:
        super().__init__()
        if not residual and shortcut is not None:
            raise ValueError("a plain block (residual=False) has no shortcut to hold a downsample module")
        self.num_convs = len(convs)
        self.preact = preact
        self.residual = residual
        for i, conv in enumerate(convs, start=1):
            setattr(self, f"conv{i}", conv)
            setattr(self, f"bn{i}", nn.BatchNorm2d(conv.in_channels if preact else conv.out_channels))
            if preact or i < self.num_convs:
                setattr(self, f"relu{i}", nn.ReLU(inplace=True))
        self.downsample = shortcut
        # A plain block has no add: None keeps the attribute (and the state_dict) as it is, with no module.
        self.add = ResidualAdd() if residual else None
        if not preact:
            setattr(self, f"relu{self.num_convs}", nn.ReLU(inplace=True))  # after the add (plain: after the BN)
        self.stride = max(conv.stride[0] for conv in convs)

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

    def __init__(self, spec: ResNetSpec, in_channels: int, planes: int, stride: int) -> None:
        out_channels = planes * self.expansion
        super().__init__(
            [conv3x3(in_channels, planes, stride), conv3x3(planes, out_channels)],
            make_shortcut(spec, in_channels, out_channels, stride),
            spec.preact,
            residual=spec.shortcut != "none",
        )


class Bottleneck(ResidualBlock):
    """1×1 reduce, 3×3 (grouped for ResNeXt), 1×1 expand ×4 (Fig. 5 right).

    The paper puts the stride on the first 1×1 conv ("v1"); torchvision puts it on the 3×3 conv
    ("v1.5", after the Caffe2 / Goyal et al. training recipe), which sees every input pixel
    instead of one in four and costs more multiply-adds. ``spec.stride_on`` chooses.
    """

    expansion = 4

    def __init__(self, spec: ResNetSpec, in_channels: int, planes: int, stride: int, stage: int) -> None:
        width = spec.bottleneck_width(stage)
        out_channels = planes * self.expansion
        s1, s3 = (stride, 1) if spec.stride_on == "1x1" else (1, stride)
        super().__init__(
            [
                conv1x1(in_channels, width, s1),
                conv3x3(width, width, s3, groups=spec.groups),
                conv1x1(width, out_channels),
            ],
            make_shortcut(spec, in_channels, out_channels, stride),
            spec.preact,
            residual=spec.shortcut != "none",
        )


def make_stem(spec: ResNetSpec) -> tuple[nn.Module, nn.Module]:
    """The stem's first module (``conv1``) and its pooling (``maxpool``, or an Identity)."""
    w = spec.width
    if spec.stem == "imagenet":
        return nn.Conv2d(spec.in_channels, w, 7, stride=2, padding=3, bias=False), nn.MaxPool2d(3, 2, 1)
    if spec.stem == "cifar":
        return conv3x3(spec.in_channels, w), nn.Identity()
    # "ResNet-C" (Bag of Tricks §4.1): three 3×3 convs replace the 7×7, same stride and output.
    deep = nn.Sequential(
        conv3x3(spec.in_channels, w // 2, stride=2),
        nn.BatchNorm2d(w // 2),
        nn.ReLU(inplace=True),
        conv3x3(w // 2, w // 2),
        nn.BatchNorm2d(w // 2),
        nn.ReLU(inplace=True),
        conv3x3(w // 2, w),
    )
    return deep, nn.MaxPool2d(3, 2, 1)


class ResNet(nn.Module):
    """Stem → ``layer1`` … ``layerN`` → global average pool → ``fc``, for any ``ResNetSpec``."""

    def __init__(self, spec: ResNetSpec) -> None:
        super().__init__()
        self.spec = spec
        conv1, maxpool = make_stem(spec)
        self.conv1 = conv1
        # A pre-activation net's first block opens with its own BN → ReLU, so its stem is the conv (and
        # pool) alone, as in timm's ResNetV2; BN → ReLU here as well would normalise twice in a row.
        self.bn1: nn.Module = nn.Identity() if spec.preact else nn.BatchNorm2d(spec.width)
        self.relu: nn.Module = nn.Identity() if spec.preact else nn.ReLU(inplace=True)
        self.maxpool = maxpool

        in_channels = spec.width
        for i, num_blocks in enumerate(spec.layers):
            blocks: list[nn.Module] = []
            for b in range(num_blocks):
                stride = spec.stage_stride(i) if b == 0 else 1  # only a stage's first block subsamples
                if spec.block == "basic":
                    blocks.append(BasicBlock(spec, in_channels, spec.planes(i), stride))
                else:
                    blocks.append(Bottleneck(spec, in_channels, spec.planes(i), stride, stage=i))
                in_channels = spec.stage_out_channels(i)
            setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
        #: Per-stage metadata, as data (timm's habit): name, channels in/out, stride, blocks.
        self.stage_info: list[dict[str, Any]] = [
            {
                "name": f"layer{i + 1}",
                "in_channels": spec.width if i == 0 else spec.stage_out_channels(i - 1),
                "out_channels": spec.stage_out_channels(i),
                "stride": spec.stage_stride(i),
                "blocks": n,
            }
            for i, n in enumerate(spec.layers)
        ]
        # Pre-activation nets end their last block on an addition; one BN → ReLU closes them.
        self.final_bn: nn.Module = nn.BatchNorm2d(in_channels) if spec.preact else nn.Identity()
        self.final_relu: nn.Module = nn.ReLU(inplace=True) if spec.preact else nn.Identity()
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.flatten = nn.Flatten(1)  # torchvision calls torch.flatten; a module keeps the trace complete
        self.fc = nn.Linear(in_channels, spec.num_classes)

        if self.fc.weight.is_meta:
            return  # a meta model holds no values to initialise (and meta init ops are slow)
        # torchvision's initialisation (He et al. 2015b for convs; BN as identity).
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
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
