"""webhook signing secrets encrypted at rest (Fernet); the columns widened to hold the tokens

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 11:00:00.000000

The keys come from the settings the migration runs with (`epa db upgrade` reads the same
environment as the service), so this is one of the few migrations that imports app code.
Downgrading decrypts the secrets back to plain text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

from app.notifications.secret_box import SecretBox
from app.settings import Settings

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_endpoints = sa.table(
    "webhook_endpoints",
    sa.column("id", sa.Uuid()),
    sa.column("secret", sa.String()),
    sa.column("previous_secret", sa.String()),
)


def _box() -> SecretBox:
    config = op.get_context().config
    settings = config.attributes.get("settings") if config is not None else None
    return SecretBox(settings if isinstance(settings, Settings) else Settings())


def _rewrite(change: Callable[[str], str]) -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.select(_endpoints.c.id, _endpoints.c.secret, _endpoints.c.previous_secret)).all()
    for row in rows:
        values = {"secret": change(row.secret)}
        if row.previous_secret is not None:
            values["previous_secret"] = change(row.previous_secret)
        connection.execute(sa.update(_endpoints).where(_endpoints.c.id == row.id).values(**values))


def upgrade() -> None:
    with op.batch_alter_table("webhook_endpoints") as batch:
        batch.alter_column("secret", existing_type=sa.String(128), type_=sa.String(512), existing_nullable=False)
        batch.alter_column("previous_secret", existing_type=sa.String(128), type_=sa.String(512))
    box = _box()
    _rewrite(box.reseal)


def downgrade() -> None:
    box = _box()
    _rewrite(box.open)
    with op.batch_alter_table("webhook_endpoints") as batch:
        batch.alter_column("secret", existing_type=sa.String(512), type_=sa.String(128), existing_nullable=False)
        batch.alter_column("previous_secret", existing_type=sa.String(512), type_=sa.String(128))
