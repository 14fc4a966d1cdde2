"""Weights: torchvision's published files (download, cache, hash check), uploads, and fit reports.

Every file is read with ``torch.load(..., weights_only=True)``: the unpickler then only rebuilds
tensors and plain containers, so a file crafted to run code when unpickled is refused instead.

torchvision names each file ``<arch>-<first hex digits of its sha256>.pth``; the download checks
the digest against that suffix, exactly as ``torch.hub.download_url_to_file`` does.

timm's state_dicts load too (``check_fit`` and ``load_into`` rename them first, see ``from_timm``):
timm's ``ResNet`` already uses torchvision's names; its ``ResNetV2`` and its legacy SENets do not.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import re
import struct
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

import torch
from torch import Tensor, nn

from resnet_core.model import build
from resnet_core.spec import PRESETS, ResNetSpec

CACHE_ENV = "RESNET_EXPLORER_CACHE"
_TV = "https://download.pytorch.org/models/"


class WeightsError(ValueError):
    """A weight file that cannot be used; the message says why and what would work."""


@dataclass(frozen=True)
class PublishedWeights:
    """One of torchvision's published ImageNet-1k weight files (``<Arch>_Weights.<tag>``)."""

    preset: str
    tag: str
    url: str
    acc1: float  # torchvision's reported ImageNet-1k top-1 at its evaluation transform
    resize_size: int  # evaluation transform: resize the shorter side, then centre-crop 224
    crop_size: int = 224

    @property
    def filename(self) -> str:
        return self.url.rsplit("/", 1)[-1]

    @property
    def sha256_prefix(self) -> str:
        prefix = hash_prefix_from_name(self.filename)
        assert prefix is not None, self.filename  # every published name carries one
        return prefix

    @property
    def id(self) -> str:
        return f"{self.preset}.{self.tag}"


#: torchvision's weight enums (torchvision/models/resnet.py): URL, top-1, evaluation resize.
PUBLISHED: tuple[PublishedWeights, ...] = (
    PublishedWeights("resnet18", "IMAGENET1K_V1", _TV + "resnet18-f37072fd.pth", 69.758, 256),
    PublishedWeights("resnet34", "IMAGENET1K_V1", _TV + "resnet34-b627a593.pth", 73.314, 256),
    PublishedWeights("resnet50", "IMAGENET1K_V1", _TV + "resnet50-0676ba61.pth", 76.130, 256),
    PublishedWeights("resnet50", "IMAGENET1K_V2", _TV + "resnet50-11ad3fa6.pth", 80.858, 232),
    PublishedWeights("resnet101", "IMAGENET1K_V1", _TV + "resnet101-63fe2227.pth", 77.374, 256),
    PublishedWeights("resnet101", "IMAGENET1K_V2", _TV + "resnet101-cd907fc2.pth", 81.886, 232),
    PublishedWeights("resnet152", "IMAGENET1K_V1", _TV + "resnet152-394f9c45.pth", 78.312, 256),
    PublishedWeights("resnet152", "IMAGENET1K_V2", _TV + "resnet152-f82ba261.pth", 82.284, 232),
    PublishedWeights("resnext50_32x4d", "IMAGENET1K_V1", _TV + "resnext50_32x4d-7cdf4587.pth", 77.618, 256),
    PublishedWeights("resnext50_32x4d", "IMAGENET1K_V2", _TV + "resnext50_32x4d-1a0047aa.pth", 81.198, 232),
    PublishedWeights("resnext101_32x8d", "IMAGENET1K_V1", _TV + "resnext101_32x8d-8ba56ff5.pth", 79.312, 256),
    PublishedWeights("resnext101_32x8d", "IMAGENET1K_V2", _TV + "resnext101_32x8d-110c445d.pth", 82.834, 232),
    PublishedWeights("resnext101_64x4d", "IMAGENET1K_V1", _TV + "resnext101_64x4d-173b62eb.pth", 83.246, 232),
    PublishedWeights("wide_resnet50_2", "IMAGENET1K_V1", _TV + "wide_resnet50_2-95faca4d.pth", 78.468, 256),
    PublishedWeights("wide_resnet50_2", "IMAGENET1K_V2", _TV + "wide_resnet50_2-9ba9bcbe.pth", 81.602, 232),
    PublishedWeights("wide_resnet101_2", "IMAGENET1K_V1", _TV + "wide_resnet101_2-32ee1156.pth", 78.848, 256),
    PublishedWeights("wide_resnet101_2", "IMAGENET1K_V2", _TV + "wide_resnet101_2-d733dc28.pth", 82.510, 232),
)


