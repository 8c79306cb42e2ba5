"""Settings of the `fhir-pas` adapter (`[payer.settings]` in the payers file).

[payer.settings]
base_url = "https://pas.acme.example/fhir"
timeout_seconds = 10
headers = { "X-Partner" = "epa-hub" }
[payer.settings.auth]                       # SMART Backend Services (optional)
token_url = "https://auth.acme.example/token"
client_id = "epa-hub"
private_key_file = "keys/acme.pem"          # or private_key = "-----BEGIN ..."
key_id = "2024-01"
algorithm = "RS384"                         # or ES384
scope = "system/Claim.write system/ClaimResponse.read"
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, SecretStr, model_validator


class OAuthSettings(BaseModel):
    """OAuth 2 client credentials with a signed JWT client assertion (SMART Backend Services)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    token_url: AnyHttpUrl
    client_id: str = Field(min_length=1)
    private_key: SecretStr | None = None  # PEM text
    private_key_file: Path | None = None  # PEM file, relative to the payers file
    key_id: str | None = None  # JWT header `kid`
    algorithm: Literal["RS384", "ES384"] = "RS384"
    scope: str | None = None
    refresh_before_seconds: float = Field(default=60, ge=0)  # renew this long before expiry
    assertion_lifetime_seconds: int = Field(default=300, gt=0, le=300)  # SMART: at most 5 minutes

    @model_validator(mode="after")
    def _one_key(self) -> OAuthSettings:
        if (self.private_key is None) == (self.private_key_file is None):
            raise ValueError("give exactly one of private_key and private_key_file")
        return self


class FhirPasSettings(BaseModel):
    """Where and how to reach a payer's PAS endpoints."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: AnyHttpUrl
    submit_path: str = "Claim/$submit"
    inquire_path: str = "Claim/$inquire"
    attachment_path: str = "$submit-attachment"  # CDex: documents the payer asked for
    timeout_seconds: float = Field(default=10, gt=0)
    connect_timeout_seconds: float = Field(default=3, gt=0)
    headers: dict[str, str] = Field(default_factory=dict)
    auth: OAuthSettings | None = None
    max_attempts: int = Field(default=3, ge=1, le=10)  # for connect errors and 429/503 with Retry-After
    backoff_initial_seconds: float = Field(default=0.5, ge=0)
    backoff_max_seconds: float = Field(default=4, ge=0)
    max_retry_after_seconds: float = Field(default=5, ge=0)  # longer Retry-After: give up, the worker retries
    # One call (its attempts, waits and token refresh included) ends by this deadline: a payer that
    # trickles an endless answer holds a request or a worker slot no longer (then PayerTimeout).
    deadline_seconds: float = Field(default=30, gt=0, le=600)
    max_answer_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)  # a larger answer: PayerProtocolError
    # The payer's own review reason codes as X12 886 codes: {"system|code": "<886 code>"} (app.payers.reason_codes)
    reason_codes: dict[str, str] = Field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"{str(self.base_url).rstrip('/')}/{path.lstrip('/')}"
