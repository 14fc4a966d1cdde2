"""The degradation race: train plain and residual nets side by side and watch who fits the data.

He et al. 2015 open with it (Fig. 1, Fig. 4, Fig. 6, Table 2): the deeper *plain* net has the higher
*training* error, so the trouble is optimisation, not overfitting; with shortcuts the deeper net
trains better. ``Race`` re-runs that experiment live, at a size this machine can afford:

* every net sees the same batches in the same order, and nets with the same parameter shapes (a
  plain net and its option-A ResNet) start from the same weights (one seed, one ``build``);
* the paper's optimiser (§4.2): SGD, momentum 0.9, weight decay 1e-4, learning rate 0.1 at batch 128
  (scaled linearly to the race's batch, ``learning_rate``) — constant here, since a race is far
  shorter than the paper's 64k iterations, whose first drop comes at 32k; no data augmentation (the
  race is about *training* loss);
* per step and per net: the training loss (cross-entropy, mean over the batch) and the training
  error (share of the batch misclassified, from the same forward pass, in train mode), as in the
  thin curves of Fig. 6;
* after the race, ``layer_responses`` gives each net's Fig. 7: the std of every 3×3 layer's response.

It runs in bounded steps (``step()`` or the ``run()`` generator), so a page can drive it off the
script thread and stop it at any step; ``close()`` frees its models, optimisers and data. One race
at a time per process (``RACE_QUEUE``): a second one waits its turn or is told it is busy.
Budgets (``BUDGETS``) are checked by ``plan_race`` before anything is built.

Device and precision: CUDA when present, with bfloat16 autocast and channels_last (the fast path on
recent GPUs), otherwise the CPU in float32. ``RaceResult`` says which was used.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from resnet_core.analysis import analyze
from resnet_core.datasets import ImageSet, cifar10, shapes10
from resnet_core.model import build
from resnet_core.runtime import _free_memory, autocast, autocast_problem, device_name, resolve_device
from resnet_core.spec import ResNetSpec, preset

#: The paper's degradation pair on CIFAR (§4.2, Fig. 6): shallow and deep, plain and residual.
DEFAULT_NETS: tuple[str, ...] = ("plain20", "plain56", "resnet20", "resnet56")
DATASETS = ("shapes10", "cifar10")
#: How many nets a race holds: at least a pair to compare, at most what one chart and a CPU can follow.
MIN_NETS, MAX_NETS = 2, 4


class RaceBudgetError(ValueError):
    """A race larger than this device's budget; the message names the limit and what fits."""


class RaceBusy(RuntimeError):
    """Another race holds the process's race slot."""


@dataclass(frozen=True)
class Budget:
    """What one race may ask of a device. ``max_train_macs`` bounds the whole race's arithmetic:
    3 × forward multiply-adds per image (forward, and backward to inputs and to weights) × batch ×
    steps, summed over the nets."""

    max_depth: int  # weighted layers (the paper's depth), per net
    max_width: int  # the spec's width (channels of stage 1)
    max_input: int  # input side in pixels
    max_steps: int
    max_batch: int
    max_train_macs: int


#: CPU: sized on a 2-core machine (see benchmarks/bench_race.py for what the default race takes).
#: CUDA: sized for one data-centre GPU; a race there takes seconds to minutes.
BUDGETS: dict[str, Budget] = {
    "cpu": Budget(max_depth=110, max_width=64, max_input=64, max_steps=2000, max_batch=256, max_train_macs=10**13),
    "cuda": Budget(
        max_depth=1202, max_width=256, max_input=128, max_steps=20000, max_batch=1024, max_train_macs=10**16
    ),
}


# -- configuration and plan ---------------------------------------------------------------------------

NetChoice = str | tuple[str, ResNetSpec]  # a preset name, or (label, spec)


