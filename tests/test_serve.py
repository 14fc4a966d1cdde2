"""`python -m app.serve`: the warm-up leaves nothing for the first page's trace to set up."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: In a fresh process: warm up, then trace ResNet-50 as a page would and list the modules that trace
#: still had to import.
CHILD = """
import json, sys
from app.serve import warm_up
warm_up()
from resnet_core import analyze
before = set(sys.modules)
analyze(__import__("resnet_core.spec", fromlist=["preset"]).preset("resnet50"), 224)
print(json.dumps({"imported": sorted(set(sys.modules) - before)}))
"""

#: The same without the warm-up: the first trace imports torch's lazy machinery (what the warm-up is for).
COLD = """
import json, sys
from resnet_core import analyze
from resnet_core.spec import preset
before = set(sys.modules)
analyze(preset("resnet50"), 224)
print(json.dumps({"imported": sorted(set(sys.modules) - before)}))
"""


def run_child(code: str) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_after_the_warm_up_a_page_s_first_trace_imports_nothing() -> None:
    cold = run_child(COLD)["imported"]
    assert any(m.startswith("sympy") for m in cold), "the claim is moot if a cold trace imports no lazy set-up"
    warm = run_child(CHILD)
    assert warm["imported"] == []
