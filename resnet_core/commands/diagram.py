"""``python -m resnet_core diagram ARCH``: the block diagram as DOT text, or laid out as SVG or PNG."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from resnet_core.analysis import analyze
from resnet_core.diagram import (
    DEFAULT_ANNOTATIONS,
    LEVELS,
    DiagramOptions,
    GraphvizError,
    GraphvizNotFound,
    render,
    to_dot,
)
from resnet_core.selection import UsageError, from_args

HELP = "the block diagram as Graphviz DOT, or laid out as SVG or PNG by Graphviz's dot"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--level", choices=LEVELS, default="block", help="stage, block (default) or layer")
    p.add_argument(
        "--unfold",
        action="append",
        default=[],
        metavar="STAGE",
        help="draw this stage block by block (repeatable or comma separated, e.g. layer3; 'all' for every stage)",
    )
    p.add_argument("--no-fold", action="store_true", help="never fold runs of identical blocks into one node")
    p.add_argument(
        "--stage",
        action="append",
        default=[],
        metavar="STAGE",
        help="draw only this stage (repeatable or comma separated: stem, layer1 …, head)",
    )
    p.add_argument("--format", choices=("dot", "svg", "png"), default="dot", help="dot (default), svg or png")
    p.add_argument("-o", "--output", metavar="FILE", help="write here (default: standard output)")
    p.add_argument("--no-shapes", action="store_true", help="leave output shapes off the edges")
    p.add_argument("--no-params", action="store_true", help="leave parameter counts off")
    p.add_argument("--no-macs", action="store_true", help="leave multiply-adds off")
    p.add_argument("--rf", action="store_true", help="write each receptive field on its node")
    p.add_argument("--lr", action="store_true", help="lay out left to right (default: top to bottom)")
    p.add_argument("--no-legend", action="store_true", help="leave the legend off")


def _names(values: list[str]) -> tuple[str, ...]:
    return tuple(part.strip() for value in values for part in value.split(",") if part.strip())


def _options(
    args: argparse.Namespace, title: str, residual_stages: list[str], every_stage: list[str]
) -> DiagramOptions:
    unfold = _names(args.unfold)
    if "all" in unfold:
        unfold = tuple(residual_stages)
    bad = [s for s in unfold if s not in residual_stages]
    if bad:
        raise UsageError(
            f"--unfold {','.join(bad)}: no such stage with blocks; choose from {', '.join(residual_stages)}"
        )
    stages = _names(args.stage)
    bad = [s for s in stages if s not in every_stage]
    if bad:
        raise UsageError(f"--stage {','.join(bad)}: no such stage; choose from {', '.join(every_stage)}")
    annotations = set(DEFAULT_ANNOTATIONS)
    for flag, name in (("no_shapes", "shape"), ("no_params", "params"), ("no_macs", "macs")):
        if getattr(args, flag):
            annotations.discard(name)
    if args.rf:
        annotations.add("rf")
    return DiagramOptions(
        level=args.level,
        fold=not args.no_fold,
        unfold=unfold,
        stages=stages,
        annotations=frozenset(annotations),
        rankdir="LR" if args.lr else "TB",
        legend=not args.no_legend,
        title=title,
    )


def _stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def run(args: argparse.Namespace) -> int:
    chosen = from_args(args)
    if args.format == "png" and not args.output and _stdout_is_terminal():
        raise UsageError("PNG is binary and standard output is a terminal; write it to a file with -o FILE")
    analysis = analyze(chosen.spec, chosen.input_size)
    residual, every = [s.name for s in analysis.stages if s.blocks], [s.name for s in analysis.stages]
    options = _options(args, chosen.title, residual, every)
    text = to_dot(analysis, options)
    if args.format == "dot":
        data = text.encode("utf-8")
    else:
        try:
            data = render(text, args.format)
        except GraphvizNotFound as e:
            print(f"error: {e} (--format dot)", file=sys.stderr)
            return 1
        except GraphvizError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
    if args.output:
        try:
            Path(args.output).write_bytes(data)
        except OSError as e:
            raise UsageError(f"-o {args.output}: cannot write it ({e.strerror})") from None
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return 0