def published_for(preset: str) -> list[PublishedWeights]:
    return [w for w in PUBLISHED if w.preset == preset]


def published(weights_id: str) -> PublishedWeights:
    """'resnet50.IMAGENET1K_V2' → its entry, or a WeightsError listing the ids there are."""
    for w in PUBLISHED:
        if w.id == weights_id:
            return w
    raise WeightsError(f"unknown published weights {weights_id!r}; known: {', '.join(w.id for w in PUBLISHED)}")


#: ``<name>-<hex>.<ext>`` with 8 to 64 hex digits, the hex part last before the extension. torch.hub's
#: ``-([a-f0-9]*)\.`` takes any run of hex, even an empty one; torchvision's names all carry 8 digits,
#: and requiring 8 keeps a word that happens to be hex ("x-decade.pth") from being read as a digest.
_HASH_IN_NAME = re.compile(r"-([a-f0-9]{8,64})\.[a-z]+$")


def hash_prefix_from_name(filename: str) -> str | None:
    """'resnet50-11ad3fa6.pth' → '11ad3fa6' (torch.hub's convention, at least 8 hex digits), or None."""
    m = _HASH_IN_NAME.search(filename)
    return m.group(1) if m else None


def cache_dir() -> Path:
    """``$RESNET_EXPLORER_CACHE`` or ``~/.cache/resnet_explorer``."""
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "resnet_explorer"


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    """Hex digest of the file at ``path`` under ``hashlib`` algorithm ``algorithm`` (read in 1 MiB chunks)."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


Progress = Callable[[int, int | None], None]  # (bytes so far, total bytes or None)


def download(
    url: str,
    directory: Path | None = None,
    sha256_prefix: str | None = None,
    progress: Progress | None = None,
    timeout_s: float = 30.0,
    digest: tuple[str, str] | None = None,
) -> Path:
    """The file at ``url`` in the cache, downloaded first if it is not there (or no longer matches).

    ``sha256_prefix`` defaults to the hex suffix of the file name (8+ digits); a file whose digest does
    not start with it is deleted and a WeightsError raised. Written to a temporary file and renamed, so
    a broken download never leaves a file that looks complete.

    ``digest=(algorithm, hex)`` checks a published checksum instead (any ``hashlib`` algorithm, e.g.
    ``("md5", "c58f…")`` for a dataset whose publisher gives an MD5), with the same guarantees.
    """
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme not in ("http", "https"):
        raise WeightsError(f"url {url!r}: only http:// and https:// URLs can be downloaded")
    filename = Path(parsed.path).name
    if not filename:
        raise WeightsError(f"url {url!r} does not end in a file name")
    if digest is not None:
        algorithm, expected, promise = digest[0], digest[1].lower(), "the published checksum is"
    else:
        algorithm, promise = "sha256", "the name promises"
        expected = (sha256_prefix or hash_prefix_from_name(filename) or "").lower()
    directory = cache_dir() if directory is None else Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / filename
    if target.exists() and (not expected or file_digest(target, algorithm).startswith(expected)):
        if progress is not None:
            size = target.stat().st_size
            progress(size, size)
        return target

    h = hashlib.new(algorithm)
    fd, tmp_name = tempfile.mkstemp(prefix=filename + ".", suffix=".part", dir=directory)
    tmp = Path(tmp_name)
    try:
        try:
            # The temporary file is opened first, so it is closed however the request fails.
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout_s) as response:
                length = response.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
                done = 0
                if progress is not None:
                    progress(0, total)
                while chunk := response.read(1 << 16):
                    out.write(chunk)
                    h.update(chunk)
                    done += len(chunk)
                    if progress is not None:
                        progress(done, total)
        except urllib.error.HTTPError as e:
            e.close()  # its response body holds the connection open
            raise WeightsError(f"downloading {url} failed: HTTP {e.code} {e.reason}") from None
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise WeightsError(f"downloading {url} failed: {reason}; check the network or upload the file") from None
        got = h.hexdigest()
        if expected and not got.startswith(expected):
            raise WeightsError(
                f"{filename}: its {algorithm} is {got[: max(len(expected), 8)]}…, but {promise} "
                f"{expected}…; the download is corrupt or not the published file, so it was deleted"
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)  # whatever went wrong, no partial download remains
    return target


def download_published(weights: PublishedWeights, progress: Progress | None = None) -> Path:
    return download(weights.url, sha256_prefix=weights.sha256_prefix, progress=progress)


# -- loading ---------------------------------------------------------------------------------


EXPECTED_FILE = "expected a .pth/.pt written by torch.save(model.state_dict(), path)"

#: The first bytes of files people upload by mistake, and what to call them.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"{", "JSON or other text"),
)
_ZIP = b"PK\x03\x04"  # torch.save's format since torch 1.6 is a zip archive
_PICKLE = b"\x80"  # the legacy format (and a bare pickle) opens with the pickle protocol's opcode


def _head(source: str | os.PathLike | bytes | IO[bytes]) -> tuple[bytes, int | None]:
    """The first 16 bytes of the file and its size (None where a stream does not say)."""
    if isinstance(source, bytes):
        return source[:16], len(source)
    if isinstance(source, (str, os.PathLike)):
        try:
            with open(source, "rb") as f:
                return f.read(16), os.fstat(f.fileno()).st_size
        except OSError:
            return b"", None
    try:
        at = source.tell()
        head = source.read(16)
        source.seek(at)
        return head, None
    except (OSError, AttributeError, ValueError):
        return b"", None


def _cut_name(name: str) -> bool:
    """Whether a global a refused pickle names is a name cut short by the end of the file: its module
    is loaded here but has no such attribute ("torch._utils._re"). Modules not loaded are never imported
    for the check (a file must not make this process import anything), so their names stay refused."""
    parts = name.split(".")
    for i in range(len(parts) - 1, 0, -1):
        module = sys.modules.get(".".join(parts[:i]))
        if module is not None:
            obj: Any = module
            for attr in parts[i:]:
                if not hasattr(obj, attr):
                    return True
                obj = getattr(obj, attr)
            return False
    return False


def unreadable_reason(head: bytes, size: int | None, error: BaseException) -> str:
    """Why torch.load could not read a file, in the user's terms: what the file is, or how it is broken.

    Never torch's internal message (the zip reader's runs to several sentences about miniz), never an
    object's repr."""
    if size == 0 or (not head and isinstance(error, EOFError)):
        return "the file is empty (0 bytes)"
    if head.startswith(_ZIP):
        return (
            "it is a zip archive, as torch.save writes, but incomplete or damaged (its table of contents "
            "is missing or wrong): the upload or download was probably cut short — save or fetch it again"
        )
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return f"it is {what}, not a weight file"
    if head.startswith(_PICKLE):
        # Which error a cut-short older-format file raises depends on where the cut falls (EOFError,
        # UnpicklingError, struct.error, RuntimeError …, and it differed between runs), so none is trusted.
        return "it ends too early or is damaged (the older torch.save format): save or fetch it again"
    if head and all(32 <= b < 127 or b in (9, 10, 13) for b in head):
        return "it is plain text, not a weight file"
    return "its bytes are not in the format torch.save writes"


