"""How many CPU threads torch uses for the work of ONE Python thread, without touching the others.

Why not ``torch.set_num_threads``: it stores a process-wide default that every thread initialised
afterwards picks up, and the app's server runs every session's script in a thread of one process
(a new one per rerun). Measured here (2 cores, load average about 12 from other processes): after a
race thread called ``torch.set_num_threads(1)``, a freshly started thread — every later page script
of every session, the Live page's timings included — reported 1 thread too, while the main thread
kept 2. The setting would leak into other users' runs.

What torch does under the hood: its CPU ops parallelise with OpenMP, and OpenMP's thread count
(``omp_set_num_threads``, the "nthreads-var" of the OpenMP specification) belongs to the calling
thread. Calling the OpenMP runtime that torch loaded, after torch has initialised the thread, sets
the count for that thread alone: torch's own ``at::get_num_threads()`` reads it back, and other
threads keep theirs. ``intra_op_threads(n)`` does that for the duration of a ``with`` block.

Why one thread for this app's training and gradient work on the CPU: on a machine whose cores
other processes also use, OpenMP's threads wait on each other at every op. Measured on this 2-core
machine under load (training ResNet-20 at 16 px, batch 32, in a worker thread): 0.3–0.6 steps/s
with torch's 2 threads, 4.7–10.4 steps/s with 1 thread for that thread only; signal propagation
of plain-56 + ResNet-56 (``resnet_core.signal``): 160 s with 2 threads, 32 s with 1. On an idle
many-core machine one thread is slower than all of them; the pages say which count they used.

Where the OpenMP runtime cannot be reached (torch built without OpenMP, a platform where
``ctypes`` finds no ``omp_set_num_threads``), nothing changes and ``ThreadSetting.applied`` is False.
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch


@functools.cache
def _omp_set_num_threads() -> ctypes._CFuncPtr | None:  # type: ignore[name-defined]
    """The loaded OpenMP runtime's ``omp_set_num_threads`` (torch's own libgomp/libomp), or None."""
    try:
        process = ctypes.CDLL(None)  # every library loaded so far; torch's OpenMP runtime among them
        setter = process.omp_set_num_threads
    except (OSError, AttributeError, TypeError):
        return None
    setter.argtypes = [ctypes.c_int]
    setter.restype = None
    return setter


@dataclass(frozen=True)
class ThreadSetting:
    """What ``intra_op_threads`` did for the calling thread."""

    requested: int
    threads: int  # torch's intra-op threads for this thread inside the block
    others: int  # what this thread had before (and other threads keep)
    applied: bool  # False: no per-thread control here; torch's count was left as it was

    @property
    def text(self) -> str:
        if not self.applied:
            return f"{self.threads} CPU thread(s) (torch's setting; per-thread control is not available here)"
        return f"{self.threads} CPU thread(s) for this work only (other sessions keep torch's {self.others})"


@contextmanager
def intra_op_threads(n: int = 1) -> Iterator[ThreadSetting]:
    """Run the block with ``n`` torch intra-op CPU threads in the calling thread only; restore after."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n={n!r} is not allowed: a whole number of threads, at least 1")
    before = torch.get_num_threads()  # also makes torch initialise this thread's count first
    setter = _omp_set_num_threads()
    if setter is None or n == before:
        yield ThreadSetting(n, before, before, setter is not None)
        return
    setter(n)
    now = torch.get_num_threads()
    try:
        yield ThreadSetting(n, now, before, now == n)
    finally:
        setter(before)


@contextmanager
def on_device(device: torch.device, n: int = 1) -> Iterator[ThreadSetting | None]:
    """``intra_op_threads(n)`` when the work runs on the CPU; nothing (None) on a GPU."""
    if device.type != "cpu":
        yield None
        return
    with intra_op_threads(n) as setting:
        yield setting
