"""Explainer: why and how ResNets work, checked against the papers, every number from the live model.

Two modes, both in the URL:

* reading (``/explainer?section=shortcuts``): one section at a time, the annotated source of the
  project's own block code beside the text, a small block diagram whose highlighted node is the
  one the selected source line builds, and check-yourself questions on a spec the learner edits
  (the sidebar editor, prefix ``ex_q_``);
* lecture (``/explainer?mode=lecture&step=7``): one idea per screen in large type for a
  1920×1080 projector, previous / next buttons that rewrite ``step``, a link to every step.

The text is ``assets/explainer/*.md``; ``app.teaching`` parses it, fills its placeholders from the
model, draws the block figures and holds the annotated source and the questions. Widget keys start
with ``ex_``.
"""

from __future__ import annotations

import streamlit as st

from app.teaching.figures import DIAGRAMS, block_dot
from app.teaching.numbers import fill
from app.teaching.questions import check_answer, questions_for
from app.teaching.sections import first_step_of, section, sections, steps
from app.teaching.sources import SOURCES, annotated_lines, marked_code
from app.widgets import literal, parse_choice, query_value, remember, show_error, spec_editor, url_param, write_url
from resnet_core.spec import describe

MODE_KEY, SECTION_KEY, STEP_KEY = "mode", "section", "step"

LECTURE_CSS = """
<style>
header[data-testid="stHeader"], [data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stToolbar"], [data-testid="stDecoration"] { display: none !important; }
[data-testid="stMainBlockContainer"], .block-container {
  padding-top: 2.2rem !important; padding-bottom: 0.5rem !important; max-width: 1800px !important;
}
[data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li {
  font-size: 2.6rem !important; line-height: 1.4 !important;
}
[data-testid="stMarkdownContainer"] li { margin-bottom: 0.9rem; }
[data-testid="stMarkdownContainer"] h1 { font-size: 4rem !important; padding-bottom: 1.2rem; }
.ex-foot p { font-size: 1.35rem !important; color: #444; }
.stButton button p { font-size: 1.6rem !important; }
.stButton button { min-height: 3.4rem; }
[data-testid="stGraphVizChart"] svg { max-height: 680px; }
</style>
"""

READING_CSS = """
<style>
[data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li { font-size: 1.08rem; }
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


def go_to_reading(slug: str) -> None:
    for key in (MODE_KEY, STEP_KEY):
        if key in st.query_params:
            del st.query_params[key]
    st.query_params[SECTION_KEY] = slug
    st.session_state["ex_section"] = slug


def go_to_lecture(slug: str) -> None:
    go_to_step(first_step_of(slug))


def block_figure(key: str, *, highlight: str | None = None, compact: bool = False) -> None:
    """Draw block figure ``key`` (``app.teaching.figures``): the page's one way to draw one, large on a
    lecture slide (``compact``, as wide as its column), at its natural size beside the source."""
    st.graphviz_chart(block_dot(key, highlight=highlight, compact=compact), width="stretch" if compact else "content")


# -- lecture mode ---------------------------------------------------------------------------------


def lecture() -> None:
    st.markdown(LECTURE_CSS, unsafe_allow_html=True)
    all_steps = steps()
    total = len(all_steps)
    n, notice = requested_step(total)
    step = all_steps[n - 1]
    its_section = section(step.section)
    try:
        title, body = fill(step.title), fill(step.body)
    except (KeyError, ValueError) as e:
        show_error(e)
        return

    st.markdown(f"# {title}")
    if step.diagram:
        text_col, diagram_col = st.columns([3, 2], gap="large")
        with text_col:
            st.markdown(body)
        with diagram_col:
            block_figure(step.diagram, compact=True)
    else:
        st.markdown(body)

    st.divider()
    prev_col, where_col, next_col, exit_col = st.columns([1, 4, 1, 1], vertical_alignment="center")
    with prev_col:
        st.button("◀ Previous", key="ex_prev", disabled=n <= 1, on_click=go_to_step, args=(n - 1,))
    with where_col:
        st.markdown(
            f'<div class="ex-foot">\n\nStep {n} of {total} · {its_section.title} · '
            f"link to this step: [?mode=lecture&step={n}](?mode=lecture&step={n})\n\n</div>",
            unsafe_allow_html=True,
        )
        if notice:
            st.caption(literal(notice))
    with next_col:
        st.button("Next ▶", key="ex_next", disabled=n >= total, on_click=go_to_step, args=(n + 1,))
    with exit_col:
        st.button("Reading mode", key="ex_exit", on_click=go_to_reading, args=(step.section,))


# -- reading mode -----------------------------------------------------------------------------------


def annotated_source(slug: str) -> None:
    source = SOURCES[slug]
    try:
        lines = annotated_lines(source)
    except LookupError as e:
        show_error(e)
        return
    labels = [f"◀ {i}: {ann.note}" for i, (_, ann) in enumerate(lines, start=1)]
    st.markdown(f"**Source:** `{source.title}`")
    choice = st.radio(
        "Annotated lines — pick one to light up what it builds in the diagram",
        range(len(labels)),
        format_func=lambda i: labels[i],
        key=f"ex_ann_{slug}",
    )
    ann = lines[choice][1]
    st.code(marked_code(source, selected=choice + 1), language="python")
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
    head_col, button_col = st.columns([5, 1], vertical_alignment="bottom")
    with head_col:
        st.title(f"{shown.number}. {shown.title}")
    with button_col:
        st.button("Present (lecture mode)", key="ex_present", on_click=go_to_lecture, args=(slug,))
    try:
        body = fill(shown.body)
    except (KeyError, ValueError) as e:
        show_error(e)
        return

    if slug in SOURCES:
        text_col, code_col = st.columns([1, 1], gap="large")
        with text_col:
            st.markdown(body)
        with code_col:
            annotated_source(slug)
    else:
        st.markdown(body)

    check_yourself(slug, choice.spec, choice.title)

    st.divider()
    i = slugs.index(slug)
    prev_col, _, next_col = st.columns([1, 2, 1])
    with prev_col:
        if i > 0:
            st.button(f"◀ {titles[slugs[i - 1]]}", key="ex_prev_section", on_click=go_to_reading, args=(slugs[i - 1],))
    with next_col:
        if i < len(slugs) - 1:
            st.button(f"{titles[slugs[i + 1]]} ▶", key="ex_next_section", on_click=go_to_reading, args=(slugs[i + 1],))
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
