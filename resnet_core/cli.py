"""Command line: ``python -m resnet_core {summary,diagram,bench} ARCH [spec overrides] ...``.

Every subcommand takes a preset name and the same spec-override flags, so
``python -m resnet_core summary resnet50 --stride-on 1x1`` is "resnet50, but with the stride on
the 1×1 conv". Bad input prints one line on stderr and exits with status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import NoReturn

from resnet_core import selection
from resnet_core.commands import bench, diagram, summary

EXIT_USAGE = 2

#: The subcommands. Each module has HELP, add_arguments(parser) for its own flags and
#: run(args) -> exit status; the spec flags and ARCH come from resnet_core.selection.
COMMANDS: dict[str, ModuleType] = {"summary": summary, "diagram": diagram, "bench": bench}


class Parser(argparse.ArgumentParser):
    """argparse, but a bad flag is one line on stderr (what was wrong, where to look), exit status 2;
    its own error() prints the whole usage block first. Subcommand parsers are of the same class."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"error: {self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="python -m resnet_core", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module in COMMANDS.items():
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        selection.add_arguments(p)
        module.add_arguments(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)  # a bad flag: one line on stderr, exit 2 (Parser.error)
    try:
        return COMMANDS[args.command].run(args)
    except ValueError as e:  # selection.UsageError included: bad text, an invalid spec, an input too small
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
