"""The app's charts: builders that take numbers already computed and return a Plotly figure, and one
HTML chart (``stage_bars_html``, Compare's per-stage bars, drawn with the page's text, no Plotly).

Every Plotly chart goes through ``readable(fig, height)``: one font size (``font_size()``) for axes, ticks,
legends and labels, large enough for a projector (Streamlit's theme would otherwise shrink the
axes' text). That size is ``FONT_SIZE``, or ``PRESENTATION_FONT_SIZE`` while the presentation size
is on (``use_presentation_size``, set by ``app/streamlit_app.py`` at the start of every run), so
every page's charts grow together. Numbers in hover labels are the one human format
(``resnet_core.units``: 25.6 M, 4.09 G) with the exact count beside it. No Streamlit here; the
views draw the figures with ``st.plotly_chart`` (and the HTML with ``st.html``; its sizes are in rem,
so the presentation size scales it with the text).
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import math
from collections.abc import Sequence
from contextvars import ContextVar

import plotly.graph_objects as go
from PIL import Image
from plotly.subplots import make_subplots

from app.teaching.slides import SlideChart
from resnet_core.compare import BlockCount, Summary
from resnet_core.receptive_field import Step
from resnet_core.runtime import ActivationMaps, Measurement
from resnet_core.units import count

FONT_SIZE = 16
#: The presentation size's chart font: about the page's body text at 1920 px wide (1.1 vw ≈ 21 px,
#: see ``app/streamlit_app.py``), so a chart reads like the text beside it on a projector.
PRESENTATION_FONT_SIZE = 22
# Per script thread (each Streamlit session runs its script in its own thread), so one session's
# presentation size never changes another's charts; the default serves tests and scripts.
_font_size: ContextVar[int] = ContextVar("chart_font_size", default=FONT_SIZE)
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")  # one per compared architecture (A … D), in every chart
STAGE_COLORS = ("#7f7f7f", "#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#eeca3b", "#b279a2", "#ff9da6")

#: (first, last) input pixel along one axis; a span of rows and one of columns make a rectangle.
Span = tuple[int, int]


def use_presentation_size(on: bool) -> None:
    """Make the charts built from now on (in this thread: this session's script run) presentation-sized or not."""
    _font_size.set(PRESENTATION_FONT_SIZE if on else FONT_SIZE)


def font_size(delta: int = 0) -> int:
    """The charts' font size now, plus ``delta`` (a label a little smaller or larger than the rest)."""
    return _font_size.get() + delta


def font(delta: int = 0, **style: object) -> dict[str, object]:
    return {"size": font_size(delta), **style}


def scaled(px: float) -> int:
    """A length in px laid out for ``FONT_SIZE`` text (a chart's height, a label's room), at the current size."""
    return round(px * font_size() / FONT_SIZE)


def readable(fig: go.Figure, height: int) -> go.Figure:
    """Fonts a projector can carry (Streamlit's theme would otherwise shrink the axes' text); ``height``
    is for ``FONT_SIZE`` and grows half as fast as the font, so the plot area keeps most of its room."""
    size = font()
    grown = round(height * (1 + (font_size() / FONT_SIZE - 1) / 2))
    fig.update_layout(font=size, height=grown, margin={"t": 30, "b": 10, "l": 10, "r": 10}, legend={"font": size})
    fig.update_xaxes(tickfont=size, title_font=size)
    fig.update_yaxes(tickfont=size, title_font=size)
    return fig


def human(n: float) -> str:
    """'25.6 M (25,557,032)': the one human format, then the exact count (for hover labels)."""
    return count(n) if abs(n) < 1000 else f"{count(n)} ({n:,.0f})"


def label_positions(points: list[tuple[float, float, str]], size: tuple[int, int] = (1200, 480)) -> list[str]:
    """A text position per point on log-log axes that keeps labels off each other and off every
    marker, placed greedily in the order given, in rough screen pixels."""
    logs = [(math.log10(x), math.log10(y)) for x, y, _ in points]
    xs, ys = [p[0] for p in logs], [p[1] for p in logs]
    sx = size[0] / max(max(xs) - min(xs), 0.5)
    sy = size[1] / max(max(ys) - min(ys), 0.5)
    char, line, gap = scaled(8.5), scaled(18.0), 9.0

    def box(x: float, y: float, text: str, dx: int, dy: int) -> tuple[float, float, float, float]:
        w, h = len(text) * char, line
        cx = math.log10(x) * sx + dx * (w / 2 + gap)
        cy = math.log10(y) * sy + dy * (h / 2 + gap)
        return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2

    def overlap(a: tuple[float, ...], b: tuple[float, ...]) -> float:
        return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))

    taken = [box(x, y, "●●", 0, 0) for x, y, _ in points]  # the markers
    candidates = {
        "middle right": (1, 0),
        "top center": (0, 1),
        "bottom center": (0, -1),
        "middle left": (-1, 0),
        "top right": (1, 1),
        "bottom left": (-1, -1),
        "top left": (-1, 1),
        "bottom right": (1, -1),
    }
    out = []
    for x, y, text in points:
        scored = [
            (sum(overlap(box(x, y, text, dx, dy), t) for t in taken), pos) for pos, (dx, dy) in candidates.items()
        ]
        best = min(scored, key=lambda t: t[0])[1]
        taken.append(box(x, y, text, *candidates[best]))
        out.append(best)
    return out


