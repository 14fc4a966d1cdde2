"""Load test: N concurrent Chromium sessions doing random things on every page of one server.

    .venv/bin/python benchmarks/bench_load.py [--sessions 8] [--minutes 2] [--root DIR] [--seed 0] [--json FILE]

Each session loops until the time is up, picking an action at random (weights in ``ACTIONS``):
explorer links and preset changes, rapid double clicks on the Level control, Compare with 2–4
architectures, a receptive-field gradient measurement, Live's forward pass (prediction) and a timing
run, lecture steps with a double-clicked Next, links to huge specs, and deliberately bad links
(injection strings, 10,000-character values, Unicode digits). Reported:

* latency from the action to the settled page (Streamlit's script state back to ``notRunning``, no
  skeleton left): p50, p95 and max, overall and per action;
* problems on actions that did nothing wrong: exceptions, error boxes, link notices ("is not
  allowed", "Ignored …") and a title that is not the one asked for (settings lost); deliberate bad
  input may show errors and notices, but never an exception or a traceback;
* the server's resident memory (VmRSS) at start, at its peak, and 60 s after the sessions stop;
* the longest any forward pass waited for the device lock held by another session's work
  (``benchmarks/load_app.py`` times every ``resnet_core.runtime.holding``);
* tracebacks in the server log.

``--root`` serves another checkout (with its own ``.venv``), so the code before a change can be
measured the same way. The machine's load changes every figure: compare runs made back to back.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.harness import CHROMIUM_ARGS, chromium_path, streamlit_process  # noqa: E402

WRAPPER = Path(__file__).with_name("load_app.py")
SETTLE_TIMEOUT_S = 180

# Counts every script run the page starts and finishes (stApp's data-test-script-state), so a click
# can wait for the run it caused rather than for a page that has not noticed the click yet.
RUN_COUNTER_JS = """
window.__runs = {started: 0, finished: 0};
new MutationObserver((records) => {
  for (const r of records) {
    const state = r.target.getAttribute('data-test-script-state');
    if (state === 'running') window.__runs.started++;
    if (state === 'notRunning') window.__runs.finished++;
  }
}).observe(document, {subtree: true, attributes: true, attributeFilter: ['data-test-script-state']});
"""
SETTLED_JS = """(finishedBefore) => {
  const app = document.querySelector('[data-testid=stApp]');
  return app && app.getAttribute('data-test-script-state') === 'notRunning'
    && window.__runs.finished > finishedBefore
    && !document.querySelector('[data-testid=stSkeleton]')
    && !document.querySelector('[data-testid=stStatusWidget]');
}"""
#: Link notices and field errors: on an action that did nothing wrong, a sign of settings lost.
NOTICE_WORDS = ("is not allowed", "Ignored ", "not one of", "not among")

HUGE_LINKS = (
    "/explorer?arch=resnet18&layers=" + ",".join(["1000"] * 8),  # too small at 224: refused
    "/explorer?arch=resnet18&width=8&layers=" + ",".join(["1000"] * 4),  # valid, 4000 blocks
    "/compare?n=2&a_arch=resnet18&a_layers=" + ",".join(["1000"] * 4) + "&a_width=8",
    "/live?live_arch=resnet18&live_layers=" + ",".join(["1000"] * 8),
    "/receptive-field?arch=resnet18&width=8&layers=" + ",".join(["1000"] * 4),
)
BAD_VALUES = (
    "![x](http://127.0.0.1:9/track.png)",
    "[Session expired - log in again](https://evil.example/login)",
    "x" * 10_000,
    "６４",
    "3, 4, 6, 3",
    "224×160",
    "-1",
    "",
)
BAD_PARAMS = {
    "/explorer": ("arch", "level", "unfold", "annot", "dir", "draw", "stage", "width", "layers", "input"),
    "/compare": ("n", "a_arch", "b_layers", "panel_width", "panel_map"),
    "/receptive-field": ("layer", "row", "col", "image", "input"),
    "/live": ("live_arch", "live_width", "live_input"),
    "/explainer": ("section", "step", "ex_q_arch"),
}
PRESETS = ("resnet18", "resnet34", "resnet50", "resnet20", "resnet56", "resnext50_32x4d", "wide_resnet50_2")


@dataclass
class Outcome:
    session: int
    action: str
    latency_s: float
    problems: list[str] = field(default_factory=list)


class Session:
    """One browser context and the page it drives."""

    def __init__(self, index: int, context, base: str, rng: random.Random) -> None:
        self.index, self.context, self.base, self.rng = index, context, base, rng
        self.page = None
        self.at = ""  # the path of the page shown

    async def start(self) -> None:
        await self.context.add_init_script(RUN_COUNTER_JS)
        self.page = await self.context.new_page()

    async def finished_runs(self) -> int:
        try:
            return await self.page.evaluate("() => window.__runs ? window.__runs.finished : 0")
        except Exception:  # a navigation in progress
            return 0

    async def settle(self, finished_before: int) -> None:
        await self.page.wait_for_function(SETTLED_JS, arg=finished_before, timeout=SETTLE_TIMEOUT_S * 1000, polling=100)

    async def goto(self, path: str) -> None:
        await self.page.goto(self.base + path, wait_until="domcontentloaded", timeout=SETTLE_TIMEOUT_S * 1000)
        await self.settle(0)
        self.at = path.split("?")[0]

    async def click(self, locator) -> None:
        before = await self.finished_runs()
        await locator.click(timeout=30_000)
        await self.settle(before)

    async def problems(self, deliberate: bool, title: str | None = None) -> list[str]:
        page, found = self.page, []
        for e in await page.get_by_test_id("stException").all():
            found.append("exception: " + (await e.inner_text())[:200])
        if "Traceback (most recent call last)" in await page.content():
            found.append("a traceback in the page")
        if not deliberate:
            for e in await page.get_by_test_id("stAlertContentError").all():
                found.append("error box: " + (await e.inner_text())[:200])
            for e in await page.get_by_test_id("stAlertContentWarning").all():
                text = await e.inner_text()
                if any(w in text for w in NOTICE_WORDS):
                    found.append("notice: " + text[:200])
            if title is not None:
                h1 = page.locator("h1").first
                shown = (await h1.inner_text()).strip() if await h1.count() else ""
                if not shown.startswith(title):
                    found.append(f"settings lost: the title says {shown[:80]!r}, the link asked for {title!r}")
        return found


# -- the actions: each returns (deliberately bad input?, the title to expect or None) ---------------


async def explorer_link(s: Session) -> tuple[bool, str | None]:
    arch = s.rng.choice(PRESETS)
    await s.goto(f"/explorer?arch={arch}")
    return False, arch


async def explorer_level_clicks(s: Session) -> tuple[bool, str | None]:
    """Two Level options clicked 50 ms apart (a double click across the segmented control)."""
    if s.at != "/explorer":
        await s.goto("/explorer?arch=resnet18")
    title = (await s.page.locator("h1").first.inner_text()).strip()
    group = s.page.get_by_test_id("stButtonGroup").first
    buttons = await group.get_by_role("button").all() if await group.count() else []
    if len(buttons) < 2:
        return False, title
    first, second = s.rng.sample(buttons, 2)
    before = await s.finished_runs()
    await first.click(timeout=30_000)
    await s.page.wait_for_timeout(50)
    await second.click(timeout=30_000)
    await second.click(timeout=30_000)  # clicking the chosen option again must not unset it
    await s.settle(before)
    return False, title


async def explorer_pick_preset(s: Session) -> tuple[bool, str | None]:
    if s.at != "/explorer":
        await s.goto("/explorer?arch=resnet50")
    arch = s.rng.choice(PRESETS)
    box = s.page.get_by_role("combobox", name="Preset").first
    before = await s.finished_runs()
    await box.click(timeout=30_000)
    await s.page.get_by_role("option", name=arch, exact=True).click(timeout=30_000)
    await s.settle(before)
    return False, arch


async def compare_link(s: Session) -> tuple[bool, str | None]:
    await s.goto(f"/compare?n={s.rng.choice((2, 3, 4))}")
    return False, None


async def rf_gradient(s: Session) -> tuple[bool, str | None]:
    layer = s.rng.choice(("layer1.0.conv1", "layer2.0.conv2", "layer3.1.add"))
    await s.goto(f"/receptive-field?arch=resnet18&input=96&layer={layer}")
    button = s.page.get_by_role("button", name="Measure by gradient")
    if await button.count():
        await s.click(button.first)
    return False, None


async def live_predict(s: Session) -> tuple[bool, str | None]:
    arch, size = s.rng.choice((("resnet18", 96), ("resnet20", 32), ("resnet50", 128)))
    await s.goto(f"/live?live_arch={arch}&live_input={size}")
    return False, None


async def live_time(s: Session) -> tuple[bool, str | None]:
    if s.at != "/live":
        await s.goto("/live?live_arch=resnet18&live_input=96")
    tab = s.page.get_by_role("tab", name="Timing")
    if await tab.count():
        await tab.first.click(timeout=30_000)
    button = s.page.get_by_role("button", name="Time batch").first
    await s.click(button)
    return False, None


async def lecture(s: Session) -> tuple[bool, str | None]:
    await s.goto(f"/explainer?mode=lecture&step={s.rng.randint(1, 10)}")
    nxt = s.page.get_by_role("button", name="Next").first
    if await nxt.count() and await nxt.is_enabled():
        before = await s.finished_runs()
        await nxt.dblclick(timeout=30_000)
        await s.settle(before)
    return False, None


async def huge_link(s: Session) -> tuple[bool, str | None]:
    await s.goto(s.rng.choice(HUGE_LINKS))
    return True, None


async def bad_link(s: Session) -> tuple[bool, str | None]:
    path = s.rng.choice(list(BAD_PARAMS))
    param = s.rng.choice(BAD_PARAMS[path])
    await s.goto(f"{path}?{param}={quote(s.rng.choice(BAD_VALUES))}")
    return True, None


Action = Callable[[Session], Awaitable[tuple[bool, str | None]]]
#: (action, weight): links and clicks most often, heavy work now and then.
ACTIONS: tuple[tuple[Action, int], ...] = (
    (explorer_link, 4),
    (explorer_level_clicks, 3),
    (explorer_pick_preset, 2),
    (compare_link, 2),
    (rf_gradient, 1),
    (live_predict, 2),
    (live_time, 1),
    (lecture, 2),
    (huge_link, 1),
    (bad_link, 2),
)


async def run_session(s: Session, deadline: float, outcomes: list[Outcome]) -> None:
    await s.start()
    actions, weights = zip(*ACTIONS, strict=True)
    while time.monotonic() < deadline:
        action = s.rng.choices(actions, weights)[0]
        t0 = time.perf_counter()
        try:
            deliberate, title = await action(s)
            latency = time.perf_counter() - t0
            problems = await s.problems(deliberate, title)
        except Exception as e:  # a timeout or a page that never settled is a problem, not a crash
            latency = time.perf_counter() - t0
            problems = [f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"]
            s.at = ""
        outcomes.append(Outcome(s.index, action.__name__, latency, problems))


class RssSampler(threading.Thread):
    """Samples a process's VmRSS every 0.5 s; ``peak`` and ``last`` in bytes."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.last, self.stop = pid, 0, 0, threading.Event()

    def rss(self) -> int:
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    def run(self) -> None:
        while not self.stop.is_set():
            self.last = self.rss()
            self.peak = max(self.peak, self.last)
            time.sleep(0.5)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def drive(base: str, sessions: int, seconds: float, seed: int, rss: RssSampler) -> tuple[list[Outcome], int]:
    """The sessions' outcomes, and the server's RSS after the warm-up load (the start figure)."""
    from playwright.async_api import async_playwright

    outcomes: list[Outcome] = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            # one warm-up load, so torch's import is not in the first session's latency
            warm = await browser.new_page()
            await warm.goto(base + "/explorer", timeout=300_000)
            await warm.get_by_test_id("stMetricValue").first.wait_for(timeout=300_000)
            await warm.close()
            start = rss.rss()
            contexts = [await browser.new_context(viewport={"width": 1280, "height": 800}) for _ in range(sessions)]
            deadline = time.monotonic() + seconds
            await asyncio.gather(
                *(
                    run_session(Session(i, c, base, random.Random(seed * 1000 + i)), deadline, outcomes)
                    for i, c in enumerate(contexts)
                )
            )
            for c in contexts:
                await c.close()
        finally:
            await browser.close()
    return outcomes, start


