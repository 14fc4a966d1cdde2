"""The race run off the script thread (app.race_runner) and the per-thread CPU setting (app.cpu_threads).

Real races on the built-in data, small enough for a shared CPU: a run stops on request and keeps its
histories, a run nobody watches stops itself, a run waits its turn in a queue of its own; the
thread setting changes the calling thread only and is restored.
"""

from __future__ import annotations

import threading
import time

import pytest
import torch

from app.cpu_threads import intra_op_threads
from app.race_runner import RaceRun
from resnet_core.race import RaceConfig, RaceQueue, plan_race

TINY = RaceConfig(nets=("plain20", "resnet20"), steps=500, batch=4, input_size=8, train_images=100, response_images=10)


def started(config: RaceConfig = TINY, **kwargs) -> tuple[RaceRun, RaceQueue]:
    queue = RaceQueue()
    return RaceRun(config, plan_race(config), queue=queue, **kwargs).start(), queue


def wait_for(condition, limit_s: float = 120) -> None:
    deadline = time.monotonic() + limit_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_running_race_stops_on_request_keeps_its_histories_and_frees_the_slot():
    run, queue = started()
    wait_for(lambda: run.snapshot().steps_done >= 2)
    run.stop()
    assert run.join(120)
    s = run.snapshot()
    assert s.phase == "stopped" and s.finished
    assert 2 <= s.result.steps_done < TINY.steps and s.result.stopped
    assert all(len(n.loss) == s.result.steps_done for n in s.result.nets)
    assert queue.status() == (None, 0)


def test_a_race_nobody_watches_stops_itself():
    run, queue = started(abandon_s=0.2)
    assert run.join(120)
    s = run.snapshot()
    assert s.phase == "stopped" and s.steps_done < TINY.steps
    assert "nobody watched" in s.error
    assert queue.status() == (None, 0)


def test_a_finished_race_reports_done_with_every_step():
    config = RaceConfig(
        nets=("plain20", "resnet20"), steps=3, batch=4, input_size=8, train_images=100, response_images=10
    )
    run, _ = started(config)
    assert run.join(120)
    s = run.snapshot()
    assert s.phase == "done" and s.steps_done == 3 and s.result.responses
    assert s.threads is not None and s.threads.requested == 1


def test_a_second_run_waits_its_turn_in_line():
    queue = RaceQueue()
    release = queue.acquire("first")
    run = RaceRun(TINY, plan_race(TINY), queue=queue).start()
    wait_for(lambda: run.snapshot().position == 1, 30)
    assert run.snapshot().phase == "queued"
    release()
    wait_for(lambda: run.snapshot().phase in ("running", "done"), 60)
    run.stop()
    assert run.join(120)


def test_intra_op_threads_changes_the_calling_thread_only_and_restores_it():
    before = torch.get_num_threads()
    seen: dict[str, int] = {}
    inside = threading.Event()
    leave = threading.Event()

    def worker() -> None:
        with intra_op_threads(1) as setting:
            seen["worker"] = torch.get_num_threads()
            seen["applied"] = setting.applied
            inside.set()
            leave.wait(10)

    t = threading.Thread(target=worker)
    t.start()
    assert inside.wait(10)
    seen["main"] = torch.get_num_threads()
    leave.set()
    t.join()
    if seen["applied"]:
        assert seen["worker"] == 1
    assert seen["main"] == before
    assert torch.get_num_threads() == before


@pytest.mark.parametrize("n", [0, -1, 1.5, True])
def test_intra_op_threads_refuses_a_bad_count(n):
    with pytest.raises(ValueError, match="not allowed"), intra_op_threads(n):
        pass
