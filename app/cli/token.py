"""`epa token --client ID --key FILE`: a SMART Backend Services access token for a registered client.

Signs a client assertion with the client's private key (`app.security.client_assertion`), posts it
to `POST /auth/token` and prints the access token alone on stdout, so `TOKEN=$(epa token ...)` feeds
the curl examples of the docs. The key is never printed. Every refusal (unreachable, refused, an
answer that is not a JSON token response) is one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import httpx
import orjson
import typer

from app.cli.common import fail, load_settings
from app.security.client_assertion import ASSERTION_TYPE, SigningKeyError, client_assertion

DEFAULT_SCOPES = "system/Claim.write system/ClaimResponse.read system/Subscription.*"


def token(
    client: Annotated[str, typer.Option("--client", help="The registered client id (`epa clients add`).")],
    key: Annotated[Path, typer.Option("--key", help="The client's private key, PEM (RSA or EC P-384).")],
    scope: Annotated[str, typer.Option(help="Space-separated scopes to ask for.")] = DEFAULT_SCOPES,
    url: Annotated[str | None, typer.Option(help="The service's base URL (default EPA_PUBLIC_BASE_URL).")] = None,
    kid: Annotated[str | None, typer.Option(help="The key id (`kid`) in the client's JWKS, if it has several.")] = None,
) -> None:
    """Print an access token for a registered client (SMART Backend Services, private_key_jwt)."""
    base = (url or load_settings().base_url).rstrip("/")
    token_url = f"{base}/auth/token"
    try:
        assertion = client_assertion(client, key, token_url, kid)
    except SigningKeyError as exc:
        fail(str(exc))
    form = {
        "grant_type": "client_credentials",
        "scope": scope,
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
    }
    try:
        response = httpx.post(token_url, data=form, timeout=10.0)
    except httpx.HTTPError as exc:
        fail(f"cannot reach {token_url} ({type(exc).__name__})")
    body = _json_object(response)
    access_token = body.get("access_token")
    if response.status_code != 200 or not isinstance(access_token, str) or not access_token:
        detail = body.get("error_description") or body.get("error") or f"HTTP {response.status_code}"
        if response.status_code == 200:
            detail = "the answer holds no access_token (not a JSON token response)"
        fail(f"token refused: {str(detail)[:200]}")
    typer.echo(access_token)


def _json_object(response: httpx.Response) -> dict[str, Any]:
    """The answer as a JSON object, or {} when it is not one (HTML from a proxy, a truncated body, ...)."""
    if not response.headers.get("content-type", "").startswith("application/json"):
        return {}
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return {}
    return body if isinstance(body, dict) else {}
