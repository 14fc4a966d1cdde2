"""One memory budget for every cache of the process: analyses, diagrams, tables, live results, models.

A server has a fixed amount of memory, and caches that count entries ("64 analyses") do not know
what an entry costs: one analysis of an 8 × 1000-block network weighs as much as thousands of
resnet50 ones. Here every cached value is weighed in bytes when it is stored, and when the total
passes the budget the least recently used values go, whichever cache they belong to.

* ``BUDGET_ENV`` (``RESNET_EXPLORER_CACHE_MB``) sets the budget in MiB; the default,
  ``DEFAULT_BUDGET_MB`` = 384, is sized for a 2 GB server: about 450 MB for Python, torch and
  Streamlit at rest (the load test's start figure), 384 MB of caches, and 1 GiB for the one heavy
  job the server runs at a time (``resnet_core.budget``), with room to spare.
* ``CACHE.get_or_compute(key, compute, size)`` returns the cached value or computes it once: a
  second caller asking for the same key while it is being computed waits for that result instead of
  computing it again (the wait is recorded in ``CACHE.stats()``). A ``ValueError`` (a refusal: an
  input too small, a spec too large) is cached too, so asking again costs nothing.
* ``memoize(name, size=None)`` decorates a function whose arguments are hashable.
* ``approx_bytes(value)`` weighs a value: an object's own ``approx_bytes()`` if it has one (an
  ``Analysis``), tensors and arrays by ``nbytes``, modules by their parameters and buffers, data
  frames by ``memory_usage(deep=True)``, strings and bytes by length, containers by their items.

A leaf module: it imports nothing from the project.
"""

from __future__ import annotations

import copy
import functools
import os
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")

BUDGET_ENV = "RESNET_EXPLORER_CACHE_MB"
DEFAULT_BUDGET_MB = 384
#: What a cached refusal (an exception) is charged: its message and a little bookkeeping.
ERROR_BYTES = 1024
#: Containers are weighed item by item up to this many items, then by their mean.
_SAMPLE = 200


def env_mib(name: str, default: float) -> int:
    """Bytes from environment variable ``name`` read as MiB, or ``default`` MiB when it is unset, empty
    or not a number (a server's budgets; the one reader of them)."""
    text = os.environ.get(name, "")
    try:
        mb = float(text) if text.strip() else default
    except ValueError:
        mb = default
    return max(0, int(mb * 2**20))


def budget_bytes() -> int:
    """The cache budget: ``$RESNET_EXPLORER_CACHE_MB`` MiB, or ``DEFAULT_BUDGET_MB``."""
    return env_mib(BUDGET_ENV, DEFAULT_BUDGET_MB)


def approx_bytes(value: Any, _depth: int = 0) -> int:
    """About how many bytes ``value`` keeps alive (see the module's docstring for what is counted)."""
    own = getattr(value, "approx_bytes", None)
    if callable(own) and not isinstance(value, type):
        return int(own())
    if isinstance(value, (str, bytes, bytearray)):
        return sys.getsizeof(value)
    nbytes = getattr(value, "nbytes", None)
    if isinstance(nbytes, int) and not callable(nbytes):  # torch.Tensor, numpy.ndarray
        return nbytes + 128
    memory_usage = getattr(value, "memory_usage", None)
    if callable(memory_usage) and hasattr(value, "columns"):  # a pandas DataFrame
        return int(memory_usage(deep=True).sum()) + 1024
    if hasattr(value, "parameters") and hasattr(value, "buffers"):  # a torch.nn.Module
        tensors = [*value.parameters(), *value.buffers()]
        return sum(t.nbytes for t in tensors) + 512 * (1 + len(tensors))
    if _depth > 6:
        return sys.getsizeof(value)
    if isinstance(value, dict):
        items = list(value.items())
        return sys.getsizeof(value) + _sampled([k for k, _ in items], _depth) + _sampled([v for _, v in items], _depth)
    if isinstance(value, (list, tuple, set, frozenset)):
        return sys.getsizeof(value) + _sampled(list(value), _depth)
    if hasattr(value, "__dict__"):
        return sys.getsizeof(value) + approx_bytes(vars(value), _depth + 1)
    if hasattr(value, "__slots__"):
        slots = [getattr(value, s, None) for s in value.__slots__]
        return sys.getsizeof(value) + _sampled(slots, _depth)
    return sys.getsizeof(value)


