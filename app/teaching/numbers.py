"""The explainer's text, with every number filled in from the live model. No Streamlit here.

The prose lives in ``assets/explainer/NN_slug.md``, one file per section::

    # Title of the section
    reading text, Markdown, with placeholders such as {{resnet50.params}} …
    === Title of lecture step one
    @diagram residual          (optional: the block diagram drawn beside the step)
    - one idea, a few short lines
    === Title of lecture step two
    …

Everything before the first ``===`` line is the reading text; each ``===`` starts one lecture step.
``{{name}}`` placeholders are looked up in ``PLACEHOLDERS`` (name → function computing the text from
``resnet_core.build`` / ``resnet_core.analyze``) and ``fill()`` refuses an unknown one, so a number
the model can compute is never typed by hand. Numbers the *paper* reports and the model can also
compute (Table 1's FLOPs, Table 6's parameter counts) come from ``PAPER`` with their citation, and
the tests compare them with the live model. Error rates, which no model here can compute, are
written in the text as the paper prints them, always with their table.

Also here: the annotated source (``SOURCES``: lines of ``resnet_core.model`` matched by content,
each linked to a node of a small block diagram drawn from the analysis records) and the
check-yourself questions (``QUESTIONS``: a text template and a function of a ``ResNetSpec``).
"""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import torch
from torch import nn

from resnet_core import model as model_module
from resnet_core.analysis import Analysis, BlockSummary, analyze
from resnet_core.model import ResidualBlock, build, conv3x3
from resnet_core.receptive_field import Field, field_after
from resnet_core.spec import EXPANSION, PRESETS, ResNetSpec, default_input_size

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "explainer"
PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
STEP_MARK = "=== "
DIAGRAM_MARK = "@diagram "


class PlaceholderError(KeyError):
    """A ``{{name}}`` that the registry does not know, or one left in the text after filling."""

    def __str__(self) -> str:  # KeyError would print the repr
        return str(self.args[0])


# -- formatting ----------------------------------------------------------------------------------


def fmt_int(n: int) -> str:
    return f"{n:,}"


def fmt_giga(n: int) -> str:
    """Billions: 2 decimals from 1 up (4.09), 3 below (0.041)."""
    g = n / 1e9
    return f"{g:,.2f}" if g >= 1 else f"{g:,.3f}"


def fmt_mega(n: int) -> str:
    """Millions with one decimal: 231.2."""
    return f"{n / 1e6:,.1f}"


def fmt_params_m(n: int) -> str:
    """Parameters as the paper's Table 6 prints them: 0.27M below a million, 1.7M, 19.4M, 25.6M above."""
    m = n / 1e6
    return f"{m:.2f}M" if m < 1 else f"{m:.1f}M"


def fmt_list(values: list[int] | tuple[int, ...]) -> str:
    return ", ".join(str(v) for v in values)


# -- the live numbers ----------------------------------------------------------------------------


def analysis_of(spec: ResNetSpec) -> Analysis:
    """``analyze`` at the input size the spec's family was designed for (224 ImageNet, 32 CIFAR)."""
    return analyze(spec, default_input_size(spec))


def v1(spec: ResNetSpec) -> ResNetSpec:
    """The paper's bottleneck layout (stride on the first 1×1); a basic-block spec is its own v1."""
    return spec.replace(stride_on="1x1") if spec.block == "bottleneck" else spec


def block_summary(a: Analysis, name: str) -> BlockSummary:
    for b in a.blocks:
        if b.name == name:
            return b
    raise KeyError(f"no block named {name!r} in {a.spec}")


def projections(a: Analysis) -> int:
    """Blocks whose shortcut is a 1×1 projection (options B, C; D's pooled projection included)."""
    return sum(1 for b in a.blocks if b.shortcut in ("projection", "avgpool-projection"))


def downsample_blocks(a: Analysis) -> int:
    """Blocks whose shortcut is not the plain identity (any ``downsample`` module)."""
    return sum(1 for b in a.blocks if b.shortcut != "identity")


def stage_channels(spec: ResNetSpec) -> list[int]:
    return [analysis_of(spec).stage(f"layer{i + 1}").output_shape[1] for i in range(spec.num_stages)]


def stage_sizes(spec: ResNetSpec) -> list[int]:
    return [analysis_of(spec).stage(f"layer{i + 1}").output_shape[2] for i in range(spec.num_stages)]