#: The HTML stage bars' look; sizes in rem, so the presentation size scales them with the page's text.
STAGE_BARS_CSS = """<style>
.stage-bars { font-size: 1rem; font-variant-numeric: tabular-nums; }
.stage-bars .sb-legend { display: flex; flex-wrap: wrap; gap: 0.3em 1em; margin: 0 0 0.6em 0; font-size: 0.9em; }
.stage-bars .sb-chip { display: inline-block; width: 0.9em; height: 0.9em; border-radius: 0.15em;
  margin-right: 0.35em; vertical-align: -0.1em; }
.stage-bars .sb-panels { display: grid; grid-template-columns: repeat(auto-fit, minmax(22em, 1fr)); gap: 0.4em 2.5em; }
.stage-bars .sb-title { font-weight: 600; margin-bottom: 0.3em; }
.stage-bars .sb-row { display: grid; grid-template-columns: minmax(0, 9em) minmax(0, 1fr) auto; align-items: center;
  gap: 0.6em; margin: 0.25em 0; }
.stage-bars .sb-name { overflow-wrap: anywhere; line-height: 1.2; }
.stage-bars .sb-track { display: flex; height: 1.6em; }
.stage-bars .sb-seg { height: 100%; min-width: 1px; }
.stage-bars .sb-seg + .sb-seg { box-shadow: inset 1px 0 0 rgba(255, 255, 255, 0.7); }
.stage-bars .sb-total { text-align: right; font-weight: 600; white-space: nowrap; }
</style>"""


def stage_bars_html(
    names: list[str], splits: list[dict[str, tuple[int, int]]], panels: Sequence[tuple[int, str, str]]
) -> str:
    """Stacked horizontal bars in HTML: for each panel ``(which, title, unit)`` (``which`` indexes the
    split's (params, macs)), one bar per architecture, one segment per stage (stem, layer1 …, head),
    its length to the largest total of the panel; the total at the bar's end in the human format,
    each segment's tooltip its stage, human count and exact count.

    HTML, not Plotly: the bars arrive with the page's other elements and draw at once, where a Plotly
    chart waits for the browser to load and start its 4.7 MB library (seconds on a first visit,
    ``benchmarks/bench_pages.py``). ``names`` are escaped."""
    stages: list[str] = []
    for split in splits:
        stages += [s for s in split if s not in stages and s != "head"]
    stages.append("head")
    color = {stage: STAGE_COLORS[i % len(STAGE_COLORS)] for i, stage in enumerate(stages)}
    legend = "".join(
        f'<span><span class="sb-chip" style="background:{color[s]}"></span>{html.escape(s)}</span>' for s in stages
    )
    out = [f'<div class="stage-bars" data-testid="stage-bars"><div class="sb-legend" aria-hidden="true">{legend}</div>']
    out.append('<div class="sb-panels">')
    for which, title, unit in panels:
        totals = [sum(split[s][which] for s in split) for split in splits]
        top = max(totals) or 1
        out.append(f'<div class="sb-panel"><div class="sb-title">{html.escape(title)}</div>')
        for name, split, total in zip(names, splits, totals, strict=True):
            parts = [(s, split[s][which]) for s in stages if s in split]
            segments = "".join(
                f'<span class="sb-seg" style="width:{100 * v / top:.3f}%;background:{color[s]}" '
                f'title="{html.escape(f"{name} · {s}: {count(v)} {unit} ({v:,})")}"></span>'
                for s, v in parts
                if v
            )
            said = ", ".join(f"{s} {count(v)}" for s, v in parts)
            out.append(
                f'<div class="sb-row" role="img" aria-label="{html.escape(f"{name}, {unit} by stage: {said}")}">'
                f'<span class="sb-name">{html.escape(name)}</span>'
                f'<span class="sb-track">{segments}</span>'
                f'<span class="sb-total" title="{total:,} {html.escape(unit)}">{count(total)}</span></div>'
            )
        out.append("</div>")
    out.append("</div></div>")
    return STAGE_BARS_CSS + "".join(out)


