"""A degradation race run off the page's script thread, for the "Why residual?" page. No Streamlit here.

``RaceRun(config).start()`` starts a daemon thread that waits its turn for the process's race slot
(``resnet_core.race.RACE_QUEUE``: one race per server, first come first served), builds the ``Race``,
steps it to the end, measures Fig. 7's layer responses and closes it (models, optimisers and data
freed). The page polls ``snapshot()``: a consistent, immutable copy of where the run is (queued at
position k, preparing, running, measuring, done, stopped, failed) and the histories so far
(``Race.result()``). ``stop()`` works at any moment: queued, the run leaves the line; running, the
race ends after the step in progress, its histories are kept and its memory freed.

A run whose page has stopped asking (the browser tab closed) for ``abandon_s`` seconds stops
itself, so a race nobody watches does not hold the server's slot to the end of its budget.

On the CPU the run's thread trains with ``threads`` intra-op threads of its own
(``app.cpu_threads``), leaving torch's setting for every other session as it was.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from app.cpu_threads import ThreadSetting, intra_op_threads
from resnet_core.datasets import DatasetError
from resnet_core.race import RACE_QUEUE, Race, RaceBudgetError, RaceBusy, RaceConfig, RacePlan, RaceQueue, RaceResult

Phase = Literal["queued", "preparing", "running", "measuring", "done", "stopped", "failed"]
FINISHED: tuple[Phase, ...] = ("done", "stopped", "failed")


class _Cancelled(Exception):
    """The run was stopped while it waited for the race slot."""


class _CancellableSlot:
    """``RACE_QUEUE`` as ``Race`` takes it, giving the slot straight back when the run was stopped
    while it waited: a stopped run leaves the line at the next change of place, or when its turn
    comes, without building anything."""

    def __init__(self, queue: RaceQueue, cancelled: threading.Event, on_acquired: Callable[[], None]) -> None:
        self._queue = queue
        self._cancelled = cancelled
        self._on_acquired = on_acquired

    def acquire(
        self, who: str, wait_s: float = 0.0, on_wait: Callable[[int], None] | None = None
    ) -> Callable[[], None]:
        def told(position: int) -> None:
            if self._cancelled.is_set():
                raise _Cancelled
            if on_wait is not None:
                on_wait(position)

        release = self._queue.acquire(who, wait_s, told)
        if self._cancelled.is_set():
            release()
            raise _Cancelled
        self._on_acquired()
        return release


@dataclass(frozen=True)
class RunSnapshot:
    """Where a run is, at one moment."""

    phase: Phase
    position: int  # place in the queue while queued (1 = next), else 0
    steps_done: int
    steps_planned: int
    result: RaceResult | None  # the histories so far (None before the race is built)
    error: str  # why it failed ("" otherwise)
    threads: ThreadSetting | None  # the CPU threads the run trained with (None on a GPU or before)
    elapsed_s: float

    @property
    def finished(self) -> bool:
        return self.phase in FINISHED


class RaceRun:
    """One race, run by its own thread (see the module docstring)."""

    def __init__(
        self,
        config: RaceConfig,
        plan: RacePlan,
        *,
        threads: int = 1,
        wait_s: float = 3600.0,
        abandon_s: float = 180.0,
        queue: RaceQueue = RACE_QUEUE,
        race_factory: Callable[..., Race] = Race,
    ) -> None:
        self.config = config
        self.plan = plan  # checked by plan_race before the run was made: a refusal costs nothing
        self.threads = threads
        self.wait_s = wait_s
        self.abandon_s = abandon_s
        self._queue = queue
        self._race_factory = race_factory
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self._phase: Phase = "queued"
        self._position = 0
        self._race: Race | None = None
        self._result: RaceResult | None = None
        self._error = ""
        self._threads: ThreadSetting | None = None
        self._started = time.monotonic()
        self._seen = time.monotonic()
        self._thread = threading.Thread(target=self._main, name="race-run", daemon=True)

    # -- the page's side -------------------------------------------------------------------------

    def start(self) -> RaceRun:
        self._started = self._seen = time.monotonic()
        self._thread.start()
        return self

    def stop(self) -> None:
        """Leave the queue, or end the race after the step in progress (from any thread)."""
        self._cancel.set()
        with self._lock:
            race = self._race
        if race is not None:
            race.stop()

    def seen(self) -> None:
        """The page is still watching (call on every poll)."""
        self._seen = time.monotonic()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the run's thread to end; True when it has."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def snapshot(self) -> RunSnapshot:
        with self._lock:
            race, phase, result = self._race, self._phase, self._result
            position, error, threads = self._position, self._error, self._threads
        if race is not None and result is None:
            result = race.result()  # a consistent copy, safe while the run's thread steps
        if phase == "queued" and self._cancel.is_set():
            # Stopped in line: the queue wakes a waiter only when its place changes or its turn comes,
            # and then this run leaves at once without building anything (``_CancellableSlot``); to the
            # page it is stopped now.
            phase, position = "stopped", 0
        steps = result.steps_done if result is not None else 0
        return RunSnapshot(
            phase, position, steps, self.config.steps, result, error, threads, time.monotonic() - self._started
        )

    # -- the run's thread ------------------------------------------------------------------------

    def _set(self, **changes: object) -> None:
        with self._lock:
            for name, value in changes.items():
                setattr(self, "_" + name, value)

    def _main(self) -> None:
        try:
            if self.plan.device.type == "cpu":
                with intra_op_threads(self.threads) as setting:
                    self._set(threads=setting)
                    self._run()
            else:
                self._run()
        except _Cancelled:
            self._set(phase="stopped", position=0)
        except (RaceBudgetError, RaceBusy, DatasetError, ValueError) as e:
            self._set(phase="failed", error=str(e), position=0)
        except Exception as e:  # shown on the page as one line, never a traceback
            self._set(phase="failed", error=f"{type(e).__name__}: {e}", position=0)

    def _run(self) -> None:
        slot = _CancellableSlot(self._queue, self._cancel, lambda: self._set(phase="preparing", position=0))

        def on_wait(position: int) -> None:
            self._set(position=position)

        race = self._race_factory(self.config, wait_s=self.wait_s, on_wait=on_wait, queue=slot)
        # The slot is ours: from here on, close() must run, whatever happens.
        try:
            self._set(phase="running", position=0, race=race)
            if self._cancel.is_set():
                race.stop()
            for _ in race.run():
                if self._cancel.is_set():
                    race.stop()
                elif time.monotonic() - self._seen > self.abandon_s:
                    self._set(error=f"nobody watched the race for {self.abandon_s:.0f} s")
                    race.stop()
            self._set(phase="measuring")
            responses = race.layer_responses() if race.steps_done else ()
            result = race.result(responses)
            self._set(result=result, phase="stopped" if result.stopped else "done")
        finally:
            race.close()
            self._set(race=None)
