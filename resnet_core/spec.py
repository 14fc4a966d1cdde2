"""ResNetSpec: the one description of a residual network, and the presets.

Every way into the project (the app's widgets, the URL, the CLI flags) ends in a
``ResNetSpec``; ``build(spec)`` turns it into the ``nn.Module`` and ``analyze(spec)``
into the numbers. The spec is frozen and validated on construction, so a spec
that exists is a spec that builds.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal, get_args

Block = Literal["basic", "bottleneck"]
Stem = Literal["imagenet", "cifar", "deep", "deep_tiered", "deep_wide"]
Shortcut = Literal["A", "B", "C", "D"]
StrideOn = Literal["3x3", "1x1"]

BLOCKS: tuple[str, ...] = get_args(Block)
STEMS: tuple[str, ...] = get_args(Stem)
SHORTCUTS: tuple[str, ...] = get_args(Shortcut)
STRIDE_ONS: tuple[str, ...] = get_args(StrideOn)

# -- the ResNet family since 2015 (issue 17): choice types of the fields in the marked block below --
Attention = Literal["none", "se", "eca"]
AntiAlias = Literal["none", "avg", "blur"]
Activation = Literal["relu", "silu"]
Norm = Literal["batchnorm", "groupnorm"]
StemPool = Literal["max", "max_ceil", "max_zeropad", "conv"]

ATTENTIONS: tuple[str, ...] = get_args(Attention)
ANTI_ALIASES: tuple[str, ...] = get_args(AntiAlias)
ACTIVATIONS: tuple[str, ...] = get_args(Activation)
NORMS: tuple[str, ...] = get_args(Norm)
STEM_POOLS: tuple[str, ...] = get_args(StemPool)

#: Groups of every GroupNorm (Wu & He 2018, arXiv:1803.08494, §3.1: G = 32 by default; timm's too).
GN_GROUPS = 32
#: Squeeze-and-excitation's reduction ratio r (Hu et al., arXiv:1709.01507, §6.1 and Table 10: r = 16).
SE_REDUCTION = 16
MAX_SE_REDUCTION = 1024

MAX_STAGES = 8
MAX_BLOCKS_PER_STAGE = 1000
MAX_WIDTH = 4096
MAX_GROUPS = 1024
MAX_CLASSES = 100_000
MAX_IN_CHANNELS = 64

#: Output channels of one block = planes * EXPANSION[block] (He et al. 2015, §4.1 / Table 1).
EXPANSION: dict[str, int] = {"basic": 1, "bottleneck": 4}

#: What each field means, in one line; the CLI's --help and the app's tooltips read these.
FIELD_HELP: dict[str, str] = {
    "block": "residual block: 'basic' (two 3×3 convs) or 'bottleneck' (1×1, 3×3, 1×1, expansion 4)",
    "layers": "blocks per stage, e.g. 3,4,6,3 (1 to 8 stages, 1 to 1000 blocks each)",
    "stem": "'imagenet' (7×7/2 conv + 3×3/2 max-pool), 'cifar' (3×3/1 conv, no pool), "
    "'deep' (three 3×3 convs of width/2, width/2, width + max-pool, the 'ResNet-C' stem), "
    "'deep_tiered' (3×3 convs of 3·width/8, width/2, width: timm's '*t' nets) or "
    "'deep_wide' (3×3 convs of width, width, 2·width: timm's '*s' nets; stage 1 then reads 2·width channels)",
    "width": "channels of the stem and of stage 1's 'planes'; stage i has width × 2^i",
    "shortcut": "A zero-pad identity, B projection where the shape changes (torchvision), "
    "C projection everywhere, D average-pool then projection where the shape changes",
    "stride_on": "bottleneck only: the stride on the 3×3 conv (torchvision, 'v1.5') "
    "or on the first 1×1 conv (the paper, 'v1')",
    "groups": "groups of the bottleneck's 3×3 conv (ResNeXt cardinality)",
    "width_per_group": "channels per group of the bottleneck's 3×3 conv at width 64; "
    "128 makes torchvision's wide ResNets",
    "preact": "pre-activation blocks (BN → ReLU → conv) of He et al. 2016, 'Identity Mappings'",
    "zero_init_residual": "initialise the last BatchNorm of each residual branch to zero "
    "(Goyal et al. 2017), so every block starts as an identity",
    "num_classes": "outputs of the final fully connected layer",
    "in_channels": "channels of the input image",
    # -- the ResNet family since 2015 (issue 17) --
    "dilated_stages": "the last N stages keep the resolution and dilate their 3×3 convs instead of striding "
    "(torchvision's replace_stride_with_dilation; timm's output_stride 16 is N=1, 8 is N=2)",
    "attention": "channel attention at the end of each residual branch: 'se' squeeze-and-excitation "
    "(Hu et al., arXiv:1709.01507) or 'eca' efficient channel attention (Wang et al., arXiv:1910.03151)",
    "se_reduction": "SE only: the squeeze keeps channels / r, rounded to a multiple of 8 as timm does "
    "(16 in the paper; 4 in ResNet-RS)",
    "anti_alias": "anti-aliased downsampling (Zhang, arXiv:1904.11486): the strided 3×3 runs at stride 1 "
    "and a 2×2 average pool ('avg', timm's resnetaa) or a 3×3 binomial blur ('blur', BlurPool) subsamples",
    "activation": "the nonlinearity of the stem and the blocks: 'relu' or 'silu' (x·sigmoid(x))",
    "norm": "'batchnorm' or 'groupnorm' (32 groups, Wu & He, arXiv:1803.08494)",
    "stem_pool": "the stem's subsampling after its convs: 'max' (3×3/2 max-pool, padding 1), 'max_ceil' "
    "(3×3/2 max-pool rounding up, no padding: Caffe's, the original SENets), 'max_zeropad' (zero padding, "
    "then a 3×3/2 max-pool: BiT's) or 'conv' (3×3/2 conv + norm + activation: ResNet-RS)",
    "weight_standardization": "every conv of the stem, the blocks and the shortcuts standardises its weights "
    "per output channel (zero mean, unit variance, ε = 1e-8) before convolving (Qiao et al., arXiv:1903.10520); "
    "with GroupNorm, BiT's recipe (Kolesnikov et al., arXiv:1912.11370)",
    "drop_path_rate": "stochastic depth (Huang et al., arXiv:1603.09382): in training, block i of n skips its "
    "residual branch with probability rate·i/(n−1); no effect on inference or on any count",
}


def _fail(field: str, value: Any, allowed: str) -> ValueError:
    return ValueError(f"{field}={value!r} is not allowed: {allowed}")


def _check_int(field: str, value: Any, lo: int, hi: int) -> None:
    # bool is a subclass of int; True blocks per stage is a bug, not a 1.
    if not isinstance(value, int) or isinstance(value, bool):
        raise _fail(field, value, f"an integer from {lo} to {hi} is expected")
    if not lo <= value <= hi:
        raise _fail(field, value, f"must be from {lo} to {hi}")


def _check_choice(field: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise _fail(field, value, "choose one of " + ", ".join(repr(c) for c in choices))


@dataclass(frozen=True)
class ResNetSpec:
    """A residual network, field by field. See ``FIELD_HELP`` for each field's meaning."""

    block: Block = "bottleneck"
    layers: tuple[int, ...] = (3, 4, 6, 3)
    stem: Stem = "imagenet"
    width: int = 64
    shortcut: Shortcut = "B"
    stride_on: StrideOn = "3x3"
    groups: int = 1
    width_per_group: int = 64
    preact: bool = False
    zero_init_residual: bool = False
    num_classes: int = 1000
    in_channels: int = 3
    # -- the ResNet family since 2015 (issue 17): dilation, channel attention, anti-aliasing, activation,
    # norm, stem pooling, stochastic depth, weight standardisation. Validated in _check_family (the
    # boolean with the others above); help in FIELD_HELP. --
    dilated_stages: int = 0
    attention: Attention = "none"
    se_reduction: int = SE_REDUCTION
    anti_alias: AntiAlias = "none"
    activation: Activation = "relu"
    norm: Norm = "batchnorm"
    stem_pool: StemPool = "max"
    drop_path_rate: float = 0.0
    weight_standardization: bool = False

    def __post_init__(self) -> None:
        _check_choice("block", self.block, BLOCKS)
        if isinstance(self.layers, list):  # accept a list, store the hashable tuple
            object.__setattr__(self, "layers", tuple(self.layers))
        if not isinstance(self.layers, tuple):
            raise _fail("layers", self.layers, "a sequence of blocks per stage, e.g. (3, 4, 6, 3)")
        if not 1 <= len(self.layers) <= MAX_STAGES:
            raise _fail("layers", self.layers, f"1 to {MAX_STAGES} stages are allowed, got {len(self.layers)}")
        for i, n in enumerate(self.layers):
            if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= MAX_BLOCKS_PER_STAGE:
                raise _fail(
                    "layers",
                    self.layers,
                    f"stage {i + 1} has {n!r} blocks; each stage needs an integer from 1 to {MAX_BLOCKS_PER_STAGE}",
                )
        _check_choice("stem", self.stem, STEMS)
        _check_int("width", self.width, 1, MAX_WIDTH)
        if self.stem == "deep" and self.width % 2:
            raise _fail(
                "width", self.width, "the deep stem halves the width in its first two convs, so it must be even"
            )
        if self.stem == "deep_tiered" and self.width % 8:
            raise _fail(
                "width",
                self.width,
                "the tiered deep stem's convs have 3·width/8 and width/2 channels, so it must be a multiple of 8",
            )
        _check_choice("shortcut", self.shortcut, SHORTCUTS)
        _check_choice("stride_on", self.stride_on, STRIDE_ONS)
        _check_int("groups", self.groups, 1, MAX_GROUPS)
        _check_int("width_per_group", self.width_per_group, 1, MAX_WIDTH)
        for field in ("preact", "zero_init_residual", "weight_standardization"):
            if not isinstance(getattr(self, field), bool):
                raise _fail(field, getattr(self, field), "true or false")
        _check_int("num_classes", self.num_classes, 1, MAX_CLASSES)
        _check_int("in_channels", self.in_channels, 1, MAX_IN_CHANNELS)

        if self.block == "basic":
            # torchvision: "BasicBlock only supports groups=1 and base_width=64".
            if self.groups != 1:
                raise _fail("groups", self.groups, "the basic block has no grouped conv; groups must be 1")
            if self.width_per_group != 64:
                raise _fail(
                    "width_per_group",
                    self.width_per_group,
                    "the basic block has no grouped conv; it must stay 64 (widen with 'width' instead)",
                )
            if self.stride_on != "3x3":
                raise _fail("stride_on", self.stride_on, "the basic block has no 1×1 conv; it must be '3x3'")
        else:
            for i in range(len(self.layers)):
                planes = self.width * 2**i
                if (planes * self.width_per_group) % 64:
                    raise _fail(
                        "width_per_group",
                        self.width_per_group,
                        f"stage {i + 1} has {planes} planes, and planes × width_per_group / 64 must be a "
                        f"whole number of channels per group (here {planes * self.width_per_group / 64:g})",
                    )
        self._check_family()

    def _check_family(self) -> None:
        """Validation of the issue-17 fields (dilation, attention, anti-aliasing, activation, norm, stem pool,
        stochastic depth; weight standardisation is checked with the booleans above), on their own and
        against the other fields."""
        _check_int("dilated_stages", self.dilated_stages, 0, len(self.layers) - 1)
        _check_choice("attention", self.attention, ATTENTIONS)
        _check_int("se_reduction", self.se_reduction, 1, MAX_SE_REDUCTION)
        if self.attention != "se" and self.se_reduction != SE_REDUCTION:
            raise _fail(
                "se_reduction",
                self.se_reduction,
                f"only squeeze-and-excitation has a reduction ratio; with attention={self.attention!r} "
                f"it must stay {SE_REDUCTION}",
            )
        _check_choice("anti_alias", self.anti_alias, ANTI_ALIASES)
        _check_choice("activation", self.activation, ACTIVATIONS)
        _check_choice("norm", self.norm, NORMS)
        _check_choice("stem_pool", self.stem_pool, STEM_POOLS)
        rate = self.drop_path_rate
        if not isinstance(rate, (int, float)) or isinstance(rate, bool) or not 0 <= rate < 1:
            raise _fail("drop_path_rate", rate, "a number from 0 up to (not including) 1 is expected")
        if self.stem == "cifar" and self.stem_pool != "max":
            raise _fail("stem_pool", self.stem_pool, "the cifar stem has no pooling; it must stay 'max'")
        if self.anti_alias != "none":
            # timm's anti-aliasing (resnetaa*, resnetblur*) sits after the activation of the strided 3×3
            # of a post-activation block; these combinations have no such place or no reference.
            if self.preact:
                raise _fail(
                    "anti_alias",
                    self.anti_alias,
                    "anti-aliased downsampling is defined for post-activation blocks; with preact it must be 'none'",
                )
            if self.block == "bottleneck" and self.stride_on == "1x1":
                raise _fail(
                    "anti_alias",
                    self.anti_alias,
                    "it subsamples after the strided 3×3 conv; with stride_on='1x1' it must be 'none'",
                )
            if self.stem_pool in ("max_ceil", "max_zeropad"):
                raise _fail(
                    "anti_alias",
                    self.anti_alias,
                    f"stem_pool={self.stem_pool!r} has no anti-aliased form; use stem_pool 'max' or 'conv'",
                )
        if self.norm == "groupnorm":
            for where, channels in self.normalized_channels():
                if channels % GN_GROUPS:
                    raise _fail(
                        "norm",
                        self.norm,
                        f"GroupNorm splits channels into {GN_GROUPS} groups, and {where} has {channels} channels",
                    )

    # -- derived numbers (used by the model, the analysis and the explainer) --------------

    @property
    def expansion(self) -> int:
        return EXPANSION[self.block]

    @property
    def num_stages(self) -> int:
        return len(self.layers)

    def planes(self, stage: int) -> int:
        """'planes' of stage ``stage`` (0-based): the width doubles at every stage (§3.3)."""
        return self.width * 2**stage

    def stage_out_channels(self, stage: int) -> int:
        return self.planes(stage) * self.expansion

    def bottleneck_width(self, stage: int) -> int:
        """Channels of the bottleneck's 3×3 conv: torchvision's int(planes · wpg/64) · groups."""
        return (self.planes(stage) * self.width_per_group // 64) * self.groups

    def stage_stride(self, stage: int) -> int:
        """Stage 1 keeps the resolution; every later stage halves it with stride 2 (§3.3), unless it is one
        of the last ``dilated_stages``, which keep the resolution and dilate instead."""
        return 1 if stage == 0 or stage >= self.num_stages - self.dilated_stages else 2

    # -- derived numbers of the issue-17 fields --------------------------------------------------

    def stage_dilation(self, stage: int) -> int:
        """Dilation of a stage's 3×3 convs: doubles at every dilated stage, so the field grows as if it had
        strided (torchvision's ``self.dilation *= stride``, timm's ``dilation *= stride``)."""
        return 2 ** max(0, stage - (self.num_stages - self.dilated_stages) + 1)

    def block_dilations(self, stage: int, block: int) -> tuple[int, int]:
        """(first 3×3, later 3×3s) dilation of one block: a dilated stage's first block still uses the
        previous stage's dilation in its first 3×3 (torchvision's ``previous_dilation``, timm's
        ``first_dilation``)."""
        d = self.stage_dilation(stage)
        return (self.stage_dilation(stage - 1) if block == 0 and stage > 0 else d), d

    @property
    def stem_stride(self) -> int:
        """Subsampling of the stem: ×2 conv and ×2 pool, none for the CIFAR stem."""
        return 1 if self.stem == "cifar" else 4

    @property
    def output_stride(self) -> int:
        """Input pixels per unit of the last stage's map (32 for an ImageNet ResNet; 16 or 8 when dilated)."""
        stride = self.stem_stride
        for i in range(self.num_stages):
            stride *= self.stage_stride(i)
        return stride

    @property
    def stem_widths(self) -> tuple[int, ...]:
        """Output channels of each stem conv: one conv, or three for the deep stems (timm's stem_type)."""
        w = self.width
        if self.stem == "deep":
            return (w // 2, w // 2, w)
        if self.stem == "deep_tiered":
            return (3 * (w // 8), w // 2, w)
        if self.stem == "deep_wide":
            return (w, w, 2 * w)
        return (w,)

    @property
    def stem_channels(self) -> int:
        """Channels the stem hands to stage 1: the width, or twice it for the 'deep_wide' stem."""
        return self.stem_widths[-1]

    def normalized_channels(self) -> list[tuple[str, int]]:
        """(where, channels) of every normalisation layer's input, for GroupNorm's divisibility check."""
        out = [(f"stem conv {i + 1}", c) for i, c in enumerate(self.stem_widths)]
        for i in range(self.num_stages):
            inner = self.bottleneck_width(i) if self.block == "bottleneck" else self.planes(i)
            out += [(f"stage {i + 1}'s inner convs", inner), (f"stage {i + 1}'s output", self.stage_out_channels(i))]
        return out

    # -- conversions -----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (``layers`` as a list)."""
        d = dataclasses.asdict(self)
        d["layers"] = list(self.layers)
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ResNetSpec:
        """Inverse of ``to_dict``; unknown keys are an error that lists the known ones."""
        if not isinstance(data, dict):
            raise ValueError(f"a spec must be a mapping of field names to values, got {type(data).__name__}")
        unknown = sorted(set(data) - set(field_names()))
        if unknown:
            raise ValueError(f"unknown spec field(s) {', '.join(unknown)}; known fields: {', '.join(field_names())}")
        values = dict(data)
        if isinstance(values.get("layers"), list):
            values["layers"] = tuple(values["layers"])
        return cls(**values)

    def replace(self, **overrides: Any) -> ResNetSpec:
        """This spec with some fields changed (validated again): ``PRESETS['resnet50'].replace(stride_on='1x1')``."""
        unknown = sorted(set(overrides) - set(field_names()))
        if unknown:
            raise ValueError(f"unknown spec field(s) {', '.join(unknown)}; known fields: {', '.join(field_names())}")
        return dataclasses.replace(self, **overrides)

    def differences(self, other: ResNetSpec) -> dict[str, tuple[Any, Any]]:
        """Fields whose values differ: ``{field: (self's, other's)}``, in field order."""
        return {
            f: (getattr(self, f), getattr(other, f)) for f in field_names() if getattr(self, f) != getattr(other, f)
        }


def field_names() -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(ResNetSpec))


def _imagenet(block: Block, layers: tuple[int, ...], **kw: Any) -> ResNetSpec:
    return ResNetSpec(block=block, layers=layers, **{"stem": "imagenet", "shortcut": "B", **kw})


def _cifar(n: int) -> ResNetSpec:
    # He et al. 2015, §4.2: 3×3 stem conv with 16 filters, then 3 stages of n basic blocks with
    # 16/32/64 filters on 32/16/8 maps, 6n+2 weighted layers, option A shortcuts, 10 classes.
    return ResNetSpec(block="basic", layers=(n, n, n), stem="cifar", width=16, shortcut="A", num_classes=10)


#: The named architectures. ImageNet ones are torchvision's (same module names, same numbers).
PRESETS: dict[str, ResNetSpec] = {
    # He et al. 2015, Table 1.
    "resnet18": _imagenet("basic", (2, 2, 2, 2)),
    "resnet34": _imagenet("basic", (3, 4, 6, 3)),
    "resnet50": _imagenet("bottleneck", (3, 4, 6, 3)),
    "resnet101": _imagenet("bottleneck", (3, 4, 23, 3)),
    "resnet152": _imagenet("bottleneck", (3, 8, 36, 3)),
    # Zagoruyko & Komodakis 2016 as torchvision builds them: bottleneck 3×3 twice as wide.
    "wide_resnet50_2": _imagenet("bottleneck", (3, 4, 6, 3), width_per_group=128),
    "wide_resnet101_2": _imagenet("bottleneck", (3, 4, 23, 3), width_per_group=128),
    # Xie et al. 2017 (ResNeXt), named cardinality × width of each group.
    "resnext50_32x4d": _imagenet("bottleneck", (3, 4, 6, 3), groups=32, width_per_group=4),
    "resnext101_32x8d": _imagenet("bottleneck", (3, 4, 23, 3), groups=32, width_per_group=8),
    "resnext101_64x4d": _imagenet("bottleneck", (3, 4, 23, 3), groups=64, width_per_group=4),
    # He et al. 2015, §4.2: the CIFAR-10 nets, 6n+2 layers.
    "resnet20": _cifar(3),
    "resnet32": _cifar(5),
    "resnet44": _cifar(7),
    "resnet56": _cifar(9),
    "resnet110": _cifar(18),
    "resnet1202": _cifar(200),
}

# -- the ResNet family since 2015 (issue 17): presets as timm 1.0 builds them (timm/models/resnet.py and
# resnetv2.py; each entry's numbers and outputs are checked against timm in tests/test_timm_family.py) --
_RESNET_D = {"stem": "deep", "shortcut": "D"}  # "ResNet-D", He et al. 2019, arXiv:1812.01187, §4.1
_RESNET_T = {"stem": "deep_tiered", "shortcut": "D"}  # timm's '*t': ResNet-D with a 24/32/64 stem
PRESETS |= {
    # Bag of Tricks (arXiv:1812.01187) §4.1, Fig. 2c: deep stem + average-pool shortcut; timm resnet50d/101d.
    "resnet50d": _imagenet("bottleneck", (3, 4, 6, 3), **_RESNET_D),
    "resnet101d": _imagenet("bottleneck", (3, 4, 23, 3), **_RESNET_D),
    # timm (Wightman) resnet26t/resnet50t: the D net with a tiered stem, 24/32/64 channels.
    "resnet26t": _imagenet("bottleneck", (2, 2, 2, 2), **_RESNET_T),
    "resnet50t": _imagenet("bottleneck", (3, 4, 6, 3), **_RESNET_T),
    # Hu et al. 2018 (arXiv:1709.01507), SE-ResNet-50 and SE-ResNeXt-50 (32×4d), Table 2; r = 16 (§6.1);
    # as timm's seresnet50/seresnext50_32x4d: the SE after the last BN of the branch, stride on the 3×3.
    "seresnet50": _imagenet("bottleneck", (3, 4, 6, 3), attention="se"),
    "seresnext50_32x4d": _imagenet("bottleneck", (3, 4, 6, 3), groups=32, width_per_group=4, attention="se"),
    # Wang et al. 2020 (arXiv:1910.03151) ECA on timm's ecaresnet50t (tiered stem, D shortcut).
    "ecaresnet50t": _imagenet("bottleneck", (3, 4, 6, 3), attention="eca", **_RESNET_T),
    # Zhang 2019 (arXiv:1904.11486) anti-aliasing, timm's resnetaa50d: 2×2 average pools subsample.
    "resnetaa50d": _imagenet("bottleneck", (3, 4, 6, 3), anti_alias="avg", **_RESNET_D),
    # He et al. 2016 (arXiv:1603.05027), pre-activation ResNet-50 as timm's resnetv2_50 (stride on the 3×3).
    "resnetv2_50": _imagenet("bottleneck", (3, 4, 6, 3), preact=True),
    # torchvision's resnet50(replace_stride_with_dilation=[False, False, True]) and [False, True, True]:
    # output stride 16 and 8, the DeepLab backbones (Chen et al. 2017, arXiv:1706.05587, §3.1).
    "resnet50_os16": _imagenet("bottleneck", (3, 4, 6, 3), dilated_stages=1),
    "resnet50_os8": _imagenet("bottleneck", (3, 4, 6, 3), dilated_stages=2),
}

#: The input size each preset family was designed for.
DEFAULT_INPUT_SIZE: dict[str, int] = {"imagenet": 224, "deep": 224, "deep_tiered": 224, "deep_wide": 224, "cifar": 32}


def default_input_size(spec: ResNetSpec) -> int:
    return DEFAULT_INPUT_SIZE[spec.stem]


def preset(name: str) -> ResNetSpec:
    """The preset called ``name``, or a ValueError listing the names there are."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}") from None


def describe(spec: ResNetSpec, base: str | None = None) -> str:
    """A human name: 'resnet50', 'resnet50 (modified: stride on 1×1)', or the closest preset's."""
    if base is None:
        base = next((name for name, p in PRESETS.items() if p == spec), None)
        if base is not None:
            return base
        return "custom ResNet"
    diffs = PRESETS[base].differences(spec)
    if not diffs:
        return base
    return f"{base} (modified: {', '.join(describe_change(f, new) for f, (_, new) in diffs.items())})"


def describe_change(field: str, value: Any) -> str:
    """One field's new value in words: 'stride on 1×1', 'shortcut C', 'layers 3,4,6,3'."""
    if field == "stride_on":
        return f"stride on {value.replace('x', '×')}"
    if field == "layers":
        return "layers " + ",".join(str(n) for n in value)
    if isinstance(value, bool):
        return field.replace("_", " ") + (" on" if value else " off")
    return f"{field.replace('_', ' ')} {value}"
