"""Webhook signing secrets at rest: encrypted with Fernet (AES-128-CBC + HMAC-SHA256, `cryptography`).

Keys come from settings. `EPA_WEBHOOK_SECRET_KEYS` is a list of Fernet keys, newest first: the
first encrypts, every one decrypts (`MultiFernet`), so a key is rotated by putting a new one in
front, running `epa webhooks reencrypt` (every stored secret re-encrypted with the new key),
then dropping the old one. Without that setting the key is derived (HKDF-SHA256) from
`EPA_TOKEN_SIGNING_KEY`, and in development mode from a fixed development value (which protects
nothing: development only). The derived key always stays in the decrypt list, so moving from it
to explicit keys needs no migration step beyond `reencrypt`.

The plaintext secret leaves the service only in the answer to its creation or rotation; it is
decrypted in memory to sign a delivery and never logged.

A FHIR Subscription's `channel.header` entries (usually the subscriber's bearer token) are sealed
the same way (`seal_headers`, each "Name: value" whole) and opened only to send a notification
(`open_headers`); the stored resource keeps them masked. Entries stored before this were plaintext
("Name: value", a colon no Fernet token has) and are read as they are.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.settings import Settings

PLAINTEXT_PREFIX = "whsec_"
_DEVELOPMENT_SEED = b"epa-hub development webhook secrets (no protection)"
_INFO = b"epa-hub webhook signing secrets v1"


class SecretUnreadable(Exception):
    """A stored secret that no configured key decrypts (a key was dropped before re-encryption)."""


def _derived_key(seed: bytes) -> bytes:
    material = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(seed)
    return base64.urlsafe_b64encode(material)


def _seed(settings: Settings) -> bytes:
    if settings.token_signing_key is not None:
        return settings.token_signing_key.get_secret_value().encode()
    return _DEVELOPMENT_SEED


class SecretBox:
    """Encrypts and decrypts webhook signing secrets with the keys the settings name."""

    def __init__(self, settings: Settings) -> None:
        keys = [Fernet(key.get_secret_value().encode()) for key in settings.webhook_secret_keys]
        keys.append(Fernet(_derived_key(_seed(settings))))
        self._fernet = MultiFernet(keys)

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode("ascii")

    def open(self, stored: str) -> str:
        try:
            return self._fernet.decrypt(stored.encode("ascii")).decode()
        except (InvalidToken, UnicodeError):
            raise SecretUnreadable("a webhook secret could not be decrypted with the configured keys") from None

    def reseal(self, stored: str) -> str:
        """`stored` encrypted with the newest key (plaintext from before encryption is sealed too)."""
        if stored.startswith(PLAINTEXT_PREFIX):
            return self.seal(stored)
        try:
            return self._fernet.rotate(stored.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeError):
            raise SecretUnreadable("a webhook secret could not be decrypted with the configured keys") from None


def seal_headers(box: SecretBox, headers: list[str]) -> list[str]:
    """Each "Name: value" header encrypted, for storage."""
    return [box.seal(header) for header in headers]


def open_headers(box: SecretBox, stored: list[str]) -> list[str]:
    """The "Name: value" headers to send (a plaintext entry from before encryption is read as it is)."""
    return [header if ":" in header else box.open(header) for header in stored]
