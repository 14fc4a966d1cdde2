"""The app in a real browser: Debian's Chromium driven by Playwright against `streamlit run`."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Page, expect

from resnet_core import PRESETS, analyze
from resnet_core.export import CSV_FIELDS
from resnet_core.units import count

pytestmark = pytest.mark.e2e

DIAGRAM = ".dv-paper svg text"  # the interactive diagram view's SVG (Playwright sees into its shadow root)


def settle(page: Page, timeout: float = 60_000) -> None:
    """Wait until the page's script has finished (Streamlit's 'running' status is gone)."""
    page.get_by_test_id("stMain").wait_for(timeout=timeout)
    page.wait_for_timeout(300)  # the status widget appears only after a short delay
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=timeout)
    expect(page.get_by_test_id("stSkeleton")).to_have_count(0, timeout=timeout)  # elements still loading


def diagram_text(page: Page, text: str | re.Pattern):
    return page.locator(DIAGRAM, has_text=text).first


def no_error_on(page: Page) -> None:
    assert page.get_by_test_id("stException").count() == 0, page.get_by_test_id("stException").first.inner_text()
    assert "Traceback" not in page.content()


def pick(page: Page, label: str, option: str) -> None:
    """Choose ``option`` in select box ``label`` as a user would with many options: type to filter, click it."""
    page.get_by_role("combobox", name=label).click()
    page.keyboard.type(option)
    page.get_by_role("option", name=option, exact=True).click()


def test_root_url_opens_the_explorer_keeping_the_link(page: Page, warm_server: str):
    page.goto(warm_server + "/?arch=resnet34")
    expect(page.locator("h1").first).to_have_text("resnet34")
    assert urlparse(page.url).path == "/explorer" and parse_qs(urlparse(page.url).query)["arch"] == ["resnet34"]


def test_every_registered_page_opens_without_an_error(page: Page, warm_server: str):
    page.goto(warm_server + "/explorer")
    nav = page.get_by_test_id("stSidebarNav")
    nav.wait_for()
    # each link reads "<icon>\n\n<title>"
    links = {a.inner_text().strip().splitlines()[-1]: a.get_attribute("href") for a in nav.locator("a").all()}
    assert "Architecture explorer" in links and urlparse(links["Architecture explorer"]).path == "/explorer"
    for title, href in links.items():
        page.goto(href)
        settle(page)
        expect(page.locator("h1").first).to_be_visible()
        no_error_on(page)
        assert page.title(), title


def test_changing_the_preset_redraws_the_diagram(page: Page, warm_server: str):
    page.goto(warm_server + "/explorer?arch=resnet50")
    diagram_text(page, "layer4.0").wait_for()
    pick(page, "Preset", "resnet20")
    expect(page.locator("h1").first).to_have_text("resnet20", timeout=30_000)
    diagram_text(page, re.compile(r"^layer3\.0$")).wait_for()
    expect(page.locator(DIAGRAM, has_text=re.compile(r"^layer4\.0$"))).to_have_count(0)  # three stages in a CIFAR net
    expect(page.get_by_test_id("stMetricValue").first).to_have_text(
        count(analyze(PRESETS["resnet20"], 32).totals.params)
    )
    assert parse_qs(urlparse(page.url).query)["arch"] == ["resnet20"]
    no_error_on(page)


def test_a_shared_link_restores_its_state_and_survives_a_reload(page: Page, warm_server: str):
    page.goto(warm_server + "/explorer?arch=resnet50&stride_on=1x1&unfold=layer3")
    for _ in range(2):
        expect(page.locator("h1").first).to_have_text("resnet50 (modified: stride on 1×1)")
        diagram_text(page, "layer3.4").wait_for()  # layer3 drawn block by block
        assert page.locator(DIAGRAM, has_text=re.compile(r"^layer2\.3$")).count() == 0  # layer2 still folded
        expect(page.get_by_role("combobox", name="Stride placement")).to_have_value(re.compile("1×1"))
        expect(page.get_by_test_id("stMultiSelect").get_by_text("layer3")).to_be_visible()
        query = parse_qs(urlparse(page.url).query)
        assert query["stride_on"] == ["1x1"] and query["unfold"] == ["layer3"]
        no_error_on(page)
        page.reload()


def test_a_bad_link_value_shows_a_notice_not_a_traceback(page: Page, warm_server: str):
    page.goto(warm_server + "/explorer?arch=resnet51&level=atoms")
    expect(page.get_by_test_id("stAlert").filter(has_text="Unknown preset 'resnet51'")).to_be_visible()
    expect(page.get_by_test_id("stAlert").filter(has_text="level")).to_have_count(1)
    expect(page.locator("h1").first).to_have_text("resnet50")
    no_error_on(page)


def test_csv_download_has_a_row_per_layer(page: Page, warm_server: str):
    page.goto(warm_server + "/explorer?arch=resnet18")
    button = page.get_by_role("button", name="CSV (layers)")
    button.wait_for()
    with page.expect_download() as info:
        button.click()
    download = info.value
    assert download.suggested_filename == "resnet18_224_layers.csv"
    rows = list(csv.reader(io.StringIO(download.path().read_text(encoding="utf-8"))))
    assert tuple(rows[0]) == CSV_FIELDS and {row[0] for row in rows[1:]} == {"layer"}
    assert len(rows) - 1 == len(analyze(PRESETS["resnet18"], 224).layers)


def test_the_network_follows_you_across_pages_and_back(page: Page, warm_server: str):
    page.goto(warm_server + "/explorer?arch=resnet34&level=layer")
    expect(page.locator("h1").first).to_have_text("resnet34")
    nav = page.get_by_test_id("stSidebarNav")
    nav.get_by_text("Receptive field").click()
    settle(page)
    expect(page.get_by_role("combobox", name="Preset")).to_have_value("resnet34")
    expect(page).to_have_url(re.compile(r"[?&]arch=resnet34(&|$)"))  # the URL is written as the run ends
    nav.get_by_text("Architecture explorer").click()
    settle(page)  # the explorer's run, drawing resnet34 at the layer level, can take longer than expect's 5 s
    expect(page.locator("h1").first).to_have_text("resnet34")
    diagram_text(page, re.compile(r"^BN$")).wait_for()  # still at the layer level (one box per BatchNorm)
    query = parse_qs(urlparse(page.url).query)
    assert query["arch"] == ["resnet34"] and query["level"] == ["layer"]
    no_error_on(page)


def test_the_default_live_timing_run_shows_its_progress_then_its_numbers(page: Page, warm_server: str):
    """Live's default timing run, as a visitor starts it: the Timing tab, then the primary button. A
    progress bar with a Cancel button while it runs, then the median latency, whose tooltip names the
    timed passes (at least MIN_TIMED, chosen by the time budget). How long it takes is measured by
    benchmarks/bench_live.py, not asserted here."""
    from resnet_core.runtime import MIN_TIMED

    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(f"{warm_server}/live")
    settle(page)
    page.get_by_role("tab", name="Timing").click()
    page.get_by_role("button", name=re.compile(r"^Time batch \d+$")).click()
    expect(page.get_by_role("button", name="Cancel")).to_be_visible(timeout=60_000)
    expect(page.get_by_test_id("stProgress")).to_be_visible()
    latency = page.get_by_test_id("stMetric").filter(has_text="median latency")
    expect(latency).to_be_visible(timeout=120_000)
    expect(page.get_by_role("button", name="Cancel")).to_have_count(0)
    assert re.fullmatch(
        r"[\d.,]+ (ns|µs|ms|s)|\d+ min( \d+ s)?", latency.get_by_test_id("stMetricValue").inner_text().strip()
    )
    latency.get_by_test_id("stTooltipIcon").hover()
    tip = page.get_by_test_id("stTooltipContent").first
    expect(tip).to_be_visible()
    passes = int(re.search(r"over ([\d,]+) timed passes", tip.inner_text()).group(1).replace(",", ""))
    assert passes >= MIN_TIMED
    no_error_on(page)