@dataclass(frozen=True)
class RaceConfig:
    """What to race. ``nets``: 2–4 preset names or (label, spec) pairs; their classifiers are resized to
    the data's classes. ``input_size``: the side the images are drawn at (shapes10) or resized to
    (CIFAR-10, 32 px originally)."""

    nets: tuple[NetChoice, ...] = DEFAULT_NETS
    data: str = "shapes10"
    steps: int = 100
    batch: int = 32
    input_size: int = 16
    lr: float | None = None  # None: the paper's 0.1 at batch 128 (§4.2), scaled linearly to ``batch``
    momentum: float = 0.9
    weight_decay: float = 1e-4
    seed: int = 0
    device: str = "auto"
    train_images: int = 5000  # shapes10 only: CIFAR-10 trains on its 50,000
    response_images: int = 500  # held-out images for layer_responses (Fig. 7)
    cifar_source: str | None = None  # CIFAR-10 tarball or folder; None: the cache

    def __post_init__(self) -> None:
        if isinstance(self.nets, list):
            object.__setattr__(self, "nets", tuple(self.nets))
        for name in ("steps", "batch", "input_size", "seed", "train_images", "response_images"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise RaceBudgetError(f"{name}={value!r} is not allowed: an integer is expected")
        for name in ("lr", "momentum", "weight_decay"):
            value = getattr(self, name)
            if name == "lr" and value is None:
                continue
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or value < 0:
                raise RaceBudgetError(f"{name}={value!r} is not allowed: a finite number ≥ 0 is expected")
        if self.data not in DATASETS:
            raise RaceBudgetError(f"data={self.data!r} is not allowed: choose one of {', '.join(DATASETS)}")


def learning_rate(config: RaceConfig) -> float:
    """``config.lr``, or the paper's 0.1 for a batch of 128 (§4.2) scaled linearly to ``config.batch``
    (the linear scaling rule of Goyal et al. 2017, §2.1): 0.025 for the default batch of 32."""
    return config.lr if config.lr is not None else 0.1 * config.batch / 128


@dataclass(frozen=True)
class PlannedNet:
    label: str
    spec: ResNetSpec
    depth: int  # weighted layers
    params: int
    macs: int  # forward multiply-adds per image at the race's input size


@dataclass(frozen=True)
class RacePlan:
    """A config checked against its device's budget: everything known before any work is done."""

    config: RaceConfig
    nets: tuple[PlannedNet, ...]
    device: torch.device
    dtype: str  # "float32" or "bfloat16" (autocast)
    channels_last: bool
    train_macs: int  # 3 × Σ macs × batch × steps
    budget: Budget


def _resolve_net(choice: NetChoice, num_classes: int) -> tuple[str, ResNetSpec]:
    if isinstance(choice, str):
        label, spec = choice, preset(choice)
    elif isinstance(choice, tuple) and len(choice) == 2 and isinstance(choice[1], ResNetSpec):
        label, spec = str(choice[0]), choice[1]
    else:
        raise RaceBudgetError(f"net {choice!r} is not allowed: a preset name or a (label, ResNetSpec) pair")
    if spec.in_channels != 3:
        raise RaceBudgetError(f"{label}: in_channels={spec.in_channels}, but the race's images have 3 channels")
    return label, spec.replace(num_classes=num_classes)


def _precision(device: torch.device) -> tuple[str, bool]:
    """(dtype, channels_last): bfloat16 autocast + channels_last on CUDA where torch can, else float32."""
    if device.type == "cuda" and autocast_problem("cuda", torch.bfloat16) is None:
        return "bfloat16", True
    return "float32", False


def plan_race(config: RaceConfig, num_classes: int = 10) -> RacePlan:
    """Check ``config`` against its device's ``Budget``; a RaceBudgetError names the first limit broken.

    Cheap: the nets are analysed on the ``meta`` device (no weights, no data)."""
    device = resolve_device(config.device)
    budget = BUDGETS["cuda" if device.type == "cuda" else "cpu"]
    where = "this GPU" if device.type == "cuda" else "the CPU"
    if not MIN_NETS <= len(config.nets) <= MAX_NETS:
        raise RaceBudgetError(f"a race has {MIN_NETS} to {MAX_NETS} nets; got {len(config.nets)}")
    if not 1 <= config.steps <= budget.max_steps:
        raise RaceBudgetError(f"steps={config.steps} is not allowed on {where}: from 1 to {budget.max_steps}")
    if not 2 <= config.batch <= budget.max_batch:
        # BatchNorm in training needs two values per channel; a batch of 1 can fail on a 1×1 map.
        raise RaceBudgetError(f"batch={config.batch} is not allowed on {where}: from 2 to {budget.max_batch}")
    if not 8 <= config.input_size <= budget.max_input:
        raise RaceBudgetError(
            f"input_size={config.input_size} is not allowed on {where}: from 8 to {budget.max_input} pixels"
        )
    if config.data == "shapes10" and not 100 <= config.train_images <= 50_000:
        raise RaceBudgetError(f"train_images={config.train_images} is not allowed: from 100 to 50000")
    if not 10 <= config.response_images <= 5000:
        raise RaceBudgetError(f"response_images={config.response_images} is not allowed: from 10 to 5000")
    nets: list[PlannedNet] = []
    for choice in config.nets:
        label, spec = _resolve_net(choice, num_classes)
        if spec.width > budget.max_width:
            raise RaceBudgetError(
                f"{label}: width {spec.width} is over the budget of {where}: at most {budget.max_width}"
            )
        a = analyze(spec, config.input_size)  # an input too small for the net raises its own message
        if a.weighted_depth > budget.max_depth:
            raise RaceBudgetError(
                f"{label}: {a.weighted_depth} weighted layers is over the budget of {where}: at most {budget.max_depth}"
            )
        nets.append(PlannedNet(label, spec, a.weighted_depth, a.totals.params, a.totals.macs))
    labels = [n.label for n in nets]
    if len(set(labels)) != len(labels):
        raise RaceBudgetError(f"each net needs its own label; got {', '.join(labels)}")
    train_macs = 3 * sum(n.macs for n in nets) * config.batch * config.steps
    if train_macs > budget.max_train_macs:
        raise RaceBudgetError(
            f"this race needs about {train_macs / 1e12:.2f} T multiply-adds of training (3 × forward × batch × "
            f"steps, summed over the nets), over the budget of {where}: {budget.max_train_macs / 1e12:g} T. "
            "Use fewer steps, a smaller batch or input, or shallower nets"
        )
    dtype, channels_last = _precision(device)
    return RacePlan(config, tuple(nets), device, dtype, channels_last, train_macs, budget)


# -- one race at a time --------------------------------------------------------------------------------


class RaceQueue:
    """A first-come, first-served slot: one race runs, the others wait in order (or are told it is busy).

    Every Streamlit session is a thread of one process, so a module-level instance serialises races
    across sessions; a ticket may be released by another thread than the one that took it."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._holder: str | None = None
        self._waiting: list[object] = []

    def acquire(
        self, who: str, wait_s: float = 0.0, on_wait: Callable[[int], None] | None = None
    ) -> Callable[[], None]:
        """Take the slot for ``who``; return the function that releases it.

        Waits up to ``wait_s`` seconds in line; ``on_wait(position)`` is told the place in the queue
        (1 = next) whenever it changes. A RaceBusy names who holds the slot and how many wait."""
        ticket = object()
        with self._cond:
            if self._holder is None and not self._waiting:
                self._holder = who
                return self._releaser()
            self._waiting.append(ticket)
            deadline = time.monotonic() + wait_s
            told = -1
            try:
                while True:
                    position = self._waiting.index(ticket) + 1
                    if self._holder is None and position == 1:
                        self._holder = who
                        return self._releaser()
                    if on_wait is not None and position != told:
                        on_wait(position)
                        told = position
                    left = deadline - time.monotonic()
                    if left <= 0:
                        ahead = position - 1
                        raise RaceBusy(
                            f"a race is already running in this process ({self._holder}); "
                            + (f"{ahead} more waiting ahead of you; " if ahead else "")
                            + "one race runs at a time: try again when it finishes, or stop it"
                        )
                    self._cond.wait(left)
            finally:
                if ticket in self._waiting:
                    self._waiting.remove(ticket)
                    self._cond.notify_all()

    def _releaser(self) -> Callable[[], None]:
        released = False

        def release() -> None:
            nonlocal released
            with self._cond:
                if not released:
                    released = True
                    self._holder = None
                    self._cond.notify_all()

        return release

    def status(self) -> tuple[str | None, int]:
        """(who holds the slot or None, how many wait)."""
        with self._cond:
            return self._holder, len(self._waiting)


#: The process's one race slot.
RACE_QUEUE = RaceQueue()


# -- records ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RaceStep:
    """One step of every net: the step number (1-based) and each net's loss and error on that batch."""

    step: int
    loss: dict[str, float]
    error: dict[str, float]


@dataclass(frozen=True)
class NetHistory:
    label: str
    spec: ResNetSpec
    depth: int
    params: int
    loss: tuple[float, ...]  # training loss per step (cross-entropy, mean over the batch)
    error: tuple[float, ...]  # training error per step (share of the batch misclassified)
    seconds: float  # time spent on this net's steps (forward, backward, update; device synchronised)

    @property
    def steps(self) -> int:
        return len(self.loss)

    @property
    def steps_per_s(self) -> float:
        return self.steps / self.seconds if self.seconds > 0 else float("nan")

    def _tail(self, values: tuple[float, ...]) -> float:
        k = max(1, len(values) // 10)
        return sum(values[-k:]) / k if values else float("nan")

    @property
    def final_loss(self) -> float:
        """Mean training loss of the last tenth of the steps (at least one): one batch alone is noisy."""
        return self._tail(self.loss)

    @property
    def final_error(self) -> float:
        """Mean training error of the last tenth of the steps (at least one)."""
        return self._tail(self.error)


@dataclass(frozen=True)
class LayerResponses:
    """He et al. 2015, Fig. 7 for one net: the std of each 3×3 layer's response, in network order.

    "The responses are the outputs of each 3×3 layer, after BN and before other nonlinearity
    (ReLU/addition)" (§4.2): the output of the BatchNorm that follows each 3×3 conv in its block (the
    conv's own output where none follows it, as at the end of a pre-activation block), in eval mode,
    on held-out images; the std is over every element (images × channels × positions) of that output."""

    label: str
    layers: tuple[str, ...]  # the module whose output is measured ("layer1.0.bn1", …)
    std: tuple[float, ...]
    images: int


@dataclass(frozen=True)
class RaceResult:
    """What a race measured, and on what."""

    nets: tuple[NetHistory, ...]
    steps_done: int
    steps_planned: int
    stopped: bool  # stopped before steps_planned
    device: str
    device_name: str
    dtype: str
    channels_last: bool
    data: str  # where the images came from
    train_images: int
    input_size: int
    batch: int
    lr: float
    seed: int
    wall_s: float
    responses: tuple[LayerResponses, ...] = ()

    def net(self, label: str) -> NetHistory:
        for n in self.nets:
            if n.label == label:
                return n
        raise KeyError(f"no net labelled {label!r}; the race had {', '.join(n.label for n in self.nets)}")

    def ended_above(self, label: str, other: str) -> bool:
        """Did ``label`` end with a higher training loss (``final_loss``) than ``other``?"""
        return self.net(label).final_loss > self.net(other).final_loss


# -- the race -----------------------------------------------------------------------------------------


def race_data(config: RaceConfig) -> tuple[ImageSet, ImageSet]:
    """(training images, held-out images for the layer responses) as the config asks."""
    if config.data == "shapes10":
        both = shapes10(config.train_images + config.response_images, config.input_size, config.seed)
        train = both.subset(0, config.train_images, f"{config.train_images} training images")
        held_out = both.subset(config.train_images, len(both), f"{config.response_images} held-out images")
        return train, held_out
    train = cifar10("train", config.cifar_source)
    test = cifar10("test", config.cifar_source, limit=config.response_images)
    return train, test


class Race:
    """A race in progress. Build it (budget check, race slot, data, nets), then ``step()`` or ``run()``.

    ``data``: (training, held-out) image sets to use instead of ``race_data(config)``; ``wait_s`` and
    ``on_wait``: how long to queue for the race slot and how to hear the place in line."""

    def __init__(
        self,
        config: RaceConfig | None = None,
        data: tuple[ImageSet, ImageSet] | None = None,
        wait_s: float = 0.0,
        on_wait: Callable[[int], None] | None = None,
        queue: RaceQueue = RACE_QUEUE,
    ) -> None:
        config = RaceConfig() if config is None else config
        num_classes = data[0].num_classes if data is not None else 10
        self.plan = plan_race(config, num_classes)  # before any work: a refusal costs nothing
        self.config = config
        who = " vs ".join(n.label for n in self.plan.nets)
        self._release = queue.acquire(who, wait_s, on_wait)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._closed = False
        self._started = time.perf_counter()
        self._step = 0
        self._loss: dict[str, list[float]] = {n.label: [] for n in self.plan.nets}
        self._error: dict[str, list[float]] = {n.label: [] for n in self.plan.nets}
        self._seconds: dict[str, float] = {n.label: 0.0 for n in self.plan.nets}
        try:
            self._setup(data)
        except BaseException:
            self.close()
            raise

    def _setup(self, data: tuple[ImageSet, ImageSet] | None) -> None:
        plan, config = self.plan, self.config
        train, held_out = race_data(config) if data is None else data
        device = plan.device
        self.source = train.source
        self.train_images = len(train)
        # Per-channel mean and std of the training images, in [0, 1] units: the usual normalisation.
        pixels = train.images.float().div_(255)
        self._mean = pixels.mean(dim=(0, 2, 3)).view(1, 3, 1, 1).to(device)
        self._std = pixels.std(dim=(0, 2, 3)).view(1, 3, 1, 1).to(device)
        del pixels
        self._images = self._resized(train.images).to(device)  # uint8 on the device: 4× smaller than float
        self._labels = train.labels.to(device)
        self._held_out = (self._resized(held_out.images), held_out.labels)
        self._order = torch.Generator().manual_seed(config.seed)
        self._queue: list[Tensor] = []
        self.models: dict[str, nn.Module] = {}
        self._optimizers: dict[str, torch.optim.Optimizer] = {}
        for net in plan.nets:
            with torch.random.fork_rng(devices=[]):
                # The same seed for every net: a plain net and its option-A ResNet, whose parameters
                # have the same shapes, start from identical weights.
                torch.manual_seed(config.seed)
                model = build(net.spec)  # on the CPU: the same initial weights on every device
            model = model.to(device)
            if plan.channels_last:
                model = model.to(memory_format=torch.channels_last)
            self.models[net.label] = model.train()
            self._optimizers[net.label] = torch.optim.SGD(
                model.parameters(), lr=learning_rate(config), momentum=config.momentum, weight_decay=config.weight_decay
            )

    def _resized(self, images: Tensor) -> Tensor:
        size = self.config.input_size
        if images.shape[-1] == size and images.shape[-2] == size:
            return images
        resized = F.interpolate(images.float(), size=(size, size), mode="bilinear", antialias=True, align_corners=False)
        return resized.round().clamp(0, 255).to(torch.uint8)

    def _batch(self) -> tuple[Tensor, Tensor]:
        """The next ``batch`` images of a fresh random permutation per epoch (all nets see them)."""
        b = self.config.batch
        n = self._images.shape[0]
        while sum(t.numel() for t in self._queue) < b:
            self._queue.append(torch.randperm(n, generator=self._order))
        order = torch.cat(self._queue)
        idx, rest = order[:b], order[b:]
        self._queue = [rest] if rest.numel() else []
        idx = idx.to(self._images.device)
        x = (self._images[idx].float().div_(255) - self._mean) / self._std
        if self.plan.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return x, self._labels[idx]

    # -- driving ---------------------------------------------------------------------------------

    @property
    def lr(self) -> float:
        return learning_rate(self.config)

    @property
    def steps_done(self) -> int:
        return self._step

    @property
    def finished(self) -> bool:
        return self._closed or self._stop.is_set() or self._step >= self.config.steps

    def step(self) -> RaceStep | None:
        """Train every net on the next batch; None once the race is finished, stopped or closed."""
        if self.finished:
            return None
        x, y = self._batch()
        device = self.plan.device
        losses: dict[str, float] = {}
        errors: dict[str, float] = {}
        for label, model in self.models.items():
            opt = self._optimizers[label]
            t0 = time.perf_counter()
            with autocast(device, self.plan.dtype):
                logits = model(x)
            loss = F.cross_entropy(logits.float(), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            wrong = (logits.argmax(dim=1) != y).float().mean()
            loss_value, error_value = (float(v) for v in torch.stack([loss.detach(), wrong]).tolist())  # syncs
            self._seconds[label] += time.perf_counter() - t0
            losses[label], errors[label] = loss_value, error_value
            if not math.isfinite(loss_value):
                self._stop.set()  # a diverged net ends the race; its last loss shows why
        with self._lock:
            self._step += 1
            for label in losses:
                self._loss[label].append(losses[label])
                self._error[label].append(errors[label])
        return RaceStep(self._step, losses, errors)

    def run(self) -> Iterator[RaceStep]:
        """``step()`` until the race is finished or stopped."""
        while (record := self.step()) is not None:
            yield record

    def stop(self) -> None:
        """End the race after the step in progress (safe from any thread)."""
        self._stop.set()

    def close(self) -> None:
        """Free the models, optimisers and data, and give the race slot back. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        for name in ("models", "_optimizers", "_images", "_labels", "_held_out", "_mean", "_std", "_queue"):
            if hasattr(self, name):
                delattr(self, name)
        _free_memory()
        self._release()

    def __enter__(self) -> Race:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- results -------------------------------------------------------------------------------------

    def result(self, responses: tuple[LayerResponses, ...] = ()) -> RaceResult:
        """The histories so far (a consistent copy, safe to call while another thread steps)."""
        plan = self.plan
        with self._lock:
            nets = tuple(
                NetHistory(
                    n.label,
                    n.spec,
                    n.depth,
                    n.params,
                    tuple(self._loss[n.label]),
                    tuple(self._error[n.label]),
                    self._seconds[n.label],
                )
                for n in plan.nets
            )
            done = self._step
        return RaceResult(
            nets=nets,
            steps_done=done,
            steps_planned=self.config.steps,
            stopped=done < self.config.steps,
            device=str(plan.device),
            device_name=device_name(plan.device),
            dtype=plan.dtype,
            channels_last=plan.channels_last,
            data=getattr(self, "source", ""),
            train_images=getattr(self, "train_images", 0),
            input_size=self.config.input_size,
            batch=self.config.batch,
            lr=learning_rate(self.config),
            seed=self.config.seed,
            wall_s=time.perf_counter() - self._started,
            responses=responses,
        )

    def layer_responses(self) -> tuple[LayerResponses, ...]:
        """Fig. 7 for every net, on the held-out images (call before ``close()``)."""
        if self._closed:
            raise RuntimeError("the race is closed: its nets were freed; measure the responses before close()")
        images, _ = self._held_out
        x = (images.to(self.plan.device).float().div_(255) - self._mean) / self._std
        return tuple(
            layer_responses(self.models[n.label], n.spec, x, n.label, self.config.input_size) for n in self.plan.nets
        )


def response_modules(spec: ResNetSpec, input_size: int) -> list[str]:
    """The modules whose outputs are Fig. 7's responses, in network order: for each 3×3 conv off the
    shortcut, the BatchNorm that reads its output inside the same block (the stem counts as one), or
    the conv itself where none does (a pre-activation block's last conv, whose output is added)."""
    a = analyze(spec, input_size)
    records = {r.name: r for r in a.layers}
    readers: dict[str, list[str]] = {}
    for r in a.layers:
        for source in r.inputs:
            readers.setdefault(source, []).append(r.name)
    names = []
    for r in a.layers:
        if r.kind == "Conv2d" and r.kernel == 3 and r.path == "main":
            bn = [
                n
                for n in readers.get(r.name, [])
                if records[n].kind == "BatchNorm2d" and records[n].block == r.block and records[n].stage == r.stage
            ]
            names.append(bn[0] if bn else r.name)
    return names


def layer_responses(
    model: nn.Module, spec: ResNetSpec, x: Tensor, label: str = "", input_size: int | None = None, chunk: int = 250
) -> LayerResponses:
    """The std of each 3×3 layer's response (see ``LayerResponses``) of ``model`` on images ``x``.

    Eval mode, float32, no gradients; the std is accumulated over chunks in float64. The model's
    train/eval mode is restored afterwards."""
    names = response_modules(spec, input_size or x.shape[-1])
    modules = dict(model.named_modules())
    sums = {n: torch.zeros(3, dtype=torch.float64) for n in names}  # count, sum, sum of squares

    def hook(name: str) -> Callable[..., None]:
        def record(_m: nn.Module, _i: Any, out: Tensor) -> None:
            # Read at once: the ReLU that follows a BatchNorm works in place and would overwrite it.
            o = out.detach().double()
            sums[name] += torch.stack(
                [torch.tensor(float(o.numel()), dtype=torch.float64), o.sum().cpu(), (o * o).sum().cpu()]
            )

        return record

    was_training = model.training
    handles = [modules[n].register_forward_hook(hook(n)) for n in names]
    try:
        model.eval()
        with torch.no_grad():
            for i in range(0, x.shape[0], chunk):
                model(x[i : i + chunk])
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    stds = []
    for n in names:
        count, total, squares = sums[n].tolist()
        mean = total / count
        stds.append(math.sqrt(max(squares / count - mean * mean, 0.0) * count / max(count - 1, 1)))
    return LayerResponses(label, tuple(names), tuple(stds), x.shape[0])


def run_race(
    config: RaceConfig | None = None,
    data: tuple[ImageSet, ImageSet] | None = None,
    progress: Callable[[RaceStep], None] | None = None,
    stop: threading.Event | None = None,
    responses: bool = True,
) -> RaceResult:
    """A whole race in this thread: steps until done (or ``stop`` is set), then Fig. 7, then freed."""
    with Race(config, data) as race:
        for record in race.run():
            if progress is not None:
                progress(record)
            if stop is not None and stop.is_set():
                race.stop()
        measured = race.layer_responses() if responses and race.steps_done else ()
        return race.result(measured)