def preset_scatter(presets: dict[str, Summary], chosen: list[tuple[str, str, Summary]]) -> go.Figure:
    """Parameters against MACs for every preset (``presets``: name → its totals at its own input
    size), the chosen ones (letter, title, totals) marked.

    Presets on the same point (a plain net and its option-A ResNet) share one label, "resnet20 = plain20";
    a chosen architecture that sits exactly on a preset's point takes over that point's label."""
    params = [s.params / 1e6 for s in presets.values()]
    macs = [s.macs / 1e9 for s in presets.values()]
    exact = [[n, human(s.macs), human(s.params)] for n, s in presets.items()]
    picked = [(s.macs / 1e9, s.params / 1e6, f"{letter}: {short_title(title)}") for letter, title, s in chosen]
    on_picked = {(x, y) for x, y, _ in picked}
    sharing: dict[tuple[float, float], list[str]] = {}
    for x, y, name in zip(macs, params, presets, strict=True):
        sharing.setdefault((x, y), []).append(name)
    labels = [
        "" if (x, y) in on_picked or sharing[x, y][0] != name else " = ".join(sharing[x, y])
        for x, y, name in zip(macs, params, presets, strict=True)
    ]
    positions = label_positions(picked + list(zip(macs, params, labels, strict=True)))
    fig = go.Figure()
    fig.add_scatter(
        name="presets",
        x=macs,
        y=params,
        text=labels,
        customdata=exact,
        mode="markers+text",
        textposition=positions[len(picked) :],
        marker={"size": scaled(9), "color": "#9a9a9a"},
        textfont=font(-2, color="#7a7a7a"),
        hovertemplate="%{customdata[0]}<br>%{customdata[1]} MACs<br>%{customdata[2]} params<extra></extra>",
    )
    for (x, y, text), (letter, title, s), color, pos in zip(picked, chosen, COLORS, positions, strict=False):
        fig.add_scatter(
            name=f"{letter}: {title}",
            x=[x],
            y=[y],
            text=[text],
            customdata=[[human(s.macs), human(s.params)]],
            mode="markers+text",
            textposition=pos,
            marker={"size": scaled(18), "color": color, "line": {"width": 2, "color": "white"}, "symbol": "diamond"},
            textfont=font(1, color=color),
            hovertemplate=f"{letter}: {title}<br>%{{customdata[0]}} MACs<br>%{{customdata[1]}} params<extra></extra>",
        )
    xs, ys = (
        [math.log10(v) for v in macs + [p[0] for p in picked]],
        [math.log10(v) for v in params + [p[1] for p in picked]],
    )
    fig.update_xaxes(type="log", title="multiply-adds per image (G, log scale)", range=[min(xs) - 0.2, max(xs) + 0.4])
    fig.update_yaxes(type="log", title="parameters (M, log scale)", range=[min(ys) - 0.15, max(ys) + 0.15], dtick="D2")
    return readable(fig, 600)


