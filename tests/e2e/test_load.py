"""The load test's 30-second version (issue 15): a few concurrent Chromium sessions on one real server.

``benchmarks/bench_load.py`` (``make bench``: 8 sessions × 2 minutes) drives the pages at random: links,
preset changes, rapid double clicks on the Level control, Compare, a gradient measurement, Live's forward
pass and timing run, lecture steps, huge-spec links and deliberately bad links. Here the same run, shorter,
states what must hold however loaded the machine is: no exception or traceback anywhere, no error box or
link notice after an action that did nothing wrong, the title the link asked for (settings kept), and the
server's memory within the caches' budget plus 1 GB of where it started. Latencies are printed, never
asserted (a shared machine).
"""

from __future__ import annotations

import importlib.util
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from resnet_core.memo import budget_bytes

ROOT = Path(__file__).resolve().parents[2]


def _bench_load():
    spec = importlib.util.spec_from_file_location("bench_load", ROOT / "benchmarks" / "bench_load.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


def test_three_sessions_for_thirty_seconds_keep_their_settings_and_show_no_errors():
    bench = _bench_load()
    # On a thread of its own: its asyncio.run cannot share this thread with the event loop that the
    # earlier tests' sync Playwright (the page fixture) leaves running here.
    with ThreadPoolExecutor(max_workers=1) as pool:
        report = pool.submit(bench.run_load, sessions=3, seconds=30, root=ROOT, seed=1, settle_after_s=5).result()
    print("\n".join(report.lines()))
    assert report.actions >= 3  # every session finished at least one action
    assert report.problems == []
    assert report.log_tracebacks == 0, report.server_log
    assert report.rss_peak_mb <= report.rss_start_mb + budget_bytes() / 2**20 + 1024
