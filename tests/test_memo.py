"""The one byte-bounded cache (resnet_core.memo): eviction by bytes across namespaces, one charge per
object, one computation per key however many threads ask, cached refusals."""

from __future__ import annotations

import threading
import time

import pytest
import torch

from resnet_core import PRESETS, analyze, build
from resnet_core.memo import BUDGET_ENV, DEFAULT_BUDGET_MB, ByteBudget, approx_bytes, budget_bytes


def test_the_budget_is_in_bytes_across_namespaces_and_evicts_the_least_recently_used():
    cache = ByteBudget(budget=1000)
    cache.get_or_compute(("a", 1), lambda: "x", size=lambda v: 400)
    cache.get_or_compute(("b", 1), lambda: "y", size=lambda v: 400)
    cache.get_or_compute(("a", 1), lambda: pytest.fail("recomputed"), size=lambda v: 400)  # a is now the newest
    cache.get_or_compute(("c", 1), lambda: "z", size=lambda v: 400)  # 1200 > 1000: the oldest, b, goes
    assert ("a", 1) in cache and ("c", 1) in cache and ("b", 1) not in cache
    assert cache.stats().bytes == 800 and cache.stats("b").evictions == 1


def test_a_value_larger_than_the_budget_is_returned_but_not_kept():
    cache = ByteBudget(budget=100)
    assert cache.get_or_compute(("big", 1), lambda: "v", size=lambda v: 101) == "v"
    assert ("big", 1) not in cache and cache.stats().bytes == 0


def test_one_object_held_by_two_caches_is_charged_once():
    cache = ByteBudget(budget=10_000)
    shared = object()
    cache.get_or_compute(("library", 1), lambda: shared, size=lambda v: 3000)
    cache.get_or_compute(("app", 1), lambda: shared, size=lambda v: 3000)
    assert cache.stats().bytes == 3000
    cache.clear("library")
    assert cache.stats().bytes == 3000  # the app still holds it
    cache.clear("app")
    assert cache.stats().bytes == 0


def test_concurrent_callers_of_one_key_compute_it_once_and_wait_for_it():
    cache = ByteBudget(budget=10_000)
    calls: list[int] = []

    def slow() -> str:
        calls.append(1)
        time.sleep(0.3)
        return "done"

    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(cache.get_or_compute(("k", 1), slow))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["done"] * 4 and len(calls) == 1
    stats = cache.stats("k")
    assert stats.waits == 3 and 0.1 < stats.max_wait_s < 5


def test_a_refusal_is_cached_and_raised_afresh_each_time():
    cache = ByteBudget(budget=10_000)
    calls: list[int] = []

    def refuse() -> None:
        calls.append(1)
        raise ValueError("too small")

    errors = []
    for _ in range(3):
        with pytest.raises(ValueError, match="too small") as err:
            cache.get_or_compute(("refusal", 1), refuse)
        errors.append(err.value)
    assert len(calls) == 1
    assert errors[0] is not errors[1]  # a copy each time: the cached one keeps no traceback alive
    assert cache._entries[("refusal", 1)].error.__traceback__ is None


def test_an_error_that_is_not_a_refusal_is_not_cached():
    cache = ByteBudget(budget=10_000)
    with pytest.raises(RuntimeError):
        cache.get_or_compute(("boom", 1), lambda: (_ for _ in ()).throw(RuntimeError("device lost")))
    assert cache.get_or_compute(("boom", 1), lambda: "fine") == "fine"


def test_weights_of_the_values_it_holds():
    model = build(PRESETS["resnet18"])
    params = sum(p.numel() for p in model.parameters()) + sum(b.numel() for b in model.buffers())
    assert params * 4 <= approx_bytes(model) <= params * 4 * 1.01
    assert approx_bytes(torch.zeros(1000)) >= 4000
    assert 10_000 <= approx_bytes("x" * 10_000) <= 10_200
    assert approx_bytes(analyze(PRESETS["resnet50"])) == analyze(PRESETS["resnet50"]).approx_bytes()
    assert approx_bytes([b"y" * 1000] * 1000) >= 1_000_000


def test_the_budget_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv(BUDGET_ENV, "64")
    assert budget_bytes() == 64 * 2**20
    monkeypatch.setenv(BUDGET_ENV, "lots")
    assert budget_bytes() == DEFAULT_BUDGET_MB * 2**20
    monkeypatch.delenv(BUDGET_ENV)
    assert budget_bytes() == DEFAULT_BUDGET_MB * 2**20
