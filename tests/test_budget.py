"""Memory budgets before work (issue 15, item 3): closed-form estimates from the analysis, refusals that
say what fits, on the Live page's timing and the receptive-field page's gradient measurement."""

from __future__ import annotations

import pytest

from resnet_core import PRESETS, analyze
from resnet_core.budget import (
    DEFAULT_JOB_MB,
    INFERENCE_FACTOR,
    JOB_ENV,
    OverBudget,
    check_gradient,
    check_inference,
    gradient_estimate,
    inference_estimate,
    job_budget,
    largest_batch,
)
from tests.apptest import no_exceptions, open_page

MiB = 2**20


def test_the_inference_estimate_is_weights_plus_a_share_of_the_activations_per_image():
    a = analyze(PRESETS["resnet18"], 224)
    one, eight = inference_estimate(a, 1), inference_estimate(a, 8)
    assert one.weights == eight.weights == a.totals.params * 4
    per_image = INFERENCE_FACTOR * a.totals.activation_bytes + 3 * 224 * 224 * 4
    assert eight.activations - one.activations == pytest.approx(7 * per_image, rel=1e-6)
    assert inference_estimate(a, 8, "bfloat16").activations < eight.activations  # two bytes an element


def test_the_issues_batch_4096_is_refused_with_the_largest_batch_that_fits():
    """resnet18 at batch 4096 (the issue's ≈ 34 GB) against the default 1 GiB."""
    a = analyze(PRESETS["resnet18"], 224)
    assert inference_estimate(a, 4096).total > 20 * 2**30
    fits = largest_batch(a)
    assert inference_estimate(a, fits).total <= job_budget() < inference_estimate(a, fits + 1).total
    with pytest.raises(OverBudget, match=rf"batch 4,096 would need about .* GiB.*may take 1 GiB; batch {fits:,} fits"):
        check_inference(a, 4096, doing="batch 4,096")
    check_inference(a, fits)


def test_the_issues_gradient_at_2500_px_is_refused_with_the_largest_input_that_fits():
    spec = PRESETS["resnet50"]
    with pytest.raises(
        OverBudget, match=r"measuring by gradient would need about .* GiB.*an input of (\d+)×\1 fits"
    ) as err:
        check_gradient(spec, 2500)
    side = int(str(err.value).rsplit("an input of ", 1)[1].split("×")[0])
    assert 100 < side < 2500
    assert gradient_estimate(analyze(spec, side)).total <= job_budget()
    check_gradient(spec, side)  # what it says fits does
    with pytest.raises(OverBudget):
        check_gradient(spec, int(side * 1.1) + 8)


def test_a_network_whose_weights_alone_exceed_the_budget_is_told_so(monkeypatch):
    monkeypatch.setenv(JOB_ENV, "32")
    a = analyze(PRESETS["resnet50"], 224)  # 102 MB of float32 weights
    assert largest_batch(a) == 0
    with pytest.raises(OverBudget, match="not even one image fits"):
        check_inference(a, 1)
    with pytest.raises(OverBudget, match="no input fits"):
        check_gradient(PRESETS["resnet50"], 224)


def test_the_budget_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv(JOB_ENV, "512")
    assert job_budget() == 512 * MiB
    monkeypatch.delenv(JOB_ENV)
    assert job_budget() == DEFAULT_JOB_MB * MiB


def test_the_receptive_field_page_refuses_a_gradient_measurement_over_budget():
    at = open_page("receptive_field", {"arch": "resnet50", "input": "3000"}).run()
    no_exceptions(at)
    assert any("measuring by gradient would need about" in e.value and "fits" in e.value for e in at.error)
    assert not [b for b in at.button if b.key == "rf_measure"]  # no button to press


def test_the_estimates_cover_a_measured_dilated_run():
    """resnet50 at output stride 8 (dilation keeps layer3 and layer4 at 1/8 of the input, 16× layer4's
    activations): the estimates, read off its analysis, are at least the peaks a fresh process measures
    (``benchmarks/bench_memory.py``'s child: VmHWM above what it held before the work)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_memory.py"
    spec = importlib.util.spec_from_file_location("bench_memory", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    os8 = analyze(PRESETS["resnet50_os8"], 160)
    assert os8.stage("layer4").output_shape[2:] == (20, 20)  # 160 / 8, not 160 / 32
    plain = analyze(PRESETS["resnet50"], 160)
    assert os8.totals.activation_bytes > 2 * plain.totals.activation_bytes  # the estimate sees the larger maps
    assert bench.measure("inference", "resnet50_os8", 160, 4) <= inference_estimate(os8, 4).total
    assert (
        bench.measure("gradient", "resnet50_os8", 160, 1, "layer4.2.add")
        <= gradient_estimate(os8, "layer4.2.add").total
    )
