"""Weights: published URLs, download with hash check from a real local HTTP server, safe loading, fit reports."""

from __future__ import annotations

import builtins
import contextlib
import hashlib
import socket
from pathlib import Path

import pytest
import torch

from resnet_core import PRESETS, ResNetSpec, build
from resnet_core.weights import (
    PUBLISHED,
    WeightsError,
    cache_dir,
    check_fit,
    download,
    expected_shapes,
    hash_prefix_from_name,
    load_into,
    load_state_dict,
    published,
    published_for,
)

TINY = ResNetSpec(block="basic", layers=(1, 1), stem="cifar", width=8, shortcut="B", num_classes=10)


def test_every_torchvision_imagenet_preset_has_published_weights():
    for name in ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152"):
        assert published_for(name), name
    for name in ("wide_resnet50_2", "wide_resnet101_2", "resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d"):
        assert published_for(name), name
    for w in PUBLISHED:
        assert w.preset in PRESETS
        assert w.url.startswith("https://download.pytorch.org/models/")
        assert w.filename.startswith(w.preset + "-")
        assert len(w.sha256_prefix) == 8
    assert published("resnet50.IMAGENET1K_V2").filename == "resnet50-11ad3fa6.pth"
    with pytest.raises(WeightsError, match="known: resnet18.IMAGENET1K_V1"):
        published("resnet50.V9")


def test_presets_have_torchvisions_state_dict_layout(torchvision_reference):
    # What makes the published files load with strict=True.
    for name, ref in torchvision_reference["models"].items():
        want = {k: tuple(s) for k, s in ref["state_dict"].items()}
        assert expected_shapes(PRESETS[name]) == want, name


def test_hash_prefix_is_read_from_the_file_name():
    assert hash_prefix_from_name("resnet50-11ad3fa6.pth") == "11ad3fa6"
    assert hash_prefix_from_name("my_weights.pth") is None
    for w in PUBLISHED:
        assert hash_prefix_from_name(w.filename) == w.filename.removesuffix(".pth").rsplit("-", 1)[1]


@pytest.mark.parametrize("name", ["x-decade.pth", "model-beef.pt", "resnet-0123456.pth", "run-2024-abcdef.pth"])
def test_a_short_hex_word_in_the_name_is_not_a_hash(name):
    # torchvision's names carry at least 8 hex digits; "decade" or "beef" is a word, not a digest.
    assert hash_prefix_from_name(name) is None


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("RESNET_EXPLORER_CACHE", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c"
    monkeypatch.delenv("RESNET_EXPLORER_CACHE")
    assert cache_dir() == Path.home() / ".cache" / "resnet_explorer"


def _save(state_dict, path: Path) -> Path:
    torch.save(state_dict, path)
    return path


def test_state_dict_file_round_trips_into_the_model(tmp_path):
    source = build(TINY).eval()
    path = _save(source.state_dict(), tmp_path / "tiny.pth")
    target = build(TINY).eval()
    report = load_into(target, TINY, load_state_dict(path))
    assert report.ok
    x = torch.randn(2, 3, 16, 16)
    with torch.inference_mode():
        assert torch.equal(target(x), source(x))


def test_wrapped_and_dataparallel_checkpoints_are_unwrapped(tmp_path):
    sd = build(TINY).state_dict()
    wrapped = _save({"state_dict": {"module." + k: v for k, v in sd.items()}, "epoch": 3}, tmp_path / "ckpt.pt")
    assert set(load_state_dict(wrapped)) == set(sd)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"not a torch file at all", "not a PyTorch weight file"),
        (None, "holds Tensor, not a state_dict"),
    ],
)
def test_files_that_are_not_state_dicts_say_what_is_expected(tmp_path, payload, message):
    path = tmp_path / "bad.pth"
    if payload is None:
        torch.save(torch.zeros(3), path)
    else:
        path.write_bytes(payload)
    with pytest.raises(WeightsError, match=message):
        load_state_dict(path)


