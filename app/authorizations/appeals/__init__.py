"""Appeals of a decided request: lodged by operations or by a PASClaimUpdate (certificationType 1/2), sent
to the payer when its adapter takes appeals, followed up until decided, with a deadline clock.

A sub-room of the lifecycle: it imports the room's core, never another sub-room; the edges and the
room's face call what is exported here.
"""

from app.authorizations.appeals.by_update import AppealAnswer, appeal_by_update, is_appeal
from app.authorizations.appeals.service import (
    AppealRefused,
    AppealRequest,
    decide,
    peer_to_peer,
    refusal,
    submit_appeal,
)
from app.authorizations.appeals.tasks import handlers

__all__ = [
    "AppealAnswer",
    "AppealRefused",
    "AppealRequest",
    "appeal_by_update",
    "decide",
    "handlers",
    "is_appeal",
    "peer_to_peer",
    "refusal",
    "submit_appeal",
]
