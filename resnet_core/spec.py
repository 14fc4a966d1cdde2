"""ResNetSpec: the one description of a residual network, and the presets.

Every way into the project (the app's widgets, the URL, the CLI flags) ends in a
``ResNetSpec``; ``build(spec)`` turns it into the ``nn.Module`` and ``analyze(spec)``
into the numbers. The spec is frozen and validated on construction, so a spec
that exists is a spec that builds.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal, get_args, get_type_hints

Block = Literal["basic", "bottleneck"]
Stem = Literal["imagenet", "cifar", "deep", "deep_tiered", "deep_wide"]
Shortcut = Literal["A", "B", "C", "D", "none"]
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

FieldKind = Literal["choice", "int", "float", "bool", "layers"]
FIELD_KINDS: tuple[str, ...] = get_args(FieldKind)
_INFO = "resnet_explorer.field"  # the key of a field's FieldInfo in its dataclasses.field metadata


@dataclass(frozen=True)
class FieldInfo:
    """One ``ResNetSpec`` field as every way into the project presents it, declared once beside the field.

    Validation reads ``kind``, ``choices`` and the integer range; the URL codec and the CLI
    (``resnet_core.selection``) read ``kind``, ``choices`` and ``flag``; the app's editor reads
    ``label``, ``help``, ``option_text``, the range and ``advanced``; the CLI's ``--help`` reads
    ``help``. A field's ``choices`` are its ``Literal`` type's values, so a new option is one edit.
    """

    name: str
    kind: FieldKind
    label: str  # the editor's label
    help: str  # one line: the editor's tooltip and the CLI's --help
    default: Any = None
    choices: tuple[str, ...] = ()  # kind "choice": the allowed values, from the field's Literal type
    option_texts: tuple[tuple[str, str], ...] = ()  # kind "choice": (value, the editor's text for it)
    minimum: float = 1  # kinds "int" (minimum … maximum) and "float" (minimum up to, not including, maximum)
    maximum: float = 0
    step: float = 1  # the editor's step for a number
    flag: str = ""  # the CLI flag: "--" + the name with dashes, unless declared
    advanced: bool = False  # the editor shows it under "Advanced fields"

    def option_text(self, value: str) -> str:
        """The editor's text for one choice ('A: zero-pad identity'), or the value itself."""
        return dict(self.option_texts).get(value, value)


def spec_field(
    default: Any,
    kind: FieldKind,
    label: str,
    help: str,
    *,
    options: dict[str, str] | None = None,
    minimum: float = 1,
    maximum: float = 0,
    step: float = 1,
    flag: str = "",
    advanced: bool = False,
) -> Any:
    """A ``ResNetSpec`` field with its ``FieldInfo``: ``width: int = spec_field(64, "int", "Width", "…", maximum=4096)``."""
    if kind not in FIELD_KINDS:
        raise TypeError(f"kind {kind!r} is not one of {', '.join(FIELD_KINDS)}")
    if kind in ("int", "float") and maximum <= minimum:
        raise TypeError(f"a number field needs a maximum above its minimum ({label!r})")
    info = FieldInfo(
        "",
        kind,
        label,
        help,
        option_texts=tuple((options or {}).items()),
        minimum=minimum,
        maximum=maximum,
        step=step,
        flag=flag,
        advanced=advanced,
    )
    return dataclasses.field(default=default, metadata={_INFO: info})


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


def _check_layers(field: str, value: Any) -> None:
    if not isinstance(value, tuple):
        raise _fail(field, value, "a sequence of blocks per stage, e.g. (3, 4, 6, 3)")
    if not 1 <= len(value) <= MAX_STAGES:
        raise _fail(field, value, f"1 to {MAX_STAGES} stages are allowed, got {len(value)}")
    for i, n in enumerate(value):
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= MAX_BLOCKS_PER_STAGE:
            raise _fail(
                field,
                value,
                f"stage {i + 1} has {n!r} blocks; each stage needs an integer from 1 to {MAX_BLOCKS_PER_STAGE}",
            )


