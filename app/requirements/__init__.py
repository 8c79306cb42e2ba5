"""The coverage requirements room: CRD (CDS Hooks services) and `Claim/$validate`.

I/O around the pure rules of `app.coverage`: which rules are in force for the payer, what the
store knows (an active authorization that satisfies an order; the duplicates and extensions a
request would make), and the coverage assertions a CRD answer leaves for a later `$submit`.
The sub-room `risk` learns denial rates from the hub's own history (its face is reached from here).
"""

from app.requirements import risk
from app.requirements.crd import answer_hook, discovery
from app.requirements.validate import validate_submission

__all__ = ["answer_hook", "discovery", "risk", "validate_submission"]