def block_bars(blocks: Sequence[BlockCount]) -> go.Figure:
    """Conv parameters (left) and multiply-adds (right) of each design of the classic panel, a
    horizontal bar each, its human count written on it (the exact one in the hover label)."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("parameters (conv weights)", "multiply-adds"))
    labels = [b.label for b in blocks]
    for col, values in ((1, [b.params for b in blocks]), (2, [b.macs for b in blocks])):
        fig.add_bar(
            x=values,
            y=labels,
            orientation="h",
            text=[count(v) for v in values],
            textposition="outside",
            cliponaxis=False,
            textfont=font(),
            customdata=[human(v) for v in values],
            marker_color=[COLORS[i % len(COLORS)] for i in range(len(blocks))],
            hovertemplate="%{y}: %{customdata}<extra></extra>",
            showlegend=False,
            row=1,
            col=col,
        )
        # room on the right for the largest bar's label
        fig.update_xaxes(range=[0, max(values) * 1.3], showticklabels=False, showgrid=False, row=1, col=col)
    fig.update_yaxes(autorange="reversed", row=1, col=1)
    fig.update_yaxes(autorange="reversed", showticklabels=False, row=1, col=2)
    fig.update_annotations(font=font())
    return readable(fig, 90 + 48 * len(blocks)).update_layout(margin_t=40)  # room for the subplot titles


def short_title(title: str) -> str:
    """'resnet50' or 'resnet50*' for a modified one (the legend has the whole title)."""
    return title.split(" (modified")[0] + ("*" if "(modified" in title else "")


#: The narrowest the growth chart's plot area is drawn (px, a 1280-wide laptop's half column): the
#: stage labels turn when their centres would be closer than that allows.
GROWTH_MIN_WIDTH = 400


def growth_chart(
    steps: Sequence[Step], stages: Sequence[str], input_hw: tuple[int, int], current: int | None = None
) -> go.Figure:
    """rf (left axis) and jump (right axis) at each step along the main path, ``stages[i]`` the
    stage of step i: a shaded band per stage, labelled on the x axis; step ``current`` marked and
    named. Each point's ``customdata`` is its layer's name, so a click on the chart says which
    layer it was, and the hover label names it too."""
    x = list(range(len(steps)))
    names = [s.name for s in steps]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    lines = (  # name, values, line, on the right-hand axis; the jump changes in steps
        ("rf", [s.rf for s in steps], {"width": 3, "color": "#1f77b4"}, False),
        ("jump", [s.jump for s in steps], {"width": 3, "color": "#d62728", "shape": "hv"}, True),
    )
    for name, values, line, right in lines:
        fig.add_scatter(
            name=f"{name} (px)",
            x=x,
            y=values,
            customdata=names,
            text=list(stages),
            mode="lines+markers",
            line=line,
            marker={"size": scaled(9)},
            hovertemplate=f"%{{customdata}} (%{{text}})<br>{name} %{{y}} px<extra></extra>",
            secondary_y=right,
        )
    runs: list[tuple[str, int, int]] = []  # (stage, first step, last step); the input is no stage's
    for i, stage in enumerate(stages):
        if stage == "input":
            continue
        if runs and runs[-1][0] == stage:
            runs[-1] = (stage, runs[-1][1], i)
        else:
            runs.append((stage, i, i))
    for k, (_, first, last) in enumerate(runs):
        fig.add_vrect(
            x0=first - 0.5, x1=last + 0.5, fillcolor="#4c78a8" if k % 2 else "#888", opacity=0.12, line_width=0
        )
    if current is not None:
        fig.add_scatter(
            name="this layer",
            x=[current],
            y=[steps[current].rf],
            customdata=[names[current]],
            mode="markers",
            marker={"size": scaled(22), "color": "#ff7f0e", "symbol": "circle-open", "line": {"width": 4}},
            hovertemplate="%{customdata}<br>rf %{y} px<extra>shown</extra>",
            showlegend=False,
        )
        fig.add_annotation(
            x=current,
            y=steps[current].rf,
            text=names[current],
            showarrow=True,
            arrowcolor="#ff7f0e",
            ax=-scaled(40) if current > len(steps) / 2 else scaled(40),
            ay=-scaled(40),
            font=font(-1, color="#ff7f0e"),
            bgcolor="rgba(255, 255, 255, 0.8)",
        )
    fig.add_hline(
        y=input_hw[0],
        line={"dash": "dot", "color": "#777"},
        annotation_text=f"input height {input_hw[0]} px",
        annotation_position="top left",
        annotation_font=font(-2),
    )
    centres = [(first + last) / 2 for _, first, last in runs]
    px_per_step = GROWTH_MIN_WIDTH / max(len(steps), 1)
    crowded = any((b - a) * px_per_step < scaled(60) for a, b in itertools.pairwise(centres))
    # Crowded stage labels (a two-step stem beside a long layer3) take turns on two lines.
    labels = [("<br>" if crowded and k % 2 else "") + stage for k, (stage, _, _) in enumerate(runs)]
    fig.update_xaxes(
        title="layer along the main path, by stage (point at one for its name)",
        tickvals=centres,
        ticktext=labels,
        tickangle=0,
        range=[-0.6, len(steps) - 0.4],
        showgrid=False,
        zeroline=False,
    )
    fig.update_yaxes(title="rf: receptive field (px)", secondary_y=False, rangemode="tozero")
    jumps = sorted({s.jump for s in steps})
    fig.update_yaxes(
        title="jump: stride in input px", secondary_y=True, showgrid=False, tickvals=jumps, range=[0, jumps[-1] * 1.05]
    )
    fig.update_layout(legend={"orientation": "h", "y": 1.1, "x": 0}, clickmode="event+select", dragmode=False)
    return readable(fig, 400).update_layout(margin_t=40)  # room for the legend


def image_uri(image: Image.Image) -> str:
    """The image as a PNG data URI, the form ``go.Image`` takes."""
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def field_figure(
    image: Image.Image,
    whole: tuple[Span, Span],
    inside: tuple[Span, Span],
    input_hw: tuple[int, int],
    height: int = 580,
) -> go.Figure:
    """The image at input size, a unit's whole field (rows, columns; dashed, padding included), the
    part of it inside the image (solid), and its centre."""
    h, w = input_hw
    (r0, r1), (c0, c1) = whole
    fig = go.Figure()
    fig.add_trace(go.Image(source=image_uri(image), x0=0, y0=0, dx=1, dy=1, hoverinfo="skip"))

    def box(rows: Span, cols: Span, **style: object) -> None:
        # Pixel i covers [i - 0.5, i + 0.5]; a span first…last covers [first - 0.5, last + 0.5].
        fig.add_shape(type="rect", x0=cols[0] - 0.5, x1=cols[1] + 0.5, y0=rows[0] - 0.5, y1=rows[1] + 0.5, **style)

    orange = "#ff7f0e"
    box(
        *whole,
        line={"color": orange, "width": 3, "dash": "dash"},
        fillcolor="rgba(255, 127, 14, 0.08)",
        name="whole field",
    )
    box(*inside, line={"color": orange, "width": 4}, name="field inside the image")
    box((0, h - 1), (0, w - 1), line={"color": "#222", "width": 2})  # the image's border
    fig.add_scatter(
        name="centre of the field",
        x=[(c0 + c1) / 2],
        y=[(r0 + r1) / 2],
        mode="markers",
        marker={"size": 14, "color": orange, "symbol": "x", "line": {"width": 2, "color": "white"}},
        hovertemplate="centre: row %{y}, col %{x}<extra></extra>",
    )
    margin = 0.04 * max(h, w)
    x_lo, x_hi = min(-0.5, c0 - 0.5) - margin, max(w - 0.5, c1 + 0.5) + margin
    y_lo, y_hi = min(-0.5, r0 - 0.5) - margin, max(h - 0.5, r1 + 0.5) + margin
    fig.update_xaxes(range=[x_lo, x_hi], title="input column (px)", showgrid=False, zeroline=False)
    fig.update_yaxes(
        range=[y_hi, y_lo], title="input row (px)", showgrid=False, zeroline=False, scaleanchor="x", scaleratio=1
    )
    fig.update_layout(showlegend=False, plot_bgcolor="#e9e9e9")
    return readable(fig, height)


def activation_figure(maps: ActivationMaps, cols: int = 8) -> go.Figure:
    """The chosen channels of one layer's output as heat maps, ``cols`` a row, one colour scale for all."""
    n = len(maps.channels)
    rows = math.ceil(n / cols)
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=[f"ch {c}" for c in maps.channels],
        horizontal_spacing=0.01,
        vertical_spacing=0.08,
    )
    for i in range(n):
        fig.add_trace(
            go.Heatmap(z=maps.maps[i].numpy(), coloraxis="coloraxis", hovertemplate="x %{x}, y %{y}: %{z:.3f}"),
            row=i // cols + 1,
            col=i % cols + 1,
        )
    fig.update_yaxes(autorange="reversed", showticklabels=False, scaleanchor="x", constrain="domain")
    fig.update_xaxes(showticklabels=False, constrain="domain")
    fig.update_layout(coloraxis={"colorscale": "Viridis"})
    return readable(fig, 230 * rows + 40).update_layout(margin_t=40)  # room for the subplot titles