def _check_field(info: FieldInfo, value: Any) -> None:
    """The checks a field's kind implies on its own; rules across fields are ``ResNetSpec``'s."""
    if info.kind == "choice":
        _check_choice(info.name, value, info.choices)
    elif info.kind == "int":
        _check_int(info.name, value, info.minimum, info.maximum)
    elif info.kind == "float":
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not info.minimum <= value < info.maximum:
            raise _fail(info.name, value, f"a number from {info.minimum:g} up to (not including) {info.maximum:g}")
    elif info.kind == "bool":
        if not isinstance(value, bool):
            raise _fail(info.name, value, "true or false")
    else:
        _check_layers(info.name, value)


@dataclass(frozen=True)
class ResNetSpec:
    """A residual network, field by field. ``FIELDS`` holds each field's meaning, range and texts.

    To add a field: declare it here with ``spec_field`` (kind, label, one-line help, range or
    ``Literal`` choices, advanced or not); validation, the app's editor, the URL and the CLI read
    it from there. Rules that tie fields together go in ``__post_init__``; what the field does to
    the network goes in ``model.py``.
    """

    block: Block = spec_field(
        "bottleneck",
        "choice",
        "Block",
        "residual block: 'basic' (two 3×3 convs) or 'bottleneck' (1×1, 3×3, 1×1, expansion 4)",
    )
    layers: tuple[int, ...] = spec_field(
        (3, 4, 6, 3),
        "layers",
        "Blocks per stage",
        f"blocks per stage, e.g. 3,4,6,3 (1 to {MAX_STAGES} stages, 1 to {MAX_BLOCKS_PER_STAGE} blocks each)",
    )
    stem: Stem = spec_field(
        "imagenet",
        "choice",
        "Stem",
        "'imagenet' (7×7/2 conv + 3×3/2 max-pool), 'cifar' (3×3/1 conv, no pool), "
        "'deep' (three 3×3 convs of width/2, width/2, width + max-pool, the 'ResNet-C' stem), "
        "'deep_tiered' (3×3 convs of 3·width/8, width/2, width: timm's '*t' nets) or "
        "'deep_wide' (3×3 convs of width, width, 2·width: timm's '*s' nets; stage 1 then reads 2·width channels)",
        options={
            "imagenet": "imagenet: 7×7/2 + max-pool",
            "cifar": "cifar: 3×3/1",
            "deep": "deep: three 3×3 + max-pool",
            "deep_tiered": "deep, tiered 3w/8 · w/2 · w (timm *t)",
            "deep_wide": "deep, wide w · w · 2w (timm *s)",
        },
    )
    width: int = spec_field(
        64,
        "int",
        "Width (stem channels)",
        "channels of the stem and of stage 1's 'planes'; stage i has width × 2^i",
        maximum=MAX_WIDTH,
    )
    shortcut: Shortcut = spec_field(
        "B",
        "choice",
        "Shortcut",
        "A zero-pad identity, B projection where the shape changes (torchvision), "
        "C projection everywhere, D average-pool then projection where the shape changes, "
        "none: plain net, no shortcut and no addition (the paper's plain baselines, §3.3)",
        options={
            "A": "A: zero-pad identity",
            "B": "B: project on change",
            "C": "C: project always",
            "D": "D: avg-pool + project",
            "none": "none: plain net, no shortcut",
        },
    )
    stride_on: StrideOn = spec_field(
        "3x3",
        "choice",
        "Stride placement",
        "bottleneck only: the stride on the 3×3 conv (torchvision, 'v1.5') or on the first 1×1 conv (the paper, 'v1')",
        options={"3x3": "3×3 (v1.5, torchvision)", "1x1": "first 1×1 (v1, paper)"},
    )
    groups: int = spec_field(
        1,
        "int",
        "Groups (cardinality)",
        "groups of the bottleneck's 3×3 conv (ResNeXt cardinality)",
        maximum=MAX_GROUPS,
        advanced=True,
    )
    width_per_group: int = spec_field(
        64,
        "int",
        "Width per group",
        "channels per group of the bottleneck's 3×3 conv at width 64; 128 makes torchvision's wide ResNets",
        maximum=MAX_WIDTH,
        advanced=True,
    )
    preact: bool = spec_field(
        False,
        "bool",
        "Pre-activation blocks",
        "pre-activation blocks (BN → ReLU → conv) of He et al. 2016, 'Identity Mappings'",
        advanced=True,
    )
    zero_init_residual: bool = spec_field(
        False,
        "bool",
        "Zero-init last BN",
        "initialise the last BatchNorm of each residual branch to zero (Goyal et al. 2017), "
        "so every block starts as an identity",
        advanced=True,
    )
    num_classes: int = spec_field(
        1000,
        "int",
        "Classes",
        "outputs of the final fully connected layer",
        maximum=MAX_CLASSES,
        flag="--classes",
        advanced=True,
    )
    in_channels: int = spec_field(
        3, "int", "Input channels", "channels of the input image", maximum=MAX_IN_CHANNELS, advanced=True
    )
    # -- the ResNet family since 2015 (issue 17): dilation, channel attention, anti-aliasing, activation,
    # norm, stem pooling, stochastic depth, weight standardisation; rules across fields in _check_family --
    dilated_stages: int = spec_field(
        0,
        "int",
        "Dilated stages (output stride)",
        "the last N stages keep the resolution and dilate their 3×3 convs instead of striding "
        "(torchvision's replace_stride_with_dilation; timm's output_stride 16 is N=1, 8 is N=2)",
        minimum=0,
        maximum=MAX_STAGES - 1,
        advanced=True,
    )
    attention: Attention = spec_field(
        "none",
        "choice",
        "Channel attention",
        "channel attention at the end of each residual branch: 'se' squeeze-and-excitation "
        "(Hu et al., arXiv:1709.01507) or 'eca' efficient channel attention (Wang et al., arXiv:1910.03151)",
        options={"none": "none", "se": "SE (squeeze-and-excitation)", "eca": "ECA (efficient channel attention)"},
    )
    se_reduction: int = spec_field(
        SE_REDUCTION,
        "int",
        "SE reduction r",
        "SE only: the squeeze keeps channels / r, rounded to a multiple of 8 as timm does "
        "(16 in the paper; 4 in ResNet-RS)",
        maximum=MAX_SE_REDUCTION,
        advanced=True,
    )
    anti_alias: AntiAlias = spec_field(
        "none",
        "choice",
        "Anti-aliased downsampling",
        "anti-aliased downsampling (Zhang, arXiv:1904.11486): the strided 3×3 runs at stride 1 "
        "and a 2×2 average pool ('avg', timm's resnetaa) or a 3×3 binomial blur ('blur', BlurPool) subsamples",
        options={"none": "none", "avg": "2×2 average pool (resnetaa)", "blur": "BlurPool (resnetblur)"},
        advanced=True,
    )
    activation: Activation = spec_field(
        "relu",
        "choice",
        "Activation",
        "the nonlinearity of the stem and the blocks: 'relu' or 'silu' (x·sigmoid(x))",
        options={"relu": "ReLU", "silu": "SiLU"},
        advanced=True,
    )
    norm: Norm = spec_field(
        "batchnorm",
        "choice",
        "Normalisation",
        "'batchnorm' or 'groupnorm' (32 groups, Wu & He, arXiv:1803.08494)",
        options={"batchnorm": "BatchNorm", "groupnorm": "GroupNorm (32 groups)"},
        advanced=True,
    )
    stem_pool: StemPool = spec_field(
        "max",
        "choice",
        "Stem pooling",
        "the stem's subsampling after its convs: 'max' (3×3/2 max-pool, padding 1), 'max_ceil' "
        "(3×3/2 max-pool rounding up, no padding: Caffe's, the original SENets), 'max_zeropad' (zero padding, "
        "then a 3×3/2 max-pool: BiT's) or 'conv' (3×3/2 conv + norm + activation: ResNet-RS)",
        options={
            "max": "3×3/2 max-pool",
            "max_ceil": "max-pool, ceil (Caffe/SENet)",
            "max_zeropad": "zero-pad + max-pool (BiT)",
            "conv": "3×3/2 conv (ResNet-RS)",
        },
        advanced=True,
    )
    drop_path_rate: float = spec_field(
        0.0,
        "float",
        "Stochastic depth rate",
        "stochastic depth (Huang et al., arXiv:1603.09382): in training, block i of n skips its "
        "residual branch with probability rate·i/(n−1); no effect on inference or on any count",
        minimum=0.0,
        maximum=1.0,
        step=0.05,
        advanced=True,
    )
    weight_standardization: bool = spec_field(
        False,
        "bool",
        "Weight standardisation",
        "every conv of the stem, the blocks and the shortcuts standardises its weights per output channel "
        "(zero mean, unit variance, ε = 1e-8) before convolving (Qiao et al., arXiv:1903.10520); "
        "with GroupNorm, BiT's recipe (Kolesnikov et al., arXiv:1912.11370)",
        advanced=True,
    )

    def __post_init__(self) -> None:
        for info in FIELDS:
            value = getattr(self, info.name)
            if info.kind == "layers" and isinstance(value, list):  # accept a list, store the hashable tuple
                value = tuple(value)
                object.__setattr__(self, info.name, value)
            if info.name == "dilated_stages":  # its bound depends on the depth (layers, checked before it)
                _check_int(info.name, value, 0, len(self.layers) - 1)  # one stage must stride
            else:
                _check_field(info, value)

        if self.stem == "deep" and self.width % 2:
            raise _fail(
                "width", self.width, "the deep stem halves the width in its first two convs, so it must be even"
            )
        if self.shortcut == "none" and self.zero_init_residual:
            raise _fail(
                "zero_init_residual",
                True,
                "a plain net (shortcut 'none') has no shortcut to carry the signal, so zeroing each block's last "
                "BatchNorm would zero every block's output; turn it off or choose a shortcut",
            )
        if self.stem == "deep_tiered" and self.width % 8:
            raise _fail(
                "width",
                self.width,
                "the tiered deep stem's convs have 3·width/8 and width/2 channels, so it must be a multiple of 8",
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
        self._check_family()

    def _check_family(self) -> None:
        """The issue-17 fields (dilation, attention, anti-aliasing, activation, norm, stem pool, stochastic
        depth) against the other fields; each on its own is checked by its ``FieldInfo``."""
        _check_int("dilated_stages", self.dilated_stages, 0, len(self.layers) - 1)  # one stage must stride
        if self.attention != "se" and self.se_reduction != SE_REDUCTION:
            raise _fail(
                "se_reduction",
                self.se_reduction,
                f"only squeeze-and-excitation has a reduction ratio; with attention={self.attention!r} "
                f"it must stay {SE_REDUCTION}",
            )
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


def field_infos(cls: type) -> tuple[FieldInfo, ...]:
    """Each field's declared ``FieldInfo``, completed with its name, default, choices and flag.

    A field declared without ``spec_field`` is a ``TypeError``: it would be missing from the
    editor, the URL and the CLI.
    """
    hints = get_type_hints(cls)
    infos = []
    for f in dataclasses.fields(cls):
        info = f.metadata.get(_INFO)
        if info is None:
            raise TypeError(f"{cls.__name__}.{f.name} has no FieldInfo: declare it with spec_field(...)")
        choices: tuple[str, ...] = get_args(hints[f.name]) if info.kind == "choice" else ()
        if info.kind == "choice" and not choices:
            raise TypeError(f"{cls.__name__}.{f.name} is a choice: its type must be a Literal of the allowed values")
        stray = sorted(set(dict(info.option_texts)) - set(choices))
        if stray:
            raise TypeError(f"{cls.__name__}.{f.name}: option texts for values it does not allow: {', '.join(stray)}")
        flag = info.flag or "--" + f.name.replace("_", "-")
        infos.append(dataclasses.replace(info, name=f.name, default=f.default, choices=choices, flag=flag))
    return tuple(infos)


#: Every field's metadata, in field order: what the editor, the URL, the CLI and the README show.
FIELDS: tuple[FieldInfo, ...] = field_infos(ResNetSpec)
FIELD_INFO: dict[str, FieldInfo] = {info.name: info for info in FIELDS}
#: What each field means, in one line (``FIELDS``' help texts, by name).
FIELD_HELP: dict[str, str] = {info.name: info.help for info in FIELDS}


def field_names() -> tuple[str, ...]:
    return tuple(info.name for info in FIELDS)


def _imagenet(block: Block, layers: tuple[int, ...], **kw: Any) -> ResNetSpec:
    return ResNetSpec(block=block, layers=layers, **{"stem": "imagenet", "shortcut": "B", **kw})


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
