"""The live forward pass: devices, timing arithmetic, dtype correctness, stage timing, lock, OOM."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import weakref
from pathlib import Path

import pytest
import torch
from torch import nn

from resnet_core import PRESETS, ResNetSpec, build, runtime
from resnet_core.analysis import analyze
from resnet_core.runtime import (
    DeviceBusy,
    DeviceOutOfMemory,
    RunConfig,
    _lookup_peak,
    activation_layers,
    benchmark,
    device_lock,
    forward,
    holding,
    make_input,
    peak_flops,
    predict_with_activations,
    prepare,
    resolve_device,
    sweep,
)
from tests.conftest import reference_state_dict

TINY = ResNetSpec(block="basic", layers=(1, 1), stem="cifar", width=8, shortcut="B", num_classes=10)
FAST = {"device": "cpu", "warmup": 1, "repeats": 3}


def test_auto_device_is_cuda_when_present_else_cpu():
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("CPU") == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_asking_for_cuda_without_one_says_what_to_use():
    with pytest.raises(ValueError, match="no CUDA GPU; use cpu or auto"):
        resolve_device("cuda")


def test_unknown_device_names_the_choices():
    with pytest.raises(ValueError, match="auto, cpu, cuda"):
        resolve_device("tpu")


def test_run_config_rejects_bad_values_with_the_allowed_range():
    with pytest.raises(ValueError, match="float32, float16, bfloat16"):
        RunConfig(dtype="float8")
    with pytest.raises(ValueError, match="from 1 to 4096"):
        RunConfig(batch=0)


@pytest.mark.parametrize("batch", [1, 4])
def test_timings_are_positive_and_consistent_with_batch(batch):
    m = benchmark(TINY, RunConfig(batch=batch, input_size=32, **FAST))
    assert len(m.latencies_ms) == 3 and all(t > 0 for t in m.latencies_ms)
    assert m.latency_ms_p10 <= m.latency_ms_median <= m.latency_ms_p90
    assert m.images_per_s == pytest.approx(batch / (m.latency_ms_median / 1e3))
    assert m.macs_per_image == analyze(TINY, 32).totals.macs
    assert m.macs_per_s == pytest.approx(m.macs_per_image * m.images_per_s)
    assert m.peak_memory_bytes is not None and m.peak_memory_bytes > 0
    assert m.share_of_peak is None  # the CPU's peak is not in the table
    assert set(m.stage_ms) == {"stem", "layer1", "layer2", "head"}
    assert all(v > 0 for v in m.stage_ms.values())


def _clear_refs_writable() -> bool:
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _clear_refs_writable(), reason="needs Linux's /proc/self/clear_refs (peak RSS reset)")
def test_cpu_peak_memory_is_the_peak_of_this_run_not_of_the_process():
    """A small batch after a big one: ru_maxrss (since start) would report the big one's peak again.

    In a fresh interpreter: in the test session the process already holds a large, reusable heap
    (earlier tests' models), so a big run need not raise the process's RSS at all."""
    code = (
        "from resnet_core.runtime import RunConfig, benchmark\n"
        "from tests.test_runtime import TINY\n"
        "config = dict(input_size=64, stage_timing=False, device='cpu', warmup=0, repeats=1)\n"
        "big = benchmark(TINY, RunConfig(batch=256, **config))  # ~64 MiB per activation\n"
        "small = benchmark(TINY, RunConfig(batch=1, **config))\n"
        "print(big.peak_memory_bytes, small.peak_memory_bytes, big.peak_memory_kind, sep='|')\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=Path(__file__).parents[1]
    )
    assert run.returncode == 0, run.stderr
    big, small, kind = run.stdout.strip().splitlines()[-1].split("|")
    assert 0 < int(small) < int(big)
    assert "VmHWM" in kind and "during this run" in kind


def test_cpu_peak_memory_says_when_it_is_the_peak_since_start(monkeypatch):
    monkeypatch.setattr(runtime, "_reset_peak_rss", lambda: False)
    m = benchmark(TINY, RunConfig(batch=1, input_size=32, stage_timing=False, **FAST))
    assert "since the process started" in m.peak_memory_kind and "ru_maxrss" in m.peak_memory_kind
    assert m.peak_memory_bytes > 0


def test_non_square_input_is_timed_at_that_size():
    m = benchmark(TINY, RunConfig(batch=1, input_size=(32, 16), **FAST))
    assert m.input_size == (32, 16)
    assert m.macs_per_image == analyze(TINY, (32, 16)).totals.macs


@pytest.fixture(scope="module")
def resnet18_reference():
    model = build(PRESETS["resnet18"]).eval()
    model.load_state_dict(reference_state_dict(model))
    x = make_input(PRESETS["resnet18"], 2, 64, torch.device("cpu"))
    with torch.inference_mode():
        expected = model(x)
    return model, x, expected


# Tolerance relative to the largest logit: float32 reorders sums only; bfloat16 keeps 8 bits of
# mantissa (2^-8 ≈ 0.4 % per rounding, accumulated over ~20 layers); float16 keeps 11.
TOLERANCE = {"float32": 1e-5, "bfloat16": 0.03, "float16": 0.005}  # measured: 0.005, 0.0005


@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "float16"])
@pytest.mark.parametrize("channels_last", [False, True])
def test_forward_matches_plain_eager_output_within_dtype_tolerance(resnet18_reference, dtype, channels_last):
    model, x, expected = resnet18_reference
    runner = prepare(build(PRESETS["resnet18"]), torch.device("cpu"), channels_last=channels_last)
    runner.load_state_dict(model.state_dict())
    xin = x.contiguous(memory_format=torch.channels_last) if channels_last else x
    try:
        got = forward(runner, xin, dtype)
    except ValueError as e:  # an older torch without CPU float16 autocast
        pytest.skip(str(e))
    assert got.dtype == torch.float32 and got.shape == expected.shape
    scale = expected.abs().max()
    assert (got - expected).abs().max() <= TOLERANCE[dtype] * scale
    # The dtype really changed the arithmetic: reduced precision is not bit-identical to float32.
    if dtype != "float32":
        assert not torch.equal(got, expected)


@pytest.mark.slow
def test_compiled_model_matches_eager_and_is_timed():
    model = build(TINY).eval()
    x = make_input(TINY, 2, 16, torch.device("cpu"))
    with torch.inference_mode():
        expected = model(x)
    compiled = prepare(model, torch.device("cpu"), compile=True)
    assert torch.allclose(forward(compiled, x), expected, atol=1e-5, rtol=1e-4)
    m = benchmark(TINY, RunConfig(batch=2, input_size=16, compile=True, **FAST), model=model)
    assert m.compiled and m.latency_ms_median > 0


def test_peak_table_knows_the_h100_variants_and_nothing_else():
    assert _lookup_peak("NVIDIA H100 80GB HBM3")["bfloat16"] == 989.4
    assert _lookup_peak("NVIDIA H100 PCIe")["bfloat16"] == 756.0
    assert _lookup_peak("NVIDIA H100 NVL")["float32"] == 60.0
    assert _lookup_peak("NVIDIA H200")["bfloat16"] == 989.4
    assert _lookup_peak("Some Future GPU") is None
    assert peak_flops(torch.device("cpu"), "float32") is None


@pytest.mark.parametrize(
    ("name", "float32"),
    [
        ("NVIDIA H100 80GB HBM3", 67.0),  # the SXM5's name
        ("NVIDIA H100 PCIe", 51.2),
        ("NVIDIA H100 80GB PCIe", 51.2),  # the variant's words need not be adjacent
        ("NVIDIA H100 NVL", 60.0),
        ("NVIDIA H200", 67.0),
        ("NVIDIA A100-SXM4-80GB", 19.5),
        ("NVIDIA A100 80GB PCIe", 19.5),
        ("NVIDIA L4", 30.3),
        ("NVIDIA L40S", 91.6),  # not the L4's (a substring match gave 30.3)
        ("NVIDIA L40", 90.5),
        ("nvidia l4", 30.3),
    ],
)
def test_peak_table_matches_whole_words_most_specific_first(name, float32):
    assert _lookup_peak(name)["float32"] == float32


@pytest.mark.parametrize(
    "name",
    [
        "NVIDIA H200 NVL",  # not the H200 SXM's figures
        "NVIDIA GH200 480GB",  # "H200" is not a word of it
        "NVIDIA A10G",
        "NVIDIA L4000",
        "Tesla T4",
        "NVIDIA H1000",
    ],
)
def test_peak_table_says_unknown_rather_than_borrowing_a_neighbours_figures(name):
    assert _lookup_peak(name) is None


def test_device_lock_is_one_per_device_and_makes_others_wait():
    assert device_lock("cpu") is device_lock(torch.device("cpu"))
    held, release = threading.Event(), threading.Event()

    def hold():
        with holding(torch.device("cpu")):
            held.set()
            release.wait(10)

    t = threading.Thread(target=hold)
    t.start()
    try:
        held.wait(10)
        with pytest.raises(DeviceBusy, match="busy with another forward pass"), holding(torch.device("cpu"), 0.05):
            pass
    finally:
        release.set()
        t.join()
    with holding(torch.device("cpu"), 1):  # free again once the other caller is done
        pass


def _hold_in_thread(lock):
    """Hold ``lock`` in another thread until the returned event is set; returns (event, thread)."""
    held, release = threading.Event(), threading.Event()

    def hold():
        with lock:
            held.set()
            release.wait(10)

    t = threading.Thread(target=hold)
    t.start()
    held.wait(10)
    return release, t


def test_a_compiled_run_waits_for_the_process_wide_compile_lock(monkeypatch):
    """dynamo.reset() is global: a compiled run on one device must not run while another holds it."""
    compiled = []
    monkeypatch.setattr(torch, "compile", lambda m, **kw: compiled.append(m) or m)
    release, t = _hold_in_thread(runtime.COMPILE_LOCK)
    try:
        with pytest.raises(DeviceBusy, match="torch.compile has been busy"):
            benchmark(TINY, RunConfig(batch=1, input_size=32, compile=True, **FAST), lock_timeout_s=0.05)
        assert compiled == []  # nothing was reset or compiled meanwhile
        assert not device_lock("cpu").locked()
        # An eager run does not need it.
        benchmark(TINY, RunConfig(batch=1, input_size=32, stage_timing=False, **FAST), lock_timeout_s=0.05)
    finally:
        release.set()
        t.join()


def test_compile_lock_is_held_through_reset_compile_and_timing(monkeypatch):
    import torch._dynamo as dynamo

    seen: dict[str, list[bool]] = {"reset": [], "compile": [], "forward": []}
    monkeypatch.setattr(dynamo, "reset", lambda: seen["reset"].append(runtime.COMPILE_LOCK.locked()))

    class Compiled(nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            seen["forward"].append(runtime.COMPILE_LOCK.locked())
            return self.inner(x)

    def fake_compile(m, **kw):
        seen["compile"].append(runtime.COMPILE_LOCK.locked())
        return Compiled(m)

    monkeypatch.setattr(torch, "compile", fake_compile)
    m = benchmark(TINY, RunConfig(batch=1, input_size=32, compile=True, stage_timing=False, **FAST))
    assert m.compiled
    assert seen["reset"] == [True] and seen["compile"] == [True]
    assert len(seen["forward"]) == 4 and all(seen["forward"])  # 1 warm-up + 3 timed
    assert not runtime.COMPILE_LOCK.locked() and not device_lock("cpu").locked()


class _OutOfMemoryModel(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")


def test_out_of_memory_is_caught_and_a_smaller_batch_suggested():
    with pytest.raises(DeviceOutOfMemory, match="try batch 32") as info:
        benchmark(TINY, RunConfig(batch=64, input_size=32, **FAST), model=_OutOfMemoryModel())
    assert info.value.suggested_batch == 32
    assert not device_lock("cpu").locked()  # released despite the error


def test_out_of_memory_at_batch_1_does_not_suggest_batch_1():
    with pytest.raises(DeviceOutOfMemory, match="does not fit even at batch 1") as info:
        benchmark(TINY, RunConfig(batch=1, input_size=32, **FAST), model=_OutOfMemoryModel())
    assert "try batch 1" not in str(info.value)


class _HugeAllocationModel(nn.Module):
    """A real failed CPU allocation: 2^60 bytes is beyond any address space."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return torch.empty(1 << 60, dtype=torch.uint8)


def test_a_failed_cpu_allocation_counts_as_out_of_memory():
    with pytest.raises(DeviceOutOfMemory, match="cpu ran out of memory at batch 2.*can't allocate memory"):
        benchmark(TINY, RunConfig(batch=2, input_size=32, **FAST), model=_HugeAllocationModel())


class _HoldsMemoryThenFails(nn.Module):
    """Allocates a big tensor (kept in a local and on the model), then fails as CUDA would."""

    def __init__(self, refs: list) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))
        self.refs = refs
        refs.append(weakref.ref(self))

    def forward(self, x):
        big = torch.ones(4 * 2**20)  # 16 MiB
        self.scratch = big
        self.refs.append(weakref.ref(big))
        oom = getattr(torch, "OutOfMemoryError", torch.cuda.OutOfMemoryError)
        raise oom("CUDA out of memory. Tried to allocate 20.00 GiB")


