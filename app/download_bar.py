"""A Streamlit progress bar fed by a download's ``progress(done, total)`` callback (the signature of
``resnet_core.weights.download_published`` and ``resnet_core.datasets.download_cifar10``)."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from resnet_core.units import byte_size


def download_bar(text: str = "downloading…") -> Callable[[int, int | None], None]:
    """Draw a progress bar now; return the callback that moves it ("12.3 MiB of 97.8 MiB"). A download
    whose size the server does not say leaves the bar where it is."""
    bar = st.progress(0.0, text=text)

    def progress(done: int, total: int | None) -> None:
        if total:
            bar.progress(min(done / total, 1.0), text=f"{byte_size(done)} of {byte_size(total)}")

    return progress
