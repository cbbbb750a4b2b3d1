"""Connection settings precedence and the two schedulers' threading contracts."""

from __future__ import annotations

import asyncio
import inspect
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from gizmo.scenes import settings as panel_settings
from gizmo.scenes.scheduler import AsyncioScheduler, SyncScheduler
from kit_support import ControllerFactory, MemorySettings

KEY = "gzk_test_key_never_shown"


def test_environment_wins_over_kit_settings() -> None:
    store = MemorySettings(
        {
            panel_settings.BASE_URL_SETTING: "http://stored.example/v1/",
            panel_settings.API_KEY_SETTING: "stored-key",
        }
    )
    env = {"GIZMO_BASE_URL": "http://env.example/v1", "GIZMO_API_KEY": KEY}
    resolved = panel_settings.resolve(store, env)
    assert (resolved.base_url, resolved.api_key) == ("http://env.example/v1", KEY)
    assert resolved.base_url_source == resolved.api_key_source == "environment"
    assert KEY not in repr(resolved)

    stored = panel_settings.resolve(store, {"GIZMO_API_KEY": "   "})
    assert (stored.base_url, stored.api_key) == ("http://stored.example/v1", "stored-key")
    assert stored.api_key_source == "Kit settings"

    nothing = panel_settings.resolve(MemorySettings(), {})
    assert (nothing.base_url, nothing.api_key) == (None, None)
    assert nothing.api_key_source == "client default"


def test_save_keeps_or_forgets_the_key() -> None:
    store = MemorySettings()
    panel_settings.save(store, base_url=" http://a/v1 ", api_key=f" {KEY} ")
    assert store.values == {
        panel_settings.BASE_URL_SETTING: "http://a/v1",
        panel_settings.API_KEY_SETTING: KEY,
    }
    panel_settings.save(store, base_url="http://b/v1", api_key=None)
    assert store.values[panel_settings.API_KEY_SETTING] == KEY
    panel_settings.save(store, base_url="http://b/v1", api_key="")
    assert panel_settings.resolve(store, {}).api_key is None


def test_sync_scheduler_refuses_coroutines_that_suspend() -> None:
    async def waits_for_a_loop() -> None:
        await asyncio.sleep(0)

    coro = waits_for_a_loop()
    with pytest.raises(RuntimeError, match="AsyncioScheduler"):
        SyncScheduler().spawn(coro)
    assert inspect.getcoroutinestate(coro) == inspect.CORO_CLOSED, "closed, not left pending"


def test_asyncio_scheduler_threads() -> None:
    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        main = threading.get_ident()
        with ThreadPoolExecutor(max_workers=1) as pool:
            sched = AsyncioScheduler(loop, pool)
            seen: list[tuple[str, int, bool]] = []

            def blocking() -> int:
                seen.append(("worker", threading.get_ident(), sched.on_main_thread()))
                sched.post(lambda: seen.append(("posted", threading.get_ident(), True)))
                return 42

            assert await sched.run(blocking) == 42
            await asyncio.sleep(0.01)
            assert seen[0][1] != main and seen[0][2] is False
            assert seen[1] == ("posted", main, True)

            started = asyncio.Event()

            async def forever() -> None:
                started.set()
                await asyncio.sleep(3600)

            handle = sched.spawn(forever())
            await started.wait()
            assert handle.cancel() and not handle.done()
            await asyncio.sleep(0)
            assert handle.done()

    asyncio.run(scenario())


def test_state_changes_off_the_main_thread_are_refused(make_controller: ControllerFactory) -> None:
    async def scenario() -> None:
        with ThreadPoolExecutor(max_workers=1) as pool:
            controller = make_controller(
                scheduler=AsyncioScheduler(asyncio.get_running_loop(), pool)
            )
            with pytest.raises(RuntimeError, match="main thread"):
                await asyncio.get_running_loop().run_in_executor(
                    pool, controller.set_filter, "from a worker"
                )
            controller.set_filter("on the loop")
            assert controller.state.filter_text == "on the loop"

    asyncio.run(scenario())