def test_out_of_memory_frees_the_failed_pass_before_saying_so(monkeypatch):
    """When memory is freed, nothing of the failed pass (its model, its tensors) is still referenced:
    neither by the exception being handled nor by the DeviceOutOfMemory raised."""
    refs: list[weakref.ref] = []
    monkeypatch.setattr(runtime, "build", lambda spec, device=None: _HoldsMemoryThenFails(refs))
    alive_when_freed: list[bool] = []
    free = runtime._free_memory

    def spy() -> None:
        free()
        alive_when_freed.extend(r() is not None for r in refs)

    monkeypatch.setattr(runtime, "_free_memory", spy)
    with pytest.raises(DeviceOutOfMemory, match="memory was freed") as info:
        benchmark(TINY, RunConfig(batch=4, input_size=32, stage_timing=False, **FAST))
    assert len(refs) == 2  # the model and its big tensor were made
    assert alive_when_freed == [False, False]
    assert all(r() is None for r in refs)
    err = info.value
    assert err.__context__ is None and err.__cause__ is None


def test_sweep_reports_progress_for_each_batch():
    seen = []
    results, oom = sweep(
        TINY, RunConfig(input_size=32, **FAST), [1, 2, 3], progress=lambda i, n, m: seen.append((i, n, m.batch))
    )
    assert oom is None
    assert [m.batch for m in results] == [1, 2, 3]
    assert seen == [(1, 3, 1), (2, 3, 2), (3, 3, 3)]


