"""The explainer's annotated source: lines of ``resnet_core.model`` matched by content, each tied
to the node of a block figure (``app.teaching.figures``) that the line builds. No Streamlit here."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass

from resnet_core import model as model_module


@dataclass(frozen=True)
class Annotation:
    line: str  # a substring of exactly one source line (matched by content, not by number)
    note: str  # what the line does, in words
    diagram: str  # key of DIAGRAMS
    node: str  # the node of that diagram the line builds


@dataclass(frozen=True)
class Source:
    title: str
    obj: Callable[[], object]  # returns the class or function whose source is shown
    annotations: tuple[Annotation, ...]

    def code(self) -> str:
        return inspect.getsource(self.obj())  # type: ignore[arg-type]


def _stage_loop() -> object:
    return model_module.ResNet.__init__


SOURCES: dict[str, Source] = {
    "residual": Source(
        "ResidualBlock.forward (resnet_core/model.py)",
        lambda: model_module.ResidualBlock.forward,
        (
            Annotation(
                'out = self._part("bn", i)(self._part("conv", i)(out))',
                "conv → BN, once per conv: the residual branch F(x)",
                "residual",
                "conv2",
            ),
            Annotation(
                'out = self._part("relu", i)(out)',
                "ReLU between the branch's convs (none after its last BN)",
                "residual",
                "relu1",
            ),
            Annotation(
                "shortcut = x if self.downsample is None else self.downsample(x)",
                "the shortcut: x itself when the shape stays, else the downsample path",
                "residual",
                "x",
            ),
            Annotation(
                'return self._part("relu", self.num_convs)(self.add(out, shortcut))',
                "F(x) + x, then the ReLU after the addition (§3.2)",
                "residual",
                "add",
            ),
        ),
    ),
    "shortcuts": Source(
        "make_shortcut (resnet_core/model.py)",
        lambda: model_module.make_shortcut,
        (
            Annotation(
                "shape_changes = stride != 1 or in_channels != out_channels",
                "does x still fit F(x)? If not, the shortcut must change shape",
                "shortcut_B",
                "downsample.0",
            ),
            Annotation(
                "return ZeroPadShortcut(in_channels, out_channels, stride) if shape_changes else None",
                "option A: subsample and append zero channels, no parameters",
                "shortcut_A",
                "downsample",
            ),
            Annotation(
                'if spec.shortcut == "C" or (spec.shortcut == "B" and shape_changes):',
                "B projects only where the shape changes; C projects in every block",
                "shortcut_C",
                "downsample.0",
            ),
            Annotation(
                "return nn.Sequential(conv1x1(in_channels, out_channels, stride), nn.BatchNorm2d(out_channels))",
                "the projection W_s of Eqn. (2): a 1×1 conv (with the block's stride) and its BN",
                "shortcut_B",
                "downsample.1",
            ),
        ),
    ),
    "blocks": Source(
        "Bottleneck (resnet_core/model.py)",
        lambda: model_module.Bottleneck,
        (
            Annotation("expansion = 4", "output channels = planes × 4", "bottleneck", "add"),
            Annotation("conv1x1(in_channels, width, s1),", "1×1 conv: reduce the channels", "bottleneck", "conv1"),
            Annotation(
                "conv3x3(width, width, s3, groups=spec.groups),",
                "3×3 conv on the reduced width: the bottleneck",
                "bottleneck",
                "conv2",
            ),
            Annotation(
                "conv1x1(width, out_channels),", "1×1 conv: restore (expand) the channels", "bottleneck", "conv3"
            ),
            Annotation(
                "make_shortcut(spec, in_channels, out_channels, stride),",
                "the downsample path, when channels or size change",
                "bottleneck",
                "downsample.0",
            ),
        ),
    ),
    "stride": Source(
        "Bottleneck (resnet_core/model.py)",
        lambda: model_module.Bottleneck,
        (
            Annotation(
                's1, s3 = (stride, 1) if spec.stride_on == "1x1" else (1, stride)',
                "torchvision (v1.5): the stride goes to the 3×3 conv",
                "stride_v15",
                "conv2",
            ),
            Annotation(
                "conv1x1(in_channels, width, s1),",
                "the paper (v1): the first 1×1 conv subsamples",
                "stride_v1",
                "conv1",
            ),
        ),
    ),
    "zero_init": Source(
        "ResidualBlock.zero_init_last (resnet_core/model.py)",
        lambda: model_module.ResidualBlock.zero_init_last,
        (
            Annotation(
                'nn.init.zeros_(self._part("bn", self.num_convs).weight)',
                "γ of the branch's last BN = 0: the branch outputs zero",
                "residual",
                "bn2",
            ),
            Annotation(
                'nn.init.zeros_(self._part("conv", self.num_convs).weight)',
                "pre-activation blocks end in a conv; this project zeroes that conv",
                "residual",
                "conv2",
            ),
        ),
    ),
    "family": Source(
        "ResNet.__init__ (resnet_core/model.py)",
        _stage_loop,
        (
            Annotation(
                "for i, num_blocks in enumerate(spec.layers):",
                "one stage per entry of layers",
                "stages",
                "layer1",
            ),
            Annotation(
                "stride = spec.stage_stride(i) if b == 0 else 1",
                "only a stage's first block subsamples (stride 2 from stage 2 on)",
                "stages",
                "layer2",
            ),
            Annotation(
                "in_channels = spec.stage_out_channels(i)",
                "the next block reads planes × expansion channels",
                "stages",
                "layer3",
            ),
            Annotation(
                "self.fc = nn.Linear(in_channels, spec.num_classes)",
                "global average pool, then the classifier",
                "stages",
                "head",
            ),
        ),
    ),
}


def annotated_lines(source: Source) -> list[tuple[int, Annotation]]:
    """(0-based line index, annotation) for each annotation; a line that is missing or ambiguous raises."""
    lines = source.code().splitlines()
    out = []
    for ann in source.annotations:
        hits = [i for i, line in enumerate(lines) if ann.line in line]
        if len(hits) != 1:
            raise LookupError(
                f"{source.title}: annotated line {ann.line!r} found {len(hits)} times; the source has changed"
            )
        out.append((hits[0], ann))
    return out


def marked_code(source: Source, selected: int | None = None) -> str:
    """The source with a ``# ◀ n`` marker at the end of each annotated line (``◀◀`` on the selected one)."""
    lines = source.code().splitlines()
    indent = min(len(line) - len(line.lstrip()) for line in lines if line.strip())
    lines = [line[indent:] for line in lines]
    for n, (i, _) in enumerate(annotated_lines(source), start=1):
        mark = "◀◀" if n == selected else "◀"
        lines[i] = f"{lines[i]}  # {mark} {n}"
    return "\n".join(lines)
