"""What the user picked — a preset, its spec, an input size — and its one text codec.

Every way into the project writes a network as text: a link's query parameters, the CLI's flags,
the app's text boxes. This module turns that text into a ``Selection`` and back, reading every
field's kind, choices and flag from ``resnet_core.spec.FIELDS``, so a field added to the spec is
in the URL and on the command line with no change here.

* ``Selection(arch, spec, input_size)``: the preset it started from, the spec (the preset plus
  changes) and the input size (N or (H, W)); ``title`` reads "resnet50 (modified: stride on 1×1)".
* One field value: ``parse_value(name, text)`` / ``format_value(name, value)`` ("3,4,6,3", "1").
* The input size: ``parse_input_size("224x160")`` (also ``224×160``, as the pages show it, and
  ``224``), ``format_input_size``, and ``normalize_input_size`` — the one range check, which
  ``analyze`` applies too.
* Links: ``to_query(selection, prefix)`` holds the preset (``arch``), only the fields that differ
  from it, and ``input`` when it is not the spec's own size, e.g. ``?arch=resnet50&stride_on=1x1``.
  ``from_query(params, prefix, default_arch)`` never raises: each value that does not parse or
  validate falls back to the preset's and leaves a notice saying what was wrong and what is
  allowed, so the page can show it and go on.
* The CLI: ``add_arguments(parser)`` adds ARCH, one flag per field (``--stride-on``, ``--classes``,
  …) and ``--input``; ``from_args(args)`` reads them back (``ValueError`` on bad input).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from resnet_core.spec import FIELD_INFO, FIELDS, PRESETS, ResNetSpec, default_input_size, describe, preset

InputSize = int | tuple[int, int]

DEFAULT_ARCH = "resnet50"
ARCH_KEY = "arch"
INPUT_KEY = "input"
MAX_SIDE = 8192  # pixels along either side of the input
MAX_VALUE_CHARS = 100  # the longest valid value, layers "1000,…" for 8 stages, has 39
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")

#: What a field of each kind is written as, for the message when text is not that.
_EXPECTED = {
    "layers": "blocks per stage as integers, e.g. 3,4,6,3",
    "bool": "1 or 0 (true or false)",
    "int": "an integer is expected",
    "float": "a number is expected, e.g. 0.1",
}
_EXPECTED_SIZE = "N or HxW pixels, e.g. 224 or 224x160"


@dataclass(frozen=True)
class Selection:
    """What a page or a command shows: a preset, the spec (preset + changes) and an input size."""

    arch: str
    spec: ResNetSpec
    input_size: InputSize
    notices: tuple[str, ...] = field(default=(), compare=False)  # what a link had wrong

    @property
    def title(self) -> str:
        """'resnet50' or 'resnet50 (modified: stride on 1×1)'."""
        return describe(self.spec, base=self.arch)


class BadText(ValueError):
    """Text that is not a value of its kind: ``key='text' is not allowed: what is expected``."""

    def __init__(self, key: str, text: str, expected: str) -> None:
        super().__init__(f"{key}={text!r} is not allowed: {expected}")
        self.text, self.expected = text, expected


class UsageError(ValueError):
    """Bad input on the command line: the CLI prints it as one ``error:`` line and exits with status 2."""


# -- one value -----------------------------------------------------------------------------------


def parse_bool(text: str) -> bool:
    """'1', 'true', 'yes', 'on' (any case) → True; '0', 'false', 'no', 'off' → False."""
    low = text.lower()
    if low in TRUE_WORDS:
        return True
    if low in FALSE_WORDS:
        return False
    raise ValueError(f"expected true or false, got {text!r}")


def parse_value(name: str, text: str) -> Any:
    """One field's value from text, as the field's type; ``BadText`` says what was expected.

    Only the text is checked here; whether the value is allowed is the spec's to say.
    """
    kind = FIELD_INFO[name].kind
    try:
        if kind == "layers":
            return tuple(int(part) for part in text.split(","))
        if kind == "bool":
            return parse_bool(text)
        if kind == "int":
            return int(text)
        if kind == "float":
            return float(text)
    except ValueError:
        raise BadText(name, text, _EXPECTED[kind]) from None
    return text  # a choice: the spec names the allowed ones


def format_value(name: str, value: Any) -> str:
    """The text ``parse_value`` reads back: '3,4,6,3', '1' / '0', '64', '1x1'."""
    kind = FIELD_INFO[name].kind
    if kind == "layers":
        return ",".join(str(n) for n in value)
    if kind == "bool":
        return "1" if value else "0"
    return str(value)


# -- the input size ------------------------------------------------------------------------------


def normalize_input_size(input_size: InputSize | list[int]) -> tuple[int, int]:
    """(H, W) from N or (H, W); ``ValueError`` names the value and the allowed range."""
    # bool is an int and a str is a sequence: neither is a size. A float or None is not iterable,
    # which must still be a ValueError (one clear line in the CLI), not a TypeError.
    if isinstance(input_size, (bool, str)) or not isinstance(input_size, (int, tuple, list)):
        raise ValueError(f"input_size={input_size!r} is not allowed: an integer or an (H, W) pair is expected")
    hw = (input_size, input_size) if isinstance(input_size, int) else tuple(input_size)
    if len(hw) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in hw):
        raise ValueError(f"input_size={input_size!r} is not allowed: an integer or an (H, W) pair is expected")
    if not all(1 <= v <= MAX_SIDE for v in hw):
        raise ValueError(f"input_size={input_size!r} is not allowed: each side must be from 1 to {MAX_SIDE} pixels")
    return hw  # type: ignore[return-value]


def parse_input_size(text: str) -> InputSize:
    """'224' → 224, '224x160' or '224×160' (as the pages show sizes) → (224, 160), range-checked."""
    low = text.lower().replace("×", "x")
    try:
        if "x" in low:
            h, w = low.split("x")
            size: InputSize = (int(h), int(w))
        else:
            size = int(low)
    except ValueError:
        raise BadText(INPUT_KEY, low, _EXPECTED_SIZE) from None
    normalize_input_size(size)  # the range check, with its own message
    return size


def format_input_size(size: InputSize) -> str:
    """'224' or '224x160': what ``parse_input_size`` reads back (links, file names)."""
    return str(size) if isinstance(size, int) else f"{size[0]}x{size[1]}"


# -- links ---------------------------------------------------------------------------------------


def to_query(selection: Selection, prefix: str = "") -> dict[str, str]:
    """The query parameters for ``selection``: the preset, the fields that differ from it, the input size."""
    base = PRESETS[selection.arch]
    params = {prefix + ARCH_KEY: selection.arch}
    for name, (_, new) in base.differences(selection.spec).items():
        params[prefix + name] = format_value(name, new)
    if selection.input_size != default_input_size(selection.spec):
        params[prefix + INPUT_KEY] = format_input_size(selection.input_size)
    return params


def from_query(params: Mapping[str, str | list[str]], prefix: str = "", default_arch: str = DEFAULT_ARCH) -> Selection:
    """Read a Selection from query parameters; bad values fall back to the preset's, with a notice each."""

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
    for info in FIELDS:
        text = get(info.name)
        if text is None:
            continue
        try:
            decoded[info.name] = parse_value(info.name, text)
        except ValueError as e:
            notices.append(f"Ignored {prefix}{info.name} from the link: {e}")
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
    input_size: InputSize = default_input_size(spec)
    text = get(INPUT_KEY)
    if text is not None:
        try:
            input_size = parse_input_size(text)
        except ValueError as e:
            notices.append(f"Ignored {prefix}{INPUT_KEY} from the link: {e}")
    return Selection(arch=arch, spec=spec, input_size=input_size, notices=tuple(notices))


