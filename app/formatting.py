"""Numbers as the pages and the explainer's text show them. No Streamlit here.

Shapes and input sizes are written as the library writes them (``resnet_core.units``); the
downloads are ``resnet_core.export``'s schema, the CLI's.
"""

from __future__ import annotations

from resnet_core.units import shape_text as shape_text  # re-exported: the pages format shapes from here
from resnet_core.units import size_text as size_text


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
