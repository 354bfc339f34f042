"""An asyncio event loop that runs only when stepped, for a transport without I/O.

Every use of a private asyncio interface in the loopback package lives in this
module, so that a new Python version breaks one file. The loop is a
``BaseEventLoop`` whose selector never waits: the in-memory transport feeds
data in through ``call_soon``, and :meth:`SteppedEventLoop.run_until_idle` runs
callbacks until none is ready. It never blocks and starts no thread, which is
what Pyodide allows.

Private interfaces used: ``BaseEventLoop._run_once``, ``._ready``,
``._scheduled``, ``._selector``, ``._process_events``, ``._write_to_self``;
``asyncio.events._get_running_loop`` / ``._set_running_loop`` and
``asyncio.tasks._enter_task`` / ``._leave_task`` to lift the calling cell's
loop and task while the private loop runs; and ``_force_close``, which
asyncio's ``SSLProtocol`` calls on its transport after a fatal TLS error.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import sys
from asyncio import events, tasks
from collections.abc import Iterator

# Versions whose asyncio internals the tests of this module have exercised.
TESTED_PYTHON_VERSIONS = ((3, 10), (3, 11), (3, 12), (3, 13), (3, 14))


class LoopbackUnsupportedError(RuntimeError):
    """Raised when this Python's asyncio internals were never tested here."""


def check_python_version() -> None:
    """Raise :class:`LoopbackUnsupportedError` on an untested Python version."""
    version = sys.version_info[:2]
    if version not in TESTED_PYTHON_VERSIONS:
        raise LoopbackUnsupportedError(
            f"The in-memory SMTP loopback relies on asyncio internals tested on "
            f"Python {', '.join('%d.%d' % v for v in TESTED_PYTHON_VERSIONS)}; "
            f"this is Python {version[0]}.{version[1]}. Run the course with a "
            f"tested version or test mailcourse.loopback on this one first."
        )


class _NeverWaitingSelector:
    """A stand-in selector: the loop has no file descriptors to watch."""

    def select(self, timeout: float | None = None) -> list[object]:
        return []

    def close(self) -> None:
        pass


class SteppedEventLoop(asyncio.BaseEventLoop):
    """An event loop advanced by :meth:`run_until_idle`, with a virtual clock.

    ``time()`` is the monotonic clock plus an offset that
    :meth:`advance_clock` moves forward, so while a client waits for a reply,
    server timers (such as aiosmtpd's idle timeout) fire as they
    would after a real wait, without sleeping.
    """

    def __init__(self) -> None:
        super().__init__()
        self._selector = _NeverWaitingSelector()
        self._clock_offset = 0.0

    def time(self) -> float:
        return super().time() + self._clock_offset

    def _process_events(self, event_list: list[object]) -> None:
        pass

    def _write_to_self(self) -> None:
        # Called by call_soon_threadsafe to wake a selector; nothing waits here.
        pass

    def has_ready_work(self) -> bool:
        """Return whether a callback is ready or a timer is due."""
        self._drop_cancelled_timers()
        if self._ready:
            return True
        return bool(self._scheduled) and self._scheduled[0].when() <= self.time()

    def next_timer_delay(self) -> float | None:
        """Return the seconds until the next pending timer, or None if none."""
        self._drop_cancelled_timers()
        if not self._scheduled:
            return None
        return max(0.0, self._scheduled[0].when() - self.time())

    def advance_clock(self, seconds: float) -> None:
        """Move the virtual clock forward by ``seconds`` (no real waiting)."""
        self._clock_offset += seconds

    def run_until_idle(self) -> None:
        """Run ready callbacks and due timers until none is left."""
        with _running_as_current_loop(self):
            while self.has_ready_work():
                self._run_once()

    def _drop_cancelled_timers(self) -> None:
        # The same clean-up _run_once does at the head of its timer heap.
        while self._scheduled and self._scheduled[0].cancelled():
            handle = heapq.heappop(self._scheduled)
            handle._scheduled = False
            self._timer_cancelled_count -= 1


@contextlib.contextmanager
def _running_as_current_loop(loop: SteppedEventLoop) -> Iterator[None]:
    """Make ``loop`` the running loop, lifting any caller's loop and task.

    A notebook cell already runs inside a task of the kernel's loop (ipykernel
    and Pyodide alike). Python 3.14 allows one current task per thread, so the
    cell's task is left for the duration of the step and entered again after.
    """
    outer_loop = events._get_running_loop()
    outer_task = None
    if outer_loop is not None and outer_loop is not loop:
        outer_task = tasks.current_task(outer_loop)
    if outer_task is not None:
        tasks._leave_task(outer_loop, outer_task)
    events._set_running_loop(loop)
    try:
        yield
    finally:
        events._set_running_loop(outer_loop)
        if outer_task is not None:
            tasks._enter_task(outer_loop, outer_task)


class ForceCloseMixin:
    """The private transport method asyncio's ``SSLProtocol._fatal_error`` calls."""

    def _force_close(self, error: BaseException | None) -> None:
        # SSLProtocol (CPython 3.11+) closes a failed connection through this
        # selector-transport method; closing normally has the same effect here.
        self.close()  # type: ignore[attr-defined]