class _CreatesAFile:
    """Unpickling this calls open(marker, 'w'): arbitrary code a .pth must never get to run."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (builtins.open, (str(self.marker), "w"))


def test_malicious_pickle_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned.txt"
    evil = tmp_path / "evil.pth"
    torch.save({"fc.weight": torch.zeros(2, 2), "payload": _CreatesAFile(marker)}, evil)
    assert not marker.exists()

    with pytest.raises(WeightsError, match="refused to load this file"):
        load_state_dict(evil)
    with pytest.raises(WeightsError, match="refused"):
        load_state_dict(evil.read_bytes())  # the upload path
    assert not marker.exists()

    # The payload is live: an unsafe load does create the file, so the refusal above is what stopped it.
    torch.load(evil, weights_only=False)
    assert marker.exists()


# -- download from a real HTTP server on 127.0.0.1 ---------------------------------------------


def _publish(root: Path, stem: str, prefix: str | None = None) -> tuple[str, bytes]:
    src = root / "tmp.pth"
    torch.save(build(TINY).state_dict(), src)
    data = src.read_bytes()
    src.unlink()
    digest = hashlib.sha256(data).hexdigest()
    name = f"{stem}-{prefix or digest[:8]}.pth"
    (root / name).write_bytes(data)
    return name, data


def test_download_checks_the_hash_in_the_name_reports_progress_and_caches(server, tmp_path):
    root, base, httpd = server
    name, data = _publish(root, "tiny")
    cache = tmp_path / "cache"
    progress = []
    path = download(f"{base}/{name}", directory=cache, progress=lambda done, total: progress.append((done, total)))
    assert path == cache / name and path.read_bytes() == data
    assert progress[0] == (0, len(data)) and progress[-1] == (len(data), len(data))
    assert [d for d, _ in progress] == sorted(d for d, _ in progress)
    assert load_into(build(TINY), TINY, load_state_dict(path)).ok

    download(f"{base}/{name}", directory=cache)  # second time: from the cache, no request
    assert httpd.paths == [f"/{name}"]
    assert list(cache.iterdir()) == [path]


def test_download_with_a_wrong_hash_is_deleted_and_explained(server, tmp_path):
    root, base, _ = server
    name, _ = _publish(root, "tiny", prefix="deadbeef")
    cache = tmp_path / "cache"
    with pytest.raises(WeightsError, match=r"name promises deadbeef.*deleted"):
        download(f"{base}/{name}", directory=cache)
    assert list(cache.iterdir()) == []  # neither the file nor a partial download remains


def test_a_name_that_only_looks_hex_is_downloaded_without_a_hash_check(server, tmp_path):
    root, base, _ = server
    _, data = _publish(root, "x")
    (root / "x-decade.pth").write_bytes(data)
    assert download(f"{base}/x-decade.pth", directory=tmp_path).read_bytes() == data


def test_download_errors_are_readable(server, tmp_path):
    _, base, _ = server
    with pytest.raises(WeightsError, match="HTTP 404"):
        download(f"{base}/missing-01234567.pth", directory=tmp_path)
    with pytest.raises(WeightsError, match="only http:// and https://"):
        download("file:///etc/passwd", directory=tmp_path)


def _open_fds() -> list[str]:
    """Where each of this process's file descriptors points (Linux: /proc/self/fd)."""
    fd_dir = Path("/proc/self/fd")
    targets = []
    for entry in list(fd_dir.iterdir()):
        with contextlib.suppress(OSError):  # the descriptor listing the folder used, closed by now
            targets.append(str(entry.readlink()))
    return targets


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc/self/fd (Linux)")
def test_failed_downloads_close_the_temp_file_and_remove_it(server, tmp_path):
    _, base, _ = server
    cache = tmp_path / "cache"
    refused = f"http://127.0.0.1:{_closed_port()}/tiny-01234567.pth"
    with pytest.raises(WeightsError, match="failed"):
        download(refused, directory=cache)  # warm up: imports, the cache folder
    before = len(_open_fds())
    for _ in range(5):
        with pytest.raises(WeightsError, match="failed"):
            download(refused, directory=cache)
    assert len(_open_fds()) == before  # nothing left open by a refused connection
    for _ in range(5):
        with pytest.raises(WeightsError, match="HTTP 404"):
            download(f"{base}/missing-01234567.pth", directory=cache)
    assert not [t for t in _open_fds() if t.startswith(str(cache))]  # no temp file held open, deleted or not
    assert list(cache.iterdir()) == []  # and none left behind


