"""The lecture's charts (app.teaching.slides, drawn by app.charts.slide_chart): every value is the
live analysis's or a registered claim's, labelled with its statistic, and drawn as given."""

from __future__ import annotations

import math

import pytest

from app.charts import slide_chart
from app.teaching.citations import CLAIMS, PAPERS
from app.teaching.numbers import since_2015, stride_cost, v1
from app.teaching.slides import CHARTS, Series, SlideChart
from resnet_core import PRESETS, analyze
from resnet_core.spec import SHORTCUTS
from resnet_core.units import count

CLAIM_VALUES = {c.value for c in CLAIMS}


@pytest.fixture(scope="module")
def charts() -> dict[str, SlideChart]:
    return {key: make() for key, make in CHARTS.items()}


def series(chart: SlideChart) -> list[Series]:
    return [s for p in chart.panels for s in p.series]


def test_every_chart_has_a_source_and_well_formed_panels(charts: dict[str, SlideChart]) -> None:
    for key, chart in charts.items():
        assert chart.key == key and chart.title and chart.source
        assert "arXiv:" in chart.source or "live model" in chart.source, key
        for panel in chart.panels:
            for s in panel.series:
                n = len(panel.categories)
                assert len(s.values) == len(s.labels) == len(s.hover) == n, (key, s.name)
                assert s.errors is None or len(s.errors) == n


def test_a_papers_numbers_are_registered_claims_with_their_source_on_hover(charts: dict[str, SlideChart]) -> None:
    for key in ("table2", "preact", "zero_init", "cifar"):
        for s in series(charts[key]):
            for value, label, hover in zip(s.values, s.labels, s.hover, strict=True):
                if math.isnan(value):
                    continue
                assert value in CLAIM_VALUES, (key, value)
                assert label.startswith(f"{value:g}".rstrip("0")) or label == "", (key, label)
                assert "Table" in hover and "et al." in hover, hover


def test_resnet110s_best_and_mean_are_labelled(charts: dict[str, SlideChart]) -> None:
    best, mean = series(charts["cifar"])
    assert "6.43% (best of 5)" in best.labels and "best of 5" in best.name
    assert "mean of 5" in mean.name and mean.errors and max(mean.errors) == 0.16
    assert all("median of 5" in h for s in series(charts["preact"]) for h in s.hover)


def test_live_numbers_equal_the_analysis(charts: dict[str, SlideChart]) -> None:
    r34, r50 = PRESETS["resnet34"], PRESETS["resnet50"]
    params = series(charts["options"])[1]
    expected = [analyze(r34.replace(shortcut=o), 224).totals.params for o in SHORTCUTS]
    assert [round(v * 1e6) for v in params.values] == expected
    assert list(params.labels) == [count(n) for n in expected] and params.hover[0] == f"{expected[0]:,} parameters"
    labels = dict(zip(SHORTCUTS, charts["options"].panels[1].categories, strict=True))
    assert labels["D"] == "D†" and "not in the ResNet paper" in charts["options"].source
    # the plain net (shortcut 'none') is the ResNet paper's own baseline (§3.3): no dagger
    assert all(labels[o] == o for o in "ABC") and labels.get("none", "plain") == "plain"
    whole = series(charts["stride_cost"])[-1]
    cost = stride_cost(r50)
    assert [round(v * 1e9) for v in whole.values] == [cost.total_v1, cost.total_v15]
    v1_convs, v15_convs = series(charts["stride_cost"])[:2]
    a1, a15 = analyze(v1(r50), 224), analyze(r50, 224)
    assert [round(v * 1e6) for v in v1_convs.values] == [a1.layer(f"layer2.0.conv{i}").macs for i in (1, 2, 3)]
    assert [round(v * 1e6) for v in v15_convs.values] == [a15.layer(f"layer2.0.conv{i}").macs for i in (1, 2, 3)]
    family = series(charts["family"])[0]
    assert [round(v * 1e6) for v in family.values] == [
        analyze(PRESETS[n], 224).totals.params for n in ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152")
    ]


@pytest.mark.parametrize("key", list(CHARTS))
def test_the_figure_draws_the_data_at_the_size_asked(charts: dict[str, SlideChart], key: str) -> None:
    chart = charts[key]
    fig = slide_chart(chart, height=500, font_size=26)
    assert fig.layout.height == 500 and fig.layout.font.size == 26
    axes = [fig.layout[k] for k in fig.layout if k.startswith(("xaxis", "yaxis"))]
    assert all(ax.tickfont.size == 26 for ax in axes)
    drawn = [list(t.x if t.orientation == "h" else t.y) for t in fig.data]
    given = [list(s.values) for s in series(chart)]
    assert [[v for v in d if v == v] for d in drawn] == [[v for v in g if v == v] for g in given]
    assert {t.hoverinfo for t in fig.data} == {"text"}


def test_the_family_since_2015_chart_is_the_live_presets(charts: dict[str, SlideChart]) -> None:
    """Issue 17: ResNet-50 beside each of its descendants, parameters and MACs from the analysis; the
    dilated nets named with their output stride; every tweak's paper in the source line."""
    chart = charts["since2015"]
    names = ["resnet50", *(n for n, _, _ in since_2015())]
    assert {"resnet50d", "seresnet50", "ecaresnet50t", "resnetaa50d", "resnetv2_50", "resnet50_os8"} <= set(names)
    params, macs = chart.panels[0].series
    assert [round(v * 1e6) for v in params.values] == [analyze(PRESETS[n], 224).totals.params for n in names]
    assert [round(v * 1e9) for v in macs.values] == [analyze(PRESETS[n], 224).totals.macs for n in names]
    categories = chart.panels[0].categories
    assert categories[names.index("resnet50_os8")] == "resnet50_os8 (OS 8)" and categories[0] == "resnet50"
    for paper in ("tricks", "se", "eca", "antialias", "identity", "deeplab"):
        assert PAPERS[paper].cite in chart.source
