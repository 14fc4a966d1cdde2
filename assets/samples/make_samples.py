"""Regenerate the sample images: `python assets/samples/make_samples.py`. Pure numpy + Pillow, no inputs.

Each image is drawn from formulas, so the project owns it outright (CC0, see LICENSE.md).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
SIZE = 320


def grid() -> tuple[np.ndarray, np.ndarray]:
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64) / SIZE
    return y, x


def checkerboard() -> Image.Image:
    """A black-and-white checkerboard seen in perspective, the rows shrinking towards the top."""
    y, x = grid()
    depth = 1.0 / (0.15 + y)  # farther rows are thinner
    u = (x - 0.5) * depth * 2
    board = ((np.floor(u * 2) + np.floor(depth * 2)) % 2).astype(np.float64)
    rgb = np.stack([board * 230 + 15] * 3, axis=-1)
    rgb[y < 0.12] = (150, 190, 235)  # sky
    return Image.fromarray(rgb.astype(np.uint8), "RGB")


def stripes() -> Image.Image:
    """Wavy black and white stripes on a tan ground: zebra-like texture."""
    y, x = grid()
    phase = 18 * x + 1.5 * np.sin(6 * y) + 0.8 * np.sin(17 * y + 3 * x)
    s = (np.sin(phase * np.pi) > 0).astype(np.float64)
    body = ((x - 0.5) ** 2 / 0.16 + (y - 0.55) ** 2 / 0.09) < 1
    ground = np.stack([np.full_like(x, 196), np.full_like(x, 170), np.full_like(x, 110)], axis=-1)
    zebra = np.stack([s * 235 + 10] * 3, axis=-1)
    rgb = np.where(body[..., None], zebra, ground)
    return Image.fromarray(rgb.astype(np.uint8), "RGB")


def orange() -> Image.Image:
    """A shaded orange sphere with a dimpled skin on a blue-grey table."""
    y, x = grid()
    r2 = (x - 0.5) ** 2 + (y - 0.5) ** 2
    inside = r2 < 0.33**2
    z = np.sqrt(np.clip(0.33**2 - r2, 0, None)) / 0.33
    light = np.clip(0.25 + 0.75 * (z * 0.8 + (0.5 - x) * 0.6 + (0.5 - y) * 0.6), 0, 1.2)
    dimples = 1 - 0.06 * (np.sin(90 * x) * np.sin(90 * y) > 0.6)
    orange_rgb = np.stack([250 * light, 140 * light, 20 * light], axis=-1) * dimples[..., None]
    table = np.stack([90 + 40 * y, 105 + 40 * y, 130 + 40 * y], axis=-1)
    rgb = np.where(inside[..., None], orange_rgb, table)
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB")


def main() -> None:
    for name, make in (("checkerboard", checkerboard), ("stripes", stripes), ("orange", orange)):
        make().save(HERE / f"{name}.png", optimize=True)


if __name__ == "__main__":
    main()
