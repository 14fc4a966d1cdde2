"""The degradation race and its data: the built-in set, CIFAR-10 from a real local server, budgets, the
race slot, stopping and freeing, and a 20-step race whose ResNet-20 loss goes down."""

from __future__ import annotations

import gc
import hashlib
import io
import math
import pickle
import tarfile
import threading
import time
import weakref
from pathlib import Path

import numpy as np
import pytest
import torch

from resnet_core import PRESETS
from resnet_core.datasets import (
    CIFAR10_FOLDER,
    PUBLISHED_CIFAR10,
    Cifar10Checksums,
    DatasetError,
    cifar10,
    download_cifar10,
    load_cifar10,
    shapes10,
)
from resnet_core.race import (
    RACE_QUEUE,
    Race,
    RaceBudgetError,
    RaceBusy,
    RaceConfig,
    RaceQueue,
    learning_rate,
    plan_race,
    response_modules,
    run_race,
)

pytestmark = pytest.mark.usefixtures("one_cpu_thread")


# -- the built-in data ------------------------------------------------------------------------------


def test_shapes10_is_deterministic_balanced_and_varied():
    a, b = shapes10(200, 16, seed=1), shapes10(200, 16, seed=1)
    assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)
    assert not torch.equal(a.images, shapes10(200, 16, seed=2).images)
    assert a.images.shape == (200, 3, 16, 16) and a.images.dtype == torch.uint8
    assert torch.bincount(a.labels).tolist() == [20] * 10
    assert len(a.classes) == 10 and a.source == "built-in shapes10 (seed 1)"
    # No two images alike, and every class varies in colour: no single pixel value gives a class away.
    flat = a.images.flatten(1).float()
    assert torch.cdist(flat, flat).add(torch.eye(200) * 1e9).min() > 0
    for c in range(10):
        means = a.images[a.labels == c].float().mean(dim=(2, 3))  # (20, 3) mean colour per image
        assert means.std(dim=0).min() > 10


def test_shapes10_refuses_bad_sizes():
    with pytest.raises(DatasetError, match="size=4 is not allowed"):
        shapes10(100, 4)
    with pytest.raises(DatasetError, match="n=5 is not allowed"):
        shapes10(5)


# -- the race -----------------------------------------------------------------------------------------

SMALL = RaceConfig(
    nets=("plain20", "resnet20"), steps=20, batch=32, input_size=16, train_images=640, response_images=64
)


def test_a_20_step_race_on_the_built_in_data_lowers_resnet20s_loss():
    seen = []
    result = run_race(SMALL, progress=seen.append)
    assert [r.step for r in seen] == list(range(1, 21))
    assert result.steps_done == 20 and not result.stopped
    assert (result.device, result.dtype, result.channels_last) == ("cpu", "float32", False)
    assert result.lr == learning_rate(SMALL) == pytest.approx(0.025)
    for net in result.nets:
        assert len(net.loss) == len(net.error) == 20
        assert all(math.isfinite(v) for v in net.loss) and all(0 <= e <= 1 for e in net.error)
        assert net.steps_per_s > 0
    resnet = result.net("resnet20").loss
    # Means of five steps, not single batches: each batch's loss is noisy, the trend over 20 steps is not.
    assert sum(resnet[-5:]) / 5 < sum(resnet[:5]) / 5 - 0.05
    # Fig. 7: one response per 3×3 conv (the stem's and two per block), finite and positive.
    for r in result.responses:
        assert len(r.std) == len(r.layers) == 19 and r.images == 64
        assert all(math.isfinite(s) and s > 0 for s in r.std)
    assert RACE_QUEUE.status() == (None, 0)  # the slot is free again


def test_nets_with_the_same_shapes_start_from_the_same_weights():
    with Race(SMALL) as race:
        plain, residual = race.models["plain20"].state_dict(), race.models["resnet20"].state_dict()
        assert plain.keys() == residual.keys()
        assert all(torch.equal(plain[k], residual[k]) for k in plain)


