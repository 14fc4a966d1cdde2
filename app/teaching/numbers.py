"""The explainer's live numbers: every ``{{name}}`` placeholder of its text, computed from the model.

``PLACEHOLDERS`` maps a name to a function computing its text from ``resnet_core.build`` /
``resnet_core.analyze``, and ``fill()`` refuses an unknown one, so a number the model can compute
is never typed by hand (``app.teaching.citations.unregistered`` finds one that was). Counts
(``COUNTS``: parameters, multiply-adds, elements) are written exactly in the reading text
(25,557,032) and for people on a slide (25.6 M, the exact value in the hover title):
``fill(text, human=True)``. Numbers the *paper* reports and the model can also compute (Table 1's
FLOPs, Table 6's parameter counts) are ``PAPER`` placeholders, each a registered claim of
``app.teaching.citations`` with its table, and the tests compare them with the live model.

No Streamlit here: the explainer page (``app.views.explainer``) draws what this computes.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import torch
from torch import nn

from app.formatting import fmt_giga, fmt_int, fmt_list, fmt_mega, fmt_params_m
from app.teaching.citations import CLAIM, Claim
from resnet_core.analysis import Analysis, BlockSummary, analyze
from resnet_core.compare import classic_panel
from resnet_core.geometry import Field, field_after
from resnet_core.model import ResidualBlock, build, conv3x3
from resnet_core.spec import EXPANSION, PRESETS, SHORTCUTS, ResNetSpec, default_input_size, describe_change
from resnet_core.units import count

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


def output_stride(spec: ResNetSpec) -> int:
    """The input's size over the last stage's map: 32 for the ImageNet nets, 16 or 8 with dilated stages."""
    return default_input_size(spec) // stage_sizes(spec)[-1]


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


def _preact_cifar(n: int) -> ResNetSpec:
    # Identity Mappings (arXiv:1603.05027) §4.1 and Table 2, as its code builds them (resnet-pre-act.lua in
    # KaimingHe/resnet-1k-layers): 9n+2 layers, three stages of n bottlenecks of 64/128/256 outputs on 16
    # stem channels, a projection where the shape changes, and the stride on the *first 1×1* conv (v1).
    return ResNetSpec(
        block="bottleneck", layers=(n, n, n), stem="cifar", width=16, num_classes=10, preact=True, stride_on="1x1"
    )


#: Pre-activation bottleneck nets of "Identity Mappings" (§4.1 and Table 2; Tables 3–4 and the abstract):
#: the library's presets of these names when it has them (one definition, not two), else built as above.
PREACT = {name: PRESETS.get(name, _preact_cifar(n)) for name, n in (("preact164", 18), ("preact1001", 111))}


#: The family since 2015 (issue 17): (preset, the net it changes, the registered paper of the change).
#: Only presets the library defines are used (``since_2015()``), so a renamed one drops out, not crashes.
SINCE_2015: tuple[tuple[str, str, str], ...] = (
    ("resnet50d", "resnet50", "tricks"),  # Tong He et al., Bag of Tricks §4.2: deep stem + avg-pool shortcut
    ("seresnet50", "resnet50", "se"),  # Hu et al.: squeeze-and-excitation in every block
    ("ecaresnet50t", "resnet50t", "eca"),  # Wang et al.: ECA on timm's tiered-stem D net
    ("resnetaa50d", "resnet50d", "antialias"),  # Zhang: blur (2×2 average) before subsampling
    ("resnetv2_50", "resnet50", "identity"),  # He et al. 2016: pre-activation
    ("resnet50_os16", "resnet50", "deeplab"),  # Chen et al.: dilation instead of stride, last stage
    ("resnet50_os8", "resnet50", "deeplab"),  # … last two stages
)


def since_2015() -> list[tuple[str, str, str]]:
    """``SINCE_2015`` rows whose presets (and bases) the library defines."""
    return [row for row in SINCE_2015 if row[0] in PRESETS and row[1] in PRESETS]


def spec_change(base: str, name: str) -> str:
    """What preset ``name`` changes in preset ``base``, in words from the spec ('stem deep, shortcut D')."""
    return ", ".join(describe_change(f, new) for f, (_, new) in PRESETS[base].differences(PRESETS[name]).items())


@dataclass(frozen=True)
class StrideCost:
    """Where v1.5 (stride on the 3×3) and v1 (stride on the first 1×1) differ in multiply-adds.

    ``rows`` are the convs whose cost differs, (name, v1.5 MACs, v1 MACs); a conv's multiply-adds
    count its *output* positions, so only a conv whose output map changes can differ.
    """

    rows: tuple[tuple[str, int, int], ...]
    total_v15: int
    total_v1: int

    @property
    def extra(self) -> int:
        """What the differing convs add up to: v1.5 minus v1, conv by conv."""
        return sum(a - b for _, a, b in self.rows)

    @property
    def total_difference(self) -> int:
        return self.total_v15 - self.total_v1


def stride_cost(spec: ResNetSpec) -> StrideCost:
    """v1.5 against v1 of a bottleneck spec, layer by layer from the two analyses (same layer order)."""
    a, b = analysis_of(spec.replace(stride_on="3x3")), analysis_of(spec.replace(stride_on="1x1"))
    rows = tuple((x.name, x.macs, y.macs) for x, y in zip(a.layers, b.layers, strict=True) if x.macs != y.macs)
    return StrideCost(rows, a.totals.macs, b.totals.macs)


def classic_weights(width: int) -> tuple[int, int]:
    """(conv weights of two 3×3 convs at ``width``, of the ``width``-d bottleneck), from the library's blocks."""
    bottleneck, two_3x3, _ = classic_panel(width)
    return two_3x3.params, bottleneck.params