def test_activation_maps_are_the_layer_output_most_active_first():
    spec = PRESETS["resnet18"]
    model = build(spec).eval()
    x = make_input(spec, 1, 64, torch.device("cpu"))
    assert "layer2.1" in activation_layers(model)
    logits, maps = predict_with_activations(model, x, "layer2.1", max_channels=6)
    with torch.inference_mode():
        direct = model.layer2(model.layer1(model.maxpool(model.relu(model.bn1(model.conv1(x))))))
        expected_logits = model(x)
    assert torch.allclose(logits, expected_logits, atol=1e-5)
    assert maps.shape == tuple(direct.shape[1:])  # (128, 8, 8)
    strength = direct[0].abs().mean(dim=(1, 2))
    assert list(maps.channels) == strength.argsort(descending=True)[:6].tolist()
    assert torch.allclose(maps.maps, direct[0, list(maps.channels)], atol=1e-6)


def test_activation_hook_is_on_the_shared_model_only_while_the_lock_is_held(monkeypatch):
    model = build(TINY).eval()
    layer = model.layer1[0]
    real = device_lock("cpu")
    hooks_when: dict[str, int] = {}

    class SpyLock:
        def acquire(self, timeout=-1):
            hooks_when["acquire"] = len(layer._forward_hooks)
            return real.acquire(timeout=timeout)

        def release(self):
            hooks_when["release"] = len(layer._forward_hooks)
            real.release()

    monkeypatch.setattr(runtime, "device_lock", lambda device: SpyLock())
    predict_with_activations(model, make_input(TINY, 1, 32, torch.device("cpu")), "layer1.0")
    assert hooks_when == {"acquire": 0, "release": 0}  # registered after acquiring, removed before releasing
    assert not real.locked()


