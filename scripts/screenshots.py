"""Screenshots of every page at a laptop's 1280×800 and a projector's 1920×1080, for looking at.

    .venv/bin/python scripts/screenshots.py [--size WxH ...] [OUT_DIR] [PATH?QUERY ...]

Starts `streamlit run` on 127.0.0.1 (a free port from 9000-9999), drives Debian's Chromium, and writes
OUT_DIR/<page>-<width>x<height>-<n>.png (default /tmp/shots): the first screenful, then one per
further screenful of the page's scroll, up to four. Extra arguments add pages such as
"explorer?arch=resnet152&level=layer"; each ``--size`` (e.g. ``--size 1280x800``) replaces the
default sizes.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.harness import chromium, streamlit_server, warm_up  # noqa: E402

SIZES = ((1280, 800), (1920, 1080))
MAX_SCREENS = 4


def settle(page) -> None:
    page.get_by_test_id("stMain").wait_for(timeout=120_000)
    page.wait_for_timeout(500)
    page.get_by_test_id("stStatusWidget").wait_for(state="detached", timeout=120_000)
    page.wait_for_function("() => !document.querySelector('[data-testid=stSkeleton]')", timeout=120_000)
    page.wait_for_timeout(1500)  # charts and the diagram finish drawing


def parse_sizes(argv: list[str]) -> tuple[list[tuple[int, int]], list[str]]:
    """The ``--size WxH`` options (or SIZES when none is given) and the other arguments, in order."""
    sizes, rest = [], []
    args = iter(argv)
    for arg in args:
        if arg == "--size":
            text = next(args, "")
            if not re.fullmatch(r"\d+x\d+", text):
                raise SystemExit(f"--size {text!r}: give the viewport as WIDTHxHEIGHT, e.g. --size 1280x800")
            width, height = text.split("x")
            sizes.append((int(width), int(height)))
        else:
            rest.append(arg)
    return sizes or list(SIZES), rest


def main(argv: list[str]) -> int:
    sizes, argv = parse_sizes(argv)
    out = Path(argv[0]) if argv else Path("/tmp/shots")
    extra = argv[1:]
    out.mkdir(parents=True, exist_ok=True)
    with streamlit_server() as base, chromium() as browser:
        warm_up(browser, base)
        page = browser.new_page()
        page.goto(base + "/explorer")
        nav = page.get_by_test_id("stSidebarNav")
        nav.wait_for()
        targets = [urlparse(a.get_attribute("href")).path.lstrip("/") for a in nav.locator("a").all()]
        page.close()
        for width, height in sizes:
            for target in targets + extra:
                page = browser.new_page(viewport={"width": width, "height": height})
                page.goto(f"{base}/{target}")
                settle(page)
                name = re.sub(r"[^\w.-]+", "_", target) or "root"
                main_box = page.get_by_test_id("stMain")
                scroll_height = main_box.evaluate("e => e.scrollHeight")
                for n in range(MAX_SCREENS):
                    path = out / f"{name}-{width}x{height}-{n}.png"
                    page.screenshot(path=str(path))
                    print(path)
                    if (n + 1) * height >= scroll_height:
                        break
                    main_box.evaluate(f"e => e.scrollTo(0, {(n + 1) * (height - 80)})")
                    page.wait_for_timeout(400)
                page.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
