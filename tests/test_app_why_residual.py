"""The "Why residual?" page (AppTest, real models): one test group per section.

(a) by the numbers: plain-34 and ResNet-34 (A) show identical parameters and MACs, B its projections;
(b) at initialisation: the charts hold ``resnet_core.signal``'s measurements of the chosen pair, a bad
    URL value falls back with a notice, a pair over the budget is refused before any work; the sweep;
(c) the race: a tiny race runs off the script thread, shows its progress and then its results (the
    table's final losses are the run's), can be stopped, waits in line while another race holds the
    server's slot, and a budget over the limit is refused with a message.
"""

from __future__ import annotations

import time

import pytest
from streamlit.testing.v1 import AppTest

from app.race_runner import RaceRun
from app.views.why_residual import RUN_KEY, SIGNAL_BATCH, residual_twins
from resnet_core import PRESETS, analyze
from resnet_core.compare import ShortcutCost
from resnet_core.race import RACE_QUEUE
from resnet_core.signal import propagation
from tests.apptest import no_exceptions, open_page, plotly_figure, run_page

#: Cheap settings for the sections not under test: plain-20 at 32 px for (b).
CHEAP = {"sig_pair": "plain20", "sig_input": "32"}
TINY_RACE = {"nets": "plain20,resnet20", "steps": "4", "batch": "8", "race_input": "16", "seed": "0"}


def page(query: dict[str, str]) -> AppTest:
    return run_page("why_residual", {**CHEAP, **query}, timeout=300)


def metric_values(at: AppTest) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for m in at.metric:
        out.setdefault(m.label, []).append(m.value)
    return out


# -- (a) by the numbers --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def default_page() -> AppTest:
    return page({"pair": "plain34"})


def test_plain34_and_resnet34_a_show_identical_params_and_macs_b_its_projections(default_page):
    at = default_page
    plain = analyze(PRESETS["plain34"], 224)
    a = analyze(PRESETS["plain34"].replace(shortcut="A"), 224)
    b = analyze(PRESETS["plain34"].replace(shortcut="B"), 224)
    assert (plain.totals.params, plain.totals.macs) == (a.totals.params, a.totals.macs)
    helps = [m.proto.help for m in at.metric]
    assert f"exactly {plain.totals.params:,}" in helps
    assert f"exactly {a.totals.params:,}; +0 against plain34" in helps
    assert f"exactly {a.totals.macs:,}; +0 against plain34" in helps
    cost_b = ShortcutCost.of(plain, b)
    assert cost_b.shortcut_params == b.totals.params - plain.totals.params > 0
    assert f"exactly {b.totals.params:,}; {cost_b.shortcut_params:+,} against plain34" in helps
    text = " ".join(m.value for m in at.markdown)
    assert "plain34 and resnet34 with option A have identical parameters and multiply-adds" in text
    assert f"adds exactly its {cost_b.projections} projection shortcuts" in text
    assert any("Every difference is exactly the residual adds and the shortcut paths" in c.value for c in at.caption)
    assert at.query_params["pair"] == "plain34"


def test_every_plain_preset_has_its_residual_twin():
    twins = residual_twins()
    plain = {name for name, spec in PRESETS.items() if spec.shortcut == "none"}
    assert set(twins) == plain
    for p, r in twins.items():
        assert PRESETS[r].replace(shortcut="none") == PRESETS[p]


# -- (b) signal propagation at initialisation ----------------------------------------------------


def test_signal_charts_hold_the_measured_forward_std_of_both_nets(default_page):
    at = default_page
    forward = plotly_figure(at, "why_forward")["data"]
    assert [t["name"] for t in forward] == ["plain20", "resnet20"]
    for trace, name in zip(forward, ("plain20", "resnet20"), strict=True):
        p = propagation(PRESETS[name], 32, batch=SIGNAL_BATCH, label=name)
        assert trace["y"] == pytest.approx(list(p.forward_std), rel=1e-5)
        assert trace["x"] == list(p.depth)
    grads = plotly_figure(at, "why_grad")["data"]
    assert len(grads) == 2 and all(len(t["y"]) > 10 for t in grads)
    shat = plotly_figure(at, "why_shattering")["data"]
    assert [t["name"] for t in shat] == ["plain20", "resnet20"]
    assert all(-1 <= y <= 1 for t in shat for y in t["y"])
    labels = {b.label for b in at.get("download_button")}
    assert {"CSV: std per block", "CSV: ‖∂L/∂W‖ per conv", "CSV: correlation per block"} <= labels
    assert any("**plain20**: ‖∂L/∂W‖ is" in m.value for m in at.markdown)


