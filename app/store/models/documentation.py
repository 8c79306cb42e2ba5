"""`questionnaire_errors`: what DTR clients reported of the payers' questionnaires (`$log-questionnaire-errors`).

Stored without PHI: the questionnaire canonicals and, per issue, only its severity, code, coded
details and FHIRPath locations (never free text, which a client might fill with patient data).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.domain import bounds
from app.store.models.base import Base, BigIntId
from app.store.types import UTCDateTime


class QuestionnaireError(Base):
    """One `$log-questionnaire-errors` call: who reported, about which questionnaires, the issues (no text)."""

    __tablename__ = "questionnaire_errors"
    __table_args__ = (Index("ix_questionnaire_errors_client_received", "client_id", "received_at"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    client_id: Mapped[str] = mapped_column(String(bounds.CLIENT_ID_LENGTH))
    questionnaires: Mapped[list[str]] = mapped_column(JSON)  # canonicals, as sent
    issues: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # severity, code, codes, expression
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
