"""Explainer: why and how ResNets work, checked against the papers, every number from the live model.

Two modes, both in the URL:

* reading (``/explainer?section=shortcuts``): one section at a time; below its text, the annotated
  source of the project's own block code with, side by side, the line picker and code on the left
  and the block diagram on the right, whose highlighted node is the one the picked line builds;
  then check-yourself questions on a spec the learner edits (the sidebar editor, prefix ``ex_q_``).
  The glossary (``?section=glossary&term=relu``) is a section too; the tooltips link to its terms.
* lecture (``/explainer?mode=lecture&step=7``): one idea per screen, its type and figures sized by
  the viewport so that a step fits 1024×768, 1280×720 and 1920×1080 with the buttons on screen; a
  chart wherever a step compares numbers; numbers for people (25.6 M, the exact value on hover).
  A keyboard or a presenter's clicker drives it: → PageDown Space next, ← PageUp previous, Home
  and End the first and last step — Streamlit's own button shortcuts (``st.button(shortcut=…)``,
  ignored while typing in a field), so no script of ours runs in the page.

The text is ``assets/explainer/*.md``; ``app.teaching`` parses it, fills its placeholders from the
model, holds the charts' data (``slides``), the block figures, the annotated source and the
questions. Widget keys start with ``ex_``.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from app.charts import slide_chart
from app.components.viewport import viewport
from app.sync import set_widget
from app.teaching.figures import DIAGRAMS, block_dot
from app.teaching.numbers import fill
from app.teaching.questions import check_answer, questions_for
from app.teaching.sections import LectureStep, Section, first_step_of, section, sections, steps
from app.teaching.slides import CHARTS
from app.teaching.sources import SOURCES, annotated_lines, marked_code
from app.widgets import literal, parse_choice, query_value, remember, show_error, spec_editor, url_param, write_url
from resnet_core.spec import describe

MODE_KEY, SECTION_KEY, STEP_KEY, TERM_KEY = "mode", "section", "step", "term"

#: The lecture's keys: (button key, shortcut) for each way to move; the first of each group is the
#: visible button, the others are hidden buttons that only carry their shortcut (a clicker sends
#: PageDown/PageUp, a keyboard arrows, Space, Home and End).
NEXT_KEYS = (("ex_next", "Right"), ("ex_next_pagedown", "PageDown"), ("ex_next_space", "Space"))
PREV_KEYS = (("ex_prev", "Left"), ("ex_prev_pageup", "PageUp"))
FIRST_KEY, LAST_KEY = ("ex_first", "Home"), ("ex_last", "End")
HIDDEN_KEYS = (*(key for key, _ in NEXT_KEYS[1:] + PREV_KEYS[1:]), "ex_viewport_box")
#: The window assumed until the browser has reported its size (a projector's 1280×720).
DEFAULT_VIEWPORT = (1280, 720)

# Sizes in viewport units: every step fits from 1024×768 to 1920×1080 with the buttons on screen.
# Type follows the smaller of the height and the width (a 4:3 projector is narrower for its height).
LECTURE_CSS = (
    """
