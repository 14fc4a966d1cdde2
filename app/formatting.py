"""Numbers as the pages and the explainer's text show them, and the per-layer CSV. No Streamlit here."""

from __future__ import annotations

import csv
import io

from resnet_core.analysis import Analysis

#: The per-layer CSV's columns: ``LayerRecord.as_dict()``'s keys, ``output_shape`` written as 1x64x56x56.
CSV_COLUMNS = (
    "name",
    "kind",
    "stage",
    "block",
    "path",
    "output_shape",
    "params",
    "macs",
    "other_ops",
    "activation_bytes",
    "kernel",
    "stride",
    "rf",
    "jump",
    "padding",
)


def fmt_int(n: int) -> str:
    """Thousands separators: 25,557,032."""
    return f"{n:,}"


def fmt_giga(n: int) -> str:
    """Billions with 2 decimals from 1 up (4.09), 3 below (0.556, 0.041 for a CIFAR net)."""
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
    """Integers separated by commas: 3, 4, 6, 3."""
    return ", ".join(str(v) for v in values)


def fmt_bytes(n: int) -> str:
    """Binary units with one decimal: 303.3 MiB, 96.0 KiB."""
    return f"{n / 2**20:,.1f} MiB" if n >= 2**20 else f"{n / 2**10:,.1f} KiB"


def shape_text(shape: tuple[int, ...]) -> str:
    """A layer's output shape without the batch: 256×56×56."""
    return "×".join(str(d) for d in shape[1:])


def size_text(size: int | tuple[int, int]) -> str:
    """An input size as H×W."""
    h, w = (size, size) if isinstance(size, int) else size
    return f"{h}×{w}"


def layers_csv(a: Analysis) -> str:
    """The per-layer rows as CSV: a header line, then one line per layer in execution order."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in a.layers:
        row = r.as_dict()
        row["output_shape"] = "x".join(str(d) for d in row["output_shape"])
        writer.writerow(row)
    return out.getvalue()
