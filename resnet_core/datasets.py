"""Training data for the degradation race: a built-in image set that needs no download, and CIFAR-10.

Both come as an ``ImageSet``: uint8 images (N, 3, H, W), int64 labels (N,), the class names and a
line saying where the images came from. The race normalises them; nothing here does.

* ``shapes10(n, size, seed)``: ten classes of shapes and textures drawn by the project itself,
  deterministically from the seed (see its docstring for what each class is and how it varies).
* ``download_cifar10()`` fetches the CIFAR-10 python tarball into the weights' cache
  (``$RESNET_EXPLORER_CACHE``, default ``~/.cache/resnet_explorer``) and verifies the MD5 its
  publisher gives (the one torchvision checks); ``load_cifar10(path)`` reads that tarball, or a local
  folder holding ``cifar-10-batches-py``, verifying every file against its published MD5.

The CIFAR batches are Python pickles. They are read with an unpickler that can build only numpy
arrays, so a file crafted to run code when unpickled is refused instead (the same care as
``torch.load(weights_only=True)`` for weight files).
"""

from __future__ import annotations

import hashlib
import io
import math
import pickle
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from resnet_core import weights
from resnet_core.units import byte_size

# -- the data ----------------------------------------------------------------------------------------


class DatasetError(ValueError):
    """Data that cannot be used; the message says why and what would work."""


@dataclass(frozen=True)
class ImageSet:
    """Images and labels, on the CPU."""

    name: str  # "shapes10" or "cifar10"
    images: Tensor  # uint8 (N, 3, H, W)
    labels: Tensor  # int64 (N,), 0 … len(classes) − 1
    classes: tuple[str, ...]
    source: str  # where the images came from, in words

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.dim() != 4 or self.images.shape[1] != 3:
            raise DatasetError(f"images must be uint8 (N, 3, H, W), got {self.images.dtype} {tuple(self.images.shape)}")
        if self.labels.shape != (self.images.shape[0],):
            raise DatasetError(f"{self.images.shape[0]} images but {tuple(self.labels.shape)} labels")

    def __len__(self) -> int:
        return self.images.shape[0]

    @property
    def size(self) -> tuple[int, int]:
        return (self.images.shape[2], self.images.shape[3])

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def subset(self, start: int, stop: int, what: str) -> ImageSet:
        """Images ``start`` … ``stop − 1`` (a view, no copy), described as ``what``."""
        return ImageSet(
            self.name, self.images[start:stop], self.labels[start:stop], self.classes, f"{self.source}, {what}"
        )


# -- the built-in set --------------------------------------------------------------------------------

SHAPES10_CLASSES: tuple[str, ...] = (
    "disc",
    "ring",
    "square",
    "square outline",
    "triangle",
    "plus",
    "horizontal stripes",
    "vertical stripes",
    "checkerboard",
    "dots",
)


