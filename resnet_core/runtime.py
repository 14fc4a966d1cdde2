"""The live forward pass: device choice, timing, per-stage timing, peak memory, activations.

Timing follows the usual recipe: warm-up runs (cuDNN autotuning, allocator growth, lazy
initialisation, compilation), then ``repeats`` timed runs, reported as median and p10/p90.
On CUDA each run is bracketed by CUDA events (device time, no host overhead in the gaps);
on the CPU by ``time.perf_counter`` (a monotonic clock).

One forward pass at a time per device, across every caller in this process (all Streamlit
sessions are threads of one process): ``device_lock(device)``. Two timings interleaved on one
device would each measure half a device. Compiled runs also hold ``COMPILE_LOCK``, one for the
process, because ``torch._dynamo.reset()`` clears every device's compiled code: always taken after
the device lock, never before, so two runs cannot each hold the lock the other waits for.

The library returns data (``Measurement``); the CLI and the app format it.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import os
import platform
import re
import statistics
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from resnet_core.model import ResNet, build
from resnet_core.selection import normalize_input_size
from resnet_core.spec import ResNetSpec

#: dtype names → torch dtypes. Anything but float32 runs under ``torch.autocast``.
DTYPES: dict[str, torch.dtype] = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
DEVICES = ("auto", "cpu", "cuda")

#: Dense (no sparsity) peak tensor throughput in TFLOP/s by device-name pattern and math mode.
#: Sources: NVIDIA H100 Tensor Core GPU datasheet (2023): SXM5 FP32 67, TF32 494.7 (989.4 sparse / 2),
#: BF16/FP16 989.4 (1979 sparse / 2); PCIe FP32 51.2, TF32 378, BF16/FP16 756; H100 NVL (per GPU)
#: FP32 60, TF32 418, BF16/FP16 835. H200 datasheet (2024): the SXM has the same compute as H100 SXM.
#: NVIDIA A100 datasheet: FP32 19.5, TF32 156, BF16/FP16 312. L4 datasheet: FP32 30.3, TF32 60, BF16/FP16 121.
#: L40S datasheet: FP32 91.6, TF32 183, BF16/FP16 362.05. L40 datasheet: FP32 90.5, TF32 90.5, BF16/FP16 181.05.
#: A pattern matches when each of its words is a whole word of the device name ("L4" is not in
#: "L40S", "H200" is not in "GH200"); the first match wins, so variants come before their family.
#: A pattern with None is a variant whose figures are not in this table: unknown, rather than
#: its family's figures, which would be wrong. Unknown → None.
DEVICE_PEAK_TFLOPS: tuple[tuple[str, dict[str, float] | None], ...] = (
    ("H100 PCIe", {"float32": 51.2, "tf32": 378.0, "bfloat16": 756.0, "float16": 756.0}),
    ("H100 NVL", {"float32": 60.0, "tf32": 418.0, "bfloat16": 835.0, "float16": 835.0}),
    ("H100", {"float32": 67.0, "tf32": 494.7, "bfloat16": 989.4, "float16": 989.4}),
    ("H200 NVL", None),
    ("H200", {"float32": 67.0, "tf32": 494.7, "bfloat16": 989.4, "float16": 989.4}),
    ("A100", {"float32": 19.5, "tf32": 156.0, "bfloat16": 312.0, "float16": 312.0}),
    ("L40S", {"float32": 91.6, "tf32": 183.0, "bfloat16": 362.05, "float16": 362.05}),
    ("L40", {"float32": 90.5, "tf32": 90.5, "bfloat16": 181.05, "float16": 181.05}),
    ("L4", {"float32": 30.3, "tf32": 60.0, "bfloat16": 121.0, "float16": 121.0}),
)


class DeviceOutOfMemory(RuntimeError):
    """The device ran out of memory; memory was freed. ``suggested_batch`` is a batch that may fit.

    Raised with no ``__context__``: the original error's traceback (and the tensors its frames
    held) is gone by the time this is raised, so holding on to it keeps no memory alive.
    """

    def __init__(self, device: str, batch: int, detail: str) -> None:
        self.device = device
        self.batch = batch
        self.suggested_batch = max(1, batch // 2)
        what = detail.splitlines()[0] if detail else "no detail"
        advice = (
            "the model does not fit even at batch 1: try a smaller input"
            if batch <= 1
            else f"try batch {self.suggested_batch} or a smaller input"
        )
        super().__init__(f"{device} ran out of memory at batch {batch} ({what}); memory was freed — {advice}")


class DeviceBusy(RuntimeError):
    """Another caller held the device for longer than we were willing to wait."""


# -- devices -------------------------------------------------------------------------------


def resolve_device(name: str = "auto") -> torch.device:
    """'auto' → CUDA when present, else CPU; 'cpu'; 'cuda' or 'cuda:N' (a ValueError if there is none)."""
    if not isinstance(name, str):
        raise ValueError(f"device={name!r} is not allowed: choose one of {', '.join(DEVICES)}")
    low = name.strip().lower()
    if low == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if low == "cpu":
        return torch.device("cpu")
    if low == "cuda" or low.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise ValueError(f"device={name!r} is not available: this machine has no CUDA GPU; use cpu or auto")
        try:
            dev = torch.device(low)
        except RuntimeError:
            raise ValueError(f"device={name!r} is not a device name; use cuda or cuda:N") from None
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(f"device={name!r}: there are only {torch.cuda.device_count()} CUDA device(s)")
        return dev
    raise ValueError(f"device={name!r} is not allowed: choose one of {', '.join(DEVICES)}")


def available_devices() -> list[str]:
    return ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return _cpu_model() or platform.processor() or platform.machine() or "CPU"


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def environment() -> dict[str, Any]:
    """Versions and devices, for the page header and the CLI's JSON."""
    env: dict[str, Any] = {
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "platform": platform.platform(),
        "cpu_threads": torch.get_num_threads(),
        "cpu": device_name(torch.device("cpu")),
        "cuda_available": torch.cuda.is_available(),
    }
    if torch.cuda.is_available():
        env["cuda"] = torch.version.cuda
        env["cudnn"] = torch.backends.cudnn.version()
        env["gpus"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return env


def _lookup_peak(name: str) -> dict[str, float] | None:
    """The peaks of the first pattern all of whose words are whole words of ``name`` (any case)."""
    for pattern, peaks in DEVICE_PEAK_TFLOPS:
        if all(re.search(rf"(?<![A-Za-z0-9]){re.escape(word)}(?![A-Za-z0-9])", name, re.I) for word in pattern.split()):
            return peaks
    return None


def peak_flops(device: torch.device, dtype: str) -> tuple[float, str] | None:
    """(dense peak FLOP/s, the math mode it is for) of ``device`` for ``dtype``, or None when unknown.

    float32 convolutions on CUDA run as TF32 when cuDNN allows it (PyTorch's default), so that is
    the peak they are held against.
    """
    if device.type != "cuda":
        return None
    peaks = _lookup_peak(device_name(device))
    if peaks is None:
        return None
    mode = dtype
    if dtype == "float32" and torch.backends.cudnn.allow_tf32:
        mode = "tf32"
    return peaks[mode] * 1e12, mode


# -- the lock ------------------------------------------------------------------------------

_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def device_lock(device: torch.device | str) -> threading.Lock:
    """The one lock of ``device`` ('cpu', 'cuda:0', …) shared by every thread of this process."""
    dev = torch.device(device)
    if dev.type == "cuda" and dev.index is None:
        dev = torch.device("cuda", torch.cuda.current_device() if torch.cuda.is_available() else 0)
    key = str(dev)
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(key, threading.Lock())


@contextlib.contextmanager
def holding(device: torch.device, timeout_s: float = 300.0) -> Iterator[None]:
    lock = device_lock(device)
    if not lock.acquire(timeout=timeout_s):
        raise DeviceBusy(f"{device} has been busy with another forward pass for {timeout_s:g} s; try again shortly")
    try:
        yield
    finally:
        lock.release()


#: Held around dynamo.reset() + torch.compile + the timed runs of every compiled benchmark: the
#: reset is process-wide, so a compiled run on one device must not wipe one in progress on another.
#: Taken after the device lock, never before it.
COMPILE_LOCK = threading.Lock()


@contextlib.contextmanager
def holding_compile(timeout_s: float = 300.0) -> Iterator[None]:
    if not COMPILE_LOCK.acquire(timeout=timeout_s):
        raise DeviceBusy(
            f"torch.compile has been busy with another run for {timeout_s:g} s (its caches are shared by "
            "every device); try again shortly or run without compile"
        )
    try:
        yield
    finally:
        COMPILE_LOCK.release()


# -- running -------------------------------------------------------------------------------


def check_dtype(dtype: str) -> torch.dtype:
    if dtype not in DTYPES:
        raise ValueError(f"dtype={dtype!r} is not allowed: choose one of {', '.join(DTYPES)}")
    return DTYPES[dtype]


@functools.cache
def autocast_problem(device_type: str, dtype: torch.dtype) -> str | None:
    """Why ``torch.autocast(device_type, dtype)`` would not run in ``dtype`` with this torch, or None.

    Asked explicitly because an unsupported pair need not raise: torch warns and returns a
    disabled autocast (e.g. CPU float16 before CPU autocast learnt it), which silently runs float32.
    """
    available = getattr(torch.amp.autocast_mode, "is_autocast_available", None)
    if available is not None and not available(device_type):
        return f"torch {torch.__version__} has no autocast for {device_type}"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            ctx = torch.autocast(device_type=device_type, dtype=dtype)
        except (RuntimeError, ValueError, AssertionError) as e:  # e.g. CUDA bfloat16 before Ampere
            return str(e).splitlines()[0]
    if not getattr(ctx, "_enabled", True) or getattr(ctx, "fast_dtype", dtype) != dtype:
        said = [str(w.message).splitlines()[0] for w in caught]
        return said[0] if said else f"torch {torch.__version__} disables autocast for it"
    return None


def autocast(device: torch.device, dtype: str) -> contextlib.AbstractContextManager:
    """float32: nothing; float16/bfloat16: ``torch.autocast`` on the device's type.

    A ValueError when this torch cannot autocast ``device`` to ``dtype``, rather than a pass that
    quietly runs in float32.
    """
    torch_dtype = check_dtype(dtype)
    if torch_dtype == torch.float32:
        return contextlib.nullcontext()
    problem = autocast_problem(device.type, torch_dtype)
    if problem is not None:
        raise ValueError(f"dtype={dtype!r} is not supported by autocast on {device.type} here: {problem}")
    return torch.autocast(device_type=device.type, dtype=torch_dtype)


def prepare(model: nn.Module, device: torch.device, channels_last: bool = False, compile: bool = False) -> nn.Module:
    """The model in eval mode on ``device`` (channels_last if asked), optionally ``torch.compile``d."""
    model = model.eval().to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    if compile:
        model = torch.compile(model)  # type: ignore[assignment]
    return model


def make_input(
    spec: ResNetSpec, batch: int, input_size: int | tuple[int, int], device: torch.device, channels_last: bool = False
) -> Tensor:
    """A fixed pseudo-random float32 batch (N, C, H, W), made on ``device`` (no host copy).

    Its values do not change the timing; they depend on the device's generator (the CPU's and
    CUDA's differ), so compare across devices with a CPU input moved over.
    """
    h, w = normalize_input_size(input_size)
    g = torch.Generator(device=device).manual_seed(0)
    x = torch.randn(batch, spec.in_channels, h, w, generator=g, device=device)
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x


def forward(model: nn.Module, x: Tensor, dtype: str = "float32") -> Tensor:
    """One inference forward pass under the dtype's autocast; float32 logits back."""
    with torch.inference_mode(), autocast(x.device, dtype):
        return model(x).float()


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_runs(fn: Callable[[], Any], device: torch.device, warmup: int = 3, repeats: int = 10) -> list[float]:
    """Milliseconds of each of ``repeats`` calls of ``fn`` after ``warmup`` untimed calls."""
    if warmup < 0 or repeats < 1:
        raise ValueError(f"warmup={warmup}, repeats={repeats}: warm-up must be ≥ 0 and repeats ≥ 1")
    for _ in range(warmup):
        fn()
    _sync(device)
    times: list[float] = []
    if device.type == "cuda":
        for _ in range(repeats):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end))
    else:
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1e3)
    return times


