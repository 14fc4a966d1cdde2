"""The explainer's text: ``assets/explainer/NN_slug.md`` parsed into sections and lecture steps.

One file per section::

    # Title of the section
    reading text, Markdown, with placeholders such as {{resnet50.params}} …
    ## A term {#anchor}        (optional: a heading others link to, ?section=slug&term=anchor)
    === Title of lecture step one
    @diagram residual          (optional: block figures drawn beside the step, side by side)
    @chart table2              (optional: the chart drawn beside it, app.teaching.slides)
    - one idea, a few short lines
    === Title of lecture step two
    …

Everything before the first ``===`` line is the reading text; each ``===`` starts one lecture step.
A section without ``===`` lines is for reading only (the glossary). The text is returned raw,
placeholders and all: ``app.teaching.numbers.fill`` fills them. This is the one module of
``app.teaching`` that reads ``assets/``. No Streamlit here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "explainer"
STEP_MARK = "=== "
DIAGRAM_MARK = "@diagram "
CHART_MARK = "@chart "
ANCHORED_HEADING = re.compile(r"^## (?P<title>.+?) \{#(?P<anchor>[a-z0-9-]+)\}\s*$", re.M)


@dataclass(frozen=True)
class LectureStep:
    """One lecture screen: a title, a few lines, block figures (``app.teaching.figures.DIAGRAMS`` keys)
    and a chart (``app.teaching.slides.CHARTS`` key) to draw beside them."""

    section: str
    title: str
    body: str
    diagrams: tuple[str, ...] = ()
    chart: str | None = None


@dataclass(frozen=True)
class Section:
    slug: str  # "01_degradation" → "degradation"
    number: int
    title: str
    body: str  # the reading text (raw, with placeholders)
    steps: tuple[LectureStep, ...]
    path: Path = field(compare=False)

    def anchors(self) -> dict[str, str]:
        """``{anchor: heading}`` of the headings others may link to (``## Term {#anchor}``)."""
        return {m["anchor"]: m["title"] for m in ANCHORED_HEADING.finditer(self.body)}

    def parts(self) -> list[tuple[str, str]]:
        """The reading text cut at its anchored headings: ``("", text)`` and ``(anchor, heading)`` parts."""
        out: list[tuple[str, str]] = []
        at = 0
        for m in ANCHORED_HEADING.finditer(self.body):
            out.append(("", self.body[at : m.start()].strip()))
            out.append((m["anchor"], m["title"]))
            at = m.end()
        out.append(("", self.body[at:].strip()))
        return [(anchor, text) for anchor, text in out if text]

    def term(self, anchor: str) -> tuple[str, str] | None:
        """(heading, text) of the anchored heading ``anchor`` and the text under it, or None."""
        if anchor not in self.anchors():
            return None
        parts = self.parts()
        for i, (a, heading) in enumerate(parts):
            if a == anchor:
                text = parts[i + 1][1] if i + 1 < len(parts) and not parts[i + 1][0] else ""
                return heading, text
        return None


def parse_section(path: Path) -> Section:
    number_text, _, slug = path.stem.partition("_")
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines or not lines[0].startswith("# "):
        raise ValueError(f"{path.name}: the first line must be the title, '# Title'")
    title = lines[0][2:].strip()
    body: list[str] = []
    steps: list[dict] = []
    for line in lines[1:]:
        if line.startswith(STEP_MARK):
            steps.append({"title": line[len(STEP_MARK) :].strip(), "lines": [], "diagrams": (), "chart": None})
        elif steps and line.startswith(DIAGRAM_MARK):
            steps[-1]["diagrams"] = tuple(line[len(DIAGRAM_MARK) :].split())
        elif steps and line.startswith(CHART_MARK):
            steps[-1]["chart"] = line[len(CHART_MARK) :].strip()
        elif steps:
            steps[-1]["lines"].append(line)
        else:
            body.append(line)
    if not "".join(body).strip():
        raise ValueError(f"{path.name}: no reading text before the first lecture step")
    return Section(
        slug=slug,
        number=int(number_text),
        title=title,
        body="\n".join(body).strip(),
        steps=tuple(
            LectureStep(slug, s["title"], "\n".join(s["lines"]).strip(), s["diagrams"], s["chart"]) for s in steps
        ),
        path=path,
    )


@cache
def sections(directory: Path = ASSETS) -> tuple[Section, ...]:
    """Every section, in file-name order."""
    return tuple(parse_section(p) for p in sorted(directory.glob("[0-9][0-9]_*.md")))


def section(slug: str) -> Section:
    for s in sections():
        if s.slug == slug:
            return s
    raise KeyError(f"no section {slug!r}; sections: {', '.join(s.slug for s in sections())}")


def steps() -> tuple[LectureStep, ...]:
    """All lecture steps in order; step N of the deep link ``?mode=lecture&step=N`` is ``steps()[N - 1]``."""
    return tuple(step for s in sections() for step in s.steps)


def first_step_of(slug: str) -> int:
    """The 1-based lecture step where section ``slug`` starts (KeyError for a reading-only section)."""
    for i, step in enumerate(steps(), start=1):
        if step.section == slug:
            return i
    raise KeyError(slug)


GLOSSARY = "glossary"


def glossary_terms() -> dict[str, str]:
    """``{anchor: term}`` of the glossary: what ``?section=glossary&term=anchor`` links may point at."""
    return section(GLOSSARY).anchors()
