"""OAuth 2.0 token-endpoint errors (RFC 6749 section 5.2), answered as JSON by /auth/token."""

from __future__ import annotations

from typing import Literal

OAuthErrorCode = Literal[
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "temporarily_unavailable",
]


class OAuthError(Exception):
    """A refused token request. `description` is shown to the client: never put keys or secrets in it."""

    def __init__(self, error: OAuthErrorCode, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description

    @property
    def status_code(self) -> int:
        return 401 if self.error == "invalid_client" else 400


class TokenRequestsThrottled(OAuthError):
    """Too many token requests from one address or for one client id: 429 with Retry-After."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("temporarily_unavailable", f"too many token requests; retry after {retry_after} s")
        self.retry_after = retry_after

    @property
    def status_code(self) -> int:
        return 429


class ConfigurationError(Exception):
    """Security settings that must stop start-up (e.g. no token signing key outside development mode)."""
