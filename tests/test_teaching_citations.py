"""The citation registry (app.teaching.citations): every number a reader sees is computed or cited.

The check runs over every explainer text (reading text and lecture steps), every user-visible string
literal in ``app/`` (tooltips, captions, labels, Markdown; in ``app.teaching`` the questions, the
annotations and the figure titles), the help, label and option texts of the spec fields in
``resnet_core/spec.py``, and the words of each lecture chart. Only literal text is checked: an
f-string's computed parts are computed. A number there must be a ``{{placeholder}}``, notation (a
section or table number, a kernel size, a model name …) or registered beside its source.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from app.teaching import citations
from app.teaching.citations import (
    APP_FACTS,
    CLAIMS,
    DEFINITIONS,
    PAPERS,
    arxiv_ids_in,
    check,
    citations_in,
    markdown_units,
    paper_for_citation,
    unregistered,
)
from app.teaching.numbers import PAPER
from app.teaching.sections import glossary_terms, section, sections
from app.teaching.slides import CHARTS

ROOT = Path(__file__).resolve().parents[1]

# -- where user-visible strings are -----------------------------------------------------------------

#: Streamlit calls whose string arguments a user reads (on ``st`` or on a column or container).
UI_CALLS = {
    "caption", "markdown", "write", "info", "warning", "success", "error", "title", "header", "subheader",
    "text", "metric", "button", "expander", "tabs", "toast", "radio", "selectbox", "number_input", "slider",
    "checkbox", "toggle", "segmented_control", "multiselect", "text_input", "text_area", "download_button",
    "popover", "select_slider", "link_button", "page_link", "Page", "spinner", "status", "progress",
    "form_submit_button", "file_uploader", "pills",
}  # fmt: skip
#: Keyword arguments that hold text for people, in any call (a Plotly title, a widget's help).
UI_KEYWORDS = {"help", "label", "caption", "placeholder", "title", "annotation_text", "hovertemplate", "text", "why"}
#: app.teaching's records of text the page shows, and which positional arguments are that text: a
#: question's template, an annotation's note, a source's title, a figure's net and note.
TEXT_RECORDS = {"Question": (2,), "Annotation": (1,), "Source": (0,), "DiagramSpec": (0, 3)}
_FORMAT_SPEC = re.compile(r"%\{[^}]*\}")  # Plotly's %{y:,.3f}: formatting, not a number shown


def _literal_text(node: ast.AST) -> list[str]:
    """The constant text of a string expression; an f-string's computed parts become a space."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return ["".join(v.value if isinstance(v, ast.Constant) else " " for v in node.values)]
    if isinstance(node, ast.BinOp):
        return _literal_text(node.left) + _literal_text(node.right)
    return []