def test_response_modules_are_the_batchnorms_after_each_3x3_conv():
    names = response_modules(PRESETS["resnet20"], 32)
    assert names[:3] == ["bn1", "layer1.0.bn1", "layer1.0.bn2"] and len(names) == 19
    assert response_modules(PRESETS["resnet50"], 64)[:2] == ["layer1.0.bn2", "layer1.1.bn2"]  # the 3×3 only
    # Pre-activation: conv1 is followed by bn2 (then ReLU) in its block; conv2's output goes to the add.
    preact = response_modules(PRESETS["resnet20"].replace(preact=True), 32)
    assert preact[:3] == ["conv1", "layer1.0.bn2", "layer1.0.conv2"] and len(preact) == 19


def test_a_race_can_be_stopped_from_another_thread_and_frees_its_nets():
    race = Race(RaceConfig(nets=("plain20", "resnet20"), steps=500, batch=8, input_size=16, train_images=200))
    steps = []

    def drive():
        for record in race.run():
            steps.append(record.step)

    worker = threading.Thread(target=drive)
    worker.start()
    _until(lambda: len(steps) >= 3, 120)
    race.stop()
    worker.join(timeout=60)
    assert not worker.is_alive()
    result = race.result()
    assert result.stopped and 3 <= result.steps_done < 500
    assert race.step() is None  # a stopped race takes no more steps
    model = weakref.ref(race.models["resnet20"])
    race.close()
    assert not hasattr(race, "models")  # models, optimisers and data are released …
    gc.collect()
    assert model() is None  # … and nothing else keeps the nets alive
    with pytest.raises(RuntimeError, match="closed"):
        race.layer_responses()
    assert RACE_QUEUE.status() == (None, 0)
    race.close()  # idempotent


def test_one_race_at_a_time_a_second_is_told_it_is_busy():
    with Race(SMALL):
        holder, waiting = RACE_QUEUE.status()
        assert holder == "plain20 vs resnet20" and waiting == 0
        with pytest.raises(RaceBusy, match=r"already running in this process \(plain20 vs resnet20\)"):
            Race(SMALL)
    with Race(SMALL):  # free again once the first is closed
        pass


def _until(condition, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


def test_the_race_queue_serves_in_order_and_reports_positions():
    queue = RaceQueue()
    release_first = queue.acquire("first")
    order, positions = [], {}
    done = {"second": threading.Event(), "third": threading.Event()}

    def wait(name: str) -> None:
        release = queue.acquire(name, wait_s=30, on_wait=lambda p: positions.setdefault(name, []).append(p))
        order.append(name)
        done[name].wait(10)  # hold the slot until the test says so
        release()

    def waiting(n: int) -> None:
        _until(lambda: queue.status()[1] == n)

    second = threading.Thread(target=wait, args=("second",))
    second.start()
    waiting(1)
    third = threading.Thread(target=wait, args=("third",))
    third.start()
    waiting(2)
    with pytest.raises(RaceBusy, match=r"already running in this process \(first\); 2 more waiting ahead of you"):
        queue.acquire("impatient", wait_s=0.05)
    release_first()
    waiting(1)  # the second took the slot; the third is next
    _until(lambda: positions.get("third") == [2, 1])
    assert queue.status() == ("second", 1)
    done["second"].set()
    second.join(10)
    done["third"].set()
    third.join(10)
    assert order == ["second", "third"]
    assert positions == {"second": [1], "third": [2, 1]}
    assert queue.status() == (None, 0)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (RaceConfig(nets=("plain20",)), "2 to 4 nets; got 1"),
        (RaceConfig(nets=("plain20",) * 5), "2 to 4 nets; got 5"),
        (RaceConfig(steps=5000), "steps=5000 is not allowed on the CPU: from 1 to 2000"),
        (RaceConfig(batch=1), "batch=1 is not allowed on the CPU: from 2 to 256"),
        (RaceConfig(input_size=256), "input_size=256 is not allowed on the CPU: from 8 to 64 pixels"),
        (RaceConfig(nets=("plain20", "resnet1202")), "resnet1202: 1202 weighted layers is over the budget of the CPU"),
        (
            RaceConfig(nets=("plain20", ("wide", PRESETS["resnet20"].replace(width=128)))),
            "wide: width 128 is over the budget of the CPU: at most 64",
        ),
        (
            RaceConfig(nets=("resnet110", "plain110"), steps=2000, batch=256, input_size=64),
            r"needs about .* T multiply-adds .* over the budget of the CPU",
        ),
        (RaceConfig(nets=("plain20", "plain20")), "each net needs its own label"),
        (RaceConfig(nets=("plain20", "resnet_nope")), "unknown preset 'resnet_nope'"),
    ],
)
def test_budgets_are_refused_before_any_work_with_a_clear_message(config, message):
    with pytest.raises(ValueError, match=message):
        plan_race(config)
    with pytest.raises(ValueError, match=message):
        Race(config)
    assert RACE_QUEUE.status() == (None, 0)  # a refused race never took the slot