def stage_groups(model: ResNet) -> list[tuple[str, nn.Module, nn.Module]]:
    """(name, first module, last module) of the stem, each stage and the head, in forward order."""
    groups: list[tuple[str, nn.Module, nn.Module]] = [("stem", model.conv1, model.maxpool)]
    groups += [(f"layer{i + 1}", s, s) for i, s in enumerate(model.stages())]
    groups.append(("head", model.final_bn, model.fc))
    return groups


def time_stages(model: ResNet, x: Tensor, dtype: str, repeats: int = 5) -> dict[str, float]:
    """Median milliseconds of each stage (stem, layer1…N, head) in eager mode, via forward hooks.

    On CUDA each boundary records an event on the stream, so no synchronisation perturbs the pass.
    """
    device = x.device
    cuda = device.type == "cuda"
    groups = stage_groups(model)
    marks: dict[str, list[Any]] = {}
    handles = []

    def mark(name: str, end: bool) -> Callable[..., None]:
        def hook(*_: Any) -> None:
            if cuda:
                ev = torch.cuda.Event(enable_timing=True)
                ev.record()
                marks.setdefault(name, [None, None])[end] = ev
            else:
                marks.setdefault(name, [None, None])[end] = time.perf_counter()

        return hook

    per_stage: dict[str, list[float]] = {name: [] for name, _, _ in groups}
    try:
        for name, first, last in groups:
            handles.append(first.register_forward_pre_hook(mark(name, False)))
            handles.append(last.register_forward_hook(mark(name, True)))
        for _ in range(repeats + 1):  # the first pass warms the hooks up and is dropped
            marks.clear()
            forward(model, x, dtype)
            _sync(device)
            if _ == 0:
                continue
            for name, (start, end) in marks.items():
                per_stage[name].append(start.elapsed_time(end) if cuda else (end - start) * 1e3)
    finally:
        for h in handles:
            h.remove()
    return {name: statistics.median(v) for name, v in per_stage.items() if v}


