"""Dependencies shared by routers: the runtime, and the request's unit of work.

Every dependency is `async def`, even one that only reads app state: FastAPI runs a plain `def`
dependency in a worker thread, a hop that costs more than the work (tests/api/test_async_dependencies.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.runtime import Runtime


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    """The unit of work: commit once when the handler returns, roll back if it raises.

    scope="function" makes the commit happen before the response is sent, so a client
    never sees a success whose data was not stored.
    """
    async with runtime.sessions() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
