"""The background job runner: newest job wins, cancelled results are dropped, outcomes are applied on
the kernel's thread (through its event loop) and waiting on that thread still applies them."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from errorscope import jobs
from errorscope.jobs import Job, JobCancelled, JobRunner


class FakeLoop:
    """Stands for the kernel's tornado loop: records callbacks, runs them when asked (on this thread)."""

    def __init__(self) -> None:
        self.callbacks: list[Any] = []

    def add_callback(self, callback: Any) -> None:
        self.callbacks.append(callback)

    def run(self) -> None:
        while self.callbacks:
            self.callbacks.pop(0)()


def test_result_and_progress_applied_in_order_outside_a_kernel() -> None:
    seen: list[Any] = []

    def work(job: Job[int]) -> int:
        for i in range(4):
            job.report((i + 1) / 4)
        return 42

    job = JobRunner().submit("sum", work, done=seen.append, progress=seen.append)
    assert job.wait(10) == 42 and job.status == "done" and not job.running
    assert seen == [0.25, 0.5, 0.75, 1.0, 42]


def test_newest_job_of_an_owner_cancels_the_older_one() -> None:
    runner, gate, shown = JobRunner(), threading.Event(), []

    def slow(job: Job[str]) -> str:
        while not gate.is_set():
            job.check()
            gate.wait(0.01)
        return "old"

    owner = object()
    first = runner.submit("lime", slow, owner=owner, done=shown.append)
    other_owner = runner.submit("lime", lambda _j: "other", owner=object(), done=shown.append)
    second = runner.submit("lime", lambda _j: "new", owner=owner, done=shown.append)
    assert second.wait(10) == "new" and other_owner.wait(10) == "other"
    gate.set()
    assert first.wait(10) is None and first.status == "cancelled"
    assert sorted(shown) == ["new", "other"]  # the old result never reached the view
    assert runner.running() == []


def test_an_error_reaches_failed_and_wait() -> None:
    errors: list[BaseException] = []

    def broken(_job: Job[None]) -> None:
        raise RuntimeError("model exploded")

    job = JobRunner().submit("explain", broken, failed=errors.append)
    with pytest.raises(RuntimeError, match="model exploded"):
        job.wait(10)
    assert job.wait(10, raise_error=False) is None and job.status == "failed"
    assert [str(e) for e in errors] == ["model exploded"]


def test_outcomes_wait_for_the_kernel_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    loop = FakeLoop()
    monkeypatch.setattr(jobs, "_kernel_loop", lambda: loop)
    applied_on: list[str] = []
    job = JobRunner().submit(
        "d", lambda _j: 1, done=lambda _r: applied_on.append(threading.current_thread().name)
    )
    job._finished.wait(10)
    assert applied_on == [] and loop.callbacks  # queued for the kernel's loop, not set from the worker
    loop.run()
    assert applied_on == [threading.current_thread().name]


def test_waiting_on_the_kernel_thread_applies_the_outcome(monkeypatch: pytest.MonkeyPatch) -> None:
    """A cell that blocks on wait() holds the loop: wait() itself applies what is pending."""
    loop = FakeLoop()
    monkeypatch.setattr(jobs, "_kernel_loop", lambda: loop)
    shown: list[int] = []
    assert JobRunner().submit("d", lambda _j: 7, done=shown.append).wait(10) == 7
    assert shown == [7]
    loop.run()  # the loop's own drain later finds nothing left to apply
    assert shown == [7]


def test_a_job_cancelled_before_its_outcome_is_applied_is_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    loop = FakeLoop()
    monkeypatch.setattr(jobs, "_kernel_loop", lambda: loop)
    shown: list[int] = []
    job = JobRunner().submit("d", lambda _j: 7, done=shown.append)
    job._finished.wait(10)
    job.cancel()  # already finished: its result stays, and it is still applied
    loop.run()
    assert shown == [7]
    late = JobRunner()
    gate = threading.Event()
    running = late.submit("d", lambda _j: gate.wait(10) and 8, done=shown.append)
    running.cancel()
    gate.set()
    running._finished.wait(10)
    loop.run()
    assert shown == [7] and running.status == "cancelled"


def test_check_raises_once_cancelled() -> None:
    job: Job[None] = Job("x")
    job.check()
    job.cancel()
    with pytest.raises(JobCancelled):
        job.check()


def test_blocking_submit_runs_on_this_thread() -> None:
    names: list[str] = []
    JobRunner().submit("b", lambda _j: names.append(threading.current_thread().name), block=True)
    assert names == [threading.current_thread().name]
