"""Settings: read once from ``XINFANG_*`` environment variables into one typed, frozen object.

Every process (API, worker, scheduler, CLI, migrations) reads the same object, which is why it lives in the
kernel rather than in ``service/``. A bad value stops start-up with one line naming the variable.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Literal
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

PREFIX = "XINFANG_"
_DEV_SECRET = "insecure-development-secret-change-me-000"


class SettingsError(ValueError):
    """A configuration value is missing or invalid; the message names the variable."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    env: Literal["development", "test", "production"] = "development"
    # Privileged connection (owner/superuser) used by migrations and the embedded stack.
    database_url: str
    # The application's own connection (a role without BYPASSRLS that owns nothing). When unset it is
    # derived from database_url with the user replaced by app_db_role.
    app_database_url: str = ""
    app_db_role: str = "xinfang_app"
    app_db_password: str = ""
    db_pool_size: int = 10
    db_max_overflow: int = 10
    # asyncpg's prepared-statement cache; 0 behind a PgBouncer older than 1.21 in transaction mode.
    db_statement_cache_size: int = 100
    # "postgres" (default: the PostgreSQL broker on the same database), redis://..., amqp://..., stub://
    broker_url: str = "postgres"
    secret_key: str = _DEV_SECRET
    # base64 of 32 bytes; encrypts personal data at column level.
    data_key: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = ""
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    access_token_ttl: int = 900
    refresh_token_ttl: int = 14 * 24 * 3600
    max_body_bytes: int = 1_048_576
    rate_limit_client_per_minute: int = 600
    rate_limit_tenant_per_minute: int = 6000
    # How long a process caches a university's status, verified keys and each account's session state
    # (its token version, activity and pending password change): the delay before a revocation takes effect.
    tenant_cache_seconds: float = 2.0
    # Passwords: the shortest accepted (the list of common passwords and the account's own email and university
    # slug are refused whatever the length).
    password_min_length: int = 12
    # Sign-in throttling: after this many failures of one account (or one client address) within
    # sign_in_failure_window seconds, sign-in waits sign_in_backoff_seconds, doubled for each further failure,
    # at most sign_in_backoff_max_seconds (429 with Retry-After). Counted in the database: shared by replicas.
    sign_in_account_failures: int = 5
    sign_in_client_failures: int = 50
    sign_in_backoff_seconds: int = 30
    sign_in_backoff_max_seconds: int = 900
    sign_in_failure_window: int = 900
    default_timezone: str = "Asia/Shanghai"
    relay_poll_seconds: float = 0.2
    data_dir: str = ".xinfang"
    # Petition attachments: "local" (under data_dir) or "s3" (an S3-compatible store; needs the s3 extra).
    storage_backend: Literal["local", "s3"] = "local"
    s3_bucket: str = ""
    s3_endpoint_url: str = ""
    s3_region: str = ""
    attachment_max_bytes: int = 5 * 1024 * 1024
    attachment_max_count: int = 5
    # Password hashing: argon2id with RFC 9106's second recommended (low-memory) parameters. "test" is argon2id
    # at its cheapest, for test suites that create hundreds of accounts (refused in production).
    password_hash_profile: Literal["rfc9106-low-memory", "test"] = "rfc9106-low-memory"
    # Webhooks: development/test only allowance for loopback receivers (refused in production).
    webhook_allow_loopback: bool = False
    webhook_connect_timeout: float = 5.0
    # Bound on one whole attempt (resolve, connect, send, read the first bytes of the answer).
    webhook_timeout: float = 15.0
    # Seconds between attempts after the first (jittered by +/-10%): 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
    webhook_retry_schedule: str = "5,300,1800,7200,18000,36000,36000"
    # An endpoint failing without a single success for this long is disabled (default 5 days).
    webhook_disable_after: float = 5 * 24 * 3600.0
    # Attempts in flight to one endpoint per worker process; once the endpoint is slow, the rest are deferred.
    webhook_endpoint_concurrency: int = 8
    # Bureau aggregates: counts, rates and means built on fewer than this many cases are suppressed.
    disclosure_k: int = 10
    # Early warning: the sliding window, the baseline before it, and the fewest petitions a surge can have.
    warning_window_hours: int = 24
    warning_baseline_days: int = 28
    warning_min_count: int = 5
    # Notifications (service.notifications). Email goes through this SMTP server; with no host, email is
    # disabled and recorded as skipped (the staff feed works either way).
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True
    smtp_from: str = ""
    smtp_timeout: float = 10.0
    # SMS through an HTTP provider: a JSON POST {"to", "text"} to this URL with "Authorization: Bearer <token>";
    # with no URL, SMS is disabled and recorded as skipped.
    sms_url: str = ""
    sms_token: str = ""
    # Seconds between attempts of a notification after the first (1 min, 5 min, 30 min, 2 h, 6 h), then failed.
    notify_retry_schedule: str = "60,300,1800,7200,21600"
    # Days the petition access log (who read whose personal data) is kept; at least 183 (six months).
    access_log_retention_days: int = 365

    @property
    def app_url(self) -> str:
        """The application's connection URL (never the privileged one)."""
        if self.app_database_url:
            return self.app_database_url
        return with_user(self.database_url, self.app_db_role, self.app_db_password)

    @property
    def data_key_bytes(self) -> bytes:
        """The personal-data key; outside production an unset key is derived from the secret key."""
        if self.data_key:
            return base64.b64decode(self.data_key)
        return hashlib.sha256(b"xinfang-data-key:" + self.secret_key.encode()).digest()

    @property
    def webhook_retry_delays(self) -> tuple[float, ...]:
        """The delays before each retry, parsed from ``webhook_retry_schedule``."""
        return tuple(float(x) for x in self.webhook_retry_schedule.split(",") if x.strip())

    @property
    def notify_retry_delays(self) -> tuple[float, ...]:
        return tuple(float(x) for x in self.notify_retry_schedule.split(",") if x.strip())

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"


