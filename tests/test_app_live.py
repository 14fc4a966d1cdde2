"""The live page through AppTest: sample and uploaded images, uploaded weights (good, wrong, malicious), timing."""

from __future__ import annotations

import builtins
import hashlib
import http.server
import io
import json
import threading
from functools import partial

import pytest
import torch
from PIL import Image
from streamlit.testing.v1 import AppTest

from resnet_core import PRESETS, analyze, build, weights
from resnet_core.images import load_image, preprocess, top_k
from tests.apptest import no_exceptions, open_page

UPLOAD = "Upload a .pth / .pt"
PUBLISHED = "torchvision's published"


def page(arch: str = "resnet20", size: str | None = None) -> AppTest:
    return open_page("live", {"live_arch": arch} | ({"live_input": size} if size else {})).run()


def state_dict_bytes(sd) -> bytes:
    buf = io.BytesIO()
    torch.save(sd, buf)
    return buf.getvalue()


def png_bytes() -> bytes:
    img = Image.new("RGBA", (80, 60), (30, 160, 90, 255))
    img.paste((250, 40, 40, 0), (0, 0, 20, 20))  # a transparent corner
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def upload_weights_and_image(at: AppTest, name: str, state_dict) -> tuple[AppTest, bytes]:
    """Upload ``state_dict`` as weight file ``name`` and a PNG as the image; the page and the image's bytes."""
    at.radio(key="live_weights_source").set_value(UPLOAD).run()
    at.file_uploader(key="live_weights_file").upload(name, state_dict_bytes(state_dict)).run()
    at.radio(key="live_image_source").set_value("Upload").run()
    image = png_bytes()
    at.file_uploader(key="live_image_file").upload("photo.png", image, "image/png").run()
    return no_exceptions(at), image


def top5_table(at: AppTest):
    return next(df.value for df in at.dataframe if "class" in df.value.columns)


def test_sample_image_with_random_weights_shows_steps_top5_and_activation_maps():
    at = page("resnet18", "64")
    no_exceptions(at)
    assert any(m.value == "**Top-5** · untrained weights — the classes are meaningless" for m in at.markdown)
    assert [m.value for m in at.markdown if m.value in ("**input**", "**resize**", "**center crop**")] == [
        "**input**",
        "**resize**",
        "**center crop**",
    ]
    table = top5_table(at)
    assert len(table) == 5 and table["p"].is_monotonic_decreasing
    assert abs(table["p"].sum() - 100) < 100  # percent
    assert set(table["class"]) <= set(__import__("resnet_core.images").images.class_names())
    assert at.get("plotly_chart"), "the activation maps are drawn"
    assert any("torch " + torch.__version__ in c.value for c in at.caption)


def test_uploaded_image_and_weights_predict_what_the_model_predicts():
    spec = PRESETS["resnet20"]
    trained = build(spec).eval()
    with torch.no_grad():
        trained.fc.bias.copy_(torch.linspace(-3, 3, 10))  # make the classes clearly distinct
    at, image = upload_weights_and_image(page(), "net.pth", trained.state_dict())
    assert not at.error, [e.value for e in at.error]
    assert any("Weights loaded" in s.value for s in at.success)
    assert any("transparency composited onto white" in c.value for c in at.caption)

    x = preprocess(load_image(image).image, resize=round(32 * 256 / 224), crop=32).tensor
    with torch.inference_mode():
        expected = top_k(trained(x)[0], 5)
    table = top5_table(at)
    assert table["index"].tolist() == [p.index for p in expected]
    assert table["p"].tolist() == pytest.approx([100 * p.probability for p in expected], abs=1e-3)


def test_weights_of_another_preset_get_a_mismatch_report_and_a_suggestion():
    at = page()
    at.radio(key="live_weights_source").set_value(UPLOAD).run()
    other = state_dict_bytes(build(PRESETS["resnet32"]).state_dict())
    at.file_uploader(key="live_weights_file").upload("resnet32.pth", other).run()
    no_exceptions(at)
    assert any("fit the preset 'resnet32'" in e.value for e in at.error)
    report = next(df.value for df in at.dataframe if "problem" in df.value.columns)
    assert "layer1.3.conv1.weight" in set(report["key"]) and set(report["problem"]) == {"unexpected"}
    assert not at.get("plotly_chart"), "nothing runs with weights that do not fit"


class _Payload:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (builtins.open, (self.marker, "w"))


def test_a_malicious_upload_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "created.txt"
    at = page()
    at.radio(key="live_weights_source").set_value(UPLOAD).run()
    at.file_uploader(key="live_weights_file").upload("evil.pth", state_dict_bytes({"x": _Payload(str(marker))})).run()
    no_exceptions(at)
    assert any("refused to load this file" in e.value and "io.open" in e.value for e in at.error)
    assert not marker.exists()


