"""What every table shares: the declarative base with its constraint naming convention, and column
types several rooms use (BigIntId for row ids, QuantityNumeric for units and quantities).

Alembic's autogenerate compares `Base.metadata` with the database; the package's `__init__`
imports every room's module, so importing `app.store.models` registers all the tables.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, MetaData, Numeric
from sqlalchemy.orm import DeclarativeBase

from app.domain import bounds

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT identity on PostgreSQL, INTEGER (rowid alias) on SQLite.
BigIntId = BigInteger().with_variant(Integer(), "sqlite")
QuantityNumeric = Numeric(bounds.QUANTITY_PRECISION, bounds.QUANTITY_SCALE)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
