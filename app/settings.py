"""One Settings object, read from the environment (prefix EPA_) and an optional .env file."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

LogLevel = Literal["debug", "info", "warning", "error"]

_SUPPORTED_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")
_ASYNCPG_ALIASES = ("postgresql", "postgres")  # plain URLs as PostgreSQL tools write them mean asyncpg
ENV_PREFIX = "EPA_"
NOT_SETTINGS = ("EPA_TEST_",)  # the test suite's own variables


def default_data_dir() -> Path:
    """An absolute directory, the same whatever the working directory: $XDG_DATA_HOME/epa-hub."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).resolve() / "epa-hub"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EPA_", env_file=".env", extra="ignore")

    data_dir: Path = Field(
        default_factory=default_data_dir, description="Where the embedded SQLite database lives (absolute)."
    )
    database_url: str = Field(default="", description="SQLAlchemy async URL; empty means SQLite in data_dir.")
    database_pool_size: int | None = Field(
        default=None,
        ge=1,
        le=1000,
        description="Database connections one process keeps open for reuse (as many again may open under load, "
        "each closed when given back); unset: worker_concurrency + 10 (the jobs of a worker and the requests).",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: LogLevel = "info"
    development: bool = Field(
        default=False,
        description="Development mode: no client authentication, loopback binding only.",
    )
    payer_sync_budget_seconds: float = Field(
        default=10.0, gt=0, le=14.0, description="How long $submit waits for a payer (PAS allows 15 s)."
    )
    payer_retry_first_seconds: float = Field(
        default=5.0,
        gt=0,
        le=3600,
        description="After a payer outage or timeout without Retry-After: seconds to the first follow-up "
        "(later ones back off exponentially from there).",
    )
    payers_file: Path | None = Field(default=None, description="Payer configuration (TOML); None = sandbox only.")
    coverage_rules_dir: Path | None = Field(
        default=None, description="Directory of coverage rules files (*.toml); None = the shipped sample."
    )
    programs_dir: Path | None = Field(
        default=None,
        description="Directory of exemption and program routing registry files (*.toml); None = the shipped sample.",
    )
    max_body_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    max_xml_elements: int = Field(default=20_000, ge=100, description="Most elements one FHIR XML body may hold (413).")
    max_xml_depth: int = Field(default=48, ge=8, le=200, description="Deepest nesting of one FHIR XML body (400).")
    max_xml_repeats: int = Field(
        default=1_000, ge=10, description="Most repeats of one element under one parent in a FHIR XML body (413)."
    )
    max_attachment_bytes: int = Field(
        default=4 * 1024 * 1024,
        ge=1024,
        description="Largest document one CDex $submit-attachment Attachment may carry.",
    )
    embedded_worker: bool | None = Field(
        default=None, description="Run one job worker inside `epa serve` (default: on for SQLite, off for PostgreSQL)."
    )
    public_base_url: str = Field(default="", description="Base URL clients see (for Location headers and links).")
    worker_concurrency: int = Field(default=10, ge=1, le=1000, description="Jobs one worker runs at once.")
    worker_batch_size: int = Field(default=10, ge=1, le=1000, description="Jobs claimed per query.")
    worker_lease_seconds: float = Field(
        default=60.0, gt=0, le=3600, description="How long a claimed job stays leased without a heartbeat."
    )
    worker_poll_seconds: float = Field(default=1.0, gt=0, le=60, description="Wait between polls when idle.")
    worker_idle_max_seconds: float = Field(
        default=10.0, gt=0, le=600, description="Longest wait between polls after a run of empty polls."
    )
    worker_grace_seconds: float = Field(
        default=25.0, ge=0, le=600, description="At shutdown, how long jobs in hand may finish before release."
    )
    token_signing_key: SecretStr | None = Field(
        default=None, description="Secret (32+ bytes) signing access tokens; required outside development mode."
    )
    access_token_seconds: int = Field(default=300, ge=30, le=3600, description="Lifetime of issued access tokens.")
    jwks_cache_seconds: int = Field(
        default=300, ge=0, le=86400, description="How long a fetched client JWKS is reused."
    )
    rate_limit_per_minute: int = Field(
        default=600, ge=0, description="Requests per client per minute, per process; 0 = off."
    )
    token_rate_limit_per_minute: int = Field(
        default=30,
        ge=0,
        description="Verified token requests per client per minute, per process; 0 = off (forged ones count "
        "against their address instead).",
    )
    token_failures_per_address_per_minute: int = Field(
        default=20, ge=0, description="Failed client assertions per client address per minute, per process; 0 = off."
    )
    token_rate_limit_per_address_per_minute: int = Field(
        default=120, ge=0, description="Token requests per client address per minute, per process; 0 = off."
    )
    webhook_timeout_seconds: float = Field(
        default=10.0, gt=0, le=60, description="Timeout of one webhook or subscription notification attempt."
    )
    webhook_retry_schedule: list[float] = Field(
        default=[5, 300, 1800, 7200, 18000, 36000, 36000],
        min_length=1,
        description="Seconds before each retry (+-20% jitter): about a day in all, as Standard Webhooks suggests.",
    )
    webhook_allow_private_targets: bool = Field(
        default=False, description="Allow webhook/subscription URLs on loopback, link-local and private addresses."
    )
    webhook_secret_keys: list[SecretStr] = Field(
        default=[],
        description=(
            "Fernet keys encrypting webhook signing secrets at rest, newest first (JSON list); "
            "empty: a key derived from token_signing_key. See docs/security.md for rotation."
        ),
    )
    webhook_secret_grace_seconds: int = Field(
        default=86400, ge=0, description="How long a rotated-out webhook secret still signs (both signatures sent)."
    )
    subscription_handshake_attempts: int = Field(
        default=3, ge=1, le=20, description="Failed handshakes before a Subscription goes to status error."
    )
    retention_jobs_days: int = Field(default=14, ge=1, description="Done jobs are pruned after this many days.")
    retention_deliveries_days: int = Field(
        default=30, ge=1, description="Delivered webhook deliveries and Subscription notifications are pruned after."
    )
    retention_audit_days: int = Field(
        default=2190, ge=365, description="Audit rows are pruned after this many days (default six years)."
    )
    retention_questionnaire_errors_days: int = Field(
        default=365, ge=1, description="Questionnaire errors DTR clients logged are pruned after this many days."
    )
    retention_interval_hours: float = Field(default=6.0, gt=0, le=168, description="How often pruning runs.")
    inquire_by_non_submitters: bool = Field(
        default=True, description="PAS: let another client $inquire when member id and provider NPI match."
    )
    usage_exhausting_percent: int = Field(
        default=80, ge=1, le=99, description="Share of authorized units used at which `exhausting` fires once."
    )
    carry_over_window_days: int = Field(
        default=90, ge=1, le=365, description="How long a carried-over authorization from a previous plan is honoured."
    )
    carry_over_warning_days: int = Field(
        default=14, ge=1, le=90, description="How far ahead of a carried-over window's end `expiring` fires."
    )
    # Denial risk (docs/denial-risk.md)
    risk_min_sample: int = Field(
        default=20,
        ge=5,
        le=10_000,
        description="Decided items a (payer, family, kind) cell needs before a risk is shown.",
    )
    risk_prior_strength: float = Field(
        default=10.0, gt=0, le=1_000, description="Pseudo-observations of the Beta prior toward the parent rate."
    )
    risk_pooled: bool = Field(
        default=False, description="Answer from every client's history pooled (counts only); off: each client's own."
    )
    risk_train_interval_hours: float = Field(
        default=24.0, gt=0, le=168, description="How often the worker retrains the denial-risk models."
    )

    @field_validator("token_signing_key", mode="before")
    @classmethod
    def _empty_is_not_set(cls, value: object) -> object:
        """`EPA_TOKEN_SIGNING_KEY=` (as docker-compose writes an unset variable) means "not set"."""
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("public_base_url")
    @classmethod
    def _check_public_base_url(cls, value: str) -> str:
        """It becomes the token audience and every `Location`: an absolute http(s) URL, or empty."""
        if not value:
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"must be an absolute http(s) URL such as https://epa.example.org, not {value!r}")
        if parts.query or parts.fragment:
            raise ValueError("must not carry a query or a fragment")
        return value

    @field_validator("token_signing_key")
    @classmethod
    def _check_signing_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) < 32:
            raise ValueError("the token signing key must be at least 32 bytes")
        return value

    @field_validator("webhook_secret_keys")
    @classmethod
    def _check_secret_keys(cls, value: list[SecretStr]) -> list[SecretStr]:
        for position, key in enumerate(value):
            try:
                raw = base64.urlsafe_b64decode(key.get_secret_value().encode())
            except (ValueError, binascii.Error):
                raw = b""
            if len(raw) != 32:
                raise ValueError(f"webhook secret key {position} is not a Fernet key (32 url-safe base64 bytes)")
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if not value:
            return value
        try:
            url = make_url(value)
        except ArgumentError as exc:
            raise ValueError(f"malformed database URL ({exc})") from None
        if url.drivername in _ASYNCPG_ALIASES:
            return url.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
        if url.drivername not in _SUPPORTED_DRIVERS:
            raise ValueError(
                f"unsupported database driver {url.drivername!r}; use one of {', '.join(_SUPPORTED_DRIVERS)}"
            )
        return value

    @model_validator(mode="after")
    def _refuse_unsafe(self) -> Settings:
        if self.development and not _is_loopback(self.host):
            raise ValueError(
                f"development mode runs without authentication and may only bind a loopback address, not {self.host!r}"
            )
        return self

    @property
    def effective_database_pool_size(self) -> int:
        """Connections kept open for reuse: `database_pool_size`, or enough for a worker's jobs and requests
        beside them, so a busy process does not open and close a connection for every overflow checkout."""
        return self.database_pool_size or self.worker_concurrency + 10

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'epa.sqlite3').resolve()}"

    @property
    def database_description(self) -> str:
        """What start-up prints: the SQLite file's absolute path, or the URL without its password."""
        if not self.database_url:
            return f"SQLite at {(self.data_dir / 'epa.sqlite3').resolve()}"
        return make_url(self.database_url).render_as_string(hide_password=True)

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    @property
    def runs_embedded_worker(self) -> bool:
        return self.is_sqlite if self.embedded_worker is None else self.embedded_worker

    @property
    def base_url(self) -> str:
        return self.public_base_url.rstrip("/") or f"http://{self.host}:{self.port}"


def json_setting_problems(environ: Mapping[str, str]) -> dict[str, str]:
    """JSON-valued settings (lists) whose variable is not JSON: {field name: one-line problem}.

    pydantic-settings stops at the first such variable with a long traceback; this finds them all."""
    problems: dict[str, str] = {}
    for name, field in Settings.model_fields.items():
        if getattr(field.annotation, "__origin__", None) is not list:
            continue
        raw = next((v for k, v in environ.items() if k.upper() == f"{ENV_PREFIX}{name.upper()}"), None)
        if raw is None:
            continue
        try:
            json.loads(raw)
        except json.JSONDecodeError as exc:
            problems[name] = f"not valid JSON ({exc.msg} at character {exc.pos}); write a JSON list"
    return problems


def unknown_settings(environ: Mapping[str, str]) -> list[str]:
    """EPA_ variables that name no setting (a typo would otherwise be ignored silently)."""
    known = {f"{ENV_PREFIX}{name.upper()}" for name in Settings.model_fields}
    return sorted(
        key
        for key in environ
        if key.upper().startswith(ENV_PREFIX) and key.upper() not in known and not key.upper().startswith(NOT_SETTINGS)
    )
