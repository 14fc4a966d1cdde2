"""End-to-end fixtures: one `streamlit run` server on 127.0.0.1 and one headless Chromium per session.

Chromium is Debian's (`/usr/bin/chromium`, installed by `scripts/system_deps.sh`, which `make test`
runs first); Playwright's own browser download is not used. A missing browser fails the tests with
a message saying what to install: these tests are part of `make test` and of CI, never skipped.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
PORTS = range(8780, 8790)
STARTUP_S = 60


def free_port() -> int:
    for port in PORTS:
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
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: the end-to-end tests need Debian's chromium "
            "(run `make test`, or `bash scripts/system_deps.sh`, or `sudo apt-get install chromium`; "
            "CHROMIUM=/path/to/chrome picks another)",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a fresh `streamlit run app/streamlit_app.py`, killed at the end of the session."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("e2e") / "streamlit.log"
    log = open(log_path, "w")  # noqa: SIM115  (closed in finally, after the server)
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app/streamlit_app.py",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_S
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"streamlit exited with status {proc.returncode} before serving {base}:\n"
                    + log_path.read_text()[-3000:],
                    pytrace=False,
                )
            try:
                with urllib.request.urlopen(base + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit did not answer {base}/_stcore/health within {STARTUP_S} s", pytrace=False)
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def warm_server(server: str, browser) -> str:
    """The server after one full page load, so torch's import and the first trace are not timed."""
    page = browser.new_page()
    page.goto(server + "/explorer", timeout=120_000)
    page.get_by_test_id("stMetricValue").first.wait_for(timeout=120_000)
    page.close()
    return server


@pytest.fixture
def page(browser, warm_server):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    context.close()
