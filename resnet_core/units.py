"""Numbers and shapes as people read them: '25.6 M', '256×56×56', '224×160'.

One place for the human formatting that the diagram, the CLI's summary and the app all show
(the exports keep exact integers; see ``resnet_core.export``).
"""

from __future__ import annotations

from collections.abc import Sequence


def count(n: int | float) -> str:
    """Human number, three significant digits: 512, 8.45 k, 25.6 M, 4.09 G (999,999 → 1 M, not 1e+03 k)."""
    n = float(f"{n:.3g}")  # round first, so the scale is chosen for the number shown
    for scale, suffix in ((1e12, " T"), (1e9, " G"), (1e6, " M"), (1e3, " k")):
        if abs(n) >= scale:
            return f"{n / scale:.3g}{suffix}"
    return f"{n:g}"


def shape_text(shape: Sequence[int]) -> str:
    """A layer's output shape without the batch: 256×56×56, or 1000 for a vector."""
    return "×".join(str(d) for d in shape[1:])


def size_text(size: int | Sequence[int]) -> str:
    """An input size as H×W: 224 → 224×224, (224, 160) → 224×160."""
    h, w = (size, size) if isinstance(size, int) else size
    return f"{h}×{w}"


def byte_size(n: int | float) -> str:
    """Bytes in binary units, three significant digits: 512 B, 96 KiB, 143 MiB, 1.25 GiB."""
    for scale, suffix in ((2**40, " TiB"), (2**30, " GiB"), (2**20, " MiB"), (2**10, " KiB")):
        shown = float(f"{n / scale:.3g}")
        if abs(shown) >= 1:
            return f"{shown:.3g}{suffix}"
    return f"{n:g} B"


def duration(seconds: float) -> str:
    """A time, three significant digits: 4.16 s, 512 ms, 38.2 µs; from a minute on, 2 min 5 s."""
    if seconds >= 60:
        minutes, rest = divmod(round(seconds), 60)
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    for scale, suffix in ((1.0, " s"), (1e-3, " ms"), (1e-6, " µs")):
        if abs(seconds) >= scale:
            return f"{seconds / scale:.3g}{suffix}"
    return f"{seconds / 1e-9:.3g} ns" if seconds else "0 s"


def rate(per_second: float, unit: str) -> str:
    """A throughput, ``unit`` per second: rate(16.42, "img") → '16.4 img/s', 1234.5 → '1.23 k img/s'."""
    return f"{count(per_second)} {unit}/s"
