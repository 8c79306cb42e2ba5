"""Documents a payer asked for (CDex `$submit-attachment`, or carried by a PASClaimUpdate): stored once per
authorization, forwarded to the payer, answered through the aggregate.

A sub-room of the lifecycle: it imports the room's core, never another sub-room. The core reaches the
documents only through `SENT_DOCUMENTS`, which the room's face hands it.
"""

from app.authorizations.attachments.service import SENT_DOCUMENTS, AttachResult, submit_attachment
from app.authorizations.attachments.tasks import handlers

__all__ = ["SENT_DOCUMENTS", "AttachResult", "handlers", "submit_attachment"]
