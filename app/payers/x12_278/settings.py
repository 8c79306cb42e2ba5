"""Settings of the `x12-278` adapter (`[payer.settings]` in the payers file), refused at start-up with
one line naming the key when wrong.

[[payer]]
id = "acme-x12"
adapter = "x12-278"
match = ["ACME-01"]
[payer.settings]
url = "https://core.clearinghouse.example/278"   # the CAQH CORE real-time endpoint
envelope = "mime"                 # or "soap" (SOAP 1.2 + WS-Security UsernameToken)
username = "epa-hub"
password_file = "secrets/acme-core.txt"          # or password = "..."
sender_id = "EPAHUB"              # ISA06 / GS02 / CORE SenderID
receiver_id = "CLEARHOUSE"        # ISA08 / GS03 / CORE ReceiverID
payer_id = "ACME01"               # 2010A NM109
payer_name = "ACME HEALTH"        # 2010A NM103 (defaults to payer_id)
usage = "T"                       # ISA15: T test, P production
control_numbers_file = "state/acme-x12.ctl"     # ISA13/GS06 counter, shared by every process of the host
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, SecretStr, model_validator

from app.payers.x12_278.envelope import Parties

X12_ID = r"^[A-Za-z0-9][A-Za-z0-9 .-]*$"  # no X12 delimiter can sneak into the envelope


class X12Settings(BaseModel):
    """Where the clearinghouse is, how to sign in, and who the interchanges go between."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: AnyHttpUrl
    envelope: Literal["mime", "soap"] = "mime"
    username: str = Field(min_length=1)
    password: SecretStr | None = None
    password_file: Path | None = None
    sender_id: str = Field(min_length=2, max_length=15, pattern=X12_ID)
    receiver_id: str = Field(min_length=2, max_length=15, pattern=X12_ID)
    sender_qualifier: str = Field(default="ZZ", min_length=2, max_length=2, pattern=X12_ID)
    receiver_qualifier: str = Field(default="ZZ", min_length=2, max_length=2, pattern=X12_ID)
    payer_id: str = Field(min_length=2, max_length=80, pattern=X12_ID)
    payer_name: str | None = Field(default=None, max_length=60, pattern=X12_ID)
    usage: Literal["T", "P"] = "T"
    trace_company_id: str = Field(default="9EPAHUB000", min_length=10, max_length=10, pattern=r"^[0-9A-Za-z]+$")
    control_numbers_file: Path | None = None  # None: next to the payers file, `<payer id>.x12-control`
    timeout_seconds: float = Field(default=60, gt=0)  # CORE real time: the clearinghouse answers within 60 s
    connect_timeout_seconds: float = Field(default=5, gt=0)
    follow_up_seconds: float = Field(default=3600, gt=0)  # when to inquire again about a pended request

    @model_validator(mode="after")
    def _one_password(self) -> X12Settings:
        if (self.password is None) == (self.password_file is None):
            raise ValueError("give exactly one of password and password_file")
        return self

    def parties(self) -> Parties:
        return Parties(
            sender_id=self.sender_id,
            receiver_id=self.receiver_id,
            payer_id=self.payer_id,
            payer_name=self.payer_name,
            usage=self.usage,
            sender_qualifier=self.sender_qualifier,
            receiver_qualifier=self.receiver_qualifier,
            trace_company_id=self.trace_company_id,
        )