def weighted_depth_of_modules(spec: ResNetSpec) -> int:
    """The paper's depth counted on the module tree (meta device): convs and linears off the shortcut.

    Used for nets too deep to trace cheaply (the 1001-layer pre-activation net).
    """
    m = build(spec, "meta")
    return sum(
        1 for name, mod in m.named_modules() if isinstance(mod, (nn.Conv2d, nn.Linear)) and "downsample" not in name
    )


def stage_conv_macs(spec: ResNetSpec, stage: int) -> int:
    """Multiply-adds of the second 3×3 conv of a stage's second block: a conv that neither subsamples nor widens."""
    a = analysis_of(spec)
    return a.layer(f"layer{stage + 1}.1.conv2").macs


def stage_output_elements(spec: ResNetSpec, stage: int) -> int:
    return analysis_of(spec).stage(f"layer{stage + 1}").layers[-1].output_elements


def stack_of_3x3(channels: int, count: int) -> tuple[int, int]:
    """(receptive field, parameters) of ``count`` stacked 3×3 convs of the project's own ``conv3x3``."""
    convs = [conv3x3(channels, channels) for _ in range(count)]
    f = Field.input()
    for c in convs:
        f = field_after(f, c.kernel_size[0], c.stride[0], c.dilation[0], c.padding[0])
    return f.rf, sum(p.numel() for c in convs for p in c.parameters())


