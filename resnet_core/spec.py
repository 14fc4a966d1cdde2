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
Stem = Literal["imagenet", "cifar", "deep"]
Shortcut = Literal["A", "B", "C", "D", "none"]
StrideOn = Literal["3x3", "1x1"]

BLOCKS: tuple[str, ...] = get_args(Block)
STEMS: tuple[str, ...] = get_args(Stem)
SHORTCUTS: tuple[str, ...] = get_args(Shortcut)
STRIDE_ONS: tuple[str, ...] = get_args(StrideOn)

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
    "stem": "'imagenet' (7×7/2 conv + 3×3/2 max-pool), 'cifar' (3×3/1 conv, no pool) "
    "or 'deep' (three 3×3 convs + max-pool, the 'ResNet-C' stem)",
    "width": "channels of the stem and of stage 1's 'planes'; stage i has width × 2^i",
    "shortcut": "A zero-pad identity, B projection where the shape changes (torchvision), "
    "C projection everywhere, D average-pool then projection where the shape changes, "
    "none: plain net, no shortcut (the paper's plain baselines)",
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
        _check_choice("shortcut", self.shortcut, SHORTCUTS)
        _check_choice("stride_on", self.stride_on, STRIDE_ONS)
        _check_int("groups", self.groups, 1, MAX_GROUPS)
        _check_int("width_per_group", self.width_per_group, 1, MAX_WIDTH)
        for field in ("preact", "zero_init_residual"):
            if not isinstance(getattr(self, field), bool):
                raise _fail(field, getattr(self, field), "true or false")
        _check_int("num_classes", self.num_classes, 1, MAX_CLASSES)
        _check_int("in_channels", self.in_channels, 1, MAX_IN_CHANNELS)
        if self.shortcut == "none" and self.zero_init_residual:
            raise _fail(
                "zero_init_residual",
                True,
                "a plain net (shortcut 'none') has no shortcut to carry the signal, so zeroing each block's last "
                "BatchNorm would zero every block's output; turn it off or choose a shortcut",
            )

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
        """Stage 1 keeps the resolution; every later stage halves it with stride 2 (§3.3)."""
        return 1 if stage == 0 else 2

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
    return ResNetSpec(block=block, layers=layers, stem="imagenet", shortcut="B", **kw)


def _cifar(n: int, shortcut: Shortcut = "A") -> ResNetSpec:
    # He et al. 2015, §4.2: 3×3 stem conv with 16 filters, then 3 stages of n basic blocks with
    # 16/32/64 filters on 32/16/8 maps, 6n+2 weighted layers, option A shortcuts, 10 classes.
    return ResNetSpec(block="basic", layers=(n, n, n), stem="cifar", width=16, shortcut=shortcut, num_classes=10)


def _plain_imagenet(layers: tuple[int, ...]) -> ResNetSpec:
    # He et al. 2015, §3.3 "Plain Network" and Fig. 3 (middle): the same 3×3 convs, widths and stride-2
    # first convs as the ResNet, with no shortcut and no addition. Compared in Table 2 and Fig. 4.
    return ResNetSpec(block="basic", layers=layers, stem="imagenet", shortcut="none")


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
    # The paper's plain baselines (shortcut "none"): every ResNet block without its shortcut and add.
    # Kept after the residual nets, so code that lists the residual presets in order is unchanged.
    # He et al. 2015, Table 2 and Fig. 4 (left): the 18- and 34-layer plain nets on ImageNet.
    "plain18": _plain_imagenet((2, 2, 2, 2)),
    "plain34": _plain_imagenet((3, 4, 6, 3)),
    # He et al. 2015, §4.2 and Fig. 6 (left): the CIFAR-10 plain nets, 6n+2 layers, n = 3, 5, 7, 9.
    "plain20": _cifar(3, "none"),
    "plain32": _cifar(5, "none"),
    "plain44": _cifar(7, "none"),
    "plain56": _cifar(9, "none"),
    # The same §4.2 construction at n = 18 (the depth of the paper's ResNet-110); the paper reports
    # no plain-110, so this one has no published curve to compare with.
    "plain110": _cifar(18, "none"),
}

#: The input size each preset family was designed for.
DEFAULT_INPUT_SIZE: dict[str, int] = {"imagenet": 224, "deep": 224, "cifar": 32}


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
