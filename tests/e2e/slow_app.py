"""The app as a loaded server runs it: every script run starts ``SLOW_RUN_S`` seconds late (default 1.5).

Served by ``tests/e2e/test_sync.py``. Under the load the issue measured (six Chromium sessions on two
cores), a run took seconds before it drew anything; this wrapper gives one session that delay, so a
click during a run reaches the server before the browser has the run's elements, every time.
Nothing else of the app changes.
"""

from __future__ import annotations

import os
import runpy
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

time.sleep(float(os.environ.get("SLOW_RUN_S", "1.5")))
runpy.run_path(str(ROOT / "app" / "streamlit_app.py"), run_name="__main__")
