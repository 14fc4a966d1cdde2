"""timm as a test-only oracle: import it, build its models, count them, and translate them into specs.

timm imports torchvision, and the torchvision wheel the registry offers for this torch is a CUDA build
whose C library does not load against the CPU torch here; torchvision then fails on import while
registering fake kernels for two of its ops. The models need none of those ops, so ``import_timm``
first tries to load torchvision's library itself and, only when that fails, declares the two op
schemas (``torchvision::nms`` and ``torchvision::qnms``) so that the registration finds them. With a
torchvision that matches the installed torch nothing is declared.

Conventions, the project's (README):

* ``macs``: multiply-accumulates of convolutions and matrix products for one image, read with
  ``torch.utils.flop_counter.FlopCounterMode`` on the meta device (flops / 2). It counts the convs of
  SE/ECA and BlurPool's blur, and no pooling, norm, activation or gating.
* stage shapes: the output of each stage that timm lists in ``feature_info`` (its stem entry left out).

``timm_spec(name)`` reads the arguments a timm entry point hands to its model class (by catching the
call to timm's ``_create_*`` builder) and translates them into a ``ResNetSpec``, or says which argument
the spec cannot express. Nothing here is a table of hand-typed specs.
"""

from __future__ import annotations

import dataclasses
import functools
import glob
import importlib
import importlib.machinery
import importlib.util
import math
import os
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.flop_counter import FlopCounterMode

from resnet_core.spec import ResNetSpec
from resnet_core.weights import from_timm

#: timm's pin, in requirements-test.txt; the coverage numbers in the README are for this version.
TIMM_VERSION = "1.0.31"


def _torchvision_ops_load() -> bool:
    """Whether torchvision's compiled library loads against this torch (it then defines its own ops)."""
    spec = importlib.util.find_spec("torchvision")
    if spec is None or spec.origin is None:
        return False
    folder = os.path.dirname(spec.origin)
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        for path in glob.glob(os.path.join(folder, "_C" + suffix)):
            try:
                torch.ops.load_library(path)
                return True
            except (OSError, RuntimeError):
                return False
    return False


@functools.cache
def import_timm() -> Any:
    """timm, imported once; the two torchvision op schemas declared first when its library cannot load."""
    if not _torchvision_ops_load():
        lib = torch.library.Library("torchvision", "DEF")
        lib.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        lib.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        _LIBS.append(lib)  # a Library's definitions vanish when it is garbage-collected
    import timm

    return timm


_LIBS: list[Any] = []


def create(name: str, device: str = "meta", **kwargs: Any) -> nn.Module:
    """timm's ``name`` built on ``device`` ('meta' allocates nothing), in eval mode."""
    timm = import_timm()
    with torch.device(device):
        model = timm.create_model(name, pretrained=False, **kwargs)
    return model.eval()


def param_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def macs(model: nn.Module, input_size: int = 224, in_channels: int = 3) -> int:
    """Convolution and matrix-product multiply-adds for one image (FlopCounterMode's flops / 2)."""
    device = next(model.parameters()).device
    x = torch.empty(1, in_channels, input_size, input_size, device=device)
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(x)
    return counter.get_total_flops() // 2


def stage_shapes(model: nn.Module, input_size: int = 224, in_channels: int = 3) -> list[tuple[int, ...]]:
    """Output shape of each stage timm lists in ``feature_info`` (the stem's entry left out)."""
    modules = dict(model.named_modules())
    names = [f["module"] for f in model.feature_info[1:]]
    shapes: dict[str, tuple[int, ...]] = {}
    handles = [
        modules[n].register_forward_hook(lambda m, i, o, n=n: shapes.__setitem__(n, tuple(o.shape))) for n in names
    ]
    device = next(model.parameters()).device
    try:
        with torch.no_grad():
            model(torch.empty(1, in_channels, input_size, input_size, device=device))
    finally:
        for h in handles:
            h.remove()
    return [shapes[n] for n in names]


