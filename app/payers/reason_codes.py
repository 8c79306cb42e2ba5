"""A payer's own review reason codes brought to X12 886 through a per-payer code map kept as data.

PAS binds `extension-reviewAction.reasonCode` (required) to the X12 278 review decision reason codes
(`https://codesystem.x12.org/external/886`). A payer that answers under another system is mapped
with its entry's `reason_codes` table in the payers file: `"system|code" = "<886 code>"`. A code
under 886 is kept; a code the map does not name is kept as it came, and the response renderer
(`app.fhir.response`) then writes it as text (reasonCode.text and a processNote), never as a coding
under a wrong system.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from app.domain.codes import X12_886_SYSTEM
from app.domain.model import Coding, ItemDecision, PayerReply


def _mapped(coding: Coding, code_map: Mapping[str, str]) -> Coding:
    if coding.system == X12_886_SYSTEM:
        return coding
    found = code_map.get(f"{coding.system or ''}|{coding.code}")
    return coding if found is None else Coding(X12_886_SYSTEM, found)  # the display named the payer's code


def _decision(decision: ItemDecision, code_map: Mapping[str, str]) -> ItemDecision:
    codes = tuple(_mapped(c, code_map) for c in decision.reason_codes)
    return decision if codes == decision.reason_codes else dataclasses.replace(decision, reason_codes=codes)


def map_reason_codes(reply: PayerReply, code_map: Mapping[str, str]) -> PayerReply:
    """`reply` with every reason code the map names replaced by its X12 886 code."""
    if not code_map:
        return reply
    decisions = tuple(_decision(d, code_map) for d in reply.decisions)
    return reply if decisions == tuple(reply.decisions) else dataclasses.replace(reply, decisions=decisions)