@dataclass
class Report:
    sessions: int
    seconds: float
    actions: int
    latency_p50_s: float
    latency_p95_s: float
    latency_max_s: float
    per_action: dict[str, dict[str, float]]
    problems: list[str]
    rss_start_mb: float
    rss_peak_mb: float
    rss_after_60s_mb: float  # named for the default wait; ``settle_s`` says how long it was
    max_lock_wait_s: float | None
    lock_waits_over_1s: int | None
    log_tracebacks: int
    server_log: str
    settle_s: float = 60.0

    def lines(self) -> list[str]:
        out = [
            f"{self.sessions} sessions × {self.seconds:.0f} s: {self.actions} actions",
            f"latency action → settled page: p50 {self.latency_p50_s:.2f} s, p95 {self.latency_p95_s:.2f} s, "
            f"max {self.latency_max_s:.2f} s",
        ]
        for name, d in sorted(self.per_action.items()):
            out.append(
                f"  {name:<22} n={d['n']:>3.0f}  p50 {d['p50']:6.2f} s  p95 {d['p95']:6.2f} s  max {d['max']:6.2f} s"
            )
        out.append(f"problems on actions that did nothing wrong (must be 0): {len(self.problems)}")
        out += [f"  {p}" for p in self.problems[:30]]
        out.append(
            f"server RSS: start {self.rss_start_mb:,.0f} MB, peak {self.rss_peak_mb:,.0f} MB, "
            f"{self.settle_s:.0f} s after {self.rss_after_60s_mb:,.0f} MB"
        )
        if self.max_lock_wait_s is None:
            out.append("longest wait for the device lock: not recorded")
        else:
            out.append(
                f"longest wait for another session's work (device lock): {self.max_lock_wait_s:.2f} s "
                f"({self.lock_waits_over_1s} waits over 1 s)"
            )
        out.append(f"tracebacks in the server log: {self.log_tracebacks} (log: {self.server_log})")
        return out


