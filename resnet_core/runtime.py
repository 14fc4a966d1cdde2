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
    key = _device_key(device)
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(key, threading.Lock())


#: Jobs that may wait for one device at once; one more is refused at once (``DeviceBusy``) rather
#: than queued behind minutes of others' work.
MAX_WAITING = 4
_POLL_S = 0.25  # how often a waiting job looks again, and reports its place (``on_wait``)
_WAITING: dict[str, list[object]] = {}  # device → tickets of the jobs waiting for it, first come first
_WAITING_GUARD = threading.Lock()

#: ``on_wait(jobs_ahead, waited_s)``: called while a job waits for its device, about every 0.25 s;
#: ``jobs_ahead`` counts the job running and those queued before this one.
OnWait = Callable[[int, float], None]


def waiting(device: torch.device | str) -> int:
    """How many jobs are waiting for ``device`` now (not counting the one running)."""
    with _WAITING_GUARD:
        return len(_WAITING.get(_device_key(device), ()))


def _device_key(device: torch.device | str) -> str:
    dev = torch.device(device)
    if dev.type == "cuda" and dev.index is None:
        dev = torch.device("cuda", torch.cuda.current_device() if torch.cuda.is_available() else 0)
    return str(dev)


@contextlib.contextmanager
def holding(device: torch.device, timeout_s: float = 300.0, on_wait: OnWait | None = None) -> Iterator[None]:
    """Hold ``device``'s lock for the block: jobs wait in arrival order, at most ``MAX_WAITING`` of them.

    ``on_wait`` hears the job's place in the queue while it waits; if it raises (a Streamlit rerun
    stopping the script), the job leaves the queue. Nothing is held between two calls of this.
    """
    lock = device_lock(device)
    key = _device_key(device)
    ticket = object()
    with _WAITING_GUARD:
        queue = _WAITING.setdefault(key, [])
        if len(queue) >= MAX_WAITING:
            raise DeviceBusy(
                f"{device} runs one job at a time and {len(queue)} are already waiting; this server takes no more "
                "for now — try again in a minute"
            )
        queue.append(ticket)
    start = time.monotonic()
    try:
        while True:
            with _WAITING_GUARD:
                ahead = queue.index(ticket)
            waited = time.monotonic() - start
            left = timeout_s - waited
            if ahead == 0 and lock.acquire(timeout=max(0.0, min(_POLL_S, left))):
                break
            if left <= 0:
                raise DeviceBusy(
                    f"{device} has been busy with another forward pass for {timeout_s:g} s; try again shortly"
                )
            if on_wait is not None:
                on_wait(ahead + 1, waited)
            if ahead:
                time.sleep(min(_POLL_S, max(0.0, left)))
    finally:
        with _WAITING_GUARD:
            queue.remove(ticket)
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


@contextlib.contextmanager
def stage_marks(model: ResNet, cuda: bool) -> Iterator[dict[str, list[Any]]]:
    """Forward hooks that mark where each stage (stem, layer1…N, head) starts and ends, for as long as
    the block runs: ``marks[stage] = [start, end]`` of the last pass, CUDA events on a GPU (recorded
    on the stream, no synchronisation) or ``time.perf_counter`` readings on the CPU."""
    marks: dict[str, list[Any]] = {}

    def mark(name: str, end: bool) -> Callable[..., None]:
        def hook(*_: Any) -> None:
            if cuda:
                ev = torch.cuda.Event(enable_timing=True)
                ev.record()
                marks.setdefault(name, [None, None])[end] = ev
            else:
                marks.setdefault(name, [None, None])[end] = time.perf_counter()

        return hook

    handles = []
    try:
        for name, first, last in stage_groups(model):
            handles.append(first.register_forward_pre_hook(mark(name, False)))
            handles.append(last.register_forward_hook(mark(name, True)))
        yield marks
    finally:
        for h in handles:
            h.remove()


def _stage_ms(marks: dict[str, list[Any]], cuda: bool) -> dict[str, float]:
    return {name: start.elapsed_time(end) if cuda else (end - start) * 1e3 for name, (start, end) in marks.items()}


def time_stages(model: ResNet, x: Tensor, dtype: str, repeats: int = 5) -> dict[str, float]:
    """Median milliseconds of each stage (stem, layer1…N, head) in eager mode, via forward hooks.

    On CUDA each boundary records an event on the stream, so no synchronisation perturbs the pass.
    """
    device = x.device
    cuda = device.type == "cuda"
    per_stage: dict[str, list[float]] = {name: [] for name, _, _ in stage_groups(model)}
    with stage_marks(model, cuda) as marks:
        for i in range(repeats + 1):  # the first pass warms the hooks up and is dropped
            marks.clear()
            forward(model, x, dtype)
            _sync(device)
            if i == 0:
                continue
            for name, ms in _stage_ms(marks, cuda).items():
                per_stage[name].append(ms)
    return {name: statistics.median(v) for name, v in per_stage.items() if v}


@dataclass(frozen=True)
class Progress:
    """Where a timing run is: ``done`` of ``planned`` passes (warm-up and timed), seconds so far and
    about how many are left (None until one pass has been timed)."""

    phase: str  # "warm-up" or "timed"
    done: int
    planned: int
    elapsed_s: float
    left_s: float | None