def ui_strings(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every string literal that a Streamlit call or a text keyword shows to people."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name == "latex":
            continue  # maths, like $…$ in Markdown
        texts = [t for a in node.args for t in _literal_text(a)] if name in UI_CALLS else []
        texts += [t for i in TEXT_RECORDS.get(name, ()) if i < len(node.args) for t in _literal_text(node.args[i])]
        texts += [t for k in node.keywords if k.arg in UI_KEYWORDS for t in _literal_text(k.value)]
        out += [(node.lineno, _FORMAT_SPEC.sub(" ", t)) for t in texts]
    return out


def spec_help_strings() -> list[tuple[str, str]]:
    """(field, text) of every label, help and option text declared with ``spec_field`` in spec.py."""
    tree = ast.parse((ROOT / "resnet_core" / "spec.py").read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign) and isinstance(node.value, ast.Call):
            call = node.value
            if getattr(call.func, "id", "") != "spec_field":
                continue
            field = node.target.id  # type: ignore[attr-defined]
            out += [(field, t) for a in call.args[2:4] for t in _literal_text(a)]
            for k in call.keywords:
                if k.arg == "options" and isinstance(k.value, ast.Dict):
                    out += [(field, t) for v in k.value.values for t in _literal_text(v)]
    return out


def explainer_units() -> list[tuple[str, str]]:
    """(where, unit) of every explainer text: titles, reading text, and each step with its title."""
    out = []
    for s in sections():
        out += [(s.slug, u) for u in markdown_units(s.title) + markdown_units(s.body)]
        for step in s.steps:
            out += [(f"{s.slug}: {step.title}", u) for u in [step.title, *markdown_units(step.body, step.title)]]
    return out


def chart_texts() -> list[tuple[str, str]]:
    """Each lecture chart's words as one unit: title, source, panel titles and series names (the
    values and their labels come from claims and the analysis: ``tests/test_teaching_slides.py``)."""
    out = []
    for key, make in CHARTS.items():
        chart = make()
        words = [chart.title, chart.source] + [p.title for p in chart.panels]
        words += [s.name for p in chart.panels for s in p.series]
        out.append((f"chart {key}", " · ".join(words)))
    return out


APP_FILES = sorted((ROOT / "app").rglob("*.py"))


# -- the registry itself ----------------------------------------------------------------------------


def test_every_paper_has_an_arxiv_id_or_a_url() -> None:
    for p in PAPERS.values():
        assert re.fullmatch(r"\d{4}\.\d{4,5}", p.arxiv) or p.url.startswith("https://"), p.key
        assert p.link.startswith("https://") and p.authors and p.title and 1990 < p.year < 2030


def test_every_claim_names_a_registered_paper_and_where_in_it() -> None:
    for c in CLAIMS:
        assert c.paper in PAPERS, c.key
        assert re.search(r"\d", c.text), f"{c.key}: a claim holds a number"
        assert c.where or c.cues, f"{c.key}: a claim says where it is printed or what must stand beside it"
        if c.where:
            assert re.fullmatch(r"(Table \d+[a-z]?|Fig\. \d+[a-z]?|§\d+(\.\d+)?)", c.where), c.key
        assert c.source.startswith(PAPERS[c.paper].cite.split(" 20")[0])
    assert len({c.key for c in CLAIMS}) == len(CLAIMS)


def test_definitions_point_at_glossary_terms_and_app_facts_at_files() -> None:
    terms = glossary_terms()
    for d in DEFINITIONS:
        assert d.glossary in terms, d
    for fact in APP_FACTS:
        assert (ROOT / fact.backed_by).is_file(), fact


def test_the_check_catches_a_typed_number_and_a_number_away_from_its_table() -> None:
    assert unregistered("ResNet-50 has 25,557,032 parameters and 4.09 GMACs") == ["25,557,032", "4.09"]
    # registered, but only beside its table and statistic:
    assert unregistered("ResNet-110 reaches 6.43% (Table 6, best of 5)") == []
    assert unregistered("ResNet-110 reaches 6.43%") == ["6.43"]
    assert unregistered("ResNet-110 reaches 6.43% (Table 6)") == ["6.43"]
    assert unregistered("plain-34: 28.54% (Table 2)") == [] and unregistered("plain-34: 28.54% (Table 4)") == ["28.54"]
    # notation, placeholders, code, maths and struck claims are not numbers to cite:
    assert unregistered("Table 3, §4.1, Fig. 4(e), 3×3, 7×7/2, arXiv:1512.03385, ResNet-50, v1.5, `layer2.0`") == []
    assert unregistered("{{resnet50.params}} parameters, $x_{l+1}$, ~~52 against 36 layers~~") == []
    assert unregistered("N(0, 1) inputs, the published MD5, shapes10, plain56 against resnet56") == []
    # a formula or a paper's setting counts only beside its source (or the app's own file's cue):
    assert unregistered("6n + 2 layers (§4.2)") == [] and unregistered("6n + 2 layers") == ["6", "2"]
    assert unregistered("64k iterations at batch 128 (§4.2)") == [] and unregistered("64k iterations") == ["64"]
    assert unregistered("side 2r + 1 (Chebyshev distance)") == [] and unregistered("side 2r + 1") == ["2", "1"]
    # a year counts beside its paper, and 'Tong He et al.' is not 'He et al.':
    assert unregistered("He et al. (2015)") == [] and unregistered("in 2015") == ["2015"]
    assert unregistered("He et al. 2019") == ["2019"] and unregistered("Tong He et al. 2019") == []


def test_no_unregistered_number_in_the_explainer_texts() -> None:
    bad = [(where, unregistered(u), u.strip()[:100]) for where, u in explainer_units() if unregistered(u)]
    assert not bad, bad


@pytest.mark.parametrize("path", APP_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_unregistered_number_in_the_apps_tooltips_and_captions(path: Path) -> None:
    bad = [(line, unregistered(text), text[:100]) for line, text in ui_strings(path) if unregistered(text)]
    assert not bad, f"{path.relative_to(ROOT)}: {bad}"


def test_no_unregistered_number_in_the_spec_fields_help() -> None:
    texts = spec_help_strings()
    assert {f for f, _ in texts} >= {"block", "stem", "width", "shortcut", "zero_init_residual"}
    bad = [(field, unregistered(text), text) for field, text in texts if unregistered(text)]
    assert not bad, bad


def test_no_unregistered_number_in_the_lecture_charts_words() -> None:
    bad = [(where, unregistered(t), t) for where, t in chart_texts() if unregistered(t)]
    assert not bad, bad


def test_the_ui_scan_finds_what_a_user_reads_and_skips_code_constants(tmp_path: Path) -> None:
    page = tmp_path / "page.py"
    page.write_text(
        "import streamlit as st\n"
        "LIMIT = 224\n"  # a code constant: not shown
        "st.caption('Uses 56 layers')\n"
        "st.number_input('Width', min_value=4, help=f'at most {LIMIT} pixels')\n"
        "col.metric('Parameters', n, help='25.6 M of them')\n"
        "st.latex(r'2^{10}')\n",
        encoding="utf-8",
    )
    assert [t for _, t in ui_strings(page)] == [
        "Uses 56 layers",
        "Width",
        "at most   pixels",
        "Parameters",
        "25.6 M of them",
    ]


def test_every_citation_in_the_texts_is_a_registered_paper() -> None:
    texts = [u for _, u in explainer_units()] + [t for p in APP_FILES for _, t in ui_strings(p)]
    texts += [t for _, t in spec_help_strings()] + [t for _, t in chart_texts()]
    registered = {p.arxiv for p in PAPERS.values()}
    for text in texts:
        for arxiv in arxiv_ids_in(text):
            assert arxiv in registered, f"arXiv:{arxiv} is not in the registry: {text[:80]!r}"
        for name in citations_in(text):
            assert paper_for_citation(name.split(" ", 1)[-1] if name.startswith(("In ", "By ")) else name), (
                f"{name!r} names no registered paper: {text[:80]!r}"
            )


def test_the_sources_section_lists_every_cited_paper() -> None:
    text = section("sources").body
    for p in PAPERS.values():
        assert (p.arxiv and f"arXiv:{p.arxiv}" in text) or (p.url and p.url in text), p.key


def test_glossary_links_point_at_glossary_terms() -> None:
    terms = glossary_terms()
    assert {
        "relu",
        "bn",
        "macs",
        "receptive-field",
        "projection",
        "shortcut-options",
        "v1-v15",
        "pre-activation",
    } <= set(terms)
    texts = [u for _, u in explainer_units()] + [t for _, t in spec_help_strings()]
    links = [m for t in texts for m in re.findall(r"section=glossary&term=([\w-]+)", t)]
    links += [m for m in re.findall(r"\]\(#([\w-]+)\)", section("glossary").body)]
    assert links, "the texts link to the glossary"
    assert set(links) <= set(terms), set(links) - set(terms)


def test_how_much_the_registry_checks(capsys: pytest.CaptureFixture[str]) -> None:
    """Not a claim but the closing note's figures: how many literal numbers and citations are checked."""
    units = [u for _, u in explainer_units()] + [t for p in APP_FILES for _, t in ui_strings(p)]
    units += [t for _, t in spec_help_strings()] + [t for _, t in chart_texts()]
    found = [e for u in units for e in check(u)[0]]
    numbers = sum(1 for e in found if isinstance(e, citations.Claim))
    cited = [c for u in units for c in citations_in(u) + arxiv_ids_in(u)]
    with capsys.disabled():
        print(
            f"\nregistry: {len(PAPERS)} papers, {len(CLAIMS)} claims, {len(DEFINITIONS)} definitions, "
            f"{len(APP_FACTS)} app facts; {len(units)} units checked, {numbers} literal paper numbers matched "
            f"to their source, {len(found) - numbers} definition/app-fact numbers, {len(cited)} citations resolved"
        )
    assert numbers > 100 and len(cited) > 50


def test_every_registered_number_is_used() -> None:
    """A claim, definition or app fact no text shows (nor a placeholder or a chart) is stale: drop it."""
    units = [u for _, u in explainer_units()] + [t for p in APP_FILES for _, t in ui_strings(p)]
    units += [t for _, t in spec_help_strings()] + [t for _, t in chart_texts()]
    used = {id(e) for u in units for e in check(u)[0]}
    by_placeholder = {c.key for c in PAPER.values()}
    by_chart = (ROOT / "app" / "teaching" / "slides.py").read_text(encoding="utf-8")
    stale = [e.text for e in (*DEFINITIONS, *APP_FACTS) if id(e) not in used]
    stale += [c.key for c in CLAIMS if id(c) not in used and c.key not in by_placeholder and c.key not in by_chart]
    assert not stale, stale
