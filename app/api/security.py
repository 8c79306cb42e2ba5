"""Route dependencies that say who the caller is and check its scopes."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Depends

from app.api.deps import RuntimeDep
from app.errors import Forbidden, Unauthorized
from app.security.principal import DEVELOPMENT_PRINCIPAL, Principal


async def current_principal(runtime: RuntimeDep) -> Principal:
    if runtime.settings.development:
        return DEVELOPMENT_PRINCIPAL
    raise Unauthorized("a bearer token is required")


def require(scope: str) -> Any:
    """`Depends(...)` that yields the caller when it holds `scope` (403 otherwise)."""

    async def dependency(principal: Principal = Depends(current_principal)) -> Principal:
        if not principal.has(scope):
            raise Forbidden(f"the token lacks the scope {scope}")
        return principal

    checker: Callable[..., Coroutine[Any, Any, Principal]] = dependency
    return Depends(checker)