# -- numbers the papers print, each with where it is printed ----------------------------------------

TABLE1 = ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152")
TABLE6 = ("resnet20", "resnet32", "resnet44", "resnet56", "resnet110", "resnet1202")

#: Placeholders for numbers only a paper can give, each a registered claim (``app.teaching.citations``):
#: the text as printed, its paper and table, and the value the tests compare with the live model.
PAPER: dict[str, Claim] = {
    **{f"paper.table1.{n}.gflops": CLAIM[f"resnet.table1.{n}"] for n in TABLE1},
    **{f"paper.table6.{n}.params": CLAIM[f"resnet.table6.{n}.params"] for n in TABLE6},
    "paper.vgg16.gflops": CLAIM["resnet.vgg16.gflops"],
    "paper.vgg19.gflops": CLAIM["resnet.vgg19.gflops"],
    "paper.goyal.small_batch": CLAIM["goyal.table2b.small_batch"],
    "paper.goyal.large_batch": CLAIM["goyal.table2b.large_batch"],
}


def table1_max_gap() -> float:
    """Largest |live v1 GMACs − Table 1's billions| over the five ImageNet depths."""
    return max(
        abs(analysis_of(v1(PRESETS[n])).totals.macs / 1e9 - PAPER[f"paper.table1.{n}.gflops"].value) for n in TABLE1
    )


# -- the registry -------------------------------------------------------------------------------------


