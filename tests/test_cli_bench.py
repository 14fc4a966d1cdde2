"""`python -m resnet_core bench`: JSON runs with the promised fields, table output, flags, errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from resnet_core import PRESETS
from resnet_core.analysis import analyze
from resnet_core.cli import main

FAST = ["--device", "cpu", "--warmup", "1", "--repeats", "2"]
FIELDS = (
    "device",
    "dtype",
    "batch",
    "channels_last",
    "latency_ms_median",
    "latency_ms_p10",
    "latency_ms_p90",
    "images_per_s",
    "macs_per_s",
    "peak_memory_bytes",
)


def run_json(capsys, *argv: str) -> dict:
    assert main(["bench", *argv, *FAST, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_has_one_run_per_dtype_and_batch_with_every_field(capsys):
    out = run_json(capsys, "resnet20", "--batch", "1,3", "--dtype", "float32,bfloat16", "--channels-last")
    runs = out["runs"]
    assert [(r["dtype"], r["batch"]) for r in runs] == [
        ("float32", 1),
        ("float32", 3),
        ("bfloat16", 1),
        ("bfloat16", 3),
    ]
    macs = analyze(PRESETS["resnet20"], 32).totals.macs
    for r in runs:
        assert all(f in r for f in FIELDS)
        assert r["device"] == "cpu" and r["channels_last"] is True and r["input_size"] == [32, 32]
        assert 0 < r["latency_ms_p10"] <= r["latency_ms_median"] <= r["latency_ms_p90"]
        assert r["images_per_s"] == pytest.approx(r["batch"] * 1e3 / r["latency_ms_median"])
        assert r["macs_per_s"] == pytest.approx(macs * r["images_per_s"])
        assert r["peak_memory_bytes"] > 0
    assert out["environment"]["torch"] == torch.__version__


def test_spec_override_flags_change_what_is_timed(capsys):
    out = run_json(capsys, "resnet20", "--layers", "1,1,1", "--width", "8", "--input", "24x16")
    r = out["runs"][0]
    spec = PRESETS["resnet20"].replace(layers=(1, 1, 1), width=8)
    assert r["input_size"] == [24, 16]
    assert r["macs_per_s"] == pytest.approx(analyze(spec, (24, 16)).totals.macs * r["images_per_s"])


def test_table_format_prints_a_row_per_run(capsys):
    assert main(["bench", "resnet20", "--batch", "1,2", *FAST]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("resnet20 on cpu")
    assert "median ms" in out[1] and "img/s" in out[1]
    assert [line.split()[:2] for line in out[3:5]] == [["float32", "1"], ["float32", "2"]]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--batch", "1,x"], "--batch '1,x': expected batch sizes separated by commas"),
        (["--batch", "0"], "each batch size must be from 1 to 4096"),
        (["--dtype", "float8"], "choose from float32, float16, bfloat16"),
        (["--input", "2"], "too small for this network"),
        (["--repeats", "0"], "repeats ≥ 1|from 1 to 10000"),
    ],
)
def test_bad_flags_print_one_line_and_exit_2(capsys, argv, message):
    assert main(["bench", "resnet20", "--device", "cpu", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert any(part in err for part in message.split("|"))


def _out_of_memory_from_batch(monkeypatch, limit: int) -> None:
    """Batches above ``limit`` run out of memory; the others are really timed."""
    from resnet_core.commands import bench
    from resnet_core.runtime import DeviceOutOfMemory

    real = bench.benchmark

    def fake(spec, config, **kw):
        if config.batch > limit:
            raise DeviceOutOfMemory("cpu", config.batch, "CUDA out of memory. Tried to allocate 20.00 GiB")
        return real(spec, config, **kw)

    monkeypatch.setattr(bench, "benchmark", fake)


def test_out_of_memory_keeps_the_completed_runs_in_json(capsys, monkeypatch):
    _out_of_memory_from_batch(monkeypatch, 2)
    assert main(["bench", "resnet20", "--batch", "1,2,4,8", *FAST, "--format", "json"]) == 1
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert [r["batch"] for r in out["runs"]] == [1, 2]
    assert "ran out of memory at batch 4" in out["error"]
    assert captured.err.startswith("error: cpu ran out of memory at batch 4") and captured.err.count("\n") == 1


def test_out_of_memory_keeps_the_completed_runs_in_the_table(capsys, monkeypatch):
    _out_of_memory_from_batch(monkeypatch, 1)
    assert main(["bench", "resnet20", "--batch", "1,2", *FAST]) == 1
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0].startswith("resnet20 on cpu")
    assert [line.split()[:2] for line in lines[3:4]] == [["float32", "1"]]
    assert not any(line.split()[:2] == ["float32", "2"] for line in lines)
    assert captured.err.startswith("error: cpu ran out of memory at batch 2") and captured.err.count("\n") == 1


def test_out_of_memory_on_the_first_run_prints_no_table(capsys, monkeypatch):
    _out_of_memory_from_batch(monkeypatch, 0)
    assert main(["bench", "resnet20", "--batch", "1", *FAST]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "does not fit even at batch 1" in captured.err and captured.err.count("\n") == 1


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_a_gpu_is_a_usage_error(capsys):
    assert main(["bench", "resnet20", "--device", "cuda"]) == 2
    assert "no CUDA GPU" in capsys.readouterr().err


def test_module_entry_point_runs_bench():
    proc = subprocess.run(
        [sys.executable, "-m", "resnet_core", "bench", "resnet20", *FAST, "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["runs"][0]["arch"] == "resnet20"