def _reset_peak_rss() -> bool:
    """Reset the process's peak resident set size (VmHWM) to its current size; False where impossible.

    Linux ≥ 4.0: writing 5 to ``/proc/self/clear_refs`` resets VmHWM (see proc(5)). Elsewhere,
    or where the file is not writable, the only peak is ``ru_maxrss``: the peak since start.
    """
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
    except OSError:
        return False
    return _vm_hwm_bytes() is not None


def _vm_hwm_bytes() -> int | None:
    """The process's peak resident set size since start or the last reset (Linux VmHWM), or None."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024  # "VmHWM:   123456 kB"
    except (OSError, ValueError, IndexError):
        pass
    return None


def _process_peak_rss_bytes() -> int | None:
    """The process's peak resident set size since it started (Linux/macOS), or None."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)  # macOS reports bytes, Linux KiB


def _percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0…100) of already sorted values."""
    if len(sorted_values) == 1:
        return sorted_values[0]
    pos = (len(sorted_values) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


@dataclass(frozen=True)
class RunConfig:
    """What to run: validated on construction."""

    device: str = "auto"
    dtype: str = "float32"
    batch: int = 1
    input_size: int | tuple[int, int] = 224
    channels_last: bool = False
    compile: bool = False
    warmup: int = 3
    repeats: int = 10
    stage_timing: bool = True

    def __post_init__(self) -> None:
        check_dtype(self.dtype)
        if not isinstance(self.batch, int) or isinstance(self.batch, bool) or not 1 <= self.batch <= 4096:
            raise ValueError(f"batch={self.batch!r} is not allowed: an integer from 1 to 4096 is expected")
        if not isinstance(self.warmup, int) or not 0 <= self.warmup <= 1000:
            raise ValueError(f"warmup={self.warmup!r} is not allowed: an integer from 0 to 1000 is expected")
        if not isinstance(self.repeats, int) or not 1 <= self.repeats <= 10_000:
            raise ValueError(f"repeats={self.repeats!r} is not allowed: an integer from 1 to 10000 is expected")
        if isinstance(self.input_size, list):
            object.__setattr__(self, "input_size", tuple(self.input_size))


@dataclass
class Measurement:
    """One timed configuration. Times in milliseconds per batch."""

    arch: str
    device: str
    device_name: str
    dtype: str
    batch: int
    input_size: tuple[int, int]
    channels_last: bool
    compiled: bool
    warmup: int
    repeats: int
    latencies_ms: list[float]
    latency_ms_median: float
    latency_ms_p10: float
    latency_ms_p90: float
    images_per_s: float
    macs_per_image: int
    macs_per_s: float
    peak_flops: float | None
    peak_flops_mode: str | None
    share_of_peak: float | None
    peak_memory_bytes: int | None
    peak_memory_kind: str
    stage_ms: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["input_size"] = list(self.input_size)
        return d


def macs_per_image(spec: ResNetSpec, input_size: int | tuple[int, int]) -> int:
    """Conv + linear multiply-adds for one image, from the analysis (the project's one MAC counter)."""
    from resnet_core.analysis import analyze

    return analyze(spec, input_size).totals.macs


def _free_memory() -> None:
    """Collect unreachable tensors and hand CUDA's cached blocks back to the driver."""
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


#: Lower-case pieces of the messages of allocation failures: CUDA's and the CPU allocator's.
_OOM_MESSAGES = ("out of memory", "can't allocate memory", "defaultcpuallocator")


def _is_oom(e: BaseException) -> bool:
    """CUDA out of memory, or a failed CPU allocation (``DefaultCPUAllocator: can't allocate memory``)."""
    oom_types = tuple(
        t
        for t in (getattr(torch, "OutOfMemoryError", None), getattr(torch.cuda, "OutOfMemoryError", None))
        if isinstance(t, type)
    )
    if isinstance(e, MemoryError) or (oom_types and isinstance(e, oom_types)):
        return True
    return isinstance(e, RuntimeError) and any(m in str(e).lower() for m in _OOM_MESSAGES)


def benchmark(
    spec: ResNetSpec,
    config: RunConfig,
    model: nn.Module | None = None,
    arch: str = "custom",
    lock_timeout_s: float = 300.0,
) -> Measurement:
    """Time ``spec`` (or an already built ``model`` of it, weights as they are) under ``config``.

    The model is built with random initialisation when none is given: timing does not depend on the
    weights' values. Holds the device's lock for the whole measurement, and for a compiled run
    also ``COMPILE_LOCK`` (dynamo's reset is process-wide).
    """
    device = resolve_device(config.device)
    hw = normalize_input_size(config.input_size)
    macs = macs_per_image(spec, hw)  # also rejects an input too small for the network, with the size to use
    compile_lock = holding_compile(lock_timeout_s) if config.compile else contextlib.nullcontext()
    with holding(device, lock_timeout_s), compile_lock:  # this order only: see COMPILE_LOCK
        try:
            return _benchmark_locked(spec, config, device, hw, model, arch, macs)
        except Exception as e:
            if not _is_oom(e):
                raise
            detail = str(e)
        # Out of the except block: the error and its traceback, whose frames hold the model, the
        # input and the activations of the failed pass, are gone, so collecting now frees them,
        # and the exception raised here has no __context__ leading back to them.
        _free_memory()
        raise DeviceOutOfMemory(str(device), config.batch, detail)


def _benchmark_locked(
    spec: ResNetSpec,
    config: RunConfig,
    device: torch.device,
    hw: tuple[int, int],
    model: nn.Module | None,
    arch: str,
    macs: int,
) -> Measurement:
    eager = build(spec, device) if model is None else model
    eager = prepare(eager, device, channels_last=config.channels_last)
    if config.compile:
        # Every benchmark compiles a fresh module; without a reset, dynamo counts each one as a
        # recompile of ResNet.forward and, past its cache limit, silently runs eager instead.
        import torch._dynamo as dynamo  # binds `dynamo` only: `torch` stays the module-level name

        dynamo.reset()
    runner = prepare(eager, device, compile=True) if config.compile else eager
    x = make_input(spec, config.batch, hw, device, config.channels_last)
    rss_reset = False
    if device.type == "cuda":
        _free_memory()
        torch.cuda.reset_peak_memory_stats(device)
    else:
        rss_reset = _reset_peak_rss()

    times = time_runs(lambda: forward(runner, x, config.dtype), device, config.warmup, config.repeats)

    if device.type == "cuda":
        peak_mem: int | None = torch.cuda.max_memory_allocated(device)
        mem_kind = "torch.cuda.max_memory_allocated"
    elif rss_reset:
        peak_mem = _vm_hwm_bytes()
        mem_kind = "process peak RSS during this run (VmHWM, reset before it)"
    else:
        peak_mem = _process_peak_rss_bytes()
        mem_kind = "process peak RSS since the process started (ru_maxrss; no per-run reset here)"
    stages = time_stages(eager, x, config.dtype) if config.stage_timing and isinstance(eager, ResNet) else {}

    ordered = sorted(times)
    median = statistics.median(ordered)
    ips = config.batch / (median / 1e3)
    macs_s = macs * ips
    peak = peak_flops(device, config.dtype)
    return Measurement(
        arch=arch,
        device=str(device),
        device_name=device_name(device),
        dtype=config.dtype,
        batch=config.batch,
        input_size=hw,
        channels_last=config.channels_last,
        compiled=config.compile,
        warmup=config.warmup,
        repeats=config.repeats,
        latencies_ms=times,
        latency_ms_median=median,
        latency_ms_p10=_percentile(ordered, 10),
        latency_ms_p90=_percentile(ordered, 90),
        images_per_s=ips,
        macs_per_image=macs,
        macs_per_s=macs_s,
        peak_flops=None if peak is None else peak[0],
        peak_flops_mode=None if peak is None else peak[1],
        share_of_peak=None if peak is None else 2 * macs_s / peak[0],
        peak_memory_bytes=peak_mem,
        peak_memory_kind=mem_kind,
        stage_ms=stages,
    )


def sweep(
    spec: ResNetSpec,
    config: RunConfig,
    batches: Sequence[int],
    model: nn.Module | None = None,
    arch: str = "custom",
    progress: Callable[[int, int, Measurement | None], None] | None = None,
) -> tuple[list[Measurement], DeviceOutOfMemory | None]:
    """``benchmark`` at each batch size in turn; stops at the first out-of-memory and returns it."""
    results: list[Measurement] = []
    for i, b in enumerate(batches):
        try:
            m = benchmark(spec, RunConfig(**{**asdict(config), "batch": int(b)}), model=model, arch=arch)
        except DeviceOutOfMemory as oom:
            return results, oom
        results.append(m)
        if progress is not None:
            progress(i + 1, len(batches), m)
    return results, None


# -- what the network sees -------------------------------------------------------------------


def activation_layers(model: ResNet) -> list[str]:
    """Module names whose output is a feature map worth showing: stem parts, every block, every stage."""
    names = ["conv1", "bn1", "relu", "maxpool"] if not isinstance(model.maxpool, nn.Identity) else ["conv1", "relu"]
    for i, stage in enumerate(model.stages()):
        names += [f"layer{i + 1}.{b}" for b in range(len(stage))]
    return names


@dataclass(frozen=True)
class ActivationMaps:
    layer: str
    shape: tuple[int, ...]  # (C, H, W) of the layer's output for the one image
    channels: tuple[int, ...]  # which channels, most active first
    maps: Tensor  # (len(channels), H, W), float32 on the CPU


def predict_with_activations(
    model: nn.Module,
    x: Tensor,
    layer: str,
    dtype: str = "float32",
    max_channels: int = 16,
    lock_timeout_s: float = 300.0,
) -> tuple[Tensor, ActivationMaps]:
    """Logits for ``x`` (1, C, H, W) and the ``max_channels`` most active channels of ``layer``'s output.

    The capturing hook lives on the model only while the device's lock is held: the model may be
    shared by several sessions, and another one's pass must not run with this one's hook.
    """
    modules = dict(model.named_modules())
    if layer not in modules:
        raise ValueError(f"layer={layer!r} is not a module of this network; e.g. {', '.join(list(modules)[1:6])} …")
    captured: dict[str, Tensor] = {}

    def hook(_m: nn.Module, _args: Any, out: Tensor) -> None:
        captured["out"] = out.detach().float().clone()  # clone: a later in-place ReLU must not change it

    device = next(model.parameters()).device
    with holding(device, lock_timeout_s):
        handle = modules[layer].register_forward_hook(hook)
        try:
            logits = forward(model, x.to(device), dtype).cpu()
        finally:
            handle.remove()
    act = captured["out"][0].cpu()  # (C, H, W)
    strength = act.abs().mean(dim=(1, 2))
    order = torch.argsort(strength, descending=True)[:max_channels]
    return logits, ActivationMaps(layer, tuple(act.shape), tuple(int(i) for i in order), act[order])


def cpu_threads_note() -> str:
    return f"{torch.get_num_threads()} intra-op threads of {os.cpu_count()} logical CPUs"
