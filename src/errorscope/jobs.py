"""One runner for background work (slice discovery, SHAP over a selection, LIME for a clicked row).

Work runs on its own daemon thread so the kernel stays responsive; what it produces (a result, an error,
progress) is applied to the views on the kernel's thread, through the kernel's event loop, so a widget's
traits are only ever set from the thread that owns its comm. Outside a kernel (scripts, tests) results
are applied on the worker thread as they come.

A job has an owner and a name: submitting a job cancels the owner's running job of the same name (the
newest click wins), and a cancelled job's result is never applied.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class JobCancelled(Exception):
    """Raised inside a job's work by :meth:`Job.check` once the job was cancelled."""


@dataclass(eq=False)
class Job(Generic[T]):
    """One piece of background work: its progress, its outcome, and how to stop it."""

    name: str
    owner: Any = None
    status: str = "running"  # "running", "done", "failed" or "cancelled"
    progress: float = 0.0
    result: T | None = None
    error: BaseException | None = None
    cancel_event: threading.Event = field(default_factory=threading.Event)
    _finished: threading.Event = field(default_factory=threading.Event)
    _runner: JobRunner | None = None
    _on_progress: Callable[[float], None] | None = None

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def cancel(self) -> None:
        """Ask the work to stop; its result, if it still comes, is dropped."""
        if not self._finished.is_set():
            self.cancel_event.set()
            self.status = "cancelled"

    def check(self) -> None:
        """Stop here (raise :class:`JobCancelled`) when the job was cancelled: call it between chunks."""
        if self.cancel_event.is_set():
            raise JobCancelled(self.name)

    def report(self, fraction: float) -> None:
        """The share of the work done (0-1), shown by the views through the job's progress callback."""
        self.progress = min(1.0, max(0.0, float(fraction)))
        if self._on_progress is not None and self._runner is not None and not self.cancelled:
            progress, value = self._on_progress, self.progress
            self._runner.apply(lambda: progress(value), self)

    def wait(self, timeout: float | None = None, raise_error: bool = True) -> T | None:
        """Block until the job ends and its outcome was applied; its result (None once cancelled), or the
        work's error raised (unless not ``raise_error``: views show it in their status instead)."""
        self._finished.wait(timeout)
        if self._runner is not None:
            self._runner.drain()  # on the kernel's thread the loop is blocked by this call: apply here
        if self.cancelled:
            return None
        if raise_error and self.error is not None:
            raise self.error
        return self.result

    @property
    def running(self) -> bool:
        return not self._finished.is_set()


class JobRunner:
    """Runs jobs in the background and applies their outcomes on the kernel's thread (see the module)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[tuple[Callable[[], None], Job[Any]]] = []
        self._jobs: dict[tuple[int, str], Job[Any]] = {}

    def submit(
        self,
        name: str,
        work: Callable[[Job[T]], T],
        *,
        owner: Any = None,
        done: Callable[[T], None] | None = None,
        failed: Callable[[BaseException], None] | None = None,
        progress: Callable[[float], None] | None = None,
        block: bool = False,
    ) -> Job[T]:
        """Start ``work(job)`` (on this thread when ``block``); ``done(result)``, ``failed(error)`` and
        ``progress(fraction)`` are applied on the kernel's thread unless the job was cancelled first."""
        job: Job[T] = Job(name, owner, _runner=self, _on_progress=progress)
        key = (id(owner), name)
        with self._lock:
            previous = self._jobs.get(key)
            self._jobs[key] = job
        if previous is not None:
            previous.cancel()

        def run() -> None:
            try:
                job.result = work(job)
            except JobCancelled:
                job.status = "cancelled"
            except BaseException as err:  # kept for wait() and shown by the view through failed()
                job.error = err
                if not job.cancelled:
                    job.status = "failed"
                    if failed is not None:
                        self.apply(lambda error=err: failed(error), job)
            else:
                if not job.cancelled:
                    job.status, job.progress = "done", 1.0
                    if done is not None:
                        result = job.result
                        self.apply(lambda: done(result), job)  # type: ignore[arg-type]
            finally:
                job._finished.set()
                with self._lock:
                    if self._jobs.get(key) is job:
                        del self._jobs[key]

        if block:
            run()
            self.drain()
        else:
            threading.Thread(target=run, name=f"errorscope-{name}", daemon=True).start()
        return job

    def running(self, owner: Any = None, name: str | None = None) -> list[Job[Any]]:
        """The jobs still running (of ``owner``, named ``name``, when given)."""
        with self._lock:
            jobs = list(self._jobs.values())
        return [j for j in jobs if (owner is None or j.owner is owner) and (name is None or j.name == name)]

    def cancel(self, owner: Any = None, name: str | None = None) -> None:
        """Cancel the running jobs (of ``owner``, named ``name``, when given)."""
        for job in self.running(owner, name):
            job.cancel()

    # -- applying outcomes on the kernel's thread ----------------------------------------------
    def apply(self, callback: Callable[[], None], job: Job[Any]) -> None:
        """Run ``callback`` on the kernel's thread (now, outside a kernel), unless ``job`` was cancelled."""
        loop = _kernel_loop()
        if loop is None:
            if not job.cancelled:
                callback()
            return
        with self._lock:
            self._pending.append((callback, job))
        loop.add_callback(self.drain)

    def drain(self) -> None:
        """Apply every pending outcome (a no-op when there is none); called by the kernel's loop."""
        with self._lock:
            pending, self._pending = self._pending, []
        for callback, job in pending:
            if not job.cancelled:
                callback()


def _kernel_loop() -> Any:
    """The running IPython kernel's event loop (tornado's, whose add_callback is thread-safe), or None."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipywidgets
        return None
    shell = get_ipython()
    kernel = getattr(shell, "kernel", None)
    return getattr(kernel, "io_loop", None)