def test_timing_and_sweep_are_kept_for_comparison_within_the_session():
    at = page()
    at.number_input(key="live_repeats").set_value(2)
    at.number_input(key="live_warmup").set_value(1)
    at.number_input(key="live_batch").set_value(2)
    at.number_input(key="live_budget").set_value(1.0)
    at.button(key="live_time").click().run()
    no_exceptions(at)
    assert [m.label for m in at.metric][-5:] == [
        "median latency",
        "images / s",
        "multiply-adds / s",
        "share of peak",
        "peak memory",
    ]
    at.multiselect(key="live_sweep_batches").set_value([1, 4])
    at.button(key="live_sweep").click().run()
    no_exceptions(at)
    history = next(df.value for df in at.dataframe if "median ms" in df.value.columns)
    assert history["batch"].tolist() == [2, 1, 4]
    assert (history["median ms"] > 0).all()
    sweep_chart = json.loads(at.get("plotly_chart")[-1].proto.spec)
    assert [t["name"] for t in sweep_chart["data"]] == ["images/s", "latency (ms)"]
    assert sweep_chart["data"][0]["x"] == [1, 4]


@pytest.fixture
def weights_server(tmp_path):
    root = tmp_path / "served"
    root.mkdir()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None  # type: ignore[attr-defined]
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_published_weights_download_with_progress_then_predict(weights_server, tmp_path, monkeypatch):
    # torchvision's files cannot be fetched here, so a file named the same way is served from 127.0.0.1.
    root, base = weights_server
    spec = PRESETS["resnet20"]
    data = state_dict_bytes(build(spec).state_dict())
    name = f"resnet20-{hashlib.sha256(data).hexdigest()[:8]}.pth"
    (root / name).write_bytes(data)
    entry = weights.PublishedWeights("resnet20", "LOCAL_TEST", f"{base}/{name}", 0.0, resize_size=36, crop_size=32)
    monkeypatch.setattr(weights, "PUBLISHED", (*weights.PUBLISHED, entry))
    monkeypatch.setenv("RESNET_EXPLORER_CACHE", str(tmp_path / "cache"))

    at = page()
    at.radio(key="live_weights_source").set_value(PUBLISHED).run()
    assert any("Not downloaded yet" in i.value for i in at.info)
    at.button(key="live_download").click().run()
    no_exceptions(at)
    assert not at.error, [e.value for e in at.error]
    assert (tmp_path / "cache" / name).read_bytes() == data
    assert any("Weights loaded: torchvision" in s.value for s in at.success)
    assert len(top5_table(at)) == 5


def test_a_network_too_big_to_build_is_declined_without_building_it(monkeypatch):
    from app.views import live
    from app.widgets import MAX_BUILD_PARAMS

    def no_build(*args, **kwargs):
        raise AssertionError("the page built a network it should have declined")

    # the view's own name for resnet_core.build, the one its model cache calls
    monkeypatch.setattr(live, "build", no_build)
    at = open_page("live", {"live_arch": "resnet18", "live_width": "4096"}).run()
    no_exceptions(at)
    params = analyze(PRESETS["resnet18"].replace(width=4096), 224).totals.params
    assert params > MAX_BUILD_PARAMS
    assert any(f"{params:,} parameters" in e.value for e in at.error), [e.value for e in at.error]
    assert not at.tabs  # no Predict / Timing: nothing was built


def test_a_rerun_or_another_session_recomputes_nothing_and_takes_no_lock(monkeypatch):
    """Issue 15, item 7: the prediction is computed once per (spec, weights, image, size, dtype, layer)."""
    from resnet_core import runtime

    taken: list[str] = []
    real = runtime.holding

    def counting(device, *args, **kwargs):
        taken.append(str(device))
        return real(device, *args, **kwargs)

    monkeypatch.setattr(runtime, "holding", counting)
    at = page("resnet20", "40")  # a size no other test uses: the first run computes
    first = top5_table(at)
    assert len(taken) == 1
    at.run()
    at.toggle(key="live_channels_last").set_value(True).run()  # a timing setting: no new prediction
    other = page("resnet20", "40")  # another session, the same choice
    assert len(taken) == 1, taken
    assert top5_table(other).equals(first)
    at.selectbox(key="live_layer").select("layer2.0").run()  # another layer: one new pass
    assert len(taken) == 2