def with_user(url: str, user: str, password: str = "") -> str:
    """Return ``url`` with its user (and password) replaced."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    auth = f"{user}:{password}@" if password else f"{user}@"
    return urlunsplit((parts.scheme, auth + host, parts.path, parts.query, parts.fragment))


def sqlalchemy_url(url: str) -> str:
    """The asyncpg dialect URL for a plain ``postgresql://`` URL."""
    scheme, _, rest = url.partition("://")
    if scheme in {"postgresql+asyncpg"}:
        return url
    if scheme not in {"postgres", "postgresql"}:
        raise SettingsError(f"not a PostgreSQL URL: {scheme}://...")
    return f"postgresql+asyncpg://{rest}"


def plain_url(url: str) -> str:
    """A libpq/asyncpg URL (no SQLAlchemy dialect suffix)."""
    scheme, _, rest = url.partition("://")
    return f"postgresql://{rest}" if scheme.startswith("postgres") else url


def _env_name(field: str) -> str:
    return PREFIX + field.upper()


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build settings from the environment, or raise ``SettingsError`` naming the offending variable."""
    environ = os.environ if environ is None else environ
    raw: dict[str, object] = {}
    for field in msgspec.structs.fields(Settings):
        name = _env_name(field.name)
        if name in environ:
            value = environ[name]
            try:
                raw[field.name] = msgspec.convert(value, field.type, strict=False)
            except msgspec.ValidationError as exc:
                raise SettingsError(f"{name}={value!r} is invalid: {exc}") from None
            except TypeError:  # string-typed fields
                raw[field.name] = value
    if "database_url" not in raw:
        raise SettingsError(f"{_env_name('database_url')} is required (a postgresql:// URL)")
    settings = msgspec.convert(raw, Settings)
    _validate(settings)
    return settings


def _validate(s: Settings) -> None:
    def fail(field: str, why: str) -> None:
        raise SettingsError(f"{_env_name(field)} is invalid: {why}")

    for field in ("database_url", "app_database_url"):
        url = getattr(s, field)
        if url and urlsplit(url).scheme not in {"postgres", "postgresql", "postgresql+asyncpg"}:
            fail(field, "expected a postgresql:// URL")
    scheme = urlsplit(s.broker_url).scheme or s.broker_url
    if scheme not in {"postgres", "postgresql", "redis", "rediss", "amqp", "amqps", "stub"}:
        fail("broker_url", "expected postgres, redis://, amqp:// or stub://")
    if s.env == "production" and s.secret_key == _DEV_SECRET:
        fail("secret_key", "must be set in production")
    if len(s.secret_key) < 32:
        fail("secret_key", "must be at least 32 characters")
    if s.data_key:
        try:
            key = base64.b64decode(s.data_key, validate=True)
        except binascii.Error:
            fail("data_key", "expected base64")
        else:
            if len(key) != 32:
                fail("data_key", "expected base64 of exactly 32 bytes")
    elif s.env == "production":
        fail("data_key", "must be set in production (base64 of 32 random bytes)")
    try:
        ZoneInfo(s.default_timezone)
    except (ZoneInfoNotFoundError, ValueError):
        fail("default_timezone", f"unknown time zone {s.default_timezone!r}")
    if s.env == "production" and s.password_hash_profile == "test":
        fail("password_hash_profile", "only for tests")
    if s.env == "production" and s.webhook_allow_loopback:
        fail("webhook_allow_loopback", "only for development and tests")
    try:
        delays = s.webhook_retry_delays
    except ValueError:
        fail("webhook_retry_schedule", "expected comma-separated seconds, e.g. 5,300,1800")
    else:
        if any(d < 0 for d in delays):
            fail("webhook_retry_schedule", "delays must not be negative")
    for field in (
        "webhook_connect_timeout",
        "webhook_timeout",
        "webhook_disable_after",
        "webhook_endpoint_concurrency",
    ):
        if getattr(s, field) <= 0:
            fail(field, "must be positive")
    if s.disclosure_k < 2:
        fail("disclosure_k", "must be at least 2")
    for field in ("warning_window_hours", "warning_baseline_days", "warning_min_count"):
        if getattr(s, field) <= 0:
            fail(field, "must be positive")
    if s.sms_url and urlsplit(s.sms_url).scheme not in {"http", "https"}:
        fail("sms_url", "expected an http(s):// URL")
    if s.smtp_host and not (0 < s.smtp_port < 65536):
        fail("smtp_port", "expected a TCP port")
    try:
        notify_delays = s.notify_retry_delays
    except ValueError:
        fail("notify_retry_schedule", "expected comma-separated seconds, e.g. 60,300")
    else:
        if any(d < 0 for d in notify_delays):
            fail("notify_retry_schedule", "delays must not be negative")
    if s.access_log_retention_days < 183:
        fail("access_log_retention_days", "must be at least 183 days (six months)")
    if s.password_min_length < 8:
        fail("password_min_length", "must be at least 8")
    for field in (
        "sign_in_account_failures",
        "sign_in_client_failures",
        "sign_in_backoff_seconds",
        "sign_in_failure_window",
    ):
        if getattr(s, field) <= 0:
            fail(field, "must be positive")
    if s.sign_in_backoff_max_seconds < s.sign_in_backoff_seconds:
        fail("sign_in_backoff_max_seconds", "must be at least XINFANG_SIGN_IN_BACKOFF_SECONDS")
    for field in ("port", "access_token_ttl", "refresh_token_ttl", "max_body_bytes", "db_pool_size"):
        if getattr(s, field) <= 0:
            fail(field, "must be positive")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, loaded on first use."""
    return load_settings()
