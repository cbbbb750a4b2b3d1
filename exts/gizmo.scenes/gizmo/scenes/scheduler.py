"""Where the controller's work runs.

The controller is written as coroutines that `await scheduler.run(fn)` for every blocking call
(HTTP, downloads) and touch UI state and the USD stage only between awaits. Two schedulers:

- `AsyncioScheduler`: blocking calls on an executor, coroutines on an asyncio loop. In Kit that is
  Kit's main loop, so everything between awaits runs on the main thread.
- `SyncScheduler`: runs everything inline on the calling thread, for deterministic tests.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import Executor
from typing import Any, Protocol, TypeVar

__all__ = ["AsyncioScheduler", "Scheduler", "SyncScheduler", "TaskHandle"]

T = TypeVar("T")


class TaskHandle(Protocol):
    def cancel(self) -> bool: ...

    def done(self) -> bool: ...


class Scheduler(Protocol):
    async def run(self, fn: Callable[[], T]) -> T:
        """Run a blocking callable off the main thread and return its result."""
        ...

    async def sleep(self, seconds: float) -> None: ...

    def spawn(self, coro: Coroutine[Any, Any, None]) -> TaskHandle:
        """Start a coroutine on the main loop; call from the main thread."""
        ...

    def post(self, fn: Callable[[], None]) -> None:
        """Run `fn` on the main thread soon; callable from any thread."""
        ...

    def on_main_thread(self) -> bool: ...


class _Finished:
    def cancel(self) -> bool:
        return False

    def done(self) -> bool:
        return True


class SyncScheduler:
    """Runs coroutines to completion inside `spawn`, blocking calls inline, sleeps for real.

    A coroutine that would have to wait for something outside this scheduler (an endless poll
    loop, a real asyncio future) cannot run here; `spawn` raises instead of hanging.
    """

    def __init__(self, sleep: Callable[[float], None] = time.sleep) -> None:
        self._sleep = sleep
        self._thread = threading.get_ident()

    async def run(self, fn: Callable[[], T]) -> T:
        return fn()

    async def sleep(self, seconds: float) -> None:
        self._sleep(seconds)

    def spawn(self, coro: Coroutine[Any, Any, None]) -> TaskHandle:
        try:
            coro.send(None)
        except StopIteration:
            return _Finished()
        coro.close()
        raise RuntimeError(
            "SyncScheduler cannot run a coroutine that suspends; use AsyncioScheduler"
        )

    def post(self, fn: Callable[[], None]) -> None:
        fn()

    def on_main_thread(self) -> bool:
        return threading.get_ident() == self._thread


class AsyncioScheduler:
    """Blocking calls on `executor`, coroutines and posted callbacks on `loop`.

    Create it on the loop's thread (in Kit: in `on_startup`, on the main thread).
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, executor: Executor) -> None:
        self._loop = loop
        self._executor = executor
        self._thread = threading.get_ident()

    async def run(self, fn: Callable[[], T]) -> T:
        return await self._loop.run_in_executor(self._executor, fn)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def spawn(self, coro: Coroutine[Any, Any, None]) -> TaskHandle:
        return self._loop.create_task(coro)

    def post(self, fn: Callable[[], None]) -> None:
        self._loop.call_soon_threadsafe(fn)

    def on_main_thread(self) -> bool:
        return threading.get_ident() == self._thread
