"""Seconds between two UTC timestamp columns, in SQL that SQLite and PostgreSQL both run."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, cast, func
from sqlalchemy.sql.elements import ColumnElement


def seconds_between(later: Any, earlier: Any, dialect: str) -> ColumnElement[float]:
    """`later - earlier` in seconds (SQLite keeps naive UTC text, read through julianday)."""
    if dialect == "sqlite":
        # julianday is a double of days: round away its ~0.1 ms noise so exact windows compare exactly.
        return cast(func.round((func.julianday(later) - func.julianday(earlier)) * 86400.0, 3), Float)
    return cast(func.extract("epoch", later - earlier), Float)