def test_input_is_made_on_the_device_not_copied_there(monkeypatch):
    made = []
    randn = torch.randn

    def spy(*args, **kwargs):
        made.append((kwargs.get("device"), kwargs["generator"].device))
        return randn(*args, **kwargs)

    monkeypatch.setattr(torch, "randn", spy)
    x = make_input(TINY, 2, 16, torch.device("cpu"), channels_last=True)
    assert made == [(torch.device("cpu"), torch.device("cpu"))]
    assert x.device.type == "cpu" and x.is_contiguous(memory_format=torch.channels_last)
    monkeypatch.undo()
    assert torch.equal(x, make_input(TINY, 2, 16, torch.device("cpu")))  # fixed values, either layout


def test_autocast_that_torch_would_disable_is_reported_not_run_in_float32():
    # This torch really does warn and hand back a disabled autocast for CPU float64.
    assert "not supported" in runtime.autocast_problem("cpu", torch.float64)
    assert runtime.autocast_problem("cpu", torch.bfloat16) is None


def test_an_old_torch_that_disables_autocast_gives_a_clear_error(monkeypatch):
    """Older torch warned and disabled CPU float16 autocast instead of raising."""

    class WarnsAndDisables:
        def __init__(self, device_type, dtype=None, enabled=True):
            import warnings

            warnings.warn("In CPU autocast, but the target dtype is not supported. Disabling autocast.", stacklevel=2)
            self._enabled = False
            self.fast_dtype = torch.bfloat16

    runtime.autocast_problem.cache_clear()
    monkeypatch.setattr(torch, "autocast", WarnsAndDisables)
    try:
        with pytest.raises(ValueError, match="'float16' is not supported by autocast on cpu here: In CPU autocast"):
            runtime.autocast(torch.device("cpu"), "float16")
    finally:
        monkeypatch.undo()
        runtime.autocast_problem.cache_clear()


