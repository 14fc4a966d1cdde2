"""The app as the load test serves it: ``app/streamlit_app.py`` of a checkout, with its device-lock waits
recorded. Run by ``benchmarks/bench_load.py`` (``streamlit run benchmarks/load_app.py`` in the checkout
under test, so one wrapper measures the code before and after a change alike).

Every acquisition of ``resnet_core.runtime.holding`` (the per-device lock every forward pass takes) is
timed; with ``LOAD_STATS_FILE`` set, a daemon thread writes the longest wait and the number of waits
over one second to that file as JSON, once a second. Nothing else of the app changes.
"""

from __future__ import annotations

import contextlib
import json
import os
import runpy
import sys
import threading
import time
from pathlib import Path

ROOT = Path.cwd()  # the checkout under test (bench_load starts streamlit there)
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

_STATE = "_load_app_waits"  # on sys: survives Streamlit's reruns of this script


def _install() -> dict:
    from resnet_core import runtime

    stats = {"max_wait_s": 0.0, "waits": 0, "waits_over_1s": 0}
    original = runtime.holding

    @contextlib.contextmanager
    def timed_holding(*args, **kwargs):
        t0 = time.perf_counter()
        with original(*args, **kwargs):
            waited = time.perf_counter() - t0
            stats["waits"] += 1
            stats["waits_over_1s"] += waited > 1.0
            stats["max_wait_s"] = max(stats["max_wait_s"], waited)
            yield

    runtime.holding = timed_holding
    out = os.environ.get("LOAD_STATS_FILE")
    if out:

        def write() -> None:
            while True:
                Path(out).write_text(json.dumps(stats))
                time.sleep(1.0)

        threading.Thread(target=write, daemon=True, name="load-stats").start()
    return stats


if not hasattr(sys, _STATE):
    setattr(sys, _STATE, _install())
runpy.run_path(str(ROOT / "app" / "streamlit_app.py"), run_name="__main__")