def randomize_(model: nn.Module, seed: int = 0, calibrate: int | None = 64) -> nn.Module:
    """Every parameter and buffer of a CPU model drawn at random, so that a comparison of outputs sees all of
    them: timm zero-initialises each block's last BN, which would hide its whole residual branch. Convs
    ~ N(0, 1/fan_in) (outputs keep their scale), norm weights in [0.5, 1.5], biases small.

    BatchNorm's running statistics are then those of a random batch of ``calibrate``×``calibrate`` images
    (one pass in training mode with a cumulative average), as training would leave them: every norm
    then normalises, and activations and logits stay O(1). Drawn at random instead, a 152-layer
    pre-activation net reached logits of 80, where float32 resolves only 1e-5 (its features were still
    bit-identical to ours; the classifiers' summation orders differed in the last place)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in list(model.state_dict().items()):
            if not t.is_floating_point():
                continue
            if name.endswith("running_var"):
                t.copy_(0.5 + torch.rand(t.shape, generator=g))
            elif name.endswith(("running_mean", "bias")):
                t.copy_(0.1 * torch.randn(t.shape, generator=g))
            elif t.dim() == 1:
                t.copy_(0.5 + torch.rand(t.shape, generator=g))
            elif t.dim() > 1:
                t.copy_(torch.randn(t.shape, generator=g) / math.sqrt(t[0].numel()))
        if calibrate:
            norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
            saved = [m.momentum for m in norms]
            for m in norms:
                m.reset_running_stats()
                m.momentum = None  # a cumulative average: after one batch, that batch's statistics
            model.train()
            model(torch.randn(8, model_in_channels(model), calibrate, calibrate, generator=g))
            for m, momentum in zip(norms, saved, strict=True):
                m.momentum = momentum
    return model.eval()


def model_in_channels(model: nn.Module) -> int:
    return next(m for m in model.modules() if isinstance(m, nn.Conv2d)).in_channels


def project_state_dict(model: nn.Module, spec: ResNetSpec) -> dict[str, Tensor]:
    """timm ``model``'s state_dict under this project's names (``resnet_core.weights.from_timm``)."""
    return from_timm(model.state_dict(), spec)


#: Largest |logit difference| that still counts as the same network (float32, eval mode).
LOGIT_TOLERANCE = 1e-5


@dataclass(frozen=True)
class Comparison:
    """``spec`` against timm's model, number by number; ``differences`` is empty when they agree."""

    params: tuple[int, int]  # (ours, timm's)
    macs: tuple[int, int]  # at 224×224, one image
    stage_shapes: tuple[list[tuple[int, ...]], list[tuple[int, ...]]]
    max_logit_diff: float | None  # None when the logits were not compared (or the weights did not load)
    load_problem: str = ""  # weights.load_into's summary when timm's state_dict did not fit

    @property
    def differences(self) -> list[str]:
        out = [
            f"{what} {ours} ≠ timm's {theirs}"
            for what, (ours, theirs) in (("params", self.params), ("MACs", self.macs), ("stages", self.stage_shapes))
            if ours != theirs
        ]
        if self.load_problem:
            out.append(f"state_dict: {self.load_problem}")
        if self.max_logit_diff is not None and not self.max_logit_diff <= LOGIT_TOLERANCE:
            out.append(f"logits differ by {self.max_logit_diff:.2e}")
        return out