def test_a_device_type_without_autocast_is_a_clear_error():
    with pytest.raises(ValueError, match="not supported by autocast on meta"):
        runtime.autocast(torch.device("meta"), "bfloat16")


def test_activation_layer_must_exist():
    model = build(TINY).eval()
    with pytest.raises(ValueError, match="not a module of this network"):
        predict_with_activations(model, make_input(TINY, 1, 32, torch.device("cpu")), "layer9")


def _gpu_check():
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_check.py"
    spec = importlib.util.spec_from_file_location("gpu_check", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_gpu_check_exits_cleanly_without_cuda(capsys):
    assert _gpu_check().main([]) == 0
    assert "no CUDA device here" in capsys.readouterr().out


def test_gpu_check_correctness_part_runs_on_the_cpu():
    rows = _gpu_check().correctness("resnet18", torch.device("cpu"), ["float32", "bfloat16"], batch=1, size=32)
    assert [(r["dtype"], r["channels_last"]) for r in rows] == [
        ("float32", False),
        ("float32", True),
        ("bfloat16", False),
        ("bfloat16", True),
    ]
    assert all(r["pass"] for r in rows)
    assert rows[0]["max_abs_diff"] == 0  # same device, same dtype, same layout: bit-identical
    assert rows[2]["max_abs_diff"] > 0  # bfloat16 really ran


GPU_CHECK_DRY_RUN = [
    "--device",
    "cpu",
    "--arch",
    "resnet18",
    "--size",
    "32",
    "--batches",
    "1",
    "--dtypes",
    "float32,bfloat16",
    "--warmup",
    "1",
    "--repeats",
    "2",
    "--no-compile",
]


def test_gpu_check_runs_end_to_end_on_the_cpu(capsys, tmp_path):
    """The GPU run happens once: the whole script is exercised here first, on the CPU."""
    out_json = tmp_path / "check.json"
    assert _gpu_check().main([*GPU_CHECK_DRY_RUN, "--json", str(out_json)]) == 0
    out = capsys.readouterr().out
    assert out.count("PASS") == 4 and "FAIL" not in out
    assert "== throughput, resnet18, 32×32" in out
    report = json.loads(out_json.read_text())
    assert report["finished"] is True and report["correctness_error"] is None
    assert [(r["dtype"], r["channels_last"], r["batch"]) for r in report["runs"]] == [
        ("float32", False, 1),
        ("float32", True, 1),
        ("bfloat16", False, 1),
        ("bfloat16", True, 1),
    ]
    assert all(r["device"] == "cpu" and r["input_size"] == [32, 32] for r in report["runs"])
    assert len(report["correctness"]) == 4
    # Section 3, the degradation race: a two-step check of the whole path on the CPU.
    assert "== degradation race: plain20, plain56, resnet20, resnet56, 2 steps" in out
    assert [n["label"] for n in report["race"]["nets"]] == ["plain20", "plain56", "resnet20", "resnet56"]
    assert all(n["steps_per_s"] > 0 for n in report["race"]["nets"]) and report["race_error"] is None


def test_gpu_check_runs_the_grid_even_when_correctness_errors(capsys, tmp_path, monkeypatch):
    check = _gpu_check()

    def broken(*a, **kw):
        raise RuntimeError("cuDNN error: CUDNN_STATUS_INTERNAL_ERROR")

    monkeypatch.setattr(check, "correctness", broken)
    out_json = tmp_path / "check.json"
    args = [*GPU_CHECK_DRY_RUN, "--dtypes", "float32", "--json", str(out_json)]
    assert check.main(args) == 1  # the error is not a pass
    out = capsys.readouterr().out
    assert "correctness check failed" in out and "CUDNN_STATUS_INTERNAL_ERROR" in out
    report = json.loads(out_json.read_text())
    assert "CUDNN_STATUS_INTERNAL_ERROR" in report["correctness_error"]
    assert len(report["runs"]) == 2 and report["finished"] is True


def test_gpu_check_writes_its_json_after_every_run(tmp_path, monkeypatch):
    """A run killed by its time limit halfway through the grid still leaves the runs it completed."""
    check = _gpu_check()
    real = check.benchmark
    calls = []

    def killed_on_the_second_run(*a, **kw):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # stands for the time limit's signal: nothing after it runs
        return real(*a, **kw)

    monkeypatch.setattr(check, "benchmark", killed_on_the_second_run)
    out_json = tmp_path / "check.json"
    with pytest.raises(KeyboardInterrupt):
        check.main([*GPU_CHECK_DRY_RUN, "--dtypes", "float32", "--json", str(out_json)])
    report = json.loads(out_json.read_text())
    assert report["finished"] is False
    assert [(r["channels_last"], r["batch"]) for r in report["runs"]] == [(False, 1)]
    assert len(report["correctness"]) == 2


def test_gpu_check_skips_a_run_that_the_budget_cannot_fit(capsys, monkeypatch):
    """Runs the budget leaves no time for are not started, and are named."""
    check = _gpu_check()
    args = [*GPU_CHECK_DRY_RUN, "--dtypes", "float32", "--budget-s", "0"]
    assert check.main(args) == 0
    out = capsys.readouterr().out
    assert "skipped (over the 0 s budget)" in out and "float32 channels_last=True compile=False batch=1" in out