def shapes10(n: int = 6000, size: int = 32, seed: int = 0) -> ImageSet:
    """``n`` images of ten classes of shapes and textures, ``size``×``size`` RGB, the same for the same seed.

    The classes (labels 0–9, ``n // 10`` or one more of each, in shuffled order):

    0. disc — a filled circle;  1. ring — a circle's outline;  2. square — filled;
    3. square outline;  4. triangle — filled, equilateral;  5. plus — two crossed bars;
    6. horizontal stripes;  7. vertical stripes (both within ±20° of their axis);
    8. checkerboard;  9. dots — a lattice of round dots.

    Shapes 0–5 lie on a background; textures 6–9 fill the image. Every image draws, independently:
    the shape's centre (up to ±15 % of the half-width from the middle), its size (radius 50–80 % of
    the half-width), its rotation (any angle; the stripes only ±20°), the stroke width of outlines and
    bars (12–20 % of the half-width), the textures' period (2–3.5 cycles across the image) and phase,
    a background and a foreground colour (uniform RGB, 0.4–0.8 apart, the foreground the brighter of
    the two), a brightness ramp across the image (up to ±15 %), and Gaussian pixel noise (σ 2–5 % of
    the full range). Edges are anti-aliased by drawing at twice the size and averaging 2×2 pixels.

    What makes it more than a lookup: no pixel, colour or brightness tells the class; a disc and a
    square, or a filled square and its outline, differ only at corners and edges wherever they lie;
    stripes differ from each other only in orientation, and from dots and checkerboards in how their
    pattern repeats. A net has to combine local edges into shapes over a good part of the image, which
    is what stacked 3×3 convolutions do. It is meant to take a few hundred training steps to fit, so
    that nets of different depth differ in how fast they fit it within a CPU budget; whether the
    deeper plain net falls behind is what the race measures, not something this set guarantees.

    Made in chunks with a ``torch.Generator`` seeded with ``seed`` on the CPU, so the images are
    bit-identical on every machine and torch version that keeps its CPU generator (torch's
    documented reproducibility covers the same version and platform).
    """
    if not isinstance(n, int) or isinstance(n, bool) or not 10 <= n <= 200_000:
        raise DatasetError(f"n={n!r} is not allowed: an integer from 10 to 200000 images")
    if not isinstance(size, int) or isinstance(size, bool) or not 8 <= size <= 128:
        raise DatasetError(f"size={size!r} is not allowed: an integer from 8 to 128 pixels")
    g = torch.Generator().manual_seed(seed)
    labels = (torch.arange(n) % 10)[torch.randperm(n, generator=g)]
    chunks = [_draw_shapes(labels[i : i + 512], size, g) for i in range(0, n, 512)]
    return ImageSet("shapes10", torch.cat(chunks), labels, SHAPES10_CLASSES, f"built-in shapes10 (seed {seed})")


def _uniform(g: torch.Generator, n: int, lo: float, hi: float) -> Tensor:
    return lo + (hi - lo) * torch.rand(n, generator=g)


def _class_mask(label: int, u: Tensor, v: Tensor, tu: Tensor, tv: Tensor, p: dict[str, Tensor]) -> Tensor:
    """Where class ``label``'s shape or texture lies, for images whose shape coordinates are (u, v)
    (centred on the shape, rotated) and texture coordinates (tu, tv) (rotated only); bool (m, s, s)."""
    radius, stroke = p["radius"], p["stroke"]
    if label in (0, 1):
        rho = torch.sqrt(u**2 + v**2)
        return rho <= radius if label == 0 else (rho - radius).abs() <= stroke / 2
    if label in (2, 3):
        box = torch.maximum(u.abs(), v.abs())
        half = 0.8 * radius  # a square of half-side 0.8 r has about the disc's area
        return box <= half if label == 2 else (box - half).abs() <= stroke / 2
    if label == 4:
        # Equilateral, circumradius r: inside all three edges, each r/2 from the centre.
        inside = torch.ones_like(u, dtype=torch.bool)
        for k in range(3):
            a = math.pi / 2 + 2 * math.pi * k / 3
            inside &= u * math.cos(a) + v * math.sin(a) <= radius / 2
        return inside
    if label == 5:
        bar = stroke * 0.75
        return ((u.abs() <= bar) & (v.abs() <= radius)) | ((v.abs() <= bar) & (u.abs() <= radius))
    period = 2 / p["cycles"]  # the image is 2 units wide
    cell_v = torch.remainder(tv / period + p["phase_v"], 1.0) - 0.5
    if label in (6, 7):
        return cell_v.abs() < 0.25  # bands along u; class 7 is class 6 turned by 90°
    cell_u = torch.remainder(tu / period + p["phase_u"], 1.0) - 0.5
    if label == 8:
        return (cell_u.abs() < 0.25) ^ (cell_v.abs() < 0.25)
    return cell_u**2 + cell_v**2 <= 0.3**2


