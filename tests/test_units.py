"""The one human number format: three significant digits and a unit, never a cut-off machine number."""

from __future__ import annotations

import pytest

from resnet_core import PRESETS, analyze
from resnet_core.units import byte_size, count, duration, rate, shape_text, size_text


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "0"),
        (512, "512"),
        (8448, "8.45 k"),
        (999.9, "1 k"),  # rounded before the scale is chosen
        (999_999, "1 M"),
        (69_632, "69.6 k"),
        (1_179_648, "1.18 M"),
        (253_000_000, "253 M"),
        (4_089_184_256, "4.09 G"),
        (-1500, "-1.5 k"),
    ],
)
def test_count_has_three_significant_digits_and_a_unit(n, text):
    assert count(n) == text


def test_count_matches_the_papers_way_of_writing_resnet50():
    totals = analyze(PRESETS["resnet50"], 224).totals
    assert (count(totals.params), count(totals.macs)) == ("25.6 M", "4.09 G")


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (300, "300 B"),
        (96 * 2**10, "96 KiB"),
        (143 * 2**20 + 5, "143 MiB"),
        (1023.9 * 2**10, "1 MiB"),
        (1.25 * 2**30, "1.25 GiB"),
    ],
)
def test_byte_size_uses_binary_units(n, text):
    assert byte_size(n) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(4.1584, "4.16 s"), (0.5123, "512 ms"), (3.82e-5, "38.2 µs"), (125, "2 min 5 s"), (120, "2 min"), (0, "0 s")],
)
def test_duration(seconds, text):
    assert duration(seconds) == text


def test_rate_and_shapes():
    assert rate(16.42, "img") == "16.4 img/s"
    assert rate(1234.5, "img") == "1.23 k img/s"
    assert shape_text((1, 256, 56, 56)) == "256×56×56"
    assert size_text(224) == "224×224" and size_text((224, 160)) == "224×160"
