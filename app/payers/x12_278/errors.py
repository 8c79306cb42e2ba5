"""What the codec raises. Messages carry X12 codes, loop ids and control numbers only, never values
from the transaction (they may be PHI), so they can reach logs and operations as they are."""

from __future__ import annotations

from app.payers.x12_278.reader import X12SyntaxError
from app.payers.x12_278.segments import X12ValueError


class X12ProtocolError(ValueError):
    """A well-formed interchange that is not an answer the hub can use: not a 278 response, another
    request's answer (trace or control numbers do not match), or codes the hub does not know."""


__all__ = ["X12ProtocolError", "X12SyntaxError", "X12ValueError"]
