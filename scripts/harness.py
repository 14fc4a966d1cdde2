"""A Streamlit server and Debian's Chromium, for the end-to-end tests, the screenshots and the benchmark."""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
PORTS = range(9000, 10000)
STARTUP_S = 60
#: The app's entry point, relative to a checkout's root.
APP_SCRIPT = "app/streamlit_app.py"


class HarnessError(RuntimeError):
    """The server or the browser could not be started; the message says why and what to install."""


def free_port() -> int:
    """A free port from PORTS, tried in random order: two harnesses started at once (five engineers share
    this machine) rarely pick the same one, where one server's failed start could pass the other's health
    check."""
    for port in random.sample(PORTS, len(PORTS)):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as s:  # all taken: any free port
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chromium_path() -> str:
    path = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    if not path:
        raise HarnessError(
            f"Chromium not found at {CHROMIUM}: the end-to-end tests need Debian's chromium "
            "(run `make test`, or `bash scripts/system_deps.sh`, or `sudo apt-get install chromium`; "
            "CHROMIUM=/path/to/chrome picks another)"
        )
    return path


@contextmanager
def streamlit_server(
    log_dir: Path | None = None, script: str = APP_SCRIPT, root: Path = ROOT, python: str | None = None
) -> Iterator[str]:
    """Serve ``script`` on 127.0.0.1 (the app through `python -m app.serve`, another script with
    `streamlit run`); yield its base URL once healthy; stop it.

    ``root`` is the checkout to serve (its working directory) and ``python`` the interpreter that
    serves it (default: this one), so a benchmark can serve another checkout with its own venv."""
    with streamlit_process(log_dir, script, root, python or sys.executable) as (base, _proc, _log):
        yield base


@contextmanager
def streamlit_process(
    log_dir: Path | None = None,
    script: str = APP_SCRIPT,
    root: Path = ROOT,
    python: str = sys.executable,
    env: dict[str, str] | None = None,
    warm: bool = True,
) -> Iterator[tuple[str, subprocess.Popen, Path]]:
    """``streamlit_server`` for callers that watch the process: yields (base URL, the process, its log
    file). ``root`` and ``python`` run another checkout with its own interpreter (a before/after
    benchmark); ``env`` adds environment variables; ``warm=False`` starts the app with plain
    `streamlit run` instead of its launcher (a benchmark's baseline)."""
    port = free_port()
    log_path = Path(log_dir or tempfile.mkdtemp(prefix="e2e-")) / f"streamlit-{port}.log"
    # The app starts as `make run` starts it (app/serve.py: `streamlit run` with torch warmed up on a
    # thread); another script, or a checkout from before the launcher, with `streamlit run` itself.
    launcher = warm and script == APP_SCRIPT and (Path(root) / "app" / "serve.py").exists()
    cmd = [
        python,
        "-m",
        *(["app.serve"] if launcher else ["streamlit", "run", script]),
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    base = f"http://127.0.0.1:{port}"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, cwd=root, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
        try:
            deadline = time.monotonic() + STARTUP_S
            while True:
                if proc.poll() is not None:
                    raise HarnessError(
                        f"streamlit exited with status {proc.returncode} before serving {base}:\n"
                        + log_path.read_text()[-3000:]
                    )
                try:
                    with urllib.request.urlopen(base + "/_stcore/health", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise HarnessError(f"streamlit did not answer {base}/_stcore/health within {STARTUP_S} s")
                time.sleep(0.3)
            yield base, proc, log_path
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextmanager
def chromium() -> Iterator:
    """A headless Playwright Browser on Debian's Chromium."""
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def warm_up(browser, base: str) -> None:
    """Load the explorer once, so torch's import and the first trace are behind us."""
    page = browser.new_page()
    try:
        page.goto(base + "/explorer", timeout=120_000)
        page.get_by_test_id("stMetricValue").first.wait_for(timeout=120_000)
    finally:
        page.close()
