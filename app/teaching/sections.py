"""The explainer's text: ``assets/explainer/NN_slug.md`` parsed into sections and lecture steps.

One file per section::

    # Title of the section
    reading text, Markdown, with placeholders such as {{resnet50.params}} …
    === Title of lecture step one
    @diagram residual          (optional: the block diagram drawn beside the step)
    - one idea, a few short lines
    === Title of lecture step two
    …

Everything before the first ``===`` line is the reading text; each ``===`` starts one lecture step.
The text is returned raw, placeholders and all: ``app.teaching.numbers.fill`` fills them. This is
the one module of ``app.teaching`` that reads ``assets/``. No Streamlit here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "explainer"
STEP_MARK = "=== "
DIAGRAM_MARK = "@diagram "


@dataclass(frozen=True)
class LectureStep:
    """One lecture screen: a title, a few lines, optionally a diagram key (``app.teaching.figures.DIAGRAMS``)."""

    section: str
    title: str
    body: str
    diagram: str | None = None


@dataclass(frozen=True)
class Section:
    slug: str  # "01_degradation" → "degradation"
    number: int
    title: str
    body: str  # the reading text (raw, with placeholders)
    steps: tuple[LectureStep, ...]
    path: Path = field(compare=False)


def parse_section(path: Path) -> Section:
    number_text, _, slug = path.stem.partition("_")
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines or not lines[0].startswith("# "):
        raise ValueError(f"{path.name}: the first line must be the title, '# Title'")
    title = lines[0][2:].strip()
    body: list[str] = []
    steps: list[tuple[str, list[str], str | None]] = []
    for line in lines[1:]:
        if line.startswith(STEP_MARK):
            steps.append((line[len(STEP_MARK) :].strip(), [], None))
        elif steps and line.startswith(DIAGRAM_MARK):
            t, b, _ = steps[-1]
            steps[-1] = (t, b, line[len(DIAGRAM_MARK) :].strip())
        elif steps:
            steps[-1][1].append(line)
        else:
            body.append(line)
    if not steps:
        raise ValueError(f"{path.name}: no lecture steps ('=== Title' lines)")
    return Section(
        slug=slug,
        number=int(number_text),
        title=title,
        body="\n".join(body).strip(),
        steps=tuple(LectureStep(slug, t, "\n".join(b).strip(), d) for t, b, d in steps),
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
    """The 1-based lecture step where section ``slug`` starts."""
    for i, step in enumerate(steps(), start=1):
        if step.section == slug:
            return i
    raise KeyError(slug)