def sweep_figure(results: list[Measurement]) -> go.Figure:
    """Images/s (left axis) and median latency (right axis) against the batch size of a sweep."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    batches = [m.batch for m in results]
    fig.add_trace(go.Scatter(x=batches, y=[m.images_per_s for m in results], name="images/s", mode="lines+markers"))
    fig.add_trace(
        go.Scatter(
            x=batches,
            y=[m.latency_ms_median for m in results],
            name="latency (ms)",
            mode="lines+markers",
            line={"dash": "dot"},
        ),
        secondary_y=True,
    )
    fig.update_xaxes(type="log", title="batch size", tickvals=batches)
    fig.update_yaxes(title="images / s", secondary_y=False)
    fig.update_yaxes(title="median latency (ms)", secondary_y=True)
    fig.update_layout(legend={"orientation": "h", "y": 1.1})
    return readable(fig, 360)


def stage_time_chart(stage_ms: dict[str, float]) -> go.Figure:
    """Milliseconds per stage of one timed forward pass, a bar each, the value written on it."""
    fig = go.Figure(go.Bar(x=list(stage_ms), y=list(stage_ms.values()), text=[f"{v:.2f}" for v in stage_ms.values()]))
    fig.update_layout(title="Time per stage (eager, ms, median)", yaxis_title="ms")
    return readable(fig, 280).update_layout(margin_t=40)  # room for the title


# == Lecture charts (the explainer's slides) =========================================================
# Appended by the explainer (issue 14 item 2): one builder for every ``app.teaching.slides.SlideChart``.
# The data comes computed and cited from app.teaching.slides; this only draws it, in large type.

SLIDE_COLORS = ("#0072b2", "#d55e00", "#009e73", "#cc79a7")  # Okabe & Ito, as the diagrams


def slide_chart(chart: SlideChart, height: int = 420, font_size: int = 20) -> go.Figure:
    """One figure for a lecture step: a panel per ``chart.panels`` side by side, each value labelled.

    Bars start at zero (across the panel when ``horizontal``, their labels at their ends); dots and
    lines (error rates) span their values. A hover shows the exact value and its source; a paper's ±
    is an error bar. ``height`` and ``font_size`` (px) follow the projector's window (the caller
    measures it), so the type keeps its size relative to the slide.
    """
    panels = chart.panels
    across = any(p.horizontal for p in panels)  # category names down the side of each panel need room
    fig = make_subplots(
        rows=1, cols=len(panels), subplot_titles=[p.title for p in panels], horizontal_spacing=0.24 if across else 0.14
    )
    legend = False
    for col, panel in enumerate(panels, start=1):
        value_axis = fig.update_xaxes if panel.horizontal else fig.update_yaxes
        category_axis = fig.update_yaxes if panel.horizontal else fig.update_xaxes
        for i, series in enumerate(panel.series):
            color = SLIDE_COLORS[i % len(SLIDE_COLORS)]
            categories, values = list(panel.categories), list(series.values)
            common = {
                "name": series.name,
                "x": values if panel.horizontal else categories,
                "y": categories if panel.horizontal else values,
                "text": list(series.labels),
                "hovertext": list(series.hover),
                "hoverinfo": "text",
                "showlegend": len(panel.series) > 1,
                "legendgroup": series.name,
                "cliponaxis": False,
            }
            legend |= len(panel.series) > 1
            if series.errors:
                bars = {"type": "data", "array": list(series.errors), "thickness": 2, "width": 8}
                common["error_x" if panel.horizontal else "error_y"] = bars
            if panel.kind == "bars":
                fig.add_bar(
                    **common,
                    orientation="h" if panel.horizontal else "v",
                    marker_color=color,
                    textposition="outside",
                    constraintext="none",
                    row=1,
                    col=col,
                )
            else:
                fig.add_scatter(
                    **common,
                    mode="lines+markers+text" if panel.kind == "lines" else "markers+text",
                    marker={"size": font_size * 0.8, "color": color},
                    line={"width": 4, "color": color},
                    textposition=series.text_position or ("bottom center" if i else "top center"),
                    row=1,
                    col=col,
                )
        values = [v for s in panel.series for v in s.values if v == v]  # NaN != NaN: an empty slot
        if panel.log:
            top = math.log10(max(values)) + (0.6 if panel.horizontal else 0.3)
            value_axis(type="log", dtick=1, range=[math.floor(math.log10(min(values))), top], row=1, col=col)
        elif panel.kind == "bars":
            value_axis(range=[0, max(values) * (1.6 if panel.horizontal else 1.25)], row=1, col=col)
        else:
            spread = max(values) - min(values) or max(values) * 0.1
            value_axis(range=[min(values) - 0.4 * spread, max(values) + 0.4 * spread], row=1, col=col)
        # Categories stay categories even when they look like numbers ("20", "110": depths).
        if panel.horizontal:
            category_axis(type="category", autorange="reversed", row=1, col=col)  # the first category on top
        else:
            category_axis(type="category", range=[-0.6, len(panel.categories) - 0.4], tickangle=0, row=1, col=col)
    readable(fig, height)
    size = {"size": font_size}
    fig.update_layout(
        barmode="group",
        scattermode="group",  # two series at one category stand side by side, labels apart
        scattergap=0.5,
        font=size,
        showlegend=legend,
        legend={"font": size, "orientation": "h", "x": 0, "y": 1, "yanchor": "top", "yref": "container"},
        margin={"t": round((4.4 if legend else 2.4) * font_size), "b": 10, "l": 10, "r": 10},
    )
    fig.update_annotations(font=size)  # the panel titles
    fig.update_xaxes(tickfont=size)
    fig.update_yaxes(tickfont=size, showgrid=True)
    fig.update_traces(textfont=size)
    return fig


# -- Why residual: signal propagation, the degradation race, the effective receptive field ---------
# (issue 16; used by app/views/why_residual.py and app/views/erf_panel.py). Its imports stay with it.

from dataclasses import dataclass  # noqa: E402

from resnet_core.erf import EffectiveField  # noqa: E402
from resnet_core.race import LayerResponses, RaceResult  # noqa: E402

#: Plain nets dashed, residual nets solid, in every "why residual" chart.
PLAIN_DASH, RESIDUAL_DASH = "dash", "solid"


@dataclass(frozen=True)
class NetLine:
    """One net's values along its depth: ``x`` (weighted layers from the input), ``y``, and the name of
    the layer or block at each point (for the hover)."""

    label: str
    x: tuple[float, ...]
    y: tuple[float, ...]
    names: tuple[str, ...]
    plain: bool
    color: str


def depth_chart(lines: list[NetLine], y_title: str, *, log_y: bool = False, height: int = 380) -> go.Figure:
    """Each net's per-layer values against depth, on one chart (plain dashed, residual solid)."""
    fig = go.Figure()
    for line in lines:
        fig.add_scatter(
            name=line.label,
            x=list(line.x),
            y=list(line.y),
            text=list(line.names),
            mode="lines+markers",
            line={"color": line.color, "width": 3, "dash": PLAIN_DASH if line.plain else RESIDUAL_DASH},
            marker={"size": 6, "color": line.color},
            hovertemplate=f"{line.label} · %{{text}}<br>depth %{{x}}<br>{y_title}: %{{y:.4g}}<extra></extra>",
        )
    fig.update_xaxes(title="depth: weighted layers from the input", rangemode="tozero")
    fig.update_yaxes(title=y_title, type="log" if log_y else "linear", exponentformat="power" if log_y else "none")
    fig.update_layout(legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0})
    return readable(fig, height).update_layout(margin_t=50)  # room for the legend above the plot


