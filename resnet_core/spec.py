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

FieldKind = Literal["choice", "int", "bool", "layers"]
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
    minimum: int = 1  # kind "int": the allowed range
    maximum: int = 0
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
    maximum: int = 0,
    flag: str = "",
    advanced: bool = False,
) -> Any:
    """A ``ResNetSpec`` field with its ``FieldInfo``: ``width: int = spec_field(64, "int", "Width", "…", maximum=4096)``."""
    if kind not in FIELD_KINDS:
        raise TypeError(f"kind {kind!r} is not one of {', '.join(FIELD_KINDS)}")
    if kind == "int" and maximum < 1:
        raise TypeError(f"an int field needs its maximum ({label!r})")
    info = FieldInfo(
        "",
        kind,
        label,
        help,
        option_texts=tuple((options or {}).items()),
        maximum=maximum,
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
        "'imagenet' (7×7/2 conv + 3×3/2 max-pool), 'cifar' (3×3/1 conv, no pool) "
        "or 'deep' (three 3×3 convs + max-pool, the 'ResNet-C' stem)",
        options={
            "imagenet": "imagenet: 7×7/2 + max-pool",
            "cifar": "cifar: 3×3/1",
            "deep": "deep: three 3×3 + max-pool",
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

    def __post_init__(self) -> None:
        for info in FIELDS:
            value = getattr(self, info.name)
            if info.kind == "layers" and isinstance(value, list):  # accept a list, store the hashable tuple
                value = tuple(value)
                object.__setattr__(self, info.name, value)
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