#: Timed passes a budgeted run makes at least, however slow one pass is (a median needs some).
MIN_TIMED = 2


def budgeted_runs(
    fn: Callable[[], Any],
    device: torch.device,
    config: RunConfig,
    stages_of: ResNet | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> tuple[list[float], dict[str, float], int]:
    """Time ``fn`` within ``config.time_budget_s`` seconds: (milliseconds of each timed pass, median
    milliseconds per stage, warm-up passes made).

    One warm-up pass measures how long a pass takes; more warm-up (up to ``config.warmup``) while
    it uses less than a quarter of the budget; then as many timed passes as the rest of the budget
    holds, at least ``MIN_TIMED`` and at most ``config.repeats``. With ``stages_of`` (the eager
    model), the stages are marked during the timed passes themselves (a hook per stage boundary,
    microseconds against a pass's milliseconds) instead of in passes of their own. ``progress``
    hears after every pass; if it raises (a Streamlit rerun: the user pressed Cancel), the run stops.
    """
    budget = float(config.time_budget_s or 0.0)
    start = time.perf_counter()
    planned = max(1, config.warmup) + MIN_TIMED

    def tell(phase: str, done: int, per_pass: float | None) -> None:
        if progress is not None:
            elapsed = time.perf_counter() - start
            left = None if per_pass is None else max(0.0, (planned - done) * per_pass)
            progress(Progress(phase, done, planned, elapsed, left))

    tell("warm-up", 0, None)
    per_pass = 0.0
    warm = 0
    while True:
        t0 = time.perf_counter()
        fn()
        _sync(device)
        per_pass = time.perf_counter() - t0
        warm += 1
        spent = time.perf_counter() - start
        if warm >= config.warmup or spent + per_pass > budget / 4:
            break
        tell("warm-up", warm, per_pass)
    left = budget - (time.perf_counter() - start)
    repeats = max(MIN_TIMED, min(config.repeats, int(left / per_pass) if per_pass > 0 else config.repeats))
    planned = warm + repeats
    tell("timed", warm, per_pass)
    cuda = device.type == "cuda"
    times: list[float] = []
    per_stage: dict[str, list[float]] = {}
    marking = stage_marks(stages_of, cuda) if stages_of is not None else contextlib.nullcontext({})
    with marking as marks:
        for i in range(repeats):
            marks.clear()
            if cuda:
                begin, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                begin.record()
                fn()
                end.record()
                end.synchronize()
                times.append(begin.elapsed_time(end))
            else:
                t0 = time.perf_counter()
                fn()
                times.append((time.perf_counter() - t0) * 1e3)
            for name, ms in _stage_ms(marks, cuda).items():
                per_stage.setdefault(name, []).append(ms)
            tell("timed", warm + i + 1, statistics.median(times) / 1e3)
    return times, {name: statistics.median(v) for name, v in per_stage.items()}, warm


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
    #: When set, the number of passes is chosen to fit about this many seconds (``budgeted_runs``):
    #: ``warmup`` and ``repeats`` become upper bounds.
    time_budget_s: float | None = None

    def __post_init__(self) -> None:
        check_dtype(self.dtype)
        if self.time_budget_s is not None and not (
            isinstance(self.time_budget_s, (int, float)) and 0 < self.time_budget_s <= 3600
        ):
            raise ValueError(
                f"time_budget_s={self.time_budget_s!r} is not allowed: seconds from 0 to 3600 are expected"
            )
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
    progress: Callable[[Progress], None] | None = None,
    on_wait: OnWait | None = None,
) -> Measurement:
    """Time ``spec`` (or an already built ``model`` of it, weights as they are) under ``config``.

    The model is built with random initialisation when none is given: timing does not depend on the
    weights' values. Holds the device's lock for the whole measurement, and for a compiled run
    also ``COMPILE_LOCK`` (dynamo's reset is process-wide). With ``config.time_budget_s`` the passes
    fit that budget and ``progress`` hears after each (``budgeted_runs``); ``on_wait`` hears the
    job's place in the queue while it waits for the device (``holding``).
    """
    device = resolve_device(config.device)
    hw = normalize_input_size(config.input_size)
    macs = macs_per_image(spec, hw)  # also rejects an input too small for the network, with the size to use
    compile_lock = holding_compile(lock_timeout_s) if config.compile else contextlib.nullcontext()
    with holding(device, lock_timeout_s, on_wait), compile_lock:  # this order only: see COMPILE_LOCK
        try:
            return _benchmark_locked(spec, config, device, hw, model, arch, macs, progress)
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
    progress: Callable[[Progress], None] | None = None,
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

    warmup, stages = config.warmup, {}
    if config.time_budget_s is not None:
        staged = eager if config.stage_timing and isinstance(eager, ResNet) and not config.compile else None
        times, stages, warmup = budgeted_runs(
            lambda: forward(runner, x, config.dtype), device, config, stages_of=staged, progress=progress
        )
    else:
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
    if config.time_budget_s is None and config.stage_timing and isinstance(eager, ResNet):
        stages = time_stages(eager, x, config.dtype)

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
        warmup=warmup,
        repeats=len(times),
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
    on_wait: OnWait | None = None,
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
    with holding(device, lock_timeout_s, on_wait):
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