def test_a_timing_batch_over_the_memory_budget_is_refused_with_what_fits(monkeypatch):
    from resnet_core import budget

    monkeypatch.setenv(budget.JOB_ENV, "256")
    at = page("resnet18", "224")
    at.number_input(key="live_batch").set_value(4096)
    at.button(key="live_time").click().run()
    no_exceptions(at)
    fits = budget.largest_batch(analyze(PRESETS["resnet18"], 224), "float32", 256 * 2**20)
    assert 1 < fits < 4096
    assert any(f"batch {fits:,} fits" in e.value and "256 MiB" in e.value for e in at.error), [
        e.value for e in at.error
    ]
    assert "live_last" not in at.session_state  # nothing ran


def test_a_timing_run_fits_its_time_budget(monkeypatch):
    """The passes are chosen by the budget: a pass made slow (0.2 s) leaves room for few of them."""
    import time as _time

    from app.views import live
    from resnet_core import runtime

    real = runtime.forward

    def slow(model, x, dtype="float32"):
        _time.sleep(0.2)
        return real(model, x, dtype)

    monkeypatch.setattr(runtime, "forward", slow)
    at = page("resnet20", "32")
    at.number_input(key="live_budget").set_value(1.0)
    at.button(key="live_time").click().run()
    no_exceptions(at)
    m = at.session_state["live_last"]
    assert m.warmup == 1 and runtime.MIN_TIMED <= m.repeats <= 5  # 1 s of 0.2 s passes, not 3 + 50
    assert live.TIME_BUDGET_S <= 6  # the default run: a few seconds of passes
    row = next(df.value for df in at.dataframe if "passes" in df.value.columns).iloc[-1]
    assert row["passes"] == f"1 + {m.repeats}" and row["median"].endswith(" ms")


def test_the_shape_flow_shows_every_stage_and_the_numbers_are_for_people():
    at = page("resnet50", "224")
    a = analyze(PRESETS["resnet50"], 224)
    flow = next(h.proto.body for h in at.get("html") if "live-shape-flow" in h.proto.body)
    for stage in a.stages[:-1]:
        assert f">{stage.name}<" in flow and "×".join(str(d) for d in stage.output_shape[1:]) in flow
    assert "1,000 classes" in flow


# -- the family since 2015 and plain nets (issues 16 and 17) ----------------------------------------


@pytest.mark.parametrize("arch", ["plain20", "resnet50d", "seresnet50", "ecaresnet50t", "resnetv2_50", "resnet50_os8"])
def test_plain_and_timm_family_presets_predict_and_draw_their_flow(arch):
    at = page(arch, "64")
    no_exceptions(at)
    assert not at.error, [e.value for e in at.error]
    assert len(top5_table(at)) == 5
    flow = next(h.proto.body for h in at.get("html") if "live-shape-flow" in h.proto.body)
    last = analyze(PRESETS[arch], 64).stages[-2]  # the last stage before the head
    assert f">{last.name}<" in flow and "×".join(str(d) for d in last.output_shape[1:]) in flow


def test_a_timm_state_dict_upload_is_renamed_loaded_and_predicts_what_timm_predicts():
    """A file torch.save wrote from timm's own resnetv2_50 (timm's names: stem.conv, stages.0.blocks.0 …)."""
    from tests import timm_oracle as oracle

    oracle.import_timm()
    theirs = oracle.randomize_(oracle.create("resnetv2_50", "cpu"))
    at, image = upload_weights_and_image(page("resnetv2_50", "64"), "resnetv2_50.pth", theirs.state_dict())
    assert not at.error, [e.value for e in at.error]
    assert any("names converted from timm's ResNetV2 layout" in s.value for s in at.success)
    x = preprocess(load_image(image).image, resize=round(64 * 256 / 224), crop=64).tensor
    with torch.inference_mode():
        expected = top_k(theirs(x)[0], 5)
    table = top5_table(at)
    assert table["index"].tolist() == [p.index for p in expected]
    assert table["p"].tolist() == pytest.approx([100 * p.probability for p in expected], abs=1e-3)


def test_a_timm_file_for_another_preset_is_refused_with_what_it_is_and_what_takes_it():
    from tests import timm_oracle as oracle

    oracle.import_timm()
    theirs = oracle.create("resnetv2_50", "cpu")
    at = page("resnet50", "64")
    at.radio(key="live_weights_source").set_value(UPLOAD).run()
    at.file_uploader(key="live_weights_file").upload("v2.pth", state_dict_bytes(theirs.state_dict())).run()
    no_exceptions(at)
    assert any(
        "names converted from timm's ResNetV2 layout" in e.value and "resnetv2_50" in e.value for e in at.error
    ), [e.value for e in at.error]
    assert not at.get("plotly_chart"), "nothing runs with weights that do not fit"