def _registry() -> tuple[dict[str, Callable[[], str]], dict[str, Callable[[], int]]]:
    """(text placeholders, count placeholders): every name the explainer's text may use."""
    r: dict[str, Callable[[], str]] = {}
    c: dict[str, Callable[[], int]] = {}

    for name in PRESETS:

        def add(key: str, fn: Callable[[ResNetSpec], str], name: str = name) -> None:
            r[f"{name}.{key}"] = lambda: fn(_preset(name))

        def add_count(key: str, fn: Callable[[ResNetSpec], int], name: str = name) -> None:
            c[f"{name}.{key}"] = lambda: fn(_preset(name))

        add_count("params", lambda s: analysis_of(s).totals.params)
        add_count("macs", lambda s: analysis_of(s).totals.macs)
        add("params_m", lambda s: fmt_params_m(analysis_of(s).totals.params))
        add("gmacs", lambda s: fmt_giga(analysis_of(s).totals.macs))
        add("mmacs", lambda s: fmt_mega(analysis_of(s).totals.macs))
        add("depth", lambda s: str(analysis_of(s).weighted_depth))
        add("layers", lambda s: fmt_list(s.layers))
        add("blocks", lambda s: str(sum(s.layers)))
        add("block", lambda s: s.block)
        add("input", lambda s: str(default_input_size(s)))
        add("rf", lambda s: fmt_int(analysis_of(s).final_field.rf))
        add("out_channels", lambda s: str(s.stage_out_channels(s.num_stages - 1)))
        add("stage_channels", lambda s: fmt_list(stage_channels(s)))
        add("stage_sizes", lambda s: fmt_list(stage_sizes(s)))
        add("stage1.size", lambda s: str(stage_sizes(s)[0]))
        add("downsample_blocks", lambda s: str(downsample_blocks(analysis_of(s))))
        add("n", lambda s: str(s.layers[0]))
        add("stem_channels", lambda s: str(analysis_of(s).stage("stem").output_shape[1]))
        add("output_stride", lambda s: str(output_stride(s)))
        add("final_size", lambda s: str(stage_sizes(s)[-1]))
        if PRESETS[name].block == "bottleneck":
            add_count("macs_v1", lambda s: analysis_of(v1(s)).totals.macs)
            add("gmacs_v1", lambda s: fmt_giga(analysis_of(v1(s)).totals.macs))
            add("params_v1", lambda s: fmt_int(analysis_of(v1(s)).totals.params))
            add("rf_v1", lambda s: fmt_int(analysis_of(v1(s)).final_field.rf))
        for option in SHORTCUTS:
            add_count(f"params_{option}", lambda s, o=option: analysis_of(s.replace(shortcut=o)).totals.params)
            add_count(f"macs_{option}", lambda s, o=option: analysis_of(s.replace(shortcut=o)).totals.macs)
            add(f"gmacs_{option}", lambda s, o=option: fmt_giga(analysis_of(s.replace(shortcut=o)).totals.macs))
            add(f"projections_{option}", lambda s, o=option: str(projections(analysis_of(s.replace(shortcut=o)))))

    r34 = PRESETS["resnet34"]
    r50 = PRESETS["resnet50"]
    r["resnet34.extra_projections_C"] = lambda: str(
        projections(analysis_of(r34.replace(shortcut="C"))) - projections(analysis_of(r34))
    )
    for i in range(4):
        c[f"resnet34.stage{i + 1}.conv_macs"] = lambda i=i: stage_conv_macs(r34, i)
        c[f"resnet34.stage{i + 1}.out_elements"] = lambda i=i: stage_output_elements(r34, i)
        r[f"resnet34.stage{i + 1}.size"] = lambda i=i: str(stage_sizes(r34)[i])
        r[f"resnet34.stage{i + 1}.channels"] = lambda i=i: str(stage_channels(r34)[i])
    c["resnet34.stage2.first_conv_macs"] = lambda: analysis_of(r34).layer("layer2.0.conv1").macs

    # Fig. 5: the basic block of ResNet-34's stage 1 against the bottleneck of ResNet-50's stage 1.
    def basic64() -> BlockSummary:
        return block_summary(analysis_of(r34), "layer1.1")

    def bottleneck256() -> BlockSummary:
        return block_summary(analysis_of(r50), "layer1.1")

    c["block.basic64.params"] = lambda: basic64().params
    c["block.basic64.macs"] = lambda: basic64().macs
    r["block.basic64.mmacs"] = lambda: fmt_mega(basic64().macs)
    r["block.basic64.channels"] = lambda: str(basic64().output_shape[1])
    r["block.basic64.shortcut_params"] = lambda: fmt_int(basic64().shortcut_params)
    c["block.bottleneck256.params"] = lambda: bottleneck256().params
    c["block.bottleneck256.macs"] = lambda: bottleneck256().macs
    r["block.bottleneck256.mmacs"] = lambda: fmt_mega(bottleneck256().macs)
    r["block.bottleneck256.channels"] = lambda: str(bottleneck256().output_shape[1])
    r["block.bottleneck256.width"] = lambda: str(analysis_of(r50).layer("layer1.1.conv2").output_shape[1])
    c["block.bottleneck256.projection_params"] = lambda: (
        block_summary(analysis_of(r50.replace(shortcut="C")), "layer1.1").shortcut_params
    )
    c["block.bottleneck256.conv3_weights"] = lambda: analysis_of(r50).layer("layer1.1.conv3").params
    r["block.map_size"] = lambda: str(basic64().output_shape[2])
    r["expansion.basic"] = lambda: str(EXPANSION["basic"])
    r["expansion.bottleneck"] = lambda: str(EXPANSION["bottleneck"])

    # The same-width comparison the project adds (two 3×3 convs at the bottleneck's width).
    c["classic.two3x3.weights"] = lambda: classic_weights(bottleneck256().output_shape[1])[0]
    c["classic.bottleneck.weights"] = lambda: classic_weights(bottleneck256().output_shape[1])[1]

    # VGG's argument (three 3×3 convs against one 7×7), on the project's own conv3x3.
    r["vgg.channels"] = lambda: str(VGG_CHANNELS)
    r["rf.stack3x3"] = lambda: str(stack_of_3x3(VGG_CHANNELS, 3)[0])
    r["rf.stack2x3x3"] = lambda: str(stack_of_3x3(VGG_CHANNELS, 2)[0])
    r["rf.one7x7"] = lambda: str(single_kernel(VGG_CHANNELS, 7)[0])
    c["params.stack3x3"] = lambda: stack_of_3x3(VGG_CHANNELS, 3)[1]
    c["params.one7x7"] = lambda: single_kernel(VGG_CHANNELS, 7)[1]
    r["params.stack3x3_per_c2"] = lambda: str(stack_of_3x3(VGG_CHANNELS, 3)[1] // VGG_CHANNELS**2)
    r["params.one7x7_per_c2"] = lambda: str(single_kernel(VGG_CHANNELS, 7)[1] // VGG_CHANNELS**2)
    r["params.one7x7_more_pct"] = lambda: (
        f"{round(100 * (single_kernel(VGG_CHANNELS, 7)[1] / stack_of_3x3(VGG_CHANNELS, 3)[1] - 1))}%"
    )

    # Stride placement in ResNet-50's first strided block, and what v1.5 adds over the whole net.
    for variant, spec_of in (("v15", lambda: r50), ("v1", lambda: v1(r50))):
        c[f"resnet50.layer2_0.macs_{variant}"] = lambda f=spec_of: block_summary(analysis_of(f()), "layer2.0").macs
        r[f"resnet50.layer2_0.mmacs_{variant}"] = lambda f=spec_of: fmt_mega(
            block_summary(analysis_of(f()), "layer2.0").macs
        )
        for conv in ("conv1", "conv2", "conv3"):
            r[f"resnet50.layer2_0.{conv}.mmacs_{variant}"] = lambda f=spec_of, cv=conv: fmt_mega(
                analysis_of(f()).layer(f"layer2.0.{cv}").macs
            )
            r[f"resnet50.layer2_0.{conv}.size_{variant}"] = lambda f=spec_of, cv=conv: str(
                analysis_of(f()).layer(f"layer2.0.{cv}").output_shape[2]
            )
    c["stride.resnet50.conv1_v15"] = lambda: stride_cost(r50).rows[0][1]
    c["stride.resnet50.conv1_v1"] = lambda: stride_cost(r50).rows[0][2]
    c["stride.resnet50.extra_per_block"] = lambda: stride_cost(r50).rows[0][1] - stride_cost(r50).rows[0][2]
    c["stride.resnet50.extra"] = lambda: stride_cost(r50).extra
    c["stride.resnet50.total_difference"] = lambda: stride_cost(r50).total_difference
    r["stride.resnet50.convs"] = lambda: str(len(stride_cost(r50).rows))
    r["stride.resnet50.rows"] = lambda: "\n".join(
        f"| `{name}` | {fmt_int(a)} | {fmt_int(b)} | {fmt_int(a - b)} |" for name, a, b in stride_cost(r50).rows
    )

    # Zero-init of the last BN.
    r["zeroinit.resnet20.max_abs_diff"] = lambda: f"{zero_init_identity_error(PRESETS['resnet20'], 'layer1.1'):g}"
    r["zeroinit.resnet50.zeroed_bns"] = lambda: fmt_int(zeroed_norms(r50)[0])
    c["zeroinit.resnet50.zeroed_gammas"] = lambda: zeroed_norms(r50)[1]

    # Goyal et al.'s Table 2b: what γ = 0 gained, from the registered errors (mean of 5 runs).
    for size in ("small", "large"):
        r[f"goyal.gain_{size}"] = lambda sz=size: (
            f"{CLAIM[f'goyal.table2b.{sz}_gamma1'].value - CLAIM[f'goyal.table2b.{sz}_gamma0'].value:.2f}"
        )

    # The CIFAR family (§4.2): n = 3, 5, 7, 9 are the nets of Fig. 6 left/middle.
    cifar = [n for n, s in PRESETS.items() if s.stem == "cifar" and s.shortcut != "none"]
    r["cifar.fig6_ns"] = lambda: fmt_list([PRESETS[n].layers[0] for n in cifar[:4]])
    r["cifar.fig6_depths"] = lambda: fmt_list([analysis_of(PRESETS[n]).weighted_depth for n in cifar[:4]])
    r["cifar.shortcuts"] = lambda: str(sum(PRESETS["resnet20"].layers))

    # The family since 2015: what each preset adds to the net it changes, from the two analyses.
    for name, base, _ in since_2015():
        c[f"since2015.{name}.params_change"] = lambda n=name, b=base: (
            analysis_of(PRESETS[n]).totals.params - analysis_of(PRESETS[b]).totals.params
        )
        c[f"since2015.{name}.macs_change"] = lambda n=name, b=base: (
            analysis_of(PRESETS[n]).totals.macs - analysis_of(PRESETS[b]).totals.macs
        )
        r[f"since2015.{name}.macs_ratio"] = lambda n=name, b=base: (
            f"×{analysis_of(PRESETS[n]).totals.macs / analysis_of(PRESETS[b]).totals.macs:.2f}"
        )
        r[f"since2015.{name}.change"] = lambda n=name, b=base: spec_change(b, n)
        r[f"since2015.{name}.base"] = lambda b=base: b

    for key, spec in PREACT.items():
        r[f"{key}.depth"] = lambda s=spec: str(weighted_depth_of_modules(s))

    r["table1.max_gap"] = lambda: f"{math.ceil(100 * table1_max_gap()) / 100:.2f}"

    for key, claim in PAPER.items():
        r[key] = lambda cl=claim: cl.text
    clash = set(r) & set(c)
    if clash:
        raise RuntimeError(f"placeholders registered twice: {sorted(clash)}")
    return r, c


TEXTS, COUNTS = _registry()
#: Every placeholder name, texts and counts alike.
PLACEHOLDERS: dict[str, Callable[[], object]] = {**TEXTS, **COUNTS}


@cache
def count_value(name: str) -> int:
    """The integer behind a count placeholder, computed once per process."""
    try:
        return COUNTS[name]()
    except KeyError:
        raise PlaceholderError(f"{{{{{name}}}}} is not a count placeholder") from None


@cache
def value(name: str, human: bool = False) -> str:
    """The text of one placeholder, computed once per process (the model does not change under us).

    A count is exact (25,557,032) unless ``human``, then as people read it (25.6 M).
    """
    if name in COUNTS:
        n = count_value(name)
        return count(n) if human else fmt_int(n)
    try:
        fn = TEXTS[name]
    except KeyError:
        raise PlaceholderError(f"unknown placeholder {{{{{name}}}}}") from None
    return fn()


def placeholders_in(text: str) -> list[str]:
    return PLACEHOLDER.findall(text)


def _shown(name: str, human: bool) -> str:
    if human and name in COUNTS:
        # On a slide: the human number, the exact one in the hover title.
        return f'<span class="ex-num" title="{html.escape(value(name))}">{value(name, human=True)}</span>'
    return value(name)


def fill(text: str, human: bool = False) -> str:
    """``text`` with every ``{{name}}`` replaced by its live value; an unknown or unfilled one raises.

    ``human`` writes counts for a slide: '25.6 M' inside a span whose title is the exact value.
    """
    for name in placeholders_in(text):
        if name not in PLACEHOLDERS:
            raise PlaceholderError(f"unknown placeholder {{{{{name}}}}}")
    out = PLACEHOLDER.sub(lambda m: _shown(m.group(1), human), text)
    if "{{" in out or "}}" in out:
        raise PlaceholderError(f"a placeholder was left unfilled: {out[max(out.find('{{'), 0) :][:60]!r}")
    return out