def _draw_shapes(labels: Tensor, size: int, g: torch.Generator) -> Tensor:
    """uint8 (len(labels), 3, size, size): one image per label, as ``shapes10`` describes."""
    n = labels.shape[0]
    # Every random draw first, in a fixed order, so the images depend on the seed alone.
    p = {
        "cx": _uniform(g, n, -0.15, 0.15),
        "cy": _uniform(g, n, -0.15, 0.15),
        "radius": _uniform(g, n, 0.5, 0.8),
        "angle": _uniform(g, n, 0, 2 * math.pi),
        "jitter": _uniform(g, n, -math.radians(20), math.radians(20)),
        "stroke": _uniform(g, n, 0.12, 0.2),
        "cycles": _uniform(g, n, 2.0, 3.5),
        "phase_u": _uniform(g, n, 0, 1),
        "phase_v": _uniform(g, n, 0, 1),
        "ramp": _uniform(g, n, -0.15, 0.15),
        "ramp_angle": _uniform(g, n, 0, 2 * math.pi),
        "noise": _uniform(g, n, 0.02, 0.05),
    }
    background = torch.rand(n, 3, generator=g)
    direction = torch.randn(n, 3, generator=g)
    step = _uniform(g, n, 0.4, 0.8)[:, None]
    noise = torch.randn(n, 3, size, size, generator=g)

    s2 = 2 * size  # drawn at twice the size, then averaged 2×2 (anti-aliasing)
    axis = (torch.arange(s2, dtype=torch.float32) + 0.5) / s2 * 2 - 1  # pixel centres in [-1, 1]
    ys, xs = torch.meshgrid(axis, axis, indexing="ij")  # (s2, s2)
    # Stripes keep their axis (±20°); everything else turns freely.
    turn = torch.where(labels == 6, p["jitter"], torch.where(labels == 7, p["jitter"] + math.pi / 2, p["angle"]))
    mask = torch.empty(n, s2, s2)
    for label in range(10):
        idx = torch.nonzero(labels == label).flatten()
        if idx.numel() == 0:
            continue
        q = {k: t[idx, None, None] for k, t in p.items()}  # (m, 1, 1): broadcast over the pixels
        cos, sin = torch.cos(turn[idx])[:, None, None], torch.sin(turn[idx])[:, None, None]
        dx, dy = xs - q["cx"], ys - q["cy"]
        u, v = dx * cos + dy * sin, -dx * sin + dy * cos
        tu, tv = xs * cos + ys * sin, -xs * sin + ys * cos
        mask[idx] = _class_mask(label, u, v, tu, tv, q).float()

    # Foreground 0.4–0.8 from the background (before clipping to [0, 1], which can only shrink it where
    # the background is near a face of the colour cube; there the step goes the other way).
    direction = direction / direction.norm(dim=1, keepdim=True)
    foreground = background + step * direction
    outside = ((foreground < 0) | (foreground > 1)).any(dim=1, keepdim=True)
    foreground = torch.where(outside, background - step * direction, foreground).clamp(0, 1)
    # The brighter colour is the foreground (luma weights of ITU-R BT.601): a shape is light on dark.
    lum = torch.tensor([0.299, 0.587, 0.114])
    darker = (foreground @ lum < background @ lum)[:, None]
    foreground, background = torch.where(darker, background, foreground), torch.where(darker, foreground, background)
    mask = mask[:, None]  # (n, 1, s2, s2)
    image = background[:, :, None, None] * (1 - mask) + foreground[:, :, None, None] * mask
    c, s = torch.cos(p["ramp_angle"])[:, None, None], torch.sin(p["ramp_angle"])[:, None, None]
    ramp = p["ramp"][:, None, None] * (xs * c + ys * s)  # a brightness ramp across the image
    image = torch.nn.functional.avg_pool2d(image * (1 + ramp[:, None]), 2)  # (n, 3, size, size)
    image = image + p["noise"][:, None, None, None] * noise
    return (image.clamp(0, 1) * 255).round().to(torch.uint8)


# -- CIFAR-10 ----------------------------------------------------------------------------------------

#: The python version of CIFAR-10, from its publisher (Krizhevsky 2009; https://www.cs.toronto.edu/~kriz/cifar.html).
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_FOLDER = "cifar-10-batches-py"  # the folder inside the tarball
#: The tarball's size in bytes as the publisher serves it (its Content-Length), shown before a download.
CIFAR10_BYTES = 170_498_071


@dataclass(frozen=True)
class Cifar10Checksums:
    """MD5 of the tarball and of each file in it. ``PUBLISHED_CIFAR10`` holds the published ones."""

    archive: str
    files: dict[str, str] = field(default_factory=dict)  # file name in CIFAR10_FOLDER → md5

    def __hash__(self) -> int:
        return hash((self.archive, tuple(sorted(self.files.items()))))


