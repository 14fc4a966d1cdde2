"""Shareable state: a preset plus overrides <-> URL query parameters.

A link holds the preset (``arch``), only the fields that differ from it, and the input size, e.g.
``?arch=resnet50&stride_on=1x1&input=224``. Reading a link never raises: each value that does not
parse or validate falls back to the preset's and leaves a notice saying what was wrong and what is
allowed, so the page can show it and go on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from resnet_core.analysis import normalize_input_size
from resnet_core.spec import PRESETS, ResNetSpec, default_input_size, describe, field_names

DEFAULT_ARCH = "resnet50"
ARCH_KEY = "arch"
INPUT_KEY = "input"
BOOL_FIELDS = ("preact", "zero_init_residual")
INT_FIELDS = ("width", "groups", "width_per_group", "num_classes", "in_channels")
MAX_VALUE_CHARS = 100  # the longest valid value, layers "1000,…" for 8 stages, has 39


@dataclass(frozen=True)
class Choice:
    """What a page shows: a preset, the spec (preset + overrides) and an input size."""

    arch: str
    spec: ResNetSpec
    input_size: int | tuple[int, int]
    notices: tuple[str, ...] = field(default=(), compare=False)

    @property
    def title(self) -> str:
        """'resnet50' or 'resnet50 (modified: stride on 1×1)'."""
        return describe(self.spec, base=self.arch)


def encode_value(name: str, value: Any) -> str:
    if name == "layers":
        return ",".join(str(n) for n in value)
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def decode_value(name: str, text: str) -> Any:
    """One query value as the field's type; ValueError says what was expected."""
    if name == "layers":
        try:
            return tuple(int(p) for p in text.split(","))
        except ValueError:
            raise ValueError(f"layers={text!r} is not allowed: blocks per stage as integers, e.g. 3,4,6,3") from None
    if name in BOOL_FIELDS:
        low = text.lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"{name}={text!r} is not allowed: 1 or 0 (true or false)")
    if name in INT_FIELDS:
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"{name}={text!r} is not allowed: an integer is expected") from None
    return text


def encode_input_size(size: int | tuple[int, int]) -> str:
    return str(size) if isinstance(size, int) else f"{size[0]}x{size[1]}"


def decode_input_size(text: str) -> int | tuple[int, int]:
    text = text.lower().replace("×", "x")  # the page shows sizes as 224×160
    try:
        if "x" in text:
            h, w = text.split("x")
            size: int | tuple[int, int] = (int(h), int(w))
        else:
            size = int(text)
    except ValueError:
        raise ValueError(f"input={text!r} is not allowed: N or HxW pixels, e.g. 224 or 224x160") from None
    normalize_input_size(size)  # range check, with its own message
    return size


def to_query(choice: Choice, prefix: str = "") -> dict[str, str]:
    """The query parameters for ``choice``: the preset, the fields that differ from it, the input size."""
    base = PRESETS[choice.arch]
    params = {prefix + ARCH_KEY: choice.arch}
    for name, (_, new) in base.differences(choice.spec).items():
        params[prefix + name] = encode_value(name, new)
    if choice.input_size != default_input_size(choice.spec):
        params[prefix + INPUT_KEY] = encode_input_size(choice.input_size)
    return params


def from_query(params: Mapping[str, str | list[str]], prefix: str = "", default_arch: str = DEFAULT_ARCH) -> Choice:
    """Read a Choice from query parameters; bad values fall back to the preset's, with a notice each."""

    notices: list[str] = []

    def get(key: str) -> str | None:
        value = params.get(prefix + key)
        if isinstance(value, list):
            value = value[-1] if value else None
        if value is not None and len(value) > MAX_VALUE_CHARS:
            notices.append(
                f"Ignored {prefix}{key} from the link: {len(value):,} characters long "
                f"(a value here is at most {MAX_VALUE_CHARS}), starting {value[:20]!r}."
            )
            return None
        return value

    arch = get(ARCH_KEY) or default_arch
    if arch not in PRESETS:
        notices.append(f"Unknown preset {arch!r} in the link; showing {default_arch}. Presets: {', '.join(PRESETS)}.")
        arch = default_arch
    spec = PRESETS[arch]
    decoded: dict[str, Any] = {}
    for name in field_names():
        text = get(name)
        if text is None:
            continue
        try:
            decoded[name] = decode_value(name, text)
        except ValueError as e:
            notices.append(f"Ignored {prefix}{name} from the link: {e}")
    try:
        # All together first: some changes are valid only with another (a basic block needs groups=1).
        spec = spec.replace(**decoded)
    except ValueError:
        overrides: dict[str, Any] = {}
        for name, value in decoded.items():
            try:
                spec.replace(**{name: value})  # on its own against the preset, to name the bad one
                overrides[name] = value
            except ValueError as e:
                notices.append(f"Ignored {prefix}{name} from the link: {e}")
        try:
            spec = spec.replace(**overrides)
        except ValueError as e:
            notices.append(f"The link's changes do not fit together ({e}); showing {arch} unchanged.")
    input_size: int | tuple[int, int] = default_input_size(spec)
    text = get(INPUT_KEY)
    if text is not None:
        try:
            input_size = decode_input_size(text)
        except ValueError as e:
            notices.append(f"Ignored {prefix}{INPUT_KEY} from the link: {e}")
    return Choice(arch=arch, spec=spec, input_size=input_size, notices=tuple(notices))
