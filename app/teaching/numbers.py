"""The explainer's live numbers: every ``{{name}}`` placeholder of its text, computed from the model.

``PLACEHOLDERS`` maps a name to a function computing its text from ``resnet_core.build`` /
``resnet_core.analyze``, and ``fill()`` refuses an unknown one, so a number the model can compute
is never typed by hand (``bare_numbers()`` finds one that was). Numbers the *paper* reports and
the model can also compute (Table 1's FLOPs, Table 6's parameter counts) come from ``PAPER`` with
their citation, and the tests compare them with the live model. Error rates, which no model here
can compute, are written in the text as the paper prints them, always with their table.

No Streamlit here: the explainer page (``app.views.explainer``) draws what this computes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import torch
from torch import nn

from app.formatting import fmt_giga, fmt_int, fmt_list, fmt_mega, fmt_params_m
from resnet_core.analysis import Analysis, BlockSummary, analyze
from resnet_core.geometry import Field, field_after
from resnet_core.model import ResidualBlock, build, conv3x3
from resnet_core.spec import EXPANSION, PRESETS, ResNetSpec, default_input_size

PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")


class PlaceholderError(KeyError):
    """A ``{{name}}`` that the registry does not know, or one left in the text after filling."""

    def __str__(self) -> str:  # KeyError would print the repr
        return str(self.args[0])


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
    return sum(1 for b in a.blocks if b.shortcut not in ("identity", "none"))


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
