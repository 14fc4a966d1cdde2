"""What the end-to-end tests read from a page holding the interactive diagram view, and how they drive it.

``DiagramPage`` wraps a Playwright ``Page`` with the view's parts (Playwright's CSS locators see into
the component's shadow root): its data attributes (scale, pan, paints, selection), a box by its key,
the smallest text drawn, a drag on empty paper, a box brought into view. ``tests/e2e/test_diagram_view.py``
(the demo page) and ``tests/e2e/test_explorer_diagram.py`` (the explorer) subclass it with how they open.
"""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import Locator, Page

from scripts.layout import SMALLEST_TEXT_JS


class DiagramPage:
    """A page with one diagram view, and what the tests read from it."""

    def __init__(self, page: Page, base: str) -> None:
        self.page, self.base = page, base
        self.root = page.locator(".dv-root")
        self.viewport = page.locator(".dv-viewport")
        self.paper = page.locator(".dv-paper")
        self.tooltip = page.locator(".dv-tooltip")

    def data(self, name: str) -> str:
        return self.root.get_attribute(f"data-{name}") or ""

    def scale(self) -> float:
        return float(self.data("scale"))

    def node(self, key: str) -> Locator:
        return self.page.locator(f'.dv-paper g[data-dv-key="{key}"]')

    def box(self, locator: Locator) -> dict[str, float]:
        box = locator.bounding_box()
        assert box is not None, f"{locator} is not rendered"
        return box

    def centre(self, locator: Locator) -> tuple[float, float]:
        box = self.box(locator)
        return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2

    def click_center(self, locator: Locator) -> None:
        self.page.mouse.click(*self.centre(locator))

    def smallest_text(self) -> tuple[float, int]:
        result = self.root.evaluate(SMALLEST_TEXT_JS)
        return result["min"], result["n"]

    def wait_for_frame(self) -> None:
        self.page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")

    def empty_point(self) -> tuple[float, float]:
        """A point in the view on no node: on the left edge of the view, the first free one from below
        its middle down, then up (a zoomed-in drawing may cover part of the edge)."""
        vp = self.box(self.viewport)
        for share in (0.6, 0.7, 0.8, 0.9, 0.5, 0.4, 0.3):
            x, y = vp["x"] + 6, vp["y"] + vp["height"] * share
            free = self.page.evaluate(
                "([x, y]) => { let e = document.elementFromPoint(x, y); while (e && e.shadowRoot) {"
                " const inner = e.shadowRoot.elementFromPoint(x, y); if (!inner || inner === e) break; e = inner; }"
                " return !(e && e.closest && e.closest('g.node')); }",
                [x, y],
            )
            if free:
                return x, y
        raise AssertionError("no point on the view's left edge is free of nodes")

    def drag(self, dx: float, dy: float) -> None:
        x, y = self.empty_point()
        self.page.mouse.move(x, y)
        self.page.mouse.down()
        self.page.mouse.move(x + dx, y + dy, steps=8)
        self.page.mouse.up()
        self.wait_for_frame()

    def bring_into_view(self, target: Locator) -> dict[str, float]:
        """Drag the diagram until `target` lies in the middle band of the view; its box then."""
        for _ in range(12):
            vp, box = self.box(self.viewport), self.box(target)
            dy = (vp["y"] + vp["height"] / 2) - (box["y"] + box["height"] / 2)
            dx = (vp["x"] + vp["width"] / 2) - (box["x"] + box["width"] / 2)
            if abs(dy) < vp["height"] / 4 and abs(dx) < vp["width"] / 4:
                return box
            limit = 0.4 * min(vp["width"], vp["height"])
            self.drag(max(-limit, min(limit, dx)), max(-limit, min(limit, dy)))
        raise AssertionError(f"could not bring {target} into view")


def shots_folder(variable: str, fallback: Path) -> Path:
    """Where screenshots go: the folder named by environment ``variable``, else ``fallback`` (made if missing)."""
    folder = os.environ.get(variable)
    path = Path(folder) if folder else fallback
    path.mkdir(parents=True, exist_ok=True)
    return path
