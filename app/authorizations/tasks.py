"""The core's job handlers, for the worker: the follow-up and the clock events.

Job kinds and their planning are in `app.authorizations.scheduling`; the sub-rooms bring their own
handlers (appeals: follow-up and deadline; attachments: forwarding), merged by the room's face.
"""

from __future__ import annotations

from app.authorizations.clocks import clock_handlers
from app.authorizations.deps import FollowUpDeps
from app.authorizations.documents import SentDocuments
from app.authorizations.follow_up import follow_up_handler
from app.authorizations.scheduling import FOLLOW_UP
from app.jobs.contract import Handler


def handlers(deps: FollowUpDeps, documents: SentDocuments) -> dict[str, Handler]:
    return {FOLLOW_UP: follow_up_handler(deps, documents), **clock_handlers()}
