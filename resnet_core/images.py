"""Images in, tensors out: loading (PNG, JPEG, WebP), colour conversion, ImageNet preprocessing.

The preprocessing is torchvision's evaluation transform for its ImageNet weights, written out so each
step can be shown: resize the shorter side (bilinear, antialiased), centre-crop, scale to [0, 1],
normalise with ImageNet's per-channel mean and standard deviation.
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError
from torch import Tensor

ASSETS = Path(__file__).resolve().parents[1] / "assets"
SAMPLES_DIR = ASSETS / "samples"
CLASSES_PATH = ASSETS / "imagenet_classes.json"

ALLOWED_FORMATS = ("PNG", "JPEG", "WEBP")
#: ImageNet's per-channel statistics (RGB), as torchvision's transforms use them.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
MAX_PIXELS = 40_000_000  # a 40-megapixel photo is fine; a decompression bomb is not
#: Resizing the shorter side makes a thin image enormous (1×500 → 256×128000), so preprocess refuses an
#: image whose resized long side would pass 16 × the resize size (16:1, wider than any panorama a
#: classifier sees) or would make the resized image more than MAX_PIXELS.
MAX_ASPECT = 16


class ImageError(ValueError):
    """An image that cannot be used; the message says what was wrong and what is allowed."""


@dataclass(frozen=True)
class LoadedImage:
    image: Image.Image  # RGB
    format: str
    original_mode: str
    notes: tuple[str, ...]  # each conversion made, in words


def load_image(source: bytes | str | os.PathLike) -> LoadedImage:
    """Open a PNG, JPEG or WebP and convert it to RGB (grayscale, palette, alpha and CMYK included)."""
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    if not data:
        raise ImageError("the file is empty; upload a PNG, JPEG or WebP image")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format or "unknown"
            if fmt not in ALLOWED_FORMATS:
                raise ImageError(f"{fmt} images are not supported; upload a PNG, JPEG or WebP image")
            if probe.width * probe.height > MAX_PIXELS:
                raise ImageError(
                    f"the image is {probe.width}×{probe.height} pixels; at most {MAX_PIXELS // 1_000_000} megapixels"
                )
            img = probe.copy()  # decodes now, inside the guard
    except ImageError:
        raise
    except Image.DecompressionBombError:  # Pillow refuses before our own check can see the size
        raise ImageError(
            f"the image declares far more than {MAX_PIXELS // 1_000_000} megapixels, too many to decode safely; "
            "upload a smaller PNG, JPEG or WebP image"
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise ImageError(
            f"this file is not an image Pillow can read ({unreadable_reason(data, e)}); upload a PNG, JPEG or WebP image"
        ) from None

    notes: list[str] = []
    mode = img.mode
    if img.getexif().get(0x0112, 1) not in (1, None):  # EXIF Orientation
        img = ImageOps.exif_transpose(img)
        notes.append("turned upright as its EXIF orientation asks")
    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
        notes.append("palette colours expanded")
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "RGBa"):
        background = Image.new("RGB", img.size, (255, 255, 255))
        background.paste(img.convert("RGBA"), mask=img.convert("RGBA").getchannel("A"))
        img = background
        notes.append("transparency composited onto white")
    if img.mode == "CMYK":
        img = img.convert("RGB")
        notes.append("CMYK converted to RGB")
    elif img.mode in ("L", "1", "F") or img.mode in _WIDE_GRAY:
        if img.mode in _WIDE_GRAY or img.mode == "F":
            img = gray_to_8bit(img)
            if mode in _WIDE_GRAY:
                notes.append(f"16-bit intensities ({mode}) scaled to 8 bits: 0–65535 → 0–255")
            else:
                notes.append(f"{mode} intensities clipped to 0–255")
        img = img.convert("RGB")
        notes.append("grayscale copied into the three RGB channels")
    elif img.mode != "RGB":
        img = img.convert("RGB")
        notes.append(f"{mode} converted to RGB")
    return LoadedImage(img, fmt, mode, tuple(notes))


#: The first bytes of files people upload by mistake, and what to call them.
_NOT_IMAGES: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "it is a zip archive, e.g. a PyTorch weight file"),
    (b"%PDF", "it is a PDF document"),
    (b"\x1f\x8b", "it is a gzip archive"),
    (b"\x80", "it is a Python pickle, e.g. a PyTorch weight file"),
)


_IMAGES: tuple[tuple[bytes, str], ...] = ((b"\x89PNG", "PNG"), (b"\xff\xd8\xff", "JPEG"), (b"RIFF", "WebP"))


def unreadable_reason(data: bytes, error: BaseException) -> str:
    """Why Pillow could not read ``data``, in the user's terms: what the file is, or how it is broken
    (never Pillow's message with its ``<_io.BytesIO object at 0x…>``)."""
    for magic, what in _NOT_IMAGES:
        if data.startswith(magic):
            return what
    if isinstance(error, Image.DecompressionBombError):
        return "it declares more pixels than is safe to decode"
    for magic, what in _IMAGES:
        if data.startswith(magic) and (what != "WebP" or data[8:12] == b"WEBP"):
            return f"it starts as a {what} image, but its data is cut short or damaged"
    text = str(error).lower()
    if "truncated" in text or isinstance(error, (SyntaxError, EOFError)) or "broken data stream" in text:
        return "its image data is cut short or damaged"
    if isinstance(error, UnidentifiedImageError):
        if all(32 <= b < 127 or b in (9, 10, 13) for b in data[:64]):
            return "it is plain text"
        return "its first bytes are not those of any image format Pillow knows"
    return "its image data is damaged"


#: Grayscale modes wider than 8 bits: Pillow's 16-bit ones, and 32-bit "I" (older Pillow versions
#: decode 16-bit PNGs to it, with values 0–65535).
_WIDE_GRAY = ("I", "I;16", "I;16L", "I;16B", "I;16N")


def gray_to_8bit(img: Image.Image) -> Image.Image:
    """A wide grayscale image as 8-bit "L", scaled by its format's range, never by its own min and max.

    16-bit modes: 0–65535 → 0–255 (÷257, rounded), so a uniform grey keeps its brightness and a dark
    image stays dark. Mode "I" (32-bit) is clipped to 0–65535 first, then scaled the same way. Mode "F"
    (float; no PNG, JPEG or WebP decodes to it) is clipped to 0–255, as Pillow's own ``convert("L")``.
    """
    arr = np.asarray(img, dtype=np.float64)
    if img.mode == "F":
        out = np.clip(arr, 0, 255)
    elif img.mode in _WIDE_GRAY:
        out = np.clip(arr, 0, 65535) / 257
    else:
        raise ImageError(f"gray_to_8bit: {img.mode} is not a wide grayscale mode")
    return Image.fromarray(np.rint(out).astype(np.uint8), "L")


@dataclass(frozen=True)
class PreprocessStep:
    name: str
    description: str
    shape: tuple[int, ...]
    image: Image.Image | None  # what it looks like, where it still is a picture
    values: tuple[float, float] | None = None  # (min, max) once it is numbers


@dataclass(frozen=True)
class Preprocessed:
    steps: tuple[PreprocessStep, ...]
    tensor: Tensor  # (1, 3, crop, crop) float32


def center_crop_box(width: int, height: int, crop: int) -> tuple[int, int, int, int]:
    """torchvision's centre crop: offsets int(round((size − crop) / 2))."""
    left = round((width - crop) / 2.0)
    top = round((height - crop) / 2.0)
    return left, top, left + crop, top + crop


def max_resized_side(resize: int) -> int:
    """The longest side ``preprocess`` lets an image reach when its shorter side is resized to ``resize``."""
    return min(MAX_ASPECT * resize, MAX_PIXELS // resize)


def preprocess(
    image: Image.Image,
    resize: int = 256,
    crop: int = 224,
    mean: tuple[float, float, float] = IMAGENET_MEAN,
    std: tuple[float, float, float] = IMAGENET_STD,
) -> Preprocessed:
    """ImageNet evaluation preprocessing, returning every intermediate step as data.

    An image so thin that resizing would make its long side more than ``max_resized_side(resize)``
    pixels is refused with an ImageError before anything is resized.
    """
    if not 1 <= crop <= resize <= 4096:
        raise ImageError(f"resize={resize}, crop={crop}: need 1 ≤ crop ≤ resize ≤ 4096")
    img = image.convert("RGB")
    w, h = img.size
    steps = [PreprocessStep("input", f"RGB image, {w}×{h} (W×H)", (h, w, 3), img)]

    # Shorter side to `resize`, aspect kept (torchvision: the long side is int(resize · long / short)).
    if w <= h:
        nw, nh = resize, int(resize * h / w)
    else:
        nw, nh = int(resize * w / h), resize
    limit = max_resized_side(resize)
    if max(nw, nh) > limit:
        raise ImageError(
            f"the image is {w}×{h} pixels (W×H): resizing its shorter side to {resize} px would make it "
            f"{nw}×{nh}, and at most {limit} px is allowed on the long side (an aspect ratio up to "
            f"{limit / resize:.4g}:1); crop it closer to square first"
        )
    resized = img.resize((nw, nh), Image.Resampling.BILINEAR)
    steps.append(PreprocessStep("resize", f"shorter side to {resize} px, bilinear: {nw}×{nh}", (nh, nw, 3), resized))

    if nw < crop or nh < crop:  # cannot happen with crop ≤ resize, kept for clarity
        raise ImageError(f"image {nw}×{nh} is smaller than the crop {crop}")
    cropped = resized.crop(center_crop_box(nw, nh, crop))
    steps.append(PreprocessStep("center crop", f"the central {crop}×{crop} pixels", (crop, crop, 3), cropped))

    arr = np.asarray(cropped, dtype=np.float32) / 255.0  # (H, W, 3) in [0, 1]
    t = torch.from_numpy(arr).permute(2, 0, 1).contiguous()  # (3, H, W)
    steps.append(
        PreprocessStep(
            "to tensor",
            "channels first, bytes 0–255 scaled to 0–1",
            tuple(t.shape),
            None,
            (float(t.min()), float(t.max())),
        )
    )
    m = torch.tensor(mean).view(3, 1, 1)
    s = torch.tensor(std).view(3, 1, 1)
    t = (t - m) / s
    steps.append(
        PreprocessStep(
            "normalize",
            f"(x − mean) / std per channel, mean {mean}, std {std}",
            (1, *t.shape),
            None,
            (float(t.min()), float(t.max())),
        )
    )
    return Preprocessed(tuple(steps), t.unsqueeze(0))


@lru_cache(maxsize=1)
def class_names(path: Path = CLASSES_PATH) -> tuple[str, ...]:
    names = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(names, list) or len(names) != 1000:
        raise ValueError(f"{path} must hold a list of the 1000 ImageNet class names")
    return tuple(names)


@dataclass(frozen=True)
class Prediction:
    rank: int
    index: int
    label: str
    probability: float


def top_k(logits: Tensor, k: int = 5, names: tuple[str, ...] | None = None) -> list[Prediction]:
    """The k most probable classes of one image's logits (softmax), labelled when names are given."""
    logits = logits.reshape(-1).float()
    probs = torch.softmax(logits, dim=0)
    values, indices = probs.topk(min(k, probs.numel()))
    return [
        Prediction(
            rank=r + 1,
            index=int(i),
            label=names[int(i)] if names is not None and int(i) < len(names) else f"class {int(i)}",
            probability=float(p),
        )
        for r, (p, i) in enumerate(zip(values, indices, strict=True))
    ]


def sample_images() -> dict[str, Path]:
    """The shipped sample images by name (see assets/samples/LICENSE.md)."""
    return {p.stem.replace("_", " "): p for p in sorted(SAMPLES_DIR.glob("*.png"))}
