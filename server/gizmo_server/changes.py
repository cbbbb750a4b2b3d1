"""`Prefer: wait=N` long polling of a scene (RFC 7240), both generations.

A conditional GET whose `If-None-Match` holds the current `ETag` may ask to be held until the
scene changes: the watcher then sees a change at once instead of at its next poll. The stores
call `Changes.changed(scene_id)` after each commit that can change what the scene's GET answers;
a held request waits on an asyncio event (no thread of the pool is kept), wakes, and answers
again. At most `max_waiters` requests are held at a time (beyond that they are answered at once,
without `Preference-Applied`), and `close()` (the store's) lets every held request answer now.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import threading
import time
from collections.abc import Callable, Iterator

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

__all__ = ["MAX_WAIT", "MAX_WAITERS", "WAIT_DESCRIPTION", "Changes", "held", "preferred_wait"]

MAX_WAIT = 30  # seconds: a longer `wait` is held this long
MAX_WAITERS = 256  # held requests per store; each costs a connection and a coroutine only
WAIT_DESCRIPTION = (
    " `Prefer: wait=N` (seconds, at most 30) with an `If-None-Match` naming the current `ETag` "
    "holds the request until the scene changes (200 with the new `ETag`) or N seconds pass "
    "(304); an answer that was held says `Preference-Applied: wait=N`. A deleted scene answers "
    "404 at once. When too many requests are held already, it is answered at once without "
    "`Preference-Applied` (poll again after your usual interval)."
)


def preferred_wait(prefer: str | None) -> int | None:
    """The `wait` preference of a `Prefer` header in whole seconds (capped), or None.

    Preferences are comma-separated `token[=value]` with optional `;` parameters; tokens are
    case-insensitive and a value may be quoted (RFC 7240 section 2). The first `wait` counts.
    """
    for preference in (prefer or "").split(","):
        name, _, value = preference.split(";")[0].partition("=")
        if name.strip().lower() != "wait":
            continue
        try:
            seconds = float(value.strip().strip('"'))
        except ValueError:
            return None
        if not math.isfinite(seconds) or seconds <= 0:
            return None
        return min(math.ceil(seconds), MAX_WAIT)
    return None


class _Waiter:
    """One held request: an event of its event loop, set from whichever thread committed."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._event = asyncio.Event()
        self.closed = False

    def wake(self) -> None:
        with contextlib.suppress(RuntimeError):  # the loop has already closed: nobody waits
            self._loop.call_soon_threadsafe(self._event.set)

    async def wait(self, seconds: float) -> None:
        """Until woken or `seconds` pass; a wake before the call counts (it is not lost)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._event.wait()
        self._event.clear()


class Changes:
    """Who waits for which scene, woken after a commit that changed it."""

    def __init__(self, max_waiters: int = MAX_WAITERS) -> None:
        self.max_waiters = max_waiters
        self._lock = threading.Lock()
        self._waiters: dict[str, set[_Waiter]] = {}
        self._count = 0
        self._closed = False

    def holding(self, key: str) -> int:
        """How many requests are held on `key` now."""
        with self._lock:
            return len(self._waiters.get(key, ()))

    def changed(self, key: str) -> None:
        """Wake the requests held on `key` (call it after the commit, never inside it)."""
        with self._lock:
            waiters = list(self._waiters.get(key, ()))
        for waiter in waiters:
            waiter.wake()

    def close(self) -> None:
        """Answer every held request now and hold no more (the server is stopping)."""
        with self._lock:
            self._closed = True
            waiters = [waiter for group in self._waiters.values() for waiter in group]
        for waiter in waiters:
            waiter.closed = True
            waiter.wake()

    @contextlib.contextmanager
    def waiter(self, key: str) -> Iterator[_Waiter | None]:
        """A registered waiter for `key` (in the event loop), or None when none may be held."""
        waiter = _Waiter()
        with self._lock:
            if self._closed or self._count >= self.max_waiters:
                waiter_or_none = None
            else:
                self._waiters.setdefault(key, set()).add(waiter)
                self._count += 1
                waiter_or_none = waiter
        try:
            yield waiter_or_none
        finally:
            if waiter_or_none is not None:
                with self._lock:
                    group = self._waiters[key]
                    group.discard(waiter)
                    if not group:
                        del self._waiters[key]
                    self._count -= 1


async def held(
    changes: Changes,
    key: str,
    if_none_match: str | None,
    prefer: str | None,
    answer: Callable[[], Response],
) -> Response:
    """`answer()` (a 200, or 304 for a matching `If-None-Match`; run in the thread pool), held
    while it is a 304 and the request asked for a `wait` that may be held.

    The waiter is registered before each answer is built, so a commit between building it and
    waiting still wakes the wait. Errors (404 for a scene deleted meanwhile) propagate.
    """
    tags = [tag.strip() for tag in (if_none_match or "").split(",")]
    named = any(tags) and "*" not in tags  # `*` matches every version: never held
    wait = preferred_wait(prefer) if named else None
    if wait is None:
        return await run_in_threadpool(answer)
    deadline = time.monotonic() + wait
    with changes.waiter(key) as waiter:
        while True:
            response = await run_in_threadpool(answer)
            remaining = deadline - time.monotonic()
            if waiter is None or waiter.closed or response.status_code != 304 or remaining <= 0:
                break
            await waiter.wait(remaining)
    if waiter is not None:
        response.headers["Preference-Applied"] = f"wait={wait}"
    return response
