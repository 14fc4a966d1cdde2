"""Settings and key presses survive a click made while the server is still busy with the previous one (issue 15, item 6).

The server here is the app behind ``tests/e2e/slow_app.py``: every script run starts 1.5 s late, as
runs did under the issue's load (six Chromium sessions on two cores). Picking a preset fills every
field from code; a click on the Level control 0.3 s later reaches the server before the browser has
the new fields, and carries the old ones. Before ``app/sync.py`` the server took them: the page
showed "resnet110 (modified: block bottleneck, layers 3,4,6,3, …)", the preset select said resnet110,
and the fields stayed resnet50's.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Page, expect

from resnet_core import PRESETS
from resnet_core.selection import format_value
from scripts.harness import HarnessError, streamlit_server, warm_up
from tests.e2e.test_browser import pick

pytestmark = pytest.mark.e2e

SLOW_APP = Path(__file__).with_name("slow_app.py")
SETTLED = "() => document.querySelector('[data-testid=stApp]')?.getAttribute('data-test-script-state') === 'notRunning'"


@pytest.fixture(scope="module")
def slow_server(browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    try:
        with streamlit_server(tmp_path_factory.mktemp("slow"), script=str(SLOW_APP)) as base:
            warm_up(browser, base)
            yield base
    except HarnessError as e:
        pytest.fail(str(e), pytrace=False)


def settled(page: Page) -> None:
    """Every run the clicks started has finished (the script state stays 'notRunning' across a pause)."""
    for _ in range(3):
        page.wait_for_function(SETTLED, timeout=120_000)
        page.wait_for_timeout(1_000)


@pytest.mark.parametrize("target", ["resnet110", "resnet18"])
def test_a_click_during_a_preset_change_keeps_the_preset_and_the_click(browser, slow_server: str, target: str):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    try:
        page.goto(slow_server + "/explorer?arch=resnet50")
        settled(page)
        expect(page.locator("h1").first).to_have_text("resnet50")
        pick(page, "Preset", target)
        time.sleep(0.3)  # the preset's run has not drawn anything yet
        page.get_by_test_id("stButtonGroup").first.locator("button", has_text="stages").click()
        settled(page)
        expect(page.locator("h1").first).to_have_text(target)
        layers = page.get_by_role("textbox", name="Blocks per stage")
        expect(layers).to_have_value(format_value("layers", PRESETS[target].layers))
        query = parse_qs(urlparse(page.url).query)
        assert query.get("arch") == [target] and query.get("level") == ["stage"], page.url  # the click counted too
        alerts = [a.inner_text() for a in page.get_by_test_id("stAlert").all()]
        assert not any("not allowed" in a or "modified" in a for a in alerts), alerts
    finally:
        context.close()


def test_two_quick_presses_in_the_lecture_move_two_steps(browser, slow_server: str) -> None:
    """A presenter presses → twice; the second press reaches the server while the first one's step is
    still being drawn (before its buttons are). Both count: the lecture ends two steps on. With Next
    going to a target fixed by the run that drew the button, the second press was lost."""
    from app.teaching.numbers import fill
    from app.teaching.sections import steps

    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    try:
        page.goto(slow_server + "/explainer?mode=lecture&step=1")
        settled(page)
        page.keyboard.press("ArrowRight")
        time.sleep(0.3)  # step 2's run has not drawn anything yet
        page.keyboard.press("ArrowRight")
        settled(page)
        assert parse_qs(urlparse(page.url).query).get("step") == ["3"], page.url
        title = fill(steps()[2].title, human=True)
        expect(page.locator("h1").first).to_have_text(re.sub(r"<[^>]+>", "", title))
    finally:
        context.close()
