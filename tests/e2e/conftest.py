"""End-to-end fixtures: one `streamlit run` server on 127.0.0.1 and one headless Chromium per session.

Chromium is Debian's (`/usr/bin/chromium`, installed by `scripts/system_deps.sh`, which `make test`
runs first); Playwright's own browser download is not used. A missing browser fails the tests with
a message saying what to install: these tests are part of `make test` and of CI, never skipped.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from scripts.harness import HarnessError, chromium, streamlit_server, warm_up


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a fresh `streamlit run app/streamlit_app.py`, stopped at the end of the session."""
    try:
        with streamlit_server(tmp_path_factory.mktemp("e2e")) as base:
            yield base
    except HarnessError as e:
        pytest.fail(str(e), pytrace=False)


@pytest.fixture(scope="session")
def browser():
    try:
        with chromium() as b:
            yield b
    except HarnessError as e:
        pytest.fail(str(e), pytrace=False)


@pytest.fixture(scope="session")
def warm_server(server: str, browser) -> str:
    """The server after one full page load, so torch's import and the first trace are not timed."""
    warm_up(browser, server)
    return server


@pytest.fixture
def page(browser, warm_server):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    context.close()