def smoothed(values: tuple[float, ...] | list[float], window: int) -> list[float]:
    """The running mean of the last ``window`` values at each point (fewer at the start)."""
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


def race_chart(result: RaceResult, colors: dict[str, str], window: int = 10, height: int = 420) -> go.Figure:
    """Training loss (left) and training error (right) per step of every net: thin, each batch's value;
    bold, the running mean of the last ``window`` steps. Plain dashed, residual solid (cf. He et al.
    2015, Fig. 6, whose thin curves are training error)."""
    fig = make_subplots(
        rows=1, cols=2, subplot_titles=("training loss (cross-entropy)", "training error (%)"), horizontal_spacing=0.08
    )
    for net in result.nets:
        steps = list(range(1, net.steps + 1))
        dash = PLAIN_DASH if net.spec.shortcut == "none" else RESIDUAL_DASH
        color = colors[net.label]
        for col, values, scale in ((1, net.loss, 1.0), (2, net.error, 100.0)):
            scaled = [v * scale for v in values]
            fig.add_scatter(
                x=steps,
                y=scaled,
                mode="lines",
                line={"color": color, "width": 1},
                opacity=0.3,
                showlegend=False,
                hoverinfo="skip",
                row=1,
                col=col,
            )
            fig.add_scatter(
                name=net.label,
                x=steps,
                y=smoothed(scaled, window),
                mode="lines",
                line={"color": color, "width": 3.5, "dash": dash},
                legendgroup=net.label,
                showlegend=col == 1,
                hovertemplate=f"{net.label} · step %{{x}}<br>mean of the last {window}: %{{y:.3f}}<extra></extra>",
                row=1,
                col=col,
            )
    fig.update_xaxes(title="training step (one batch)", rangemode="tozero")
    fig.update_yaxes(rangemode="tozero")
    fig.update_yaxes(range=[0, 100], row=1, col=2)
    fig.update_annotations(font=font())
    fig.update_layout(legend={"orientation": "h", "y": 1.12, "yanchor": "bottom", "x": 0})
    return readable(fig, height).update_layout(margin_t=90)  # the legend above the subplot titles