# -- fit reports --------------------------------------------------------------------------------


def _meta_state_dict(spec: ResNetSpec):
    return build(spec, "meta").state_dict()


def test_mismatch_report_lists_keys_and_suggests_the_preset_that_fits():
    report = check_fit(PRESETS["resnet18"], _meta_state_dict(PRESETS["resnet50"]))
    assert not report.ok
    assert ("layer1.0.conv3.weight", (256, 64, 1, 1)) in report.unexpected
    assert ("layer3.2.conv1.weight", (256, 256, 3, 3)) not in report.missing  # resnet18 has 2 blocks in layer3
    assert ("layer1.0.conv2.weight", (64, 64, 3, 3), (64, 64, 3, 3)) not in report.mismatched
    assert ("layer1.0.conv1.weight", (64, 64, 3, 3), (64, 64, 1, 1)) in report.mismatched
    assert report.fits_preset == "resnet50"
    assert "choose it instead" in report.summary()
    assert {row["problem"] for row in report.rows()} == {"unexpected", "shape mismatch"}


def test_same_keys_different_shapes_are_mismatches():
    report = check_fit(PRESETS["resnet50"], _meta_state_dict(PRESETS["wide_resnet50_2"]))
    assert not report.missing and not report.unexpected
    assert ("layer1.0.conv1.weight", (64, 64, 1, 1), (128, 64, 1, 1)) in report.mismatched
    assert report.fits_preset == "wide_resnet50_2"


def test_a_classifier_for_other_classes_gets_a_num_classes_hint():
    report = check_fit(PRESETS["resnet18"], _meta_state_dict(PRESETS["resnet18"].replace(num_classes=37)))
    assert [k for k, _, _ in report.mismatched] == ["fc.weight", "fc.bias"]
    assert report.fits_preset is None
    assert "37 classes, set num_classes" in report.summary()


def test_a_file_that_does_not_fit_leaves_the_model_untouched():
    model = build(TINY)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    other = build(TINY.replace(width=16)).state_dict()
    report = load_into(model, TINY, other)
    assert not report.ok and report.mismatched
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def _without_batch_counters(state_dict):
    """The state_dict as old or converted checkpoints have it: no BatchNorm ``num_batches_tracked``."""
    out = state_dict.copy()  # an OrderedDict copy keeps no _metadata: like a converted checkpoint
    for k in [k for k in out if k.endswith(".num_batches_tracked")]:
        del out[k]
    return out


def test_a_checkpoint_without_batchnorm_counters_fits_and_loads(tmp_path):
    resnet18 = PRESETS["resnet18"]
    source = build(resnet18).eval()
    sd = _without_batch_counters(source.state_dict())
    assert len(sd) < len(source.state_dict())  # there were counters to drop

    report = check_fit(resnet18, sd)
    assert report.ok, report.summary()
    wrong = check_fit(PRESETS["resnet34"], sd)
    assert not wrong.ok and wrong.fits_preset == "resnet18"
    assert not any(k.endswith("num_batches_tracked") for k, _ in wrong.missing)

    # Loading works both without torch's state_dict metadata (torch fills the counters in) and with it
    # (BatchNorm version 2 metadata makes torch itself demand the counters).
    with_metadata = source.state_dict()
    for k in [k for k in with_metadata if k.endswith(".num_batches_tracked")]:
        del with_metadata[k]
    from_file = load_state_dict(_save(with_metadata, tmp_path / "old.pth"))
    x = torch.randn(1, 3, 64, 64)
    for candidate in (sd, with_metadata, from_file):
        target = build(resnet18).eval()
        assert load_into(target, resnet18, candidate).ok
        with torch.inference_mode():
            assert torch.equal(target(x), source(x))
        assert all(int(v) == 0 for k, v in target.state_dict().items() if k.endswith("num_batches_tracked"))
    assert not any(k.endswith("num_batches_tracked") for k in with_metadata)  # the caller's dict is not changed
