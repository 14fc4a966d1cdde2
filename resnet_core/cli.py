"""Command line: ``python -m resnet_core {summary,diagram,bench} ARCH [spec overrides] ...``.

Every subcommand takes a preset name and the same spec-override flags, so
``python -m resnet_core summary resnet50 --stride-on 1x1`` is "resnet50, but with the stride on
the 1×1 conv". Bad input prints one line on stderr and exits with status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from resnet_core.spec import BLOCKS, FIELD_HELP, SHORTCUTS, STEMS, STRIDE_ONS, ResNetSpec, preset

EXIT_USAGE = 2


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit status 2."""


def parse_layers(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise UsageError(
            f"--layers {text!r}: expected blocks per stage as integers separated by commas, e.g. 3,4,6,3"
        ) from None


def parse_input_size(text: str) -> int | tuple[int, int]:
    """'224' → 224, '224x160' → (224, 160)."""
    try:
        if "x" in text.lower():
            h, w = text.lower().split("x")
            return (int(h), int(w))
        return int(text)
    except ValueError:
        raise UsageError(f"--input {text!r}: expected N or HxW, e.g. 224 or 224x160") from None


def _bool(text: str) -> bool:
    low = text.lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def add_spec_arguments(parser: argparse.ArgumentParser) -> None:
    """ARCH and the flags that override any field of it."""
    parser.add_argument("arch", metavar="ARCH", help="a preset name, e.g. resnet50 or resnet56")
    g = parser.add_argument_group("spec overrides (on top of ARCH)")
    g.add_argument("--block", choices=BLOCKS, help=FIELD_HELP["block"])
    g.add_argument("--layers", help=FIELD_HELP["layers"])
    g.add_argument("--stem", choices=STEMS, help=FIELD_HELP["stem"])
    g.add_argument("--width", type=int, help=FIELD_HELP["width"])
    g.add_argument("--shortcut", choices=SHORTCUTS, help=FIELD_HELP["shortcut"])
    g.add_argument("--stride-on", choices=STRIDE_ONS, dest="stride_on", help=FIELD_HELP["stride_on"])
    g.add_argument("--groups", type=int, help=FIELD_HELP["groups"])
    g.add_argument("--width-per-group", type=int, dest="width_per_group", help=FIELD_HELP["width_per_group"])
    g.add_argument("--preact", nargs="?", const=True, type=_bool, help=FIELD_HELP["preact"])
    g.add_argument(
        "--zero-init-residual",
        nargs="?",
        const=True,
        type=_bool,
        dest="zero_init_residual",
        help=FIELD_HELP["zero_init_residual"],
    )
    g.add_argument("--classes", type=int, dest="num_classes", help=FIELD_HELP["num_classes"])
    g.add_argument("--in-channels", type=int, dest="in_channels", help=FIELD_HELP["in_channels"])


SPEC_FLAGS = (
    "block",
    "layers",
    "stem",
    "width",
    "shortcut",
    "stride_on",
    "groups",
    "width_per_group",
    "preact",
    "zero_init_residual",
    "num_classes",
    "in_channels",
)


def spec_from_args(args: argparse.Namespace) -> ResNetSpec:
    """The preset named by ARCH with every given flag applied (ValueError for a bad combination)."""
    overrides: dict[str, Any] = {f: getattr(args, f) for f in SPEC_FLAGS if getattr(args, f) is not None}
    if "layers" in overrides:
        overrides["layers"] = parse_layers(overrides["layers"])
    return preset(args.arch).replace(**overrides)


#: name → (help, add-arguments function, run function). Each feature module registers its own.
Command = tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]
COMMANDS: dict[str, Command] = {}


def command(name: str, help: str, add_arguments: Callable[[argparse.ArgumentParser], None]):
    """Decorator: register ``run(args) -> exit status`` as subcommand ``name``."""

    def register(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
        COMMANDS[name] = (help, add_arguments, run)
        return run

    return register


def _load_commands() -> None:
    """Import every module of ``resnet_core.commands``; each registers its subcommand with @command."""
    import importlib
    import pkgutil

    import resnet_core.commands as package

    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        importlib.import_module(f"{package.__name__}.{info.name}")


class Parser(argparse.ArgumentParser):
    """argparse, but a bad flag is one line on stderr (what was wrong, where to look), exit status 2;
    its own error() prints the whole usage block first. Subcommand parsers are of the same class."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"error: {self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    _load_commands()
    parser = Parser(prog="python -m resnet_core", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (help_text, add_arguments, _) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        add_spec_arguments(p)
        add_arguments(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # a bad flag: one line on stderr, exit 2 (Parser.error)
    _, _, run = COMMANDS[args.command]
    try:
        return run(args)
    except (UsageError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
