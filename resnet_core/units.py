"""Numbers and shapes as people read them: '25.6 M', '256×56×56', '224×160'.

One place for the human formatting that the diagram, the CLI's summary and the app all show
(the exports keep exact integers; see ``resnet_core.export``).
"""

from __future__ import annotations

from collections.abc import Sequence


def count(n: int | float) -> str:
    """Human number, three significant digits: 512, 8.45 k, 25.6 M, 4.09 G."""
    for scale, suffix in ((1e9, " G"), (1e6, " M"), (1e3, " k")):
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
