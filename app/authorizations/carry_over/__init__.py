"""Authorizations carried over from a previous plan (continuity of care): honoured for a window, with the
resubmission to the new payer prepared at import.

A sub-room of the lifecycle: it imports the room's core, never another sub-room.
"""

from app.authorizations.carry_over.input import CarryOverBody, carry_over_of
from app.authorizations.carry_over.service import CarryOver, Window, import_carried_over, insurer_of, resubmission

__all__ = ["CarryOver", "CarryOverBody", "Window", "carry_over_of", "import_carried_over", "insurer_of", "resubmission"]