def compare(name: str, spec: ResNetSpec, logits: bool = True, size: int = 64, **timm_kwargs: Any) -> Comparison:
    """Parameters, MACs and stage shapes at 224 (meta device), then — if ``logits`` — the outputs of timm's
    model with every value drawn at random and of ``build(spec)`` loaded with its state_dict through
    ``resnet_core.weights.load_into``, on one random 2×3×size×size batch."""
    from resnet_core import analyze, build, weights

    theirs = create(name, "meta", **timm_kwargs)
    ours = analyze(spec, 224)
    result = Comparison(
        params=(ours.totals.params, param_count(theirs)),
        macs=(ours.totals.macs, macs(theirs, 224)),
        stage_shapes=(
            [ours.stage(f"layer{i + 1}").output_shape for i in range(spec.num_stages)],
            stage_shapes(theirs, 224),
        ),
        max_logit_diff=None,
    )
    if not logits or result.differences:
        return result
    del theirs
    timm_model = randomize_(create(name, "cpu", **timm_kwargs))
    model = build(spec).eval()
    report = weights.load_into(model, spec, timm_model.state_dict())
    if not report.ok:
        return dataclasses.replace(result, load_problem=report.summary())
    x = torch.randn(2, spec.in_channels, size, size, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        diff = float((model(x) - timm_model(x)).abs().max())
    return dataclasses.replace(result, max_logit_diff=diff)


# -- timm's arguments → a ResNetSpec -------------------------------------------------------------------


@dataclass(frozen=True)
class Translation:
    """A timm entry point as a spec, or the reason it cannot be one."""

    name: str
    module: str
    spec: ResNetSpec | None
    reason: str = ""  # why not, when spec is None
    kwargs: tuple[tuple[str, str], ...] = ()  # timm's arguments, as text (for the table)


class NotExpressible(Exception):
    """A timm argument the spec has no value for."""


def _captured_args(name: str, **timm_kwargs: Any) -> tuple[str, dict[str, Any]]:
    """The module of timm's entry point ``name`` and the keyword arguments it finally hands to its model
    class (read by catching the module's call to ``build_model_with_cfg``; nothing is built)."""
    timm = import_timm()
    entry = timm.models.model_entrypoint(name)
    module = importlib.import_module(entry.__module__)
    captured: dict[str, Any] = {}

    class _Caught(Exception):
        pass

    def catch(model_cls: type, variant: str, pretrained: bool = False, **kwargs: Any) -> None:
        captured.update(kwargs)
        raise _Caught

    saved = module.build_model_with_cfg
    module.build_model_with_cfg = catch
    try:
        entry(pretrained=False, **timm_kwargs)
    except _Caught:
        pass
    finally:
        module.build_model_with_cfg = saved
    for key in ("feature_cfg", "pretrained_strict", "pretrained_filter_fn"):
        captured.pop(key, None)  # how timm loads weights and features, not the architecture
    return entry.__module__.rsplit(".", 1)[-1], captured


def _layer_name(layer: Any) -> str:
    if isinstance(layer, functools.partial):
        args = ", ".join(f"{k}={v}" for k, v in layer.keywords.items())
        return f"{_layer_name(layer.func)}({args})"
    if isinstance(layer, (list, tuple)):
        return "[" + ", ".join(_layer_name(x) for x in layer) + "]"
    return getattr(layer, "__name__", str(layer))


def _check_channels(channels: tuple[int, ...], first: int, what: str) -> None:
    if tuple(channels) != tuple(first * 2**i for i in range(len(channels))):
        raise NotExpressible(f"{what} {tuple(channels)} do not double from stage to stage")


def _attention(attn: Any) -> dict[str, Any]:
    timm = import_timm()
    if attn is None:
        return {}
    if attn == "se":
        return {"attention": "se"}
    if attn == "eca":
        return {"attention": "eca"}
    se_cls = timm.layers.squeeze_excite.SEModule
    if isinstance(attn, functools.partial) and attn.func is se_cls and set(attn.keywords) == {"rd_ratio"}:
        reduction = round(1 / attn.keywords["rd_ratio"])
        if not math.isclose(1 / reduction, attn.keywords["rd_ratio"]):
            raise NotExpressible(f"SE ratio {attn.keywords['rd_ratio']} is not 1/r for a whole r")
        return {"attention": "se", "se_reduction": reduction}
    raise NotExpressible(f"attention {_layer_name(attn)}")


def _activation(act: Any) -> dict[str, Any]:
    if act in (None, nn.ReLU, "relu"):
        return {}
    if act in (nn.SiLU, "silu", "swish"):
        return {"activation": "silu"}
    raise NotExpressible(f"activation {_layer_name(act)}")


def _dilation(output_stride: int) -> dict[str, Any]:
    """timm's output_stride 32 / 16 / 8 → dilated_stages 0 / 1 / 2 (left out at 32, the default).

    Translators set only the fields that differ from the defaults, so that a spec without the newer
    fields (an older checkout, for a before/after count) still takes the nets it can express."""
    if output_stride not in (8, 16, 32):
        raise NotExpressible(f"output_stride {output_stride}")
    return {"dilated_stages": {16: 1, 8: 2}[output_stride]} if output_stride != 32 else {}


def _resnet(kw: dict[str, Any]) -> dict[str, Any]:
    """timm.models.resnet.ResNet's arguments (see its docstring) → spec fields."""
    timm = import_timm()
    r = timm.models.resnet
    fields: dict[str, Any] = {}
    block = kw.pop("block")
    if block is r.BasicBlock:
        fields["block"] = "basic"
    elif block is r.Bottleneck:
        fields["block"] = "bottleneck"
    else:
        raise NotExpressible(f"block {_layer_name(block)}: one block type for every stage is expected")
    fields["layers"] = tuple(kw.pop("layers"))
    channels = tuple(kw.pop("channels", (64, 128, 256, 512)))
    _check_channels(channels, 64, "stage channels")
    fields["groups"] = kw.pop("cardinality", 1)
    fields["width_per_group"] = kw.pop("base_width", 64)
    stem_type = kw.pop("stem_type", "")
    stem_width = kw.pop("stem_width", 64)
    if stem_type == "":
        fields["stem"] = "imagenet"  # timm's 7×7 stem has 64 channels whatever stem_width says
    elif stem_type in ("deep", "deep_tiered") and stem_width == 32:
        fields["stem"] = "deep" if stem_type == "deep" else "deep_tiered"
    elif stem_type == "deep" and stem_width == 64:
        fields["stem"] = "deep_wide"
    else:
        raise NotExpressible(f"stem {stem_type!r} of width {stem_width}")
    fields["shortcut"] = "D" if kw.pop("avg_down", False) else "B"
    for key, default in (("down_kernel_size", 1), ("block_reduce_first", 1)):
        if kw.pop(key, default) != default:
            raise NotExpressible(f"{key} ≠ {default} (senet154's 3×3 projections and halved first conv)")
    if kw.pop("replace_stem_pool", False):
        fields["stem_pool"] = "conv"
    aa = kw.pop("aa_layer", None)
    if isinstance(aa, str):
        aa = timm.layers.blur_pool._normalize_aa_layer(aa)  # 'avg' → nn.AvgPool2d, 'blur' → BlurPool2d
    if aa is nn.AvgPool2d:
        fields["anti_alias"] = "avg"
    elif aa is timm.layers.BlurPool2d:
        fields["anti_alias"] = "blur"
    elif aa is not None:
        raise NotExpressible(f"anti-aliasing {_layer_name(aa)}")
    block_args = dict(kw.pop("block_args", None) or {})
    fields |= _attention(block_args.pop("attn_layer", None))
    if block_args:
        raise NotExpressible(f"block arguments {block_args}")
    fields |= _activation(kw.pop("act_layer", None))
    norm = kw.pop("norm_layer", None)
    if norm == "groupnorm":
        fields["norm"] = "groupnorm"
    elif norm not in (None, nn.BatchNorm2d, "batchnorm"):
        raise NotExpressible(f"norm {_layer_name(norm)}")
    fields |= _dilation(kw.pop("output_stride", 32))
    if rate := kw.pop("drop_path_rate", 0.0):
        fields["drop_path_rate"] = rate  # timm's rule: rate · block / (blocks − 1)
    if kw.pop("pruned", False):
        raise NotExpressible("pruned: every layer's channels read from a table (Knapsack pruning, arXiv:2002.08258)")
    return fields


def _resnetv2(kw: dict[str, Any]) -> dict[str, Any]:
    """timm.models.resnetv2.ResNetV2's arguments → spec fields."""
    timm = import_timm()
    layers = timm.layers
    fields: dict[str, Any] = {"preact": kw.pop("preact", True), "layers": tuple(kw.pop("layers"))}
    if not fields["preact"]:
        raise NotExpressible("ResNetV2 without pre-activation (a ViT-hybrid backbone)")
    basic = kw.pop("basic", False)
    fields["block"] = "basic" if basic else "bottleneck"
    wf = kw.pop("width_factor", 1)
    channels = tuple(c * wf for c in kw.pop("channels", (256, 512, 1024, 2048)))
    expansion = 1 if basic else 4
    _check_channels(channels, channels[0], "stage channels")
    ratio = kw.pop("bottle_ratio", 0.25)
    if ratio != 1 / expansion:
        raise NotExpressible(f"bottle_ratio {ratio}")
    fields["width"] = channels[0] // expansion
    if kw.pop("stem_chs", 64) * wf != fields["width"]:
        raise NotExpressible("stem width differs from the first stage's planes")
    stem_type = kw.pop("stem_type", "")
    stems = {"": "imagenet", "fixed": "imagenet", "deep": "deep", "tiered": "deep_tiered"}
    if stem_type not in stems:
        raise NotExpressible(f"stem {stem_type!r}")
    fields["stem"] = stems[stem_type]
    if stem_type == "fixed":
        fields["stem_pool"] = "max_zeropad"  # BiT: ConstantPad2d(1, 0) then MaxPool2d(3, 2)
    fields["shortcut"] = "D" if kw.pop("avg_down", False) else "B"
    conv = kw.pop("conv_layer", None)
    if isinstance(conv, functools.partial) and conv.func is layers.StdConv2d and conv.keywords == {"eps": 1e-8}:
        fields["weight_standardization"] = True
    elif conv is not layers.create_conv2d:
        raise NotExpressible(f"conv {_layer_name(conv)}")
    norm = kw.pop("norm_layer", None)  # None: ResNetV2's default, GroupNormAct with 32 groups
    norm_name = getattr(norm, "__name__", "")
    if norm is layers.BatchNormAct2d:
        pass
    elif (
        norm is None
        or norm is layers.GroupNormAct
        or (
            isinstance(norm, functools.partial)
            and norm.func is layers.GroupNormAct
            and norm.keywords == {"num_groups": 32}
        )
    ):
        fields["norm"] = "groupnorm"
    else:
        raise NotExpressible(f"norm {norm_name or _layer_name(norm)}")
    fields |= _activation(kw.pop("act_layer", None))
    fields |= _dilation(kw.pop("output_stride", 32))
    if kw.pop("drop_path_rate", 0.0):
        raise NotExpressible("ResNetV2's drop-path rates rise stage by stage, not block by block")
    return fields


def _senet(kw: dict[str, Any]) -> dict[str, Any]:
    """timm.models.senet.SENet's arguments (the legacy SENets) → spec fields."""
    timm = import_timm()
    s = timm.models.senet
    block = kw.pop("block")
    fields: dict[str, Any] = {"layers": tuple(kw.pop("layers")), "attention": "se", "stem_pool": "max_ceil"}
    if block is s.SEResNetBottleneck:
        fields |= {"block": "bottleneck", "stride_on": "1x1"}  # stride on conv1, as in Caffe
    elif block is s.SEResNeXtBottleneck:
        fields["block"] = "bottleneck"
    elif block is s.SEResNetBlock:
        fields["block"] = "basic"
    else:
        raise NotExpressible(f"block {block.__name__}: widened first conv (planes × 2) and 3×3 stem")
    fields["groups"] = kw.pop("groups")
    if fields["groups"] > 1:
        fields["width_per_group"] = 4
    fields["se_reduction"] = kw.pop("reduction")
    if fields["block"] == "basic":
        # legacy SE squeezes to C // r exactly; timm's SEModule (and this project) round to a multiple of 8
        raise NotExpressible("SE squeezes 64 channels to 64 // 16 = 4 here, not to a multiple of 8")
    if kw.pop("input_3x3", False) or kw.pop("inplanes", 64) != 64:
        raise NotExpressible("three-conv 64/64/128 stem of SENet-154")
    if kw.pop("downsample_kernel_size", 1) != 1 or kw.pop("downsample_padding", 0) != 0:
        raise NotExpressible("3×3 projection shortcuts")
    return fields


_TRANSLATORS = {"resnet": _resnet, "resnetv2": _resnetv2, "senet": _senet}

#: Why a module's nets are outside the spec (one line each; see the module's docstring in timm).
OTHER_FAMILIES = {
    "byobnet": "timm's bring-your-own-blocks nets: group width instead of cardinality, stems without pooling",
    "byoanet": "self-attention blocks (bottleneck transformer, lambda, halo)",
    "cspnet": "cross-stage partial stages (a stage splits its channels)",
    "inception_resnet_v2": "Inception branches",
    "nfnet": "normalizer-free: scaled weight standardisation, no norm layers",
    "resnest": "split-attention blocks (radix groups)",
    "sknet": "selective-kernel convs (two kernel sizes with attention)",
    "tresnet": "space-to-depth stem, anti-aliasing and inplace-ABN",
    "vision_transformer_hybrid": "a ViT on a ResNet stem",
}


def timm_spec(name: str, **timm_kwargs: Any) -> Translation:
    """timm's entry point ``name`` (with ``timm_kwargs`` on top, as ``timm.create_model`` takes them) as a
    ``ResNetSpec``, or why not."""
    timm = import_timm()
    module = timm.models.model_entrypoint(name).__module__.rsplit(".", 1)[-1]
    if module not in _TRANSLATORS:
        return Translation(name, module, None, OTHER_FAMILIES.get(module, "a different architecture"))
    text: tuple[tuple[str, str], ...] = ()
    try:
        module, kw = _captured_args(name, **timm_kwargs)
        text = tuple((k, _layer_name(v)) for k, v in kw.items())
        rest = {k: v for k, v in kw.items() if k != "drop_rate"}  # dropout before the classifier: training only
        fields = _TRANSLATORS[module](rest)  # pops every argument it understands
        if rest:
            raise NotExpressible(f"arguments {sorted(rest)}")
    except NotExpressible as e:
        return Translation(name, module, None, str(e), text)
    try:
        spec = ResNetSpec(**fields)
    except (TypeError, ValueError) as e:
        return Translation(name, module, None, f"{type(e).__name__}: {e}", text)
    return Translation(name, module, spec, "", text)


def resnet_family() -> list[str]:
    """The issue's 170: timm's entry points whose name contains 'resne' (ResNet, ResNeXt, SE-/ECA-ResNet,
    ResNeSt, hybrids …), timm's own test nets left out."""
    return import_timm().list_models("*resne*", exclude_filters=["test_*"])


__all__ = [
    "LOGIT_TOLERANCE",
    "OTHER_FAMILIES",
    "TIMM_VERSION",
    "Comparison",
    "Translation",
    "compare",
    "create",
    "import_timm",
    "macs",
    "param_count",
    "project_state_dict",
    "randomize_",
    "resnet_family",
    "stage_shapes",
    "timm_spec",
]