# -- the command line ----------------------------------------------------------------------------


def _flag_bool(text: str) -> bool:
    try:
        return parse_bool(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _flag_options(kind: str, choices: tuple[str, ...]) -> dict[str, Any]:
    """argparse's options for a flag of each kind (argparse checks choices and integers itself)."""
    if kind == "choice":
        return {"choices": choices}
    if kind == "int":
        return {"type": int}
    if kind == "float":
        return {"type": float}
    if kind == "bool":
        return {"nargs": "?", "const": True, "type": _flag_bool}  # "--preact" alone means true
    return {}  # layers: read by from_args, which says what was wrong in the CLI's own words


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """ARCH, one flag per spec field overriding it (``FieldInfo.flag``), and ``--input``."""
    parser.add_argument("arch", metavar="ARCH", help="a preset name, e.g. resnet50 or resnet56")
    group = parser.add_argument_group("spec overrides (on top of ARCH)")
    for info in FIELDS:
        group.add_argument(info.flag, dest=info.name, help=info.help, **_flag_options(info.kind, info.choices))
    parser.add_argument(
        "--input", metavar="N|HxW", help="input size, N or HxW (default: the spec's own, 224, or 32 for the CIFAR stem)"
    )


def from_args(args: argparse.Namespace) -> Selection:
    """The preset named by ARCH with every given flag applied, and the input size.

    ``ValueError`` (a ``UsageError`` for text that does not parse) names what was wrong.
    """
    spec = preset(args.arch)
    overrides: dict[str, Any] = {}
    for info in FIELDS:
        value = getattr(args, info.name, None)
        if value is None:
            continue
        if isinstance(value, str) and info.kind != "choice":
            try:
                value = parse_value(info.name, value)
            except BadText as e:
                raise UsageError(f"{info.flag} {e.text!r} is not allowed: {e.expected}") from None
        overrides[info.name] = value
    spec = spec.replace(**overrides)
    if args.input is None:
        return Selection(args.arch, spec, default_input_size(spec))
    try:
        size = parse_input_size(args.input)
    except BadText as e:
        raise UsageError(f"--input {e.text!r} is not allowed: {e.expected}") from None
    return Selection(args.arch, spec, size)