def test_plain34_against_resnet34_at_a_small_input():
    at = page({"sig_pair": "plain34", "sig_input": "32"})
    forward = plotly_figure(at, "why_forward")["data"]
    assert [t["name"] for t in forward] == ["plain34", "resnet34"]
    assert all(len(t["y"]) == 1 + sum(PRESETS["resnet34"].layers) for t in forward)  # the stem and every block


def test_a_bad_signal_url_value_falls_back_with_a_notice():
    at = page({"sig_pair": "resnet999", "sig_input": "abc"})
    text = " ".join(w.value for w in at.warning)
    assert "'resnet999'" in text and "'abc'" in text
    assert at.selectbox(key="why_sig_pair").value == "plain56"


def test_a_pair_over_the_budget_is_refused_before_any_work():
    at = page({"sig_pair": "plain34", "sig_input": "512"})
    assert any("over this page's budget" in e.value for e in at.error), [e.value for e in at.error]
    assert not [c for c in at.get("plotly_chart") if c.proto.id.endswith("why_forward")]


def test_the_depth_sweep_measures_each_depth_with_and_without_shortcuts(default_page):
    at = default_page
    at.multiselect(key="why_sweep_depths").set_value([20, 32]).run()
    at.button(key="why_sweep_run").click().run()
    no_exceptions(at)
    corr = plotly_figure(at, "why_sweep_corr")["data"]
    assert [t["name"] for t in corr] == ["plain", "resnet (A)"]
    assert all(t["x"] == [20, 32] for t in corr)
    assert "CSV: the sweep" in {b.label for b in at.get("download_button")}


# -- (c) the race ----------------------------------------------------------------------------------


def run_of(at: AppTest) -> RaceRun:
    return at.session_state[RUN_KEY]


def poll_until_finished(at: AppTest, limit_s: float = 300) -> AppTest:
    run = run_of(at)
    assert run.join(limit_s), "the race did not finish"
    return no_exceptions(at.run())


def test_a_tiny_race_runs_shows_progress_then_its_results():
    at = page(TINY_RACE)
    assert "Plan:" in " ".join(m.value for m in at.markdown)
    at.button(key="why_race_start").click().run()
    no_exceptions(at)
    assert at.get("progress"), "no progress bar while the race runs"
    at = poll_until_finished(at)
    result = run_of(at).snapshot().result
    assert result is not None and result.steps_done == 4 and not result.stopped
    table = next(d.value for d in at.dataframe if "final loss" in d.value.columns)
    assert list(table["net"]) == ["plain20", "resnet20"]
    assert list(table["final loss"]) == [round(n.final_loss, 3) for n in result.nets]
    assert [p.value for p in at.get("progress")][-1] == 1.0 or any(
        "Finished: 4 steps" in (p.proto.text or "") for p in at.get("progress")
    )
    chart = plotly_figure(at, "why_race_chart")
    assert len(chart["data"]) >= 2
    assert plotly_figure(at, "why_responses")["data"]
    assert "CSV: loss and error per step" in {b.label for b in at.get("download_button")}
    # The result persists: a later rerun of the page shows the same finished race, and a new session
    # (a reload) can open it.
    at.run()
    assert next(d.value for d in at.dataframe if "final loss" in d.value.columns).equals(table)
    other = page(TINY_RACE)
    assert not [d for d in other.dataframe if "final loss" in d.value.columns]
    other.button(key="why_race_last").click().run()
    assert next(d.value for d in other.dataframe if "final loss" in d.value.columns).equals(table)


def test_a_race_waits_in_line_while_another_holds_the_slot_and_can_be_stopped():
    release = RACE_QUEUE.acquire("another session's race")
    try:
        at = page(TINY_RACE)
        assert any("A race is running on this server now" in i.value for i in at.info)
        at.button(key="why_race_start").click().run()
        no_exceptions(at)
        run = run_of(at)
        deadline = time.monotonic() + 30
        while run.snapshot().position != 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        at.run()
        texts = [p.proto.text for p in at.get("progress")]
        assert any("Waiting in line: position 1" in t for t in texts), texts
        at.button(key="why_race_stop").click().run()
        assert run.snapshot().phase == "stopped"
        assert any("Stopped after 0 of 4 steps" in p.proto.text for p in at.get("progress"))
    finally:
        release()
    assert run.join(30)  # its turn came: it left the line without building anything
    assert run.snapshot().phase == "stopped" and run.snapshot().result is None
    assert RACE_QUEUE.status() == (None, 0)


def test_a_race_over_the_budget_is_refused_with_a_message():
    at = page({**TINY_RACE, "steps": "100000"})
    assert any("steps=100000 is not allowed" in e.value for e in at.error), [e.value for e in at.error]
    assert at.button(key="why_race_start").disabled


def test_the_page_opens_without_a_query():
    at = open_page("why_residual", CHEAP, timeout=300).run()
    no_exceptions(at)
    assert at.title[0].value == "Why residual?"
