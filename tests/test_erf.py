"""The effective receptive field: a normalised heatmap, a 95 % square inside the theoretical field."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from resnet_core import PRESETS, analyze, build
from resnet_core.erf import effective_receptive_field, half_side

pytestmark = pytest.mark.usefixtures("one_cpu_thread")


@pytest.mark.parametrize("name", ["plain20", "resnet20"])
def test_heatmap_sums_to_one_and_the_95_percent_square_fits_the_theoretical_field(name):
    spec = PRESETS[name]
    e = effective_receptive_field(spec, "layer1.2", 32, samples=8)
    record = analyze(spec, 32).layer("layer1.2.relu2")
    assert e.heatmap.shape == (32, 32)
    assert np.isfinite(e.heatmap).all() and (e.heatmap >= 0).all()
    assert e.heatmap.sum() == pytest.approx(1.0, abs=1e-12)
    assert (e.rf, e.rf_w) == (record.rf, record.rf_w) == (15, 15)  # 7 convs of 3×3 at stride 1
    assert e.unit == (16, 16) and e.centre == (16.0, 16.0)
    assert 0 < e.side_95 <= e.rf
    assert e.half_side_95 <= e.theoretical_half_side
    # No gradient can reach a pixel the unit cannot see: all the mass lies in the theoretical square.
    assert e.mass_in_theoretical == pytest.approx(1.0, abs=1e-9)
    (r0, r1), (c0, c1) = e.span
    outside = e.heatmap.copy()
    outside[r0 : r1 + 1, c0 : c1 + 1] = 0
    assert outside.max() == 0


def test_a_corner_unit_is_clipped_by_the_image():
    e = effective_receptive_field(PRESETS["resnet20"], "layer1.1", 32, unit=(0, 0), samples=4)
    assert e.span == ((0, 5), (0, 5))  # rf 11 centred on pixel 0: rows and columns −5 … 5, clipped
    assert e.heatmap[6:, :].sum() == 0 and e.heatmap[:, 6:].sum() == 0


def test_half_side_of_known_maps():
    delta = np.zeros((9, 9))
    delta[4, 4] = 1
    assert half_side(delta, (4.0, 4.0)) == 0
    square = np.zeros((9, 9))
    square[2:7, 2:7] = 1 / 25  # rings around the centre hold 1, 8 and 16 of its 25 pixels
    assert half_side(square, (4.0, 4.0)) == 2
    assert half_side(square, (4.0, 4.0), mass=0.3) == 1  # 9/25 = 0.36 ≥ 0.3 within distance 1


def test_given_weights_and_image_are_used_and_left_as_they_were():
    spec = PRESETS["resnet20"]
    model = build(spec)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_var.fill_(2.0)
    model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    image = torch.rand(3, 32, 32)
    e = effective_receptive_field(spec, "layer2.0", model=model, image=image, weights="my checkpoint")
    assert e.weights == "my checkpoint" and e.samples == 1
    assert model.training  # mode restored
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # nothing changed
    assert all(p.grad is None for p in model.parameters())  # only the input's gradient was taken
    assert e.heatmap.sum() == pytest.approx(1.0)


def test_initialisation_is_named_with_its_seed():
    e = effective_receptive_field(PRESETS["plain20"], "layer1.0", 32, samples=2, seed=7)
    assert "random initialisation (seed 7)" in e.weights


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"layer": "layer9.0"}, "not a layer or block"),
        ({"layer": "fc"}, "no spatial output"),
        ({"layer": "layer3.0", "unit": (8, 0)}, r"outside layer3.0's 8×8 output map"),
        ({"layer": "layer1.0", "samples": 0}, "samples=0 is not allowed"),
    ],
)
def test_bad_requests_say_what_is_allowed(kwargs, message):
    with pytest.raises(ValueError, match=message):
        effective_receptive_field(PRESETS["resnet20"], input_size=32, **kwargs)
