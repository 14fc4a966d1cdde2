"""Start the app: `python -m app.serve [streamlit options]` is `streamlit run app/streamlit_app.py`, warmed.

Streamlit runs a page's script only when a browser asks for it, so without this the first visitor
after a server start pays for everything that happens once per process: importing torch (about 2 s
here), then torch's one-time set-up of its ``meta`` kernels on the first trace
(importing sympy and ``torch._dynamo``, about 1.5 s, whatever the page). ``benchmarks/bench_pages.py``
measures both ("cold process" against "torch warm"). This launcher does that work on a thread while
the server starts listening, in the same process that will run the scripts, so it is already behind
the first visitor; a failure in it is logged and changes nothing else (the page pays as before).

`make run`, the ``Procfile`` and the end-to-end tests' server (``scripts/harness.py``) start the app
this way; plain `streamlit run app/streamlit_app.py` still works, unwarmed.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "app" / "streamlit_app.py"


def warm_up() -> float:
    """Import torch and trace one tiny network on the meta device; return the seconds it took.

    Only torch and ``resnet_core``: the pages themselves are imported by the first script run, inside
    Streamlit's runtime (their ``st.cache_data`` decorators want it), and Streamlit (with pandas and
    plotly) is imported before this thread starts. A visitor who comes within the warm-up's seconds
    imports torch on the script thread beside it; Python's per-module import locks make the one wait
    for the other. (Importing the pages here too crashed plotly on a half-imported pandas.)"""
    t = time.perf_counter()
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from resnet_core.analysis import analyze_uncached
    from resnet_core.spec import ResNetSpec

    # Uncached: nothing of this toy network stays in the analysis cache the pages share.
    analyze_uncached(ResNetSpec(block="basic", layers=(1,), stem="cifar", width=4), 8)
    return time.perf_counter() - t


def _warm_up_logged() -> None:
    try:
        seconds = warm_up()
    except Exception as e:  # the server goes on; the first page pays the set-up itself
        print(
            f"ResNet Explorer: the warm-up failed ({type(e).__name__}: {e}); pages will warm up on first use",
            file=sys.stderr,
        )
        return
    print(f"ResNet Explorer: torch warmed up in {seconds:.1f} s", file=sys.stderr)


def main(argv: list[str]) -> int:
    from streamlit.web import cli  # first, whole, on this thread (see warm_up)

    # Not a daemon: a daemon thread still inside torch when the interpreter exits aborts the process. So a
    # server stopped (or failing to start) within the warm-up's seconds exits when the warm-up ends.
    threading.Thread(target=_warm_up_logged, name="warm-up", daemon=False).start()
    return cli.main(["run", str(SCRIPT), *argv], prog_name="streamlit", standalone_mode=True)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
