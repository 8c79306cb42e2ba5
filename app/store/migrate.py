"""Alembic driven from code: upgrade, downgrade, and whether a database's schema is current."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

import app


def migrations_dir() -> Path:
    """The Alembic scripts: `migrations/` in a source checkout, `app/_migrations` in a wheel."""
    package = Path(app.__file__).resolve().parent
    for candidate in (package.parent / "migrations", package / "_migrations"):
        if (candidate / "env.py").is_file():
            return candidate
    raise FileNotFoundError("the Alembic migrations directory is missing from this installation")


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    return config


@lru_cache(maxsize=1)
def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _run(connection: Connection, action: str, target: str, settings: object = None) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    config.attributes["settings"] = settings  # data migrations that need keys read them from here
    if action == "upgrade":
        command.upgrade(config, target)
    else:
        command.downgrade(config, target)


async def upgrade(engine: AsyncEngine, target: str = "head", settings: object = None) -> None:
    """Upgrade to `target`; `settings` (an app Settings) gives data migrations their keys (else the environment)."""
    async with engine.begin() as connection:
        await connection.run_sync(_run, "upgrade", target, settings)


async def downgrade(engine: AsyncEngine, target: str = "base", settings: object = None) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(_run, "downgrade", target, settings)


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(_current)


async def is_current(engine: AsyncEngine) -> bool:
    return await current_revision(engine) == head_revision()