#: torchvision's ``torchvision/datasets/cifar.py`` (``CIFAR10.tgz_md5``, ``train_list``, ``test_list``).
PUBLISHED_CIFAR10 = Cifar10Checksums(
    archive="c58f30108f718f92721af3b95e74349a",
    files={
        "data_batch_1": "c99cafc152244af753f735de768cd75f",
        "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
        "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
        "data_batch_4": "634d18415352ddfa80567beed471001a",
        "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
        "test_batch": "40351d587109b95175f43aff81a1287e",
    },
)
CIFAR10_SPLITS: dict[str, tuple[str, ...]] = {
    "train": tuple(f"data_batch_{i}" for i in range(1, 6)),
    "test": ("test_batch",),
}


def download_cifar10(
    url: str = CIFAR10_URL,
    directory: Path | None = None,
    checksums: Cifar10Checksums = PUBLISHED_CIFAR10,
    progress: weights.Progress | None = None,
) -> Path:
    """The CIFAR-10 tarball in the cache (``weights.cache_dir()``), downloaded first if absent or changed.

    The whole file's MD5 must equal ``checksums.archive``; otherwise it is deleted and a DatasetError
    raised. Uses the weights' downloader (temporary file, then rename; progress callback)."""
    try:
        return weights.download(url, directory=directory, progress=progress, digest=("md5", checksums.archive))
    except weights.WeightsError as e:
        raise DatasetError(str(e)) from None


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Rebuilds numpy arrays and plain containers; refuses every other global a pickle names."""

    ALLOWED = frozenset(
        {
            ("numpy.core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "_reconstruct"),
            ("numpy.core.multiarray", "scalar"),
            ("numpy._core.multiarray", "scalar"),
            ("numpy", "ndarray"),
            ("numpy", "dtype"),
            ("_codecs", "encode"),  # how protocol-2 pickles from Python 3 store bytes (numpy arrays included)
        }
    )

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self.ALLOWED:
            raise DatasetError(
                f"refused to read this file: unpickling it would call {module}.{name}, and a CIFAR-10 batch "
                "holds only arrays and lists"
            )
        return super().find_class(module, name)


def _unpickle(data: bytes, what: str) -> dict[str, Any]:
    try:
        # latin1: the batches were pickled by Python 2; their byte strings are arrays' raw bytes.
        obj = _NumpyOnlyUnpickler(io.BytesIO(data), encoding="latin1").load()
    except DatasetError:
        raise
    except Exception as e:
        raise DatasetError(f"{what} is not a CIFAR-10 batch pickle ({type(e).__name__}: {str(e)[:160]})") from None
    if not isinstance(obj, dict):
        raise DatasetError(f"{what} holds {type(obj).__name__}, not a CIFAR-10 batch (a dict)")
    return obj


def load_cifar10(
    source: str | Path,
    split: str = "train",
    checksums: Cifar10Checksums | None = PUBLISHED_CIFAR10,
    limit: int | None = None,
) -> ImageSet:
    """CIFAR-10's ``split`` ("train": 50,000 images; "test": 10,000) from the tarball or a local folder.

    ``source``: the ``.tar.gz`` (its MD5 checked against ``checksums.archive``), a folder holding
    ``cifar-10-batches-py``, or that folder itself (each batch file checked against
    ``checksums.files``). ``checksums=None`` skips the checks (your own re-packed copy). ``limit`` keeps
    the first images only.
    """
    if split not in CIFAR10_SPLITS:
        raise DatasetError(f"split={split!r} is not allowed: choose one of {', '.join(CIFAR10_SPLITS)}")
    path = Path(source).expanduser()
    names = (*CIFAR10_SPLITS[split], "batches.meta")
    if path.is_file():
        if checksums is not None:
            got = weights.file_digest(path, "md5")
            if got != checksums.archive:
                raise DatasetError(
                    f"{path.name}: its md5 is {got}, but the published CIFAR-10 tarball's is {checksums.archive}; "
                    "it is corrupt or another file"
                )
        files = _read_tar_members(path, names)
        where = f"CIFAR-10 {split} from {path}"
    elif path.is_dir():
        folder = path / CIFAR10_FOLDER if (path / CIFAR10_FOLDER).is_dir() else path
        missing = [n for n in names if not (folder / n).is_file()]
        if missing:
            raise DatasetError(
                f"{folder} lacks {', '.join(missing)}; expected the CIFAR-10 python version's "
                f"{CIFAR10_FOLDER} folder (from {CIFAR10_URL})"
            )
        files = {n: (folder / n).read_bytes() for n in names}
        if checksums is not None:
            for n in CIFAR10_SPLITS[split]:
                got = hashlib.md5(files[n]).hexdigest()
                want = checksums.files.get(n)
                if got != want:
                    raise DatasetError(
                        f"{folder / n}: its md5 is {got}, but the published CIFAR-10 file's is {want}; "
                        "it is corrupt or another file"
                    )
        where = f"CIFAR-10 {split} from {folder}"
    else:
        raise DatasetError(f"no CIFAR-10 at {path}: give the downloaded .tar.gz or the folder holding {CIFAR10_FOLDER}")

    meta = _unpickle(files["batches.meta"], "batches.meta")
    classes = tuple(str(c) for c in meta.get("label_names", ()))
    if len(classes) != 10:
        raise DatasetError(f"batches.meta names {len(classes)} classes; CIFAR-10 has 10")
    images, labels = [], []
    for n in CIFAR10_SPLITS[split]:
        batch = _unpickle(files[n], n)
        data, batch_labels = batch.get("data"), batch.get("labels")
        if data is None or batch_labels is None:
            raise DatasetError(f"{n} has no 'data' or 'labels' entry; not a CIFAR-10 batch")
        array = torch.as_tensor(data)
        if array.dtype != torch.uint8 or array.dim() != 2 or array.shape[1] != 3 * 32 * 32:
            raise DatasetError(f"{n}: data is {array.dtype} {tuple(array.shape)}, expected uint8 (N, 3072)")
        images.append(array.reshape(-1, 3, 32, 32))  # rows are R, G, B planes of 32×32, row-major
        labels.append(torch.as_tensor(batch_labels, dtype=torch.int64))
    x, y = torch.cat(images), torch.cat(labels)
    if x.shape[0] != y.shape[0] or y.min() < 0 or y.max() > 9:
        raise DatasetError(f"{where}: {x.shape[0]} images with {y.shape[0]} labels in {int(y.min())}…{int(y.max())}")
    if limit is not None:
        x, y = x[:limit], y[:limit]
    return ImageSet("cifar10", x.contiguous(), y, classes, where)


def _read_tar_members(path: Path, names: tuple[str, ...]) -> dict[str, bytes]:
    """The bytes of ``CIFAR10_FOLDER/<name>`` for each name, read from the tarball without extracting it."""
    wanted = {f"{CIFAR10_FOLDER}/{n}": n for n in names}
    found: dict[str, bytes] = {}
    try:
        with tarfile.open(path, "r:gz") as tar:
            for member in tar:
                if member.name in wanted and member.isfile():
                    f = tar.extractfile(member)
                    assert f is not None  # a regular file always has one
                    found[wanted[member.name]] = f.read()
    except (tarfile.TarError, OSError, EOFError) as e:
        raise DatasetError(f"{path} is not a readable .tar.gz ({type(e).__name__}: {e})") from None
    missing = [n for n in names if n not in found]
    if missing:
        raise DatasetError(
            f"{path} lacks {', '.join(f'{CIFAR10_FOLDER}/{n}' for n in missing)}; not the CIFAR-10 python tarball"
        )
    return found


def cifar10(
    split: str = "train",
    source: str | Path | None = None,
    download: bool = False,
    progress: Callable[[int, int | None], None] | None = None,
    limit: int | None = None,
) -> ImageSet:
    """CIFAR-10 from ``source`` (tarball or folder), or from the cache, downloading it if ``download``."""
    if source is not None:
        return load_cifar10(source, split, limit=limit)
    cached = weights.cache_dir() / Path(CIFAR10_URL).name
    if not cached.exists() and not download:
        raise DatasetError(
            f"CIFAR-10 is not in the cache ({cached}); download it ({byte_size(CIFAR10_BYTES)} from {CIFAR10_URL}) or give a local folder"
        )
    path = download_cifar10(progress=progress)  # checks the cached file's MD5 as well
    return load_cifar10(path, split, checksums=None, limit=limit)  # just verified as a whole