def run_load(
    sessions: int = 8,
    seconds: float = 120.0,
    root: Path = ROOT,
    seed: int = 0,
    settle_after_s: float = 60.0,
    env: dict[str, str] | None = None,
) -> Report:
    """Start the server of checkout ``root``, drive it, and measure; the server is stopped at the end."""
    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    stats_file = work / "waits.json"
    python = str(root / ".venv" / "bin" / "python")
    with streamlit_process(
        work, str(WRAPPER), root=root, python=python, env={"LOAD_STATS_FILE": str(stats_file), **(env or {})}
    ) as (base, proc, log):
        sampler = RssSampler(proc.pid)
        sampler.start()
        outcomes, start = asyncio.run(drive(base, sessions, seconds, seed, sampler))
        time.sleep(settle_after_s)
        after = sampler.rss()
        sampler.stop.set()
        waits = json.loads(stats_file.read_text()) if stats_file.exists() else None
        log_text = log.read_text(errors="replace")
    latencies = [o.latency_s for o in outcomes]
    per_action: dict[str, dict[str, float]] = {}
    for name in {o.action for o in outcomes}:
        values = [o.latency_s for o in outcomes if o.action == name]
        per_action[name] = {
            "n": len(values),
            "p50": statistics.median(values),
            "p95": percentile(values, 95),
            "max": max(values),
        }
    problems = [f"session {o.session} {o.action}: {p}" for o in outcomes for p in o.problems]
    mb = 2**20
    return Report(
        sessions=sessions,
        seconds=seconds,
        actions=len(outcomes),
        latency_p50_s=statistics.median(latencies) if latencies else 0.0,
        latency_p95_s=percentile(latencies, 95) if latencies else 0.0,
        latency_max_s=max(latencies, default=0.0),
        per_action=per_action,
        problems=problems,
        rss_start_mb=start / mb,
        rss_peak_mb=sampler.peak / mb,
        rss_after_60s_mb=after / mb,
        max_lock_wait_s=None if waits is None else waits["max_wait_s"],
        lock_waits_over_1s=None if waits is None else waits["waits_over_1s"],
        log_tracebacks=log_text.count("Traceback (most recent call last)"),
        server_log=str(log),
        settle_s=settle_after_s,
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sessions", type=int, default=8)
    p.add_argument("--minutes", type=float, default=2.0)
    p.add_argument("--root", type=Path, default=ROOT, help="the checkout to serve (with its own .venv)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--settle", type=float, default=60.0, help="seconds to wait before the last RSS reading")
    p.add_argument("--json", type=Path, help="also write the report here")
    args = p.parse_args(argv)
    print(f"== load: {args.root} (a shared 2-core machine: figures are noisy)")
    report = run_load(args.sessions, args.minutes * 60, args.root.resolve(), args.seed, args.settle)
    print("\n".join(report.lines()))
    if args.json:
        args.json.write_text(json.dumps(report.__dict__, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
