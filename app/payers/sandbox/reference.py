"""The sandbox's payer reference: the follow-up schedule, encoded so no process keeps state.

    sbx1-<request hash>-<submitted, epoch s>-<decide at, epoch s | "hold" | "final">

"hold" means the pend waits for an operator release; "final" means nothing was pended.
The request hash is derived from the service's authorization id (no PHI).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime

_PATTERN = re.compile(r"^sbx1-(?P<hash>[0-9a-f]{10})-(?P<submitted>\d+)-(?P<decide>\d+|hold|final)$")


def request_hash(authorization_id: str) -> str:
    return hashlib.sha256(authorization_id.encode()).hexdigest()[:10]


@dataclass(frozen=True, slots=True)
class SandboxReference:
    request_hash: str
    submitted_at: datetime
    decide_at: datetime | None  # None: no automatic decision
    held: bool  # waiting for an operator release

    def encode(self) -> str:
        if self.held:
            tail = "hold"
        elif self.decide_at is None:
            tail = "final"
        else:
            tail = str(int(self.decide_at.timestamp()))
        return f"sbx1-{self.request_hash}-{int(self.submitted_at.timestamp())}-{tail}"

    @property
    def authorization_number(self) -> str:
        return f"SBX-{self.request_hash.upper()}"

    @classmethod
    def decode(cls, text: str) -> SandboxReference | None:
        """The reference, or None when the text is not a sandbox reference."""
        match = _PATTERN.match(text)
        if match is None:
            return None
        decide = match["decide"]
        return cls(
            request_hash=match["hash"],
            submitted_at=datetime.fromtimestamp(int(match["submitted"]), UTC),
            decide_at=datetime.fromtimestamp(int(decide), UTC) if decide.isdigit() else None,
            held=decide == "hold",
        )


def is_sandbox_reference(text: str) -> bool:
    return _PATTERN.match(text) is not None
