"""The service keeps what it built to start out of the garbage collector's full collections while it runs
(`app.runtime.startup_heap_frozen`), and gives it back when it stops."""

from __future__ import annotations

import gc

from app.main import create_app
from app.settings import Settings


async def test_the_startup_heap_is_frozen_while_the_service_runs_and_released_when_it_stops(
    settings: Settings,
) -> None:
    assert gc.get_freeze_count() == 0
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        frozen = gc.get_freeze_count()
        assert frozen > 10_000  # the modules, models and runtime built to start: more than a handful
        gc.collect()
        assert gc.get_freeze_count() == frozen  # a full collection leaves them where they are
    assert gc.get_freeze_count() == 0