def load_state_dict(source: str | os.PathLike | bytes | IO[bytes]) -> dict[str, Tensor]:
    """A state_dict from a path, bytes or a binary file, read with ``weights_only=True`` on the CPU.

    Accepts the usual wrappers ({"state_dict": …}, {"model": …}) and DataParallel's ``module.``
    prefix. Anything else raises a WeightsError that says what was found and what is expected: a
    file that is not one torch.save wrote (empty, cut short, an image…), entries that are not
    name → tensor, and tensors a network cannot use (``check_tensors``).
    """
    head, size = _head(source)
    f: Any = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        obj = torch.load(f, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        culprit = re.search(r"GLOBAL ([\w.]+)", str(e))
        if culprit is None or _cut_name(culprit.group(1)):  # no code named, or a name cut short: damaged
            raise WeightsError(
                f"this is not a PyTorch weight file: {unreadable_reason(head, size, e if culprit is None else EOFError())}; {EXPECTED_FILE}"
            ) from None
        raise WeightsError(
            f"refused to load this file: unpickling it would call {culprit.group(1)}, and a plain state_dict "
            "of tensors never needs code to run. Save weights with torch.save(model.state_dict(), path)."
        ) from None
    except FileNotFoundError:
        raise WeightsError(f"no such weight file: {source}") from None
    except (
        RuntimeError,
        EOFError,
        ValueError,
        OSError,
        KeyError,
        AttributeError,
        IndexError,
        TypeError,
        struct.error,
    ) as e:
        raise WeightsError(
            f"this is not a PyTorch weight file: {unreadable_reason(head, size, e)}; {EXPECTED_FILE}"
        ) from None
    if isinstance(obj, dict):
        for wrapper in ("state_dict", "model", "model_state_dict"):
            if wrapper in obj and isinstance(obj[wrapper], dict):
                obj = obj[wrapper]
                break
    if not isinstance(obj, dict) or not obj:
        empty = " (empty)" if isinstance(obj, dict) else ""
        raise WeightsError(
            f"the file holds {type(obj).__name__}{empty}, not a state_dict; "
            "expected a mapping of parameter names to tensors"
        )
    bad = [k for k, v in obj.items() if not isinstance(k, str) or not isinstance(v, Tensor)]
    if bad:
        raise WeightsError(f"entries that are not name → tensor: {', '.join(map(repr, bad[:5]))}")
    if all(k.startswith("module.") for k in obj):
        obj = {k.removeprefix("module."): v for k, v in obj.items()}
    check_tensors(obj)
    return obj


#: How many offending tensors a message names before it says "and N more".
NAMED = 3


def check_tensors(state_dict: dict[str, Tensor]) -> None:
    """Refuse tensors no network here can use, naming the first offending ones (WeightsError):
    complex, boolean or integer values where weights must be real floating point (BatchNorm's
    integer counter ``num_batches_tracked`` excepted), and NaN or infinite values, which make every
    prediction NaN (a softmax of NaN ranks nothing)."""
    wrong_type = [
        f"{k} ({str(v.dtype).removeprefix('torch.')})"
        for k, v in state_dict.items()
        if not (v.is_floating_point() or (_is_batch_counter(k) and not v.is_complex() and v.dtype != torch.bool))
    ]
    if wrong_type:
        raise WeightsError(
            f"{_first(wrong_type)} not real floating-point numbers; weights must be float16, bfloat16, float32 or "
            "float64 (only BatchNorm's num_batches_tracked counts in integers)"
        )
    non_finite = []
    for k, v in state_dict.items():
        if v.is_floating_point() and v.numel() and not bool(torch.isfinite(v).all()):
            nan, inf = int(torch.isnan(v).sum()), int(torch.isinf(v).sum())
            what = " and ".join(p for p in (f"{nan:,} NaN" if nan else "", f"{inf:,} infinite" if inf else "") if p)
            non_finite.append(f"{k} ({what} of {v.numel():,} values)")
    if non_finite:
        raise WeightsError(
            f"{_first(non_finite)} not finite; a network with NaN or infinite weights predicts NaN for every "
            "image. The file was probably saved after training diverged: use an earlier checkpoint"
        )


def _first(items: list[str]) -> str:
    """'a, b and c are' / 'a is' / 'a, b, c and 4 more are' for the start of a message."""
    shown = items[:NAMED]
    more = len(items) - len(shown)
    if more:
        return f"{', '.join(shown)} and {more:,} more tensors are"
    if len(shown) == 1:
        return f"{shown[0]} is"
    return f"{', '.join(shown[:-1])} and {shown[-1]} are"


Shape = tuple[int, ...]


@lru_cache(maxsize=64)
def expected_shapes(spec: ResNetSpec) -> dict[str, Shape]:
    """Every state_dict key of ``spec``'s model with its shape (built on 'meta': no memory)."""
    return {k: tuple(v.shape) for k, v in build(spec, "meta").state_dict().items()}


# -- timm's names → this project's ------------------------------------------------------------------

#: timm ResNetV2 (timm/models/resnetv2.py) → this project, for a key's leading part. The stem's deep
#: convs and norms are one Sequential here (conv, norm, act, conv, norm, act, conv: indices 0 … 6).
_TIMM_V2_STEM = {
    "stem.conv.": "conv1.",
    "stem.conv1.": "conv1.0.",
    "stem.norm1.": "conv1.1.",
    "stem.conv2.": "conv1.3.",
    "stem.norm2.": "conv1.4.",
    "stem.conv3.": "conv1.6.",
    "stem.norm.": "bn1.",  # a post-activation ResNetV2's stem norm
    "stem.norm3.": "bn1.",
    "norm.": "final_bn.",  # the pre-activation net's closing BN (its ReLU has no state)
    "head.fc.": "fc.",
}
_TIMM_V2_BLOCK = re.compile(r"^stages\.(\d+)\.blocks\.(\d+)\.(norm|conv)(\d)\.")
_TIMM_V2_DOWN = re.compile(r"^stages\.(\d+)\.blocks\.(\d+)\.downsample\.(conv|norm)\.")
#: timm's legacy SENets (timm/models/senet.py, Cadene's port of the original Caffe models).
_TIMM_SENET = {"layer0.conv1.": "conv1.", "layer0.bn1.": "bn1.", "last_linear.": "fc."}


def timm_layout(state_dict: dict[str, Any]) -> str | None:
    """Which of timm's layouts a state_dict has, when it is not torchvision's: 'ResNetV2', 'SENet' or None."""
    if any(k.startswith("stages.") for k in state_dict):
        return "ResNetV2"
    if any(k.startswith("layer0.") for k in state_dict):
        return "SENet"
    return None


def from_timm(state_dict: dict[str, Tensor], spec: ResNetSpec) -> dict[str, Tensor]:
    """``state_dict`` with timm's names (and shapes) replaced by this project's, for a model of ``spec``.

    * timm ``ResNet`` (resnet*, seresnet*, ecaresnet*, resnetaa* …): the same names; returned as it is.
    * timm ``ResNetV2``: ``stem.conv`` → ``conv1`` (deep stem ``stem.conv1/norm1/conv2/norm2/conv3`` →
      ``conv1.0/1/3/4/6``); ``stages.{s}.blocks.{b}.norm{k}`` / ``conv{k}`` → ``layer{s+1}.{b}.bn{k}`` /
      ``conv{k}``; ``…downsample.conv`` → ``…downsample.0`` (``.1`` behind a D shortcut's pool); ``norm`` →
      ``final_bn``; ``head.fc`` (a 1×1 conv, weight O×I×1×1) → ``fc`` (weight O×I).
    * timm's legacy SENets: ``layer0.conv1/bn1`` → ``conv1``/``bn1``, ``se_module`` → ``se``,
      ``last_linear`` → ``fc``.

    Keys it does not know are kept, so ``check_fit`` reports them.
    """
    layout = timm_layout(state_dict)
    if layout is None:
        return state_dict
    out: dict[str, Tensor] = OrderedDict()
    pool = 1 if spec.shortcut == "D" else 0  # the D shortcut's pool comes first and holds nothing
    for key, value in state_dict.items():
        new = key
        if layout == "SENet":
            new = key.replace(".se_module.", ".se.")
            for old, repl in _TIMM_SENET.items():
                if key.startswith(old):
                    new = repl + key[len(old) :]
        else:
            for old, repl in _TIMM_V2_STEM.items():
                if key.startswith(old):
                    new = repl + key[len(old) :]
                    break
            if m := _TIMM_V2_BLOCK.match(key):
                s, b, kind, k = m.groups()
                new = f"layer{int(s) + 1}.{b}.{'bn' if kind == 'norm' else 'conv'}{k}." + key[m.end() :]
            elif m := _TIMM_V2_DOWN.match(key):
                s, b, kind = m.groups()
                new = f"layer{int(s) + 1}.{b}.downsample.{pool + (kind == 'norm')}." + key[m.end() :]
            if new == "fc.weight" and value.dim() == 4:
                value = value.flatten(1)  # (O, I, 1, 1) → (O, I): the same numbers
        out[new] = value
    return out


@dataclass
class MismatchReport:
    """How a state_dict differs from what a spec's model expects."""

    missing: list[tuple[str, Shape]] = field(default_factory=list)  # expected, not in the file
    unexpected: list[tuple[str, Shape]] = field(default_factory=list)  # in the file, not expected
    mismatched: list[tuple[str, Shape, Shape]] = field(default_factory=list)  # (key, expected, file's)
    fits_preset: str | None = None  # a preset the file loads into exactly, if any
    hint: str | None = None
    renamed_from: str | None = None  # timm's layout whose names were converted ('ResNetV2', 'SENet'), if any

    @property
    def ok(self) -> bool:
        return not (self.missing or self.unexpected or self.mismatched)

    def rows(self) -> list[dict[str, str]]:
        """One row per problem, for a table: problem, key, expected shape, file's shape."""
        fmt = lambda s: "×".join(map(str, s)) if s else "scalar"  # noqa: E731
        rows = [{"problem": "missing", "key": k, "expected": fmt(s), "in file": "—"} for k, s in self.missing]
        rows += [{"problem": "unexpected", "key": k, "expected": "—", "in file": fmt(s)} for k, s in self.unexpected]
        rows += [
            {"problem": "shape mismatch", "key": k, "expected": fmt(e), "in file": fmt(g)}
            for k, e, g in self.mismatched
        ]
        return rows

    def summary(self) -> str:
        renamed = f" (names converted from timm's {self.renamed_from} layout)" if self.renamed_from else ""
        if self.ok:
            return "the file fits this architecture exactly" + renamed
        parts = []
        for label, items in (("missing", self.missing), ("unexpected", self.unexpected)):
            if items:
                parts.append(f"{len(items)} {label} key(s) (e.g. {', '.join(k for k, _ in items[:3])})")
        if self.mismatched:
            k, e, g = self.mismatched[0]
            parts.append(f"{len(self.mismatched)} shape mismatch(es) (e.g. {k}: expected {e}, file has {g})")
        text = f"the weights{renamed} do not fit this architecture: " + "; ".join(parts)
        if self.fits_preset:
            text += f". They fit the preset {self.fits_preset!r}: choose it instead"
        if self.hint:
            text += f". {self.hint}"
        return text


def check_fit(spec: ResNetSpec, state_dict: dict[str, Tensor]) -> MismatchReport:
    """Compare keys and shapes with ``spec``'s model (timm's names converted first, see ``from_timm``);
    when they differ, name a preset they do fit."""
    want = expected_shapes(spec)
    have = _shapes(from_timm(state_dict, spec))
    report = MismatchReport(
        missing=[(k, s) for k, s in want.items() if k not in have and not _is_batch_counter(k)],
        unexpected=[(k, s) for k, s in have.items() if k not in want],
        mismatched=[(k, s, have[k]) for k, s in want.items() if k in have and have[k] != s],
        renamed_from=timm_layout(state_dict),
    )
    if report.ok:
        return report
    report.fits_preset = fitting_preset(state_dict)
    if report.fits_preset is None and not report.missing and not report.unexpected:
        fc = {k for k, _, _ in report.mismatched}
        if fc <= {"fc.weight", "fc.bias"} and "fc.weight" in have:
            report.hint = (
                f"only the classifier differs: the file has {have['fc.weight'][0]} classes, set num_classes to that"
            )
    return report


def _is_batch_counter(key: str) -> bool:
    """BatchNorm's ``num_batches_tracked``: old and converted checkpoints lack it, and it only counts
    training steps (it matters to BatchNorm only with ``momentum=None``), so a file without it still fits."""
    return key == "num_batches_tracked" or key.endswith(".num_batches_tracked")


def _shapes(state_dict: dict[str, Tensor]) -> dict[str, Shape]:
    return {k: tuple(v.shape) for k, v in state_dict.items()}


def fitting_preset(state_dict: dict[str, Tensor]) -> str | None:
    """The first preset whose model has exactly these keys and shapes (BatchNorm counters optional, timm's
    names converted for each preset), if any."""
    for name, spec in PRESETS.items():
        have = _shapes(from_timm(state_dict, spec))
        want = expected_shapes(spec)
        want = {k: s for k, s in want.items() if k in have or not _is_batch_counter(k)}
        if len(want) == len(have) and want == have:
            return name
    return None


def load_into(model: nn.Module, spec: ResNetSpec, state_dict: dict[str, Tensor]) -> MismatchReport:
    """Load with ``strict=True`` when the file fits; otherwise leave the model alone and return the report.

    BatchNorm counters the file lacks keep the model's own values (what torch does for checkpoints older
    than the counter; torch itself refuses when the state_dict's metadata says BatchNorm version 2).
    """
    report = check_fit(spec, state_dict)
    if report.ok:
        state_dict = from_timm(state_dict, spec)
        own = model.state_dict()
        absent = [k for k in own if k not in state_dict and _is_batch_counter(k)]
        if absent:
            filled = OrderedDict(state_dict)
            for k in absent:
                filled[k] = own[k].clone()
            metadata = getattr(state_dict, "_metadata", None)
            if metadata is not None:
                filled._metadata = metadata  # type: ignore[attr-defined]
            state_dict = filled
        model.load_state_dict(state_dict, strict=True)
    return report