def single_kernel(channels: int, kernel: int) -> tuple[int, int]:
    conv = nn.Conv2d(channels, channels, kernel, padding=kernel // 2, bias=False)
    f = field_after(Field.input(), kernel, 1, 1, kernel // 2)
    return f.rf, sum(p.numel() for p in conv.parameters())


VGG_CHANNELS = 64  # C for the 3×3-stack comparison; the ratio does not depend on it


def zero_init_identity_error(spec: ResNetSpec, block: str) -> float:
    """Max |block(x) − x| for a zero-initialised model in eval mode, x ≥ 0 (the output of a ReLU)."""
    torch.manual_seed(0)
    m = build(spec.replace(zero_init_residual=True)).eval()
    mod = dict(m.named_modules())[block]
    channels = mod.conv1.in_channels
    size = default_input_size(spec) // 4
    x = torch.rand(2, channels, size, size)
    with torch.no_grad():
        return float((mod(x) - x).abs().max())


def zeroed_norms(spec: ResNetSpec) -> tuple[int, int]:
    """(layers, scalars) that ``zero_init_residual`` sets to zero, read off a freshly built model."""
    m = build(spec.replace(zero_init_residual=True))
    layers = scalars = 0
    for mod in m.modules():
        if isinstance(mod, ResidualBlock):
            last = mod._part("conv" if mod.preact else "bn", mod.num_convs)
            zero = bool((last.weight == 0).all())
            layers += zero
            scalars += last.weight.numel() if zero else 0
    return layers, scalars


def _preset(name: str) -> ResNetSpec:
    return PRESETS[name]


#: Pre-activation bottleneck nets of "Identity Mappings" (§4.1, Table 2 and the abstract), built here.
PREACT = {
    "preact164": ResNetSpec(
        block="bottleneck", layers=(18, 18, 18), stem="cifar", width=16, num_classes=10, preact=True
    ),
    "preact1001": ResNetSpec(
        block="bottleneck", layers=(111, 111, 111), stem="cifar", width=16, num_classes=10, preact=True
    ),
}


# -- numbers the papers print, each with where it is printed ----------------------------------------


@dataclass(frozen=True)
class PaperValue:
    text: str  # as the paper prints it, without units the sentence supplies
    source: str  # paper and table / figure / section
    value: float | None = None  # the number, where the tests compare it with the live model


PAPER: dict[str, PaperValue] = {
    # He et al. 2015, Table 1, last row ("FLOPs", which are multiply-adds: §3.3 "3.6 billion FLOPs (multiply-adds)").
    **{
        f"paper.table1.{name}.gflops": PaperValue(text, "He et al. 2015, Table 1", float(text))
        for name, text in [
            ("resnet18", "1.8"),
            ("resnet34", "3.6"),
            ("resnet50", "3.8"),
            ("resnet101", "7.6"),
            ("resnet152", "11.3"),
        ]
    },
    # He et al. 2015, Table 6 ("# params").
    **{
        f"paper.table6.{name}.params": PaperValue(text, "He et al. 2015, Table 6", float(text[:-1]) * 1e6)
        for name, text in [
            ("resnet20", "0.27M"),
            ("resnet32", "0.46M"),
            ("resnet44", "0.66M"),
            ("resnet56", "0.85M"),
            ("resnet110", "1.7M"),
            ("resnet1202", "19.4M"),
        ]
    },
    "paper.vgg16.gflops": PaperValue("15.3", "He et al. 2015, §4.1 (VGG-16/19: 15.3/19.6 billion FLOPs)"),
    "paper.vgg19.gflops": PaperValue("19.6", "He et al. 2015, §3.3 and Fig. 3"),
    "paper.goyal.small_batch": PaperValue("256", "Goyal et al. 2017, Table 2b"),
    "paper.goyal.large_batch": PaperValue("8k", "Goyal et al. 2017, Table 2b"),
}


TABLE1 = ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152")


def table1_max_gap() -> float:
    """Largest |live v1 GMACs − Table 1's billions| over the five ImageNet depths."""
    return max(
        abs(analysis_of(v1(PRESETS[n])).totals.macs / 1e9 - PAPER[f"paper.table1.{n}.gflops"].value) for n in TABLE1
    )


def _registry() -> dict[str, Callable[[], str]]:
    r: dict[str, Callable[[], str]] = {}

    for name in PRESETS:

        def add(key: str, fn: Callable[[ResNetSpec], str], name: str = name) -> None:
            r[f"{name}.{key}"] = lambda: fn(_preset(name))

        add("params", lambda s: fmt_int(analysis_of(s).totals.params))
        add("params_m", lambda s: fmt_params_m(analysis_of(s).totals.params))
        add("gmacs", lambda s: fmt_giga(analysis_of(s).totals.macs))
        add("mmacs", lambda s: fmt_mega(analysis_of(s).totals.macs))
        add("depth", lambda s: str(analysis_of(s).weighted_depth))
        add("layers", lambda s: fmt_list(s.layers))
        add("blocks", lambda s: str(sum(s.layers)))
        add("block", lambda s: s.block)
        add("rf", lambda s: fmt_int(analysis_of(s).final_field.rf))
        add("out_channels", lambda s: str(s.stage_out_channels(s.num_stages - 1)))
        add("stage_channels", lambda s: fmt_list(stage_channels(s)))
        add("stage_sizes", lambda s: fmt_list(stage_sizes(s)))
        add("downsample_blocks", lambda s: str(downsample_blocks(analysis_of(s))))
        add("n", lambda s: str(s.layers[0]))
        add("stem_channels", lambda s: str(analysis_of(s).stage("stem").output_shape[1]))
        if PRESETS[name].block == "bottleneck":
            add("gmacs_v1", lambda s: fmt_giga(analysis_of(v1(s)).totals.macs))
            add("params_v1", lambda s: fmt_int(analysis_of(v1(s)).totals.params))
            add("rf_v1", lambda s: fmt_int(analysis_of(v1(s)).final_field.rf))
        for option in "ABC":
            add(f"params_{option}", lambda s, o=option: fmt_int(analysis_of(s.replace(shortcut=o)).totals.params))
            add(f"gmacs_{option}", lambda s, o=option: fmt_giga(analysis_of(s.replace(shortcut=o)).totals.macs))
            add(f"projections_{option}", lambda s, o=option: str(projections(analysis_of(s.replace(shortcut=o)))))

    r34 = PRESETS["resnet34"]
    r50 = PRESETS["resnet50"]
    r["resnet34.extra_projections_C"] = lambda: str(
        projections(analysis_of(r34.replace(shortcut="C"))) - projections(analysis_of(r34))
    )
    for i in range(4):
        r[f"resnet34.stage{i + 1}.conv_macs"] = lambda i=i: fmt_int(stage_conv_macs(r34, i))
        r[f"resnet34.stage{i + 1}.out_elements"] = lambda i=i: fmt_int(stage_output_elements(r34, i))
        r[f"resnet34.stage{i + 1}.size"] = lambda i=i: str(stage_sizes(r34)[i])
        r[f"resnet34.stage{i + 1}.channels"] = lambda i=i: str(stage_channels(r34)[i])
    r["resnet34.stage2.first_conv_macs"] = lambda: fmt_int(analysis_of(r34).layer("layer2.0.conv1").macs)

    # Fig. 5: the basic block of ResNet-34's stage 1 against the bottleneck of ResNet-50's stage 1.
    def basic64() -> BlockSummary:
        return block_summary(analysis_of(r34), "layer1.1")

    def bottleneck256() -> BlockSummary:
        return block_summary(analysis_of(r50), "layer1.1")

    r["block.basic64.params"] = lambda: fmt_int(basic64().params)
    r["block.basic64.mmacs"] = lambda: fmt_mega(basic64().macs)
    r["block.basic64.channels"] = lambda: str(basic64().output_shape[1])
    r["block.basic64.shortcut_params"] = lambda: fmt_int(basic64().shortcut_params)
    r["block.bottleneck256.params"] = lambda: fmt_int(bottleneck256().params)
    r["block.bottleneck256.mmacs"] = lambda: fmt_mega(bottleneck256().macs)
    r["block.bottleneck256.channels"] = lambda: str(bottleneck256().output_shape[1])
    r["block.bottleneck256.width"] = lambda: str(analysis_of(r50).layer("layer1.1.conv2").output_shape[1])
    r["block.bottleneck256.projection_params"] = lambda: fmt_int(
        block_summary(analysis_of(r50.replace(shortcut="C")), "layer1.1").shortcut_params
    )
    r["block.map_size"] = lambda: str(basic64().output_shape[2])
    r["expansion.basic"] = lambda: str(EXPANSION["basic"])
    r["expansion.bottleneck"] = lambda: str(EXPANSION["bottleneck"])

    # VGG's argument (three 3×3 convs against one 7×7), on the project's own conv3x3.
    r["vgg.channels"] = lambda: str(VGG_CHANNELS)
    r["rf.stack3x3"] = lambda: str(stack_of_3x3(VGG_CHANNELS, 3)[0])
    r["rf.stack2x3x3"] = lambda: str(stack_of_3x3(VGG_CHANNELS, 2)[0])
    r["rf.one7x7"] = lambda: str(single_kernel(VGG_CHANNELS, 7)[0])
    r["params.stack3x3"] = lambda: fmt_int(stack_of_3x3(VGG_CHANNELS, 3)[1])
    r["params.one7x7"] = lambda: fmt_int(single_kernel(VGG_CHANNELS, 7)[1])
    r["params.stack3x3_per_c2"] = lambda: str(stack_of_3x3(VGG_CHANNELS, 3)[1] // VGG_CHANNELS**2)
    r["params.one7x7_per_c2"] = lambda: str(single_kernel(VGG_CHANNELS, 7)[1] // VGG_CHANNELS**2)
    r["params.one7x7_more_pct"] = lambda: (
        f"{round(100 * (single_kernel(VGG_CHANNELS, 7)[1] / stack_of_3x3(VGG_CHANNELS, 3)[1] - 1))}%"
    )

    # Stride placement in ResNet-50's first strided block.
    for variant, spec_of in (("v15", lambda: r50), ("v1", lambda: v1(r50))):
        r[f"resnet50.layer2_0.mmacs_{variant}"] = lambda f=spec_of: fmt_mega(
            block_summary(analysis_of(f()), "layer2.0").macs
        )
        for conv in ("conv1", "conv2", "conv3"):
            r[f"resnet50.layer2_0.{conv}.mmacs_{variant}"] = lambda f=spec_of, c=conv: fmt_mega(
                analysis_of(f()).layer(f"layer2.0.{c}").macs
            )

    # Zero-init of the last BN.
    r["zeroinit.resnet20.max_abs_diff"] = lambda: f"{zero_init_identity_error(PRESETS['resnet20'], 'layer1.1'):g}"
    r["zeroinit.resnet50.zeroed_bns"] = lambda: fmt_int(zeroed_norms(r50)[0])
    r["zeroinit.resnet50.zeroed_gammas"] = lambda: fmt_int(zeroed_norms(r50)[1])

    # The CIFAR family (§4.2): n = 3, 5, 7, 9 are the nets of Fig. 6 left/middle.
    cifar = [n for n, s in PRESETS.items() if s.stem == "cifar"]
    r["cifar.fig6_ns"] = lambda: fmt_list([PRESETS[n].layers[0] for n in cifar[:4]])
    r["cifar.fig6_depths"] = lambda: fmt_list([analysis_of(PRESETS[n]).weighted_depth for n in cifar[:4]])
    r["cifar.shortcuts"] = lambda: str(sum(PRESETS["resnet20"].layers))

    for key, spec in PREACT.items():
        r[f"{key}.depth"] = lambda s=spec: str(weighted_depth_of_modules(s))

    r["table1.max_gap"] = lambda: f"{math.ceil(100 * table1_max_gap()) / 100:.2f}"

    for key, value in PAPER.items():
        r[key] = lambda v=value: v.text
    return r


PLACEHOLDERS: dict[str, Callable[[], str]] = _registry()


@cache
def value(name: str) -> str:
    """The text of one placeholder, computed once per process (the model does not change under us)."""
    try:
        fn = PLACEHOLDERS[name]
    except KeyError:
        raise PlaceholderError(f"unknown placeholder {{{{{name}}}}}") from None
    return fn()


def placeholders_in(text: str) -> list[str]:
    return PLACEHOLDER.findall(text)


def fill(text: str) -> str:
    """``text`` with every ``{{name}}`` replaced by its live value; an unknown or unfilled one raises."""
    for name in placeholders_in(text):
        if name not in PLACEHOLDERS:
            raise PlaceholderError(f"unknown placeholder {{{{{name}}}}}")
    out = PLACEHOLDER.sub(lambda m: value(m.group(1)), text)
    if "{{" in out or "}}" in out:
        raise PlaceholderError(f"a placeholder was left unfilled: {out[max(out.find('{{'), 0) :][:60]!r}")
    return out


# Numbers allowed in the prose outside placeholders: citations, kernel sizes, years, versions,
# percentages the papers print (error rates), ± spreads, and single digits (γ = 0, "two layers").
_ALLOWED_NUMBER = re.compile(
    r"arXiv:\d{4}\.\d{4,5}"
    r"|(?:Tables?|Figs?\.|Figures?|Eqns?\.|Eq\.|§|Sec\.)\s*\(?\d+(?:\.\d+)?[a-z]?(?:\([a-z]\))?"
    r"(?:\s*(?:–|-|,|and)\s*\d+(?:\.\d+)?[a-z]?)*\)?"
    r"|\[\d+\]"
    r"|(?:ResNet|ResNeXt|plain|VGG|CIFAR|PReLU-net)-\d+[A-Za-z]?(?:/\d+)*(?:\s[ABC]\b)?"
    r"|\d+×\d+"
    r"|\b(?:19|20)\d\d[a-z]?\b"
    r"|\b10-crop\b|\b6n\s?\+\s?2\b"
    r"|\b[vV]1(?:\.5)?"
    r"|\d+(?:\.\d+)?\s?%"
    r"|±\s?\d+(?:\.\d+)?"
    r"|\b\d\b(?!\.\d)"
)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def bare_numbers(text: str) -> list[str]:
    """Numbers typed into the prose that are neither placeholders nor in an allowed form (see above)."""
    stripped = PLACEHOLDER.sub(" ", text)
    stripped = re.sub(r"`[^`]*`", " ", stripped)  # code spans: identifiers such as layer2.0.conv1
    stripped = re.sub(r"\$[^$]*\$", " ", stripped)  # maths: x_{l+1}
    stripped = re.sub(r"\]\([^)]*\)", "]", stripped)  # link targets
    stripped = _ALLOWED_NUMBER.sub(" ", stripped)
    return _NUMBER.findall(stripped)


# -- the sections ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One lecture screen: a title, a few lines, optionally a diagram key (see ``DIAGRAMS``)."""

    section: str
    title: str
    body: str
    diagram: str | None = None


@dataclass(frozen=True)
class Section:
    slug: str  # "01_degradation" → "degradation"
    number: int
    title: str
    body: str  # the reading text (raw, with placeholders)
    steps: tuple[Step, ...]
    path: Path = field(compare=False)


def parse_section(path: Path) -> Section:
    number_text, _, slug = path.stem.partition("_")
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines or not lines[0].startswith("# "):
        raise ValueError(f"{path.name}: the first line must be the title, '# Title'")
    title = lines[0][2:].strip()
    body: list[str] = []
    steps: list[tuple[str, list[str], str | None]] = []
    for line in lines[1:]:
        if line.startswith(STEP_MARK):
            steps.append((line[len(STEP_MARK) :].strip(), [], None))
        elif steps and line.startswith(DIAGRAM_MARK):
            t, b, _ = steps[-1]
            steps[-1] = (t, b, line[len(DIAGRAM_MARK) :].strip())
        elif steps:
            steps[-1][1].append(line)
        else:
            body.append(line)
    if not steps:
        raise ValueError(f"{path.name}: no lecture steps ('=== Title' lines)")
    return Section(
        slug=slug,
        number=int(number_text),
        title=title,
        body="\n".join(body).strip(),
        steps=tuple(Step(slug, t, "\n".join(b).strip(), d) for t, b, d in steps),
        path=path,
    )


@cache
def sections(directory: Path = ASSETS) -> tuple[Section, ...]:
    """Every section, in file-name order."""
    return tuple(parse_section(p) for p in sorted(directory.glob("[0-9][0-9]_*.md")))


def section(slug: str) -> Section:
    for s in sections():
        if s.slug == slug:
            return s
    raise KeyError(f"no section {slug!r}; sections: {', '.join(s.slug for s in sections())}")


def steps() -> tuple[Step, ...]:
    """All lecture steps in order; step N of the deep link ``?mode=lecture&step=N`` is ``steps()[N - 1]``."""
    return tuple(step for s in sections() for step in s.steps)


def first_step_of(slug: str) -> int:
    """The 1-based lecture step where section ``slug`` starts."""
    for i, step in enumerate(steps(), start=1):
        if step.section == slug:
            return i
    raise KeyError(slug)


# -- block diagrams drawn from the analysis records --------------------------------------------------


@dataclass(frozen=True)
class DiagramSpec:
    title: str
    spec: ResNetSpec
    block: str  # "layer2.0"; "" for the stage-level view of the whole net


DIAGRAMS: dict[str, DiagramSpec] = {
    "residual": DiagramSpec("ResNet-34, block layer1.1 (identity shortcut)", PRESETS["resnet34"], "layer1.1"),
    "shortcut_A": DiagramSpec(
        "ResNet-34 with option A, block layer2.0", PRESETS["resnet34"].replace(shortcut="A"), "layer2.0"
    ),
    "shortcut_B": DiagramSpec("ResNet-34 (option B), block layer2.0", PRESETS["resnet34"], "layer2.0"),
    "shortcut_C": DiagramSpec(
        "ResNet-34 with option C, block layer2.1", PRESETS["resnet34"].replace(shortcut="C"), "layer2.1"
    ),
    "bottleneck": DiagramSpec("ResNet-50, block layer1.0 (64 → 256 channels)", PRESETS["resnet50"], "layer1.0"),
    "stride_v15": DiagramSpec("ResNet-50 (torchvision, v1.5), block layer2.0", PRESETS["resnet50"], "layer2.0"),
    "stride_v1": DiagramSpec("ResNet-50 as in the paper (v1), block layer2.0", v1(PRESETS["resnet50"]), "layer2.0"),
    "stages": DiagramSpec("ResNet-34, stage by stage", PRESETS["resnet34"], ""),
}

FILL_HIGHLIGHT = "#FFD166"
_KIND_FILL = {
    "Conv2d": "#E8F1FA",
    "BatchNorm2d": "#FFF8D9",
    "ReLU": "#E3F4EC",
    "ResidualAdd": "#FFFFFF",
    "ZeroPadShortcut": "#FBE3D6",
}


def _node_id(name: str) -> str:
    return '"' + name.replace('"', "") + '"'


def _shape(shape: tuple[int, ...]) -> str:
    return "×".join(str(d) for d in shape[1:])


def block_dot(key: str, highlight: str | None = None, rankdir: str = "TB", compact: bool = False) -> str:
    """DOT text of one diagram of ``DIAGRAMS``; node ids are the records' short names (``conv2``,
    ``downsample.0``, ``add``; ``layer2`` for stages), the highlighted one filled in yellow.

    ``compact`` leaves out the BatchNorm and ReLU nodes (their edges pass through), for a slide.
    """
    d = DIAGRAMS[key]
    a = analysis_of(d.spec)
    lines = [
        "digraph G {",
        f"  rankdir={rankdir}; bgcolor=transparent; nodesep=0.35; ranksep=0.3;",
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=16, penwidth=1.5];',
        '  edge [fontname="Helvetica", fontsize=13, color="#555555"];',
        f"  label={_node_id(d.title)}; labelloc=t; fontsize=18; fontname=Helvetica;",
    ]

    def node(short: str, label: str, fill: str, extra: str = "") -> None:
        hl = short == highlight
        colour = FILL_HIGHLIGHT if hl else fill
        pen = ', penwidth=4, color="#A85C00"' if hl else ""
        lines.append(f'  {_node_id(short)} [label={_node_id(label)}, fillcolor="{colour}"{pen}{extra}];')

    if compact:  # a slide: large type; a block needs no title (the slide has one), the stages say whose
        lines[2] = lines[2].replace("fontsize=16", "fontsize=26")
        lines[3] = lines[3].replace("fontsize=13", "fontsize=20")
        lines[4] = lines[4].replace("fontsize=18", "fontsize=24") if not d.block else '  label="";'
    if not d.block:
        node("input", f"image {_shape(a.input_shape)}", "#F2F2F2")
        prev = "input"
        for s in a.stages:
            label = s.name
            if s.name.startswith("layer"):
                label += f"  ×{len(s.blocks)} blocks\\n{_shape(s.output_shape)}"
            else:
                label += f"\\n{_shape(s.output_shape)}"
            node(s.name, label, "#E8F1FA")
            lines.append(f"  {_node_id(prev)} -> {_node_id(s.name)};")
            prev = s.name
        lines.append("}")
        return "\n".join(lines)

    records = [r for r in a.layers if r.block == d.block]
    prefix = d.block + "."
    skipped: dict[str, str] = {}  # compact: a left-out record → the record its edge comes from
    if compact:
        kept = []
        for r in records:
            if r.kind in ("BatchNorm2d", "ReLU") and r is not records[-1]:
                skipped[r.name] = skipped.get(r.inputs[0], r.inputs[0])
            else:
                kept.append(r)
        records = kept
    node("x", f"x  {_shape(records[0].input_shape)}", "#F2F2F2", ", shape=ellipse")
    for r in records:
        short = r.name[len(prefix) :]
        if r.kind == "Conv2d":
            g = r.attrs.get("groups", 1)
            label = f"{short}: {r.kernel}×{r.kernel} conv, {r.attrs['out_channels']}" + (
                f", /{r.stride}" if r.stride and r.stride > 1 else ""
            )
            label += f", groups {g}" if g > 1 else ""
        elif r.kind == "ResidualAdd":
            label = "add  (+)"
        elif r.kind == "ZeroPadShortcut":
            label = f"{short}: subsample /{r.stride}, zero-pad to {r.output_shape[1]} ch"
        else:
            label = f"{short}: {r.kind.replace('BatchNorm2d', 'BN')}"
        if compact:
            label = label.split(": ", 1)[-1].replace("add  (+)", "+")
        extra = ", shape=circle" if r.kind == "ResidualAdd" else ""
        node(short, label, _KIND_FILL.get(r.kind, "#F2F2F2"), extra)
    for r in records:
        short = r.name[len(prefix) :]
        for src in r.inputs:
            src = skipped.get(src, src)
            src_short = src[len(prefix) :] if src.startswith(prefix) else "x"
            if r.kind == "ResidualAdd" and src_short == "x":
                lines.append(
                    f'  {_node_id("x")} -> {_node_id(short)} [label=" identity shortcut", style=bold, penwidth=2.5];'
                )
            else:
                attrs = ' [style=bold, penwidth=2.5, color="#D55E00"]' if r.path == "shortcut" else ""
                lines.append(f"  {_node_id(src_short)} -> {_node_id(short)}{attrs};")
    last = records[-1].name[len(prefix) :]
    lines.append(f'  out [label="{_shape(records[-1].output_shape)}", shape=plaintext, fillcolor=none];')
    lines.append(f"  {_node_id(last)} -> out;")
    lines.append("}")
    return "\n".join(lines)


# -- annotated source ----------------------------------------------------------------------------------


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


# -- check yourself -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    section: str
    key: str
    template: str  # str.format fields: name (the spec's description), and what ``fields`` returns
    answer: Callable[[ResNetSpec], int]
    applies: Callable[[ResNetSpec], bool] = lambda spec: True
    fields: Callable[[ResNetSpec], dict[str, object]] = lambda spec: {}
    why: str = ""

    def text(self, spec: ResNetSpec, name: str) -> str:
        return self.template.format(name=name, **self.fields(spec))


def _first_block_of_stage2(spec: ResNetSpec) -> BlockSummary:
    a = analysis_of(spec)
    return block_summary(a, "layer2.0" if spec.num_stages > 1 else "layer1.0")


QUESTIONS: tuple[Question, ...] = (
    Question(
        "degradation",
        "depth",
        "How many weighted layers (convolutions and the final fully connected layer, shortcut projections "
        "not counted) does {name} have?",
        lambda s: analysis_of(s).weighted_depth,
        why="The paper's depth: convs on the main path plus the fc layer.",
    ),
    Question(
        "residual",
        "additions",
        "How many residual additions F(x) + x does one forward pass of {name} perform?",
        lambda s: sum(1 for r in analysis_of(s).layers if r.kind == "ResidualAdd"),
        why="One per block.",
    ),
    Question(
        "shortcuts",
        "shortcut_params",
        "How many parameters sit on the shortcuts of {name} if every shortcut is option {option} "
        "(all blocks, BatchNorm included)?",
        lambda s: sum(b.shortcut_params for b in analysis_of(s).blocks),
        fields=lambda s: {"option": s.shortcut},
        why="Each projection holds a 1×1 conv (in × out weights) and a BN (2 × out).",
    ),
    Question(
        "shortcuts",
        "stage2_shortcut",
        "How many parameters does the shortcut of the first block of stage 2 of {name} hold?",
        lambda s: _first_block_of_stage2(s).shortcut_params,
        why="Zero for option A; in × out + 2 × out for a projection (B, C).",
    ),
    Question(
        "vgg_rules",
        "conv_macs",
        "How many multiply-adds does the first 3×3 conv of the last block of stage 1 of {name} perform, "
        "for one image at its default input size?",
        lambda s: analysis_of(s).layer(f"layer1.{s.layers[0] - 1}.conv{2 if s.block == 'bottleneck' else 1}").macs,
        why="H × W × C_in × C_out × 9 / groups for the output map H × W.",
    ),
    Question(
        "blocks",
        "out_channels",
        "How many channels leave the last stage of {name}?",
        lambda s: analysis_of(s).stage(f"layer{s.num_stages}").output_shape[1],
        why="planes of the last stage × expansion.",
    ),
    Question(
        "blocks",
        "downsample_paths",
        "How many blocks of {name} have a downsample module on their shortcut?",
        lambda s: downsample_blocks(analysis_of(s)),
        why="B: where stride ≠ 1 or channels change; C: every block; A: the zero-pad module where the shape changes.",
    ),
    Question(
        "stride",
        "other_layout_macs",
        "{name} puts the bottleneck's stride on the {here} conv. How many multiply-adds (in millions, rounded) "
        "would it perform with the stride on the {there} conv instead?",
        lambda s: round(analysis_of(s.replace(stride_on="3x3" if s.stride_on == "1x1" else "1x1")).totals.macs / 1e6),
        applies=lambda s: s.block == "bottleneck",
        fields=lambda s: {
            "here": "3×3" if s.stride_on == "3x3" else "first 1×1",
            "there": "first 1×1" if s.stride_on == "3x3" else "3×3",
        },
        why="Only the first block of stages 2 and later changes.",
    ),
    Question(
        "zero_init",
        "zeroed_gammas",
        "With zero_init_residual, how many scalar weights start at zero in {name}?",
        lambda s: zeroed_norms(s)[1],
        why="One per output channel of the last BN (or, pre-activated, every weight of the last conv) of each block.",
    ),
    Question(
        "family",
        "params",
        "How many trainable parameters does {name} have?",
        lambda s: analysis_of(s).totals.params,
        why="Sum over every conv, BN (weight and bias) and the fc layer.",
    ),
)


def questions_for(slug: str) -> list[Question]:
    return [q for q in QUESTIONS if q.section == slug]


def check_answer(question: Question, spec: ResNetSpec, given: int) -> bool:
    return int(given) == question.answer(spec)