def responses_chart(responses: tuple[LayerResponses, ...], colors: dict[str, str], plain: set[str]) -> go.Figure:
    """He et al. 2015, Fig. 7 (top) for the nets just trained: the std of each 3×3 layer's response,
    in network order."""
    fig = go.Figure()
    for r in responses:
        fig.add_scatter(
            name=r.label,
            x=list(range(1, len(r.std) + 1)),
            y=list(r.std),
            text=list(r.layers),
            mode="lines+markers",
            line={"color": colors[r.label], "width": 3, "dash": PLAIN_DASH if r.label in plain else RESIDUAL_DASH},
            marker={"size": 6, "color": colors[r.label]},
            hovertemplate=f"{r.label} · layer %{{x}}: %{{text}}<br>std %{{y:.3f}}<extra></extra>",
        )
    fig.update_xaxes(title="3×3 layer, in network order", rangemode="tozero")
    fig.update_yaxes(title="response std", rangemode="tozero")
    fig.update_layout(legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0})
    return readable(fig, 380).update_layout(margin_t=50)


def sweep_chart(depths: dict[str, tuple[list[int], list[float]]], y_title: str, colors: dict[str, str]) -> go.Figure:
    """One value per net against its depth, a line per kind of net (``depths``: kind → (depths, values))."""
    fig = go.Figure()
    for kind, (x, y) in depths.items():
        fig.add_scatter(
            name=kind,
            x=x,
            y=y,
            mode="lines+markers",
            line={"color": colors[kind], "width": 3, "dash": PLAIN_DASH if kind.startswith("plain") else RESIDUAL_DASH},
            marker={"size": 10, "color": colors[kind]},
            hovertemplate=f"{kind}-%{{x}}: %{{y:.4g}}<extra></extra>",
        )
    all_x = sorted({d for x, _ in depths.values() for d in x})
    fig.update_xaxes(title="depth: weighted layers", tickvals=all_x)
    fig.update_yaxes(title=y_title)
    fig.update_layout(legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0})
    return readable(fig, 360).update_layout(margin_t=50)