def test_bad_config_values_are_refused():
    with pytest.raises(RaceBudgetError, match="data='mnist' is not allowed"):
        RaceConfig(data="mnist")
    with pytest.raises(RaceBudgetError, match="lr=-0.1 is not allowed"):
        RaceConfig(lr=-0.1)


def test_the_default_race_fits_the_cpu_budget():
    plan = plan_race(RaceConfig(device="cpu"))
    assert [n.label for n in plan.nets] == ["plain20", "plain56", "resnet20", "resnet56"]
    assert [n.depth for n in plan.nets] == [20, 56, 20, 56]
    assert plan.train_macs <= plan.budget.max_train_macs
    assert (plan.dtype, plan.channels_last) == ("float32", False)


# -- CIFAR-10: the real format, served from 127.0.0.1 ----------------------------------------------------


def _batch(n: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    return {
        "batch_label": f"batch {seed}",
        "labels": [int(v) for v in rng.integers(0, 10, n)],
        "data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
        "filenames": [f"img_{seed}_{i}.png" for i in range(n)],
    }


def _fake_cifar(root: Path, n: int = 4, batches: dict | None = None) -> tuple[Path, Cifar10Checksums, dict]:
    """A tarball in the real layout (cifar-10-batches-py/data_batch_1…5, test_batch, batches.meta) of
    pickled dicts with numpy arrays, as the python version holds; returns it, its checksums, its batches."""
    batches = batches or {
        name: _batch(n, i) for i, name in enumerate([*(f"data_batch_{i}" for i in range(1, 6)), "test_batch"])
    }
    files = {name: pickle.dumps(b, protocol=2) for name, b in batches.items()}
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    files["batches.meta"] = pickle.dumps({"label_names": names, "num_vis": 3072}, protocol=2)
    path = root / "cifar-10-python.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"{CIFAR10_FOLDER}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    checksums = Cifar10Checksums(
        archive=hashlib.md5(path.read_bytes()).hexdigest(),
        files={name: hashlib.md5(data).hexdigest() for name, data in files.items() if name != "batches.meta"},
    )
    return path, checksums, batches


def test_cifar10_download_checks_the_md5_and_the_loader_reads_the_real_format(server, tmp_path):
    root, base, httpd = server
    _, checksums, batches = _fake_cifar(root)
    cache = tmp_path / "cache"
    progress = []
    path = download_cifar10(
        f"{base}/cifar-10-python.tar.gz", cache, checksums, progress=lambda done, total: progress.append(done)
    )
    assert path == cache / "cifar-10-python.tar.gz" and progress[-1] == path.stat().st_size
    train = load_cifar10(path, "train", checksums)
    labels = [label for i in range(1, 6) for label in batches[f"data_batch_{i}"]["labels"]]
    assert train.images.shape == (20, 3, 32, 32) and train.labels.tolist() == labels
    # Each row is the red, green and blue 32×32 planes in turn, row-major.
    row = batches["data_batch_1"]["data"][2]
    assert train.images[2, 1, 3, 4].item() == row[1024 + 3 * 32 + 4]
    assert train.classes[0] == "airplane" and "CIFAR-10 train" in train.source
    test = load_cifar10(path, "test", checksums)
    assert test.images.shape == (4, 3, 32, 32)
    download_cifar10(f"{base}/cifar-10-python.tar.gz", cache, checksums)  # cached: not fetched again
    assert httpd.paths == ["/cifar-10-python.tar.gz"]


def test_a_download_that_is_not_the_published_cifar10_is_refused_and_deleted(server, tmp_path):
    root, base, _ = server
    _fake_cifar(root)
    cache = tmp_path / "cache"
    # No checksums passed: the published MD5 (torchvision's CIFAR10.tgz_md5) is the one checked.
    with pytest.raises(
        DatasetError, match=rf"md5 is .*, but the published checksum is {PUBLISHED_CIFAR10.archive}.*deleted"
    ):
        download_cifar10(f"{base}/cifar-10-python.tar.gz", cache)
    assert list(cache.iterdir()) == []


def test_a_local_folder_is_checked_file_by_file(tmp_path):
    path, checksums, _ = _fake_cifar(tmp_path)
    with tarfile.open(path) as tar:
        tar.extractall(tmp_path / "extracted", filter="data")
    folder = tmp_path / "extracted"
    assert len(load_cifar10(folder, "train", checksums)) == 20  # the parent of cifar-10-batches-py
    assert len(load_cifar10(folder / CIFAR10_FOLDER, "test", checksums)) == 4  # or the folder itself
    with pytest.raises(
        DatasetError,
        match=rf"data_batch_1: its md5 is .* published CIFAR-10 file's is {PUBLISHED_CIFAR10.files['data_batch_1']}",
    ):
        load_cifar10(folder, "train")
    with pytest.raises(DatasetError, match="lacks data_batch_1"):
        load_cifar10(tmp_path, "train")
    with pytest.raises(DatasetError, match="published CIFAR-10 tarball's is"):
        load_cifar10(path, "train")  # the tarball itself, against the published MD5


def test_a_pickle_that_would_run_code_is_refused(tmp_path):
    class Exploit:
        def __reduce__(self):
            return (print, ("this must never run",))

    evil = {name: _batch(2, i) for i, name in enumerate([*(f"data_batch_{i}" for i in range(1, 6)), "test_batch"])}
    evil["data_batch_3"] = {"data": Exploit(), "labels": [0]}
    path, checksums, _ = _fake_cifar(tmp_path, batches=evil)
    with pytest.raises(DatasetError, match=r"refused to read this file: unpickling it would call \w+\.print"):
        load_cifar10(path, "train", checksums)


def test_cifar10_without_a_copy_says_how_to_get_one(tmp_path, monkeypatch):
    monkeypatch.setenv("RESNET_EXPLORER_CACHE", str(tmp_path))
    with pytest.raises(DatasetError, match=r"not in the cache .*cifar-10-python.tar.gz.*download it"):
        cifar10("train")
    with pytest.raises(DatasetError, match="no CIFAR-10 at"):
        cifar10("train", source=tmp_path / "nowhere")
    with pytest.raises(DatasetError, match="split='valid' is not allowed"):
        load_cifar10(tmp_path, "valid")


def test_a_race_runs_on_cifar10_images_resized_to_its_input(tmp_path):
    path, checksums, _ = _fake_cifar(tmp_path, n=16)
    data = (load_cifar10(path, "train", checksums), load_cifar10(path, "test", checksums))
    config = RaceConfig(
        nets=("plain20", "resnet20"), data="cifar10", steps=2, batch=8, input_size=16, response_images=16
    )
    result = run_race(config, data=data)
    assert result.steps_done == 2 and result.train_images == 80
    assert "CIFAR-10 train from" in result.data and result.input_size == 16
    assert all(r.images == 16 for r in result.responses)