def _sampled(items: list[Any], depth: int) -> int:
    if not items:
        return 0
    shown = items if len(items) <= _SAMPLE else items[:: max(1, len(items) // _SAMPLE)]
    weight = sum(approx_bytes(v, depth + 1) for v in shown)
    return round(weight * len(items) / len(shown))


@dataclass
class _Entry:
    value: Any
    error: BaseException | None
    nbytes: int


@dataclass
class Stats:
    """What a cache did: hits, misses, bytes held, evictions and the longest wait for another's work."""

    hits: int = 0
    misses: int = 0
    entries: int = 0
    bytes: int = 0
    budget: int = 0
    evictions: int = 0
    max_wait_s: float = 0.0
    waits: int = 0


class ByteBudget:
    """A least-recently-used cache bounded by bytes, shared by many namespaces, safe across threads."""

    def __init__(self, budget: int | None = None) -> None:
        self.budget = budget_bytes() if budget is None else budget
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._charged: dict[int, list[int]] = {}  # id(value) → [entries holding it, bytes]: one charge per object
        self._inflight: dict[Hashable, threading.Event] = {}
        self._total = 0
        self._stats: dict[str, Stats] = {}

    # -- bookkeeping (under the lock) ------------------------------------------------------------

    def _ns(self, key: Hashable) -> Stats:
        name = key[0] if isinstance(key, tuple) and key and isinstance(key[0], str) else "?"
        return self._stats.setdefault(name, Stats())

    def _charge(self, entry: _Entry) -> None:
        held = self._charged.setdefault(id(entry.value) if entry.error is None else id(entry), [0, entry.nbytes])
        held[0] += 1
        if held[0] == 1:
            self._total += held[1]

    def _release(self, entry: _Entry) -> None:
        ident = id(entry.value) if entry.error is None else id(entry)
        held = self._charged[ident]
        held[0] -= 1
        if held[0] == 0:
            self._total -= held[1]
            del self._charged[ident]

    def _evict(self) -> None:
        while self._total > self.budget and self._entries:
            key, entry = self._entries.popitem(last=False)
            self._release(entry)
            self._ns(key).evictions += 1

    # -- the API ---------------------------------------------------------------------------------

    def get_or_compute(self, key: Hashable, compute: Callable[[], T], size: Callable[[T], int] | None = None) -> T:
        """The value cached under ``key``, or ``compute()``'s (stored if it fits the budget).

        ``key`` should start with a namespace string: ``("analysis", spec, hw, dtype)``. While one
        caller computes a key, others asking for it wait and get the same result.
        """
        waited = 0.0
        while True:
            with self._lock:
                entry = self._entries.get(key)
                if entry is not None:
                    self._entries.move_to_end(key)
                    stats = self._ns(key)
                    stats.hits += 1
                    if waited:
                        stats.waits += 1
                        stats.max_wait_s = max(stats.max_wait_s, waited)
                    if entry.error is not None:
                        raise copy.copy(entry.error)  # a fresh traceback each time, none kept in the cache
                    return entry.value
                pending = self._inflight.get(key)
                if pending is None:
                    done = self._inflight[key] = threading.Event()
                    self._ns(key).misses += 1
                    break
            # Another caller computes it: wait, then look again (a value too big to keep, or a failure
            # other than a refusal, leaves nothing behind, and the loop computes it here).
            t0 = time.perf_counter()
            pending.wait()
            waited += time.perf_counter() - t0
        value: Any = None
        error: BaseException | None = None
        try:
            value = compute()
            nbytes = (size or approx_bytes)(value)
        except ValueError as e:
            error, nbytes = e.with_traceback(None), ERROR_BYTES
        except BaseException:
            with self._lock:
                self._inflight.pop(key, None)
            done.set()
            raise
        with self._lock:
            entry = _Entry(value, error, nbytes)
            if nbytes <= self.budget:
                old = self._entries.pop(key, None)
                if old is not None:
                    self._release(old)
                self._entries[key] = entry
                self._charge(entry)
                self._evict()
            self._inflight.pop(key, None)
        done.set()
        if error is not None:
            raise copy.copy(error)
        return value

    def clear(self, namespace: str | None = None) -> None:
        """Forget every value (of one namespace, when given)."""
        with self._lock:
            for key in [k for k in self._entries if namespace is None or (isinstance(k, tuple) and k[0] == namespace)]:
                self._release(self._entries.pop(key))
            if namespace is None:
                self._stats.clear()
            else:
                self._stats.pop(namespace, None)

    def stats(self, namespace: str | None = None) -> Stats:
        """Counts for one namespace, or for all together (``bytes`` and ``entries`` are always the total's)."""
        with self._lock:
            chosen = [s for n, s in self._stats.items() if namespace in (None, n)]
            return Stats(
                hits=sum(s.hits for s in chosen),
                misses=sum(s.misses for s in chosen),
                entries=len(self._entries),
                bytes=self._total,
                budget=self.budget,
                evictions=sum(s.evictions for s in chosen),
                max_wait_s=max((s.max_wait_s for s in chosen), default=0.0),
                waits=sum(s.waits for s in chosen),
            )

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._entries


#: The process's one cache.
CACHE = ByteBudget()


def memoize(name: str, size: Callable[[Any], int] | None = None) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Cache a function's results in ``CACHE`` under namespace ``name`` (arguments must be hashable).

    The wrapper has ``cache_clear()`` (this namespace) and ``cache_info()`` (its ``Stats``).
    """

    def decorate(fn: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> T:
            key = (name, args, tuple(sorted(kwargs.items())))
            return CACHE.get_or_compute(key, lambda: fn(*args, **kwargs), size)

        wrapper.cache_clear = lambda: CACHE.clear(name)  # type: ignore[attr-defined]
        wrapper.cache_info = lambda: CACHE.stats(name)  # type: ignore[attr-defined]
        return wrapper

    return decorate
