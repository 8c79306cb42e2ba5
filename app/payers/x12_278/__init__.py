"""The `x12-278` payer adapter's room (entry point `create_adapter`): ASC X12 005010X217 278 for
payers reached through a clearinghouse. The codec (pure): `encode_request`, `decode_response`, `to_reply`; the tables in
`tables.toml`; the generic X12 layer (pyx12) behind `read_interchange`."""

from app.payers.x12_278.adapter import X12Adapter, create_adapter
from app.payers.x12_278.decode import Decoded278, decode_response
from app.payers.x12_278.encode import Purpose, encode_request, trace_for
from app.payers.x12_278.envelope import Control, Parties
from app.payers.x12_278.errors import X12ProtocolError, X12SyntaxError, X12ValueError
from app.payers.x12_278.people import People, Person, people_of
from app.payers.x12_278.reader import Interchange, read_interchange
from app.payers.x12_278.reply import check_answers, decisions_of, rejection_issues, summary, to_reply, view
from app.payers.x12_278.settings import X12Settings

__all__ = [
    "Control",
    "Decoded278",
    "Interchange",
    "Parties",
    "People",
    "Person",
    "Purpose",
    "X12Adapter",
    "X12ProtocolError",
    "X12Settings",
    "X12SyntaxError",
    "X12ValueError",
    "check_answers",
    "create_adapter",
    "decisions_of",
    "decode_response",
    "encode_request",
    "people_of",
    "read_interchange",
    "rejection_issues",
    "summary",
    "to_reply",
    "trace_for",
    "view",
]