<style>
header[data-testid="stHeader"], [data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stToolbar"], [data-testid="stDecoration"] { display: none !important; }
[data-testid="stMainBlockContainer"], .block-container {
  padding: 2.2vh 3vw 0.5vh 3vw !important; max-width: 100% !important;
}
[data-testid="stMainBlockContainer"] [data-testid="stVerticalBlock"] { gap: 1.2vh; }
[data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li {
  font-size: min(3.3vh, 2.3vw) !important; line-height: 1.35 !important;
}
[data-testid="stMarkdownContainer"] li { margin-bottom: 0.9vh; }
[data-testid="stMarkdownContainer"] h1 {
  font-size: min(5.4vh, 3.8vw) !important; padding: 0 0 1vh 0 !important; line-height: 1.15 !important;
}
.katex { font-size: 1.05em !important; }
.ex-num { border-bottom: 0.08em dotted currentColor; cursor: help; }
.st-key-ex_slide_visual [data-testid="stGraphVizChart"] svg { max-height: 60vh; max-width: 100%; height: auto; }
.st-key-ex_slide_visual [data-testid="stHorizontalBlock"] [data-testid="stGraphVizChart"] svg { max-height: 44vh; }
.st-key-ex_slide_visual [data-testid="stCaptionContainer"] p { font-size: min(2.2vh, 1.6vw) !important; }
.st-key-ex_foot p, .st-key-ex_foot a { font-size: min(2vh, 1.5vw) !important; }
.st-key-ex_foot .stButton button { min-height: 5.2vh; padding: 0.4vh 1.2vw; }
.st-key-ex_foot .stButton button p { font-size: min(2.4vh, 1.8vw) !important; }
"""
    + "".join(f".st-key-{key} {{ display: none !important; }}\n" for key in HIDDEN_KEYS)
    + "</style>"
)

READING_CSS = """
<style>
[data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li { font-size: 1.08rem; }
.st-key-ex_source [data-testid="stGraphVizChart"] { position: sticky; top: 3.5rem; }
.st-key-ex_source [data-testid="stGraphVizChart"] svg { max-height: 78vh; max-width: 100%; height: auto; }
</style>
"""


def current_mode() -> str:
    return "lecture" if query_value(MODE_KEY, options=("lecture",)) == "lecture" else "read"


def requested_step(total: int) -> tuple[int, str | None]:
    """The 1-based step in the URL, clamped to 1 … total, and a notice if the URL's value was bad."""
    text = query_value(STEP_KEY) or "1"
    try:
        n = int(text)
    except ValueError:
        return 1, f"step={text!r} is not a number; showing step 1."
    if not 1 <= n <= total:
        clamped = min(max(n, 1), total)
        return clamped, f"step={n} is outside 1–{total}; showing step {clamped}."
    return n, None


def go_to_step(n: int) -> None:
    st.query_params[MODE_KEY] = "lecture"
    st.query_params[STEP_KEY] = str(n)


def step_by(delta: int) -> None:
    """Next / Previous: one step on from the step the URL holds *now*, not from the step of the run that
    drew the button. A press while a slow step is still being drawn (before its buttons are) runs the
    callback the previous step's run registered; with that run's target the press would change nothing
    and be lost, and two quick presses would move one step.

    "Now" is the URL the browser sent with the press (Streamlit rebuilds ``st.query_params`` from it
    before callbacks run): a second press made before the browser has even received the first one's
    new URL (a network round trip, not a slow drawing) still counts from the old step."""
    total = len(steps())
    n, _ = requested_step(total)
    go_to_step(min(max(n + delta, 1), total))


def go_to_reading(slug: str) -> None:
    for key in (MODE_KEY, STEP_KEY, TERM_KEY):
        if key in st.query_params:
            del st.query_params[key]
    st.query_params[SECTION_KEY] = slug
    set_widget("ex_section", slug)


def go_to_lecture(slug: str) -> None:
    go_to_step(first_step_of(slug))


def block_figure(key: str, *, highlight: str | None = None, compact: bool = False, height: int | None = None) -> None:
    """Draw block figure ``key`` (``app.teaching.figures``): the page's one way to draw one, large on a
    lecture slide (``compact``, as wide as its column), at its natural size beside the source."""
    # The interactive diagram view (issue 13): zoom, pan, fullscreen, and each box's numbers on hover,
    # on a light card that keeps every label readable in the dark theme too.
    from app.components.diagram_view import diagram_view
    from app.teaching.numbers import analysis_of
    from resnet_core import diagram

    figure = DIAGRAMS[key]
    analysis = analysis_of(figure.spec)
    stages = diagram.node_details(analysis, diagram.DiagramOptions(level="stage"))
    if figure.block:
        nodes = diagram.figure_details(analysis, figure.block, compact)
        kind = next(b.shortcut for b in analysis.blocks if b.name == figure.block)
        legend = [item for item in stages.legend() if item[1] == kind]
    else:
        nodes, legend = stages.rows, stages.legend()
    diagram_view(
        dot=block_dot(key, highlight=highlight, compact=compact),
        key=f"ex_figure_{key}" + ("_slide" if compact else ""),
        nodes=nodes,
        legend=legend,
        selectable=False,
        height=height,
    )


# -- lecture mode ---------------------------------------------------------------------------------


def chart_size(window: tuple[int, int], diagrams: int) -> tuple[int, int]:
    """(height, font size) in px of a slide's chart for a browser window of ``window`` (width, height):
    about half the window's height (less beside block figures), type about a fortieth of it."""
    width, height = window
    share = 0.56 if not diagrams else 0.3
    font = round(min(max(min(height * 0.026, width * 0.016), 13), 30))
    return round(height * share), font


def figure_height(window: tuple[int, int], with_chart: bool) -> int:
    """A slide's block figure height in px: a share of the window's height that leaves the title, the
    text, the caption, a chart (``with_chart``) and the buttons on screen from 1024×768 to 1920×1080;
    the diagram view zooms and pans inside it."""
    return round(window[1] * (0.4 if with_chart else 0.5))


def step_visual(step: LectureStep, window: tuple[int, int]) -> None:
    """The step's block figures, side by side, and its chart: what the audience looks at."""
    if step.diagrams:
        for key, col in zip(step.diagrams, st.columns(len(step.diagrams), gap="medium"), strict=True):
            with col:
                block_figure(key, compact=True, height=figure_height(window, bool(step.chart)))
                st.caption(DIAGRAMS[key].title)
    if step.chart:
        height, font = chart_size(window, len(step.diagrams))
        # No mode bar on a slide: its zoom and pan buttons are clutter on a projector.
        chart_with_source(step.chart, height, font, f"ex_chart_{step.chart}", {"displayModeBar": False})


def chart_with_source(name: str, height: int, font: int, key: str, config: dict | None = None) -> None:
    """Teaching chart ``name`` (``app.teaching.slides.CHARTS``) at ``height`` px and ``font`` px type, its
    title and source below it: a slide's chart and a reading section's lead chart alike."""
    chart = CHARTS[name]()
    st.plotly_chart(slide_chart(chart, height, font), key=key, width="stretch", config=config or {})
    st.caption(f"{chart.title} · {chart.source}")


def nav_button(
    label: str,
    icon: str,
    key: str,
    shortcut: str,
    on_click: Callable[..., None],
    arg: int,
    disabled: bool,
    help_text: str,
) -> None:
    st.button(
        label,
        icon=icon,
        icon_position="right" if "next" in key or "last" in key else "left",
        key=key,
        shortcut=shortcut,
        disabled=disabled,
        on_click=on_click,
        args=(arg,),
        help=help_text or None,
        wrap=False,
    )


def lecture() -> None:
    st.markdown(LECTURE_CSS, unsafe_allow_html=True)
    with st.container(key="ex_viewport_box"):
        window = viewport("ex_viewport") or DEFAULT_VIEWPORT
        # The size this run laid the slide out for: a test waits for it to match its window.
        st.markdown(f'<span class="ex-window" data-size="{window[0]}x{window[1]}"></span>', unsafe_allow_html=True)
    all_steps = steps()
    total = len(all_steps)
    n, notice = requested_step(total)
    step = all_steps[n - 1]
    its_section = section(step.section)
    try:
        title, body = fill(step.title, human=True), fill(step.body, human=True)
    except (KeyError, ValueError) as e:
        show_error(e)
        return

    st.markdown(f"# {title}", unsafe_allow_html=True)
    if len(step.diagrams) > 1:  # figures side by side need the width: the few lines go above them
        st.markdown(body, unsafe_allow_html=True)
        with st.container(key="ex_slide_visual"):
            step_visual(step, window)
    elif step.diagrams or step.chart:
        text_col, visual_col = st.columns([4, 5], gap="large")
        with text_col:
            st.markdown(body, unsafe_allow_html=True)
        with visual_col, st.container(key="ex_slide_visual"):
            step_visual(step, window)
    else:
        st.markdown(body, unsafe_allow_html=True)

    with st.container(key="ex_foot", horizontal=True, vertical_alignment="center", gap="small"):
        nav_button("First", ":material/first_page:", *FIRST_KEY, go_to_step, 1, n <= 1, "First step (Home)")
        for i, (key, shortcut) in enumerate(PREV_KEYS):
            help_text = "Previous step (← or PageUp)" if i == 0 else ""
            nav_button("Previous", ":material/chevron_left:", key, shortcut, step_by, -1, n <= 1, help_text)
        for i, (key, shortcut) in enumerate(NEXT_KEYS):
            help_text = "Next step (→, PageDown or Space)" if i == 0 else ""
            nav_button("Next", ":material/chevron_right:", key, shortcut, step_by, 1, n >= total, help_text)
        nav_button("Last", ":material/last_page:", *LAST_KEY, go_to_step, total, n >= total, "Last step (End)")
        st.markdown(
            f"Step {n} of {total} · [link to this step](?mode=lecture&step={n})",
            help=f"Section {its_section.number}: {its_section.title}",
        )
        st.button(
            "Read",
            icon=":material/menu_book:",
            key="ex_exit",
            on_click=go_to_reading,
            args=(step.section,),
            help="Reading mode: this section's full text, its code and questions",
        )
    if notice:
        st.caption(literal(notice))


# -- reading mode -----------------------------------------------------------------------------------


def annotated_source(slug: str) -> None:
    """The picker and the code on the left, the diagram of the picked line on the right: one screen."""
    source = SOURCES[slug]
    try:
        lines = annotated_lines(source)
    except LookupError as e:
        show_error(e)
        return
    labels = [f"◀ {i}: {ann.note}" for i, (_, ann) in enumerate(lines, start=1)]
    st.subheader("The code, line by line")
    with st.container(key="ex_source"):
        code_col, figure_col = st.columns([3, 2], gap="medium")
        with code_col:
            choice = st.radio(
                f"`{source.title}` — pick a line to light up what it builds",
                range(len(labels)),
                format_func=lambda i: labels[i],
                key=f"ex_ann_{slug}",
            )
            st.code(marked_code(source, selected=choice + 1), language="python", wrap_lines=True)
        ann = lines[choice][1]
        with figure_col:
            st.caption(f"◀◀ {choice + 1} builds the highlighted node **{ann.node}** of: {DIAGRAMS[ann.diagram].title}")
            block_figure(ann.diagram, highlight=ann.node)


def check_yourself(slug: str, spec, name: str) -> None:
    questions = questions_for(slug)
    if not questions:
        return
    st.subheader("Check yourself")
    st.caption(f"On the spec in the sidebar: **{name}**. Change it there and the questions and answers follow.")
    for q in questions:
        key = f"ex_q_{q.key}"
        if not q.applies(spec):
            st.info("A question about bottleneck blocks: pick a bottleneck spec in the sidebar to see it.")
            continue
        text = q.text(spec, name)
        st.markdown(f"**{text}**")
        given_col, button_col = st.columns([3, 1], vertical_alignment="bottom")
        with given_col:
            given = st.number_input("Your answer", min_value=0, step=1, value=None, key=key)
        with button_col:
            checked = st.button("Check", key=f"{key}_check")
        if checked:
            if given is None:
                st.warning("Type a number first.")
            else:
                right = q.answer(spec)
                if check_answer(q, spec, given):
                    st.success(f"Right: {right:,}. {q.why}")
                else:
                    st.error(f"Not quite: the model says {right:,}. {q.why}")


def reading_text(shown: Section) -> None:
    """The section's reading text; a heading with an anchor (a glossary term) as a linkable subheader.

    A link to one term (``?section=glossary&term=relu``, the tooltips' links) shows that term first,
    in a box: a ``#relu`` fragment would not survive the page writing its state into the URL.
    """
    asked = shown.term(query_value(TERM_KEY) or "")
    if asked:
        with st.container(border=True, key="ex_term"):
            st.subheader(asked[0], anchor=False)
            st.markdown(fill(asked[1]))
    for anchor, text in shown.parts():
        if anchor:
            st.subheader(text, anchor=anchor)
        else:
            st.markdown(fill(text))


#: Reading mode's lead visual: a chart's height and type size (the page's width), a block figure's height
#: (a column two fifths wide, where the view's toolbar takes two rows).
LEAD_CHART_HEIGHT, LEAD_CHART_FONT, LEAD_FIGURE_HEIGHT = 300, 14, 420


def lead_step(shown: Section) -> LectureStep | None:
    """The section's first lecture step that has a chart, else its first with a block figure (None: none)."""
    charted = [s for s in shown.steps if s.chart]
    drawn = [s for s in shown.steps if s.diagrams]
    return (charted or drawn or [None])[0]


def lead_visual(step: LectureStep) -> None:
    """A reading section's picture: the chart (or block figure) its lecture shows, with its source."""
    if step.chart:
        chart_with_source(step.chart, LEAD_CHART_HEIGHT, LEAD_CHART_FONT, f"ex_lead_{step.chart}")
    else:
        key = step.diagrams[0]
        block_figure(key, compact=True, height=LEAD_FIGURE_HEIGHT)
        st.caption(DIAGRAMS[key].title)


def reading() -> None:
    st.markdown(READING_CSS, unsafe_allow_html=True)
    all_sections = sections()
    slugs = [s.slug for s in all_sections]
    titles = {s.slug: f"{s.number}. {s.title}" for s in all_sections}

    url_param("ex_section", SECTION_KEY, slugs[0], parse_choice(slugs))
    with st.sidebar:
        st.selectbox("Section", slugs, format_func=titles.get, key="ex_section")
    remember("ex_section")
    slug = st.session_state["ex_section"]
    write_url({SECTION_KEY: slug})
    with st.sidebar:
        choice = spec_editor("ex_q_", sidebar=False, default_arch="resnet50", title="Spec for the questions")

    shown = section(slug)
    head_col, button_col = st.columns([4, 1], vertical_alignment="bottom")
    with head_col:
        st.title(f"{shown.number}. {shown.title}")
    with button_col:
        if shown.steps:
            st.button(
                "Present ▶",
                key="ex_present",
                on_click=go_to_lecture,
                args=(slug,),
                help="Lecture mode from this section's first step: one idea per screen; → and ← move.",
                width="stretch",
            )
    lead = lead_step(shown)
    if lead is not None and lead.chart:  # picture first: a chart spans the page above the text, its labels apart
        with st.container(key="ex_lead_visual"):
            lead_visual(lead)
    text_col = st.container()
    if lead is not None and not lead.chart:  # a block figure is tall and narrow: beside the text
        text_col, visual_col = st.columns([3, 2], gap="large")
        with visual_col, st.container(key="ex_lead_visual"):
            lead_visual(lead)
    with text_col:
        try:
            reading_text(shown)
        except (KeyError, ValueError) as e:
            show_error(e)
            return

    if slug in SOURCES:
        annotated_source(slug)

    check_yourself(slug, choice.spec, choice.title)

    st.divider()
    i = slugs.index(slug)
    prev_col, next_col = st.columns(2)
    with prev_col:
        if i > 0:
            st.button(
                f"◀ {titles[slugs[i - 1]]}",
                key="ex_prev_section",
                on_click=go_to_reading,
                args=(slugs[i - 1],),
                wrap=True,
            )
    with next_col:
        if i < len(slugs) - 1:
            st.button(
                f"{titles[slugs[i + 1]]} ▶",
                key="ex_next_section",
                on_click=go_to_reading,
                args=(slugs[i + 1],),
                wrap=True,
                width="stretch",
            )
    st.caption(
        "Numbers in the text are computed from the live model when the page is drawn; error rates are the "
        "papers', with their tables. " + describe(choice.spec, base=choice.arch) + " is the spec of the questions."
    )


def main() -> None:
    """The explainer page: lecture mode when the URL says ``mode=lecture``, else reading mode."""
    if current_mode() == "lecture":
        lecture()
    else:
        reading()