def erf_figure(field: EffectiveField) -> go.Figure:
    """The effective field as a heatmap over the input (share of the gradient's mass per pixel), the
    theoretical field inside the image (solid orange), the square holding 95 % of the mass (dashed
    white) and the field's centre (✕)."""
    h, w = field.input_size
    fig = go.Figure(
        go.Heatmap(
            z=field.heatmap,
            colorscale="Viridis",
            colorbar={
                "title": {"text": "share of |∂y/∂x|", "side": "right"},
                "tickfont": font(),
                "exponentformat": "e",
            },
            hovertemplate="row %{y}, col %{x}: %{z:.3e}<extra></extra>",
        )
    )
    (r0, r1), (c0, c1) = field.span
    fig.add_shape(
        type="rect", x0=c0 - 0.5, x1=c1 + 0.5, y0=r0 - 0.5, y1=r1 + 0.5, line={"color": "#ff7f0e", "width": 4}
    )
    cr, cc = field.centre
    half = field.half_side_95 + 0.5  # pixel i covers [i − 0.5, i + 0.5]
    fig.add_shape(
        type="rect",
        x0=cc - half,
        x1=cc + half,
        y0=cr - half,
        y1=cr + half,
        line={"color": "white", "width": 3, "dash": "dash"},
    )
    fig.add_scatter(
        x=[cc],
        y=[cr],
        mode="markers",
        marker={"size": 14, "color": "#ff7f0e", "symbol": "x", "line": {"width": 2, "color": "white"}},
        hovertemplate="centre of the field: row %{y}, col %{x}<extra></extra>",
        showlegend=False,
    )
    fig.update_xaxes(range=[-0.5, w - 0.5], title="input column (px)", showgrid=False, zeroline=False)
    fig.update_yaxes(
        range=[h - 0.5, -0.5], title="input row (px)", showgrid=False, zeroline=False, scaleanchor="x", scaleratio=1
    )
    return readable(fig, 520)
