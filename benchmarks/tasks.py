"""The six tasks of issue 14, done as a user would in Chromium, counting actions and seconds.

    .venv/bin/python benchmarks/tasks.py [--root DIR] [--size 1280x800] [--json FILE]

``--root`` is any checkout of this app (default: this one); its own ``.venv/bin/python`` serves it
(on 127.0.0.1 through ``scripts/harness.py``: `python -m app.serve` where the checkout has it), so the same script
times the app before and after a change. The browser is Debian's Chromium (``CHROMIUM=`` picks
another) driven by this interpreter's Playwright. The server is warmed by one load of the explorer (torch's import and first
trace are not a task's); then each task starts in a new tab at the app's root URL, as a visitor would.

Each task uses the quickest way the page offers and counts what the user does: **clicks** (a
pointer click or a key press, such as → to step), **typed** (text typed into a field: a preset's
name to filter a long list, counted once per field), **scrolls** (bringing something below the fold
into view). **Seconds** run from the task's start to its goal shown on screen: the app's own time
(the server computing, the browser drawing), not a person's reading time. Where a page offers a
shortcut (a "ResNet-34 vs 50" button, arrow keys, a click on a chart) the task takes it, otherwise
it falls back to what the older pages had (presets picked one by one, layers typed into a list).

The tasks: (1) ResNet-50's diagram, then one bottleneck drawn op by op; (2) ResNet-34 against
ResNet-50, then the bottleneck against two 3×3 convs; (3) the receptive field through ResNet-18, at
the end of each of its four stages; (4) a forward pass: top-5 and activation maps; (5) a custom
CIFAR ResNet-110 (shortcut B) shared by its URL and opened in a new tab; (6) the lecture, first
step to last.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DIAGRAM_TEXT = (
    "[data-testid='resnet-diagram'] svg text, [data-testid='stGraphVizChart'] svg text, "
    "[class*='st-key-'][class*='diagram'] svg text"
)
TIMEOUT_MS = 300_000


@dataclass
class Result:
    task: str
    clicks: int = 0
    typed: int = 0
    scrolls: int = 0
    seconds: float = 0.0
    outcome: str = "ok"


class User:
    """One visitor in one tab: every action counted on ``result``."""

    def __init__(self, browser, base: str, size: tuple[int, int], result: Result) -> None:
        self.context = browser.new_context(viewport={"width": size[0], "height": size[1]})
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.base, self.size, self.result = base, size, result

    # -- what the user does
    def click(self, locator) -> None:
        locator.click()
        self.result.clicks += 1

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)
        self.result.clicks += 1

    def type_into(self, locator, text: str) -> None:
        locator.fill(text) if locator.evaluate("e => e.tagName === 'INPUT' && !e.readOnly") else locator.type(text)
        self.result.typed += 1

    def bring_into_view(self, locator) -> None:
        """Scroll to ``locator`` if it is not on screen yet (one scroll, counted)."""
        box = locator.bounding_box()
        if box is None or box["y"] + min(box["height"], 200) > self.size[1] or box["y"] < 0:
            locator.scroll_into_view_if_needed()
            self.result.scrolls += 1

    def nav(self, title: str) -> None:
        self.click(self.page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True))
        self.settle()

    def pick(self, combobox, option: str) -> None:
        """Choose ``option`` in a select box: click, and click the option if it is in view, else type to filter."""
        self.click(combobox)
        listed = self.page.get_by_role("option", name=option, exact=True)
        if listed.count() and listed.first.is_visible():
            self.click(listed.first)
        else:
            self.page.keyboard.type(option)
            self.result.typed += 1
            self.press("Enter")
        self.settle()

    # -- waiting (not counted)
    def settle(self) -> None:
        page = self.page
        page.wait_for_timeout(300)
        page.wait_for_function(
            "() => !document.querySelector('[data-testid=stStatusWidget]') && !document.querySelector('[data-testid=stSkeleton]')",
            timeout=TIMEOUT_MS,
        )

    def query(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(urlparse(self.page.url).query).items()}

    def wait_url(self, timeout_s: float = TIMEOUT_MS / 1000, **params: str) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            query = self.query()
            if all(query.get(k) == v for k, v in params.items()):
                return
            self.page.wait_for_timeout(100)
        raise TimeoutError(f"the URL never said {params}: {self.page.url}")

    def has(self, locator) -> bool:
        return locator.count() > 0 and locator.first.is_visible()


def timed(name: str, browser, base: str, size: tuple[int, int], steps: Callable[[User], None]) -> Result:
    result = Result(name)
    user = User(browser, base, size, result)
    t = time.perf_counter()
    try:
        steps(user)
    except Exception as e:  # one task failing still lets the others run
        result.outcome = f"failed: {type(e).__name__}: {str(e).splitlines()[0][:160]}"
    finally:
        result.seconds = time.perf_counter() - t
        user.context.close()
    return result


# -- the six tasks ---------------------------------------------------------------------------------


def resnet50_and_a_bottleneck(user: User) -> None:
    page = user.page
    page.goto(user.base + "/")
    page.locator(DIAGRAM_TEXT).filter(has_text=re.compile(r"^stem$|resnet50")).first.wait_for()
    user.settle()
    # the diagram's level: a segmented control's "layers" (a radio button on older pages)
    segment = page.get_by_test_id("stButtonGroup").first.locator("button", has_text=re.compile(r"^layers$"))
    user.click(segment if user.has(segment) else page.get_by_role("radio", name=re.compile(r"^layers?$", re.I)).first)
    user.settle()
    node = page.locator(DIAGRAM_TEXT).filter(has_text=re.compile(r"1×1 conv"))
    node.first.wait_for()
    user.bring_into_view(node.first)


def resnet34_vs_50_and_the_bottleneck_panel(user: User) -> None:
    page = user.page
    page.goto(user.base + "/")
    user.settle()
    user.nav("Compare")
    pair = page.get_by_role("button", name="ResNet-34 vs 50")
    if user.has(pair):
        user.click(pair)
        user.settle()
    else:  # two architectures, then each preset in its own select box
        user.click(page.get_by_role("radio", name=re.compile(r"^2\b")).first)
        user.settle()
        presets = page.get_by_role("combobox", name=re.compile(r"preset", re.I))
        user.pick(presets.nth(0), "resnet34")
        user.pick(presets.nth(1), "resnet50")
    user.wait_url(n="2", a_arch="resnet34", b_arch="resnet50")
    heading = page.get_by_role("heading", name=re.compile(r"bottleneck block against two 3×3", re.I))
    heading.wait_for()
    user.bring_into_view(heading)
    page.get_by_text(re.compile(r"69,632|69\.6 k")).first.wait_for(state="visible")


def receptive_field_through_resnet18(user: User) -> None:
    from resnet_core import PRESETS, analyze

    a = analyze(PRESETS["resnet18"], 224)
    page = user.page
    page.goto(user.base + "/")
    user.settle()
    user.nav("Receptive field")
    preset = page.get_by_role("combobox", name="Preset")
    if preset.input_value() != "resnet18":
        user.pick(preset, "resnet18")
    for target in ("layer1.1.conv2", "layer2.1.conv2", "layer3.1.conv2", "layer4.1.conv2"):
        if user.query().get("layer") != target:
            curve = page.locator(".st-key-rf_growth .js-plotly-plot")
            names = curve.first.evaluate("e => e.data?.[0]?.customdata ?? null") if user.has(curve) else None
            if names and target in names:  # a click on the growth curve's point for that layer
                user.bring_into_view(curve.first)
                index = names.index(target)
                point = page.locator(".st-key-rf_growth .scatterlayer .trace").first.locator(".points path")
                point.nth(index).click(force=True)
                user.result.clicks += 1
            else:  # the layer typed into its select box
                user.pick(page.get_by_role("combobox", name=re.compile(r"^Layer")), target)
        user.wait_url(layer=target)
        user.settle()
        rf = a.layer(target).rf
        page.get_by_text(re.compile(rf"\b{rf} × {rf} px")).first.wait_for(state="visible")


def forward_pass_and_maps(user: User) -> None:
    page = user.page
    page.goto(user.base + "/")
    user.settle()
    user.nav("Live")
    page.get_by_text("Top-5", exact=False).first.wait_for(state="visible")
    maps = page.locator(".st-key-live_activations .js-plotly-plot")
    maps.first.wait_for(state="attached")
    user.bring_into_view(maps.first)
    maps.first.wait_for(state="visible")


def custom_resnet110_shared_by_url(user: User) -> None:
    page = user.page
    page.goto(user.base + "/")
    user.settle()
    user.pick(page.get_by_role("combobox", name="Preset"), "resnet110")
    user.wait_url(arch="resnet110")
    user.pick(page.get_by_role("combobox", name=re.compile("^Shortcut")), "B: project on change")
    user.wait_url(arch="resnet110", shortcut="B")
    link = page.url
    user.result.clicks += 1  # copy the link from the address bar
    other = user.context.new_page()
    other.goto(link)
    user.result.clicks += 1  # paste it into another tab
    other.locator("h1").filter(has_text="resnet110 (modified: shortcut B)").first.wait_for()


def the_lecture(user: User) -> None:
    page = user.page
    page.goto(user.base + "/")
    user.settle()
    user.nav("Explainer")
    # the explainer's lecture button, "Present ▶" ("Lecture mode" on older pages; not the sidebar's
    # "Presentation size" toggle)
    user.click(page.get_by_role("button", name=re.compile(r"lecture mode|^Present", re.I)).first)
    user.settle()
    user.wait_url(mode="lecture")
    keys: bool | None = None  # does → advance a step? (tried once)
    while True:
        nxt = page.get_by_role("button", name=re.compile(r"^Next"))
        nxt.first.wait_for(state="attached")  # drawn on every step, disabled on the last
        if nxt.first.is_disabled():
            break  # the last step
        step = int(user.query().get("step", "1"))
        if keys is not False:
            page.evaluate("() => document.activeElement?.blur()")  # the keys go to the page, not a widget
            page.keyboard.press("ArrowRight")
            user.result.clicks += 1
            try:
                user.wait_url(step=str(step + 1), timeout_s=10 if keys is None else 20)
                keys = True
            except TimeoutError:
                if not keys:
                    user.result.clicks -= 1
                    keys = False  # this lecture has no keys: its Next button then
                else:  # a press that changed nothing in 20 s is pressed again (and counted), as a presenter would
                    page.keyboard.press("ArrowRight")
                    user.result.clicks += 1
                    user.wait_url(step=str(step + 1), timeout_s=120)
        if keys is False:  # Next; clicked again (and counted) when a click changed nothing in 60 s, as a user would
            for attempt in range(3):
                user.click(nxt.first)
                try:
                    user.wait_url(step=str(step + 1), timeout_s=60)
                    break
                except TimeoutError:
                    if attempt == 2:
                        raise
        user.settle()
    page.locator("h1").first.wait_for()


TASKS: list[tuple[str, Callable[[User], None]]] = [
    ("1 ResNet-50 diagram and a bottleneck", resnet50_and_a_bottleneck),
    ("2 ResNet-34 vs 50 and the bottleneck panel", resnet34_vs_50_and_the_bottleneck_panel),
    ("3 receptive field through ResNet-18", receptive_field_through_resnet18),
    ("4 forward pass: top-5 and maps", forward_pass_and_maps),
    ("5 custom CIFAR ResNet-110 shared by URL", custom_resnet110_shared_by_url),
    ("6 the lecture, first step to last", the_lecture),
]


# -- the server and the browser ------------------------------------------------------------------


@contextmanager
def server(root: Path) -> Iterator[str]:
    """The app of checkout ``root`` (``scripts/harness``: `python -m app.serve` where the checkout has it)
    served by its own venv's Python (this one's if it has none)."""
    from scripts.harness import streamlit_server

    python = root / ".venv" / "bin" / "python"
    with streamlit_server(root=root, python=str(python) if python.exists() else None) as base:
        yield base


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to serve (default: this one)")
    parser.add_argument("--size", default="1280x800", help="the browser's viewport, WIDTHxHEIGHT")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("tasks", nargs="*", type=int, help="task numbers to run (default: all six)")
    args = parser.parse_args(argv)
    size = tuple(int(v) for v in args.size.split("x"))
    from scripts.harness import chromium

    chosen = [TASKS[n - 1] for n in args.tasks] if args.tasks else TASKS
    root = args.root.resolve()
    commit = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    print(f"checkout {root} at {commit.stdout.strip() or '?'}, viewport {size[0]}×{size[1]}")
    with server(root) as base, chromium() as browser:
        warm = browser.new_page()
        warm.goto(base + "/explorer", timeout=TIMEOUT_MS)
        warm.locator(DIAGRAM_TEXT).first.wait_for(timeout=TIMEOUT_MS)
        warm.close()
        results = [timed(name, browser, base, size, steps) for name, steps in chosen]
    print(f"{'task':46} {'clicks':>6} {'typed':>5} {'scrolls':>7} {'seconds':>8}  outcome")
    for r in results:
        print(f"{r.task:46} {r.clicks:>6} {r.typed:>5} {r.scrolls:>7} {r.seconds:>8.1f}  {r.outcome}")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=1) + "\n")
    return 0 if all(r.outcome == "ok" for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
