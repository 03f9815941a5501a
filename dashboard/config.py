"""Settings: one validated object read from the environment (pydantic-settings).

Every variable is documented in the README. A bad value fails at start with a SettingsError that
names the variable, e.g. "PORT='x': Input should be a valid integer". `python -m dashboard config`
prints the effective settings with secrets masked.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB_PATH = ROOT / "data" / "ar.db"
SECRET_FIELDS = frozenset({"secret_key", "smtp_password", "metrics_token"})


class SettingsError(ValueError):
    """A setting has a bad value; the message names the environment variable(s)."""


MB = 1024 * 1024


def default_database_url() -> str:
    """The embedded SQLite database under data/."""
    return f"sqlite:///{DEFAULT_DB_PATH}"


def _env(name: str) -> Any:
    """A field read from exactly the environment variable name."""
    return AliasChoices(name)


class Settings(BaseSettings):
    """Everything the app reads from its environment (read once per process, see get_settings)."""

    model_config = SettingsConfigDict(
        frozen=True,
        env_ignore_empty=True,
        populate_by_name=True,
        extra="ignore",
        case_sensitive=True,
    )

    database_url: str = Field(
        default_factory=default_database_url, validation_alias=_env("DATABASE_URL")
    )
    secret_key: str | None = Field(None, validation_alias=_env("SECRET_KEY"))
    env: Literal["development", "production"] = Field(
        "development", validation_alias=_env("AR_ENV")
    )
    host: str = Field("127.0.0.1", validation_alias=_env("HOST"))
    port: int = Field(8050, ge=1, le=65535, validation_alias=_env("PORT"))
    demo_on_empty: bool = Field(True, validation_alias=_env("AR_DEMO_ON_EMPTY"))
    demo_invoices: int = Field(20000, ge=1, validation_alias=_env("AR_DEMO_INVOICES"))
    demo_customers: int = Field(600, ge=1, validation_alias=_env("AR_DEMO_CUSTOMERS"))
    demo_users_file: Path = Field(
        ROOT / "data" / "demo-users.txt", validation_alias=_env("AR_DEMO_USERS_FILE")
    )
    redis_url: str | None = Field(None, validation_alias=_env("REDIS_URL"))
    jobs_prefix: str = Field("ar:jobs", min_length=1, validation_alias=_env("AR_JOBS_PREFIX"))
    # each process's result cache (dashboard/metrics/cache.py): the estimated bytes it keeps
    cache_max_mb: float = Field(2048, gt=0, validation_alias=_env("AR_CACHE_MAX_MB"))
    # the shared result cache (dashboard/metrics/shared_cache.py): on where REDIS_URL is set
    shared_cache: bool = Field(True, validation_alias=_env("AR_SHARED_CACHE"))
    shared_cache_min_ms: float = Field(20.0, ge=0, validation_alias=_env("AR_SHARED_CACHE_MIN_MS"))
    shared_cache_max_bytes: int = Field(
        4 * MB, ge=1, validation_alias=_env("AR_SHARED_CACHE_MAX_BYTES")
    )
    shared_cache_ttl: int = Field(3600, ge=1, validation_alias=_env("AR_SHARED_CACHE_TTL"))
    upload_dir: Path = Field(
        default_factory=lambda: Path(tempfile.gettempdir()) / "ar-uploads",
        validation_alias=_env("AR_UPLOAD_DIR"),
    )
    import_lock_timeout: float = Field(30.0, ge=0, validation_alias=_env("AR_IMPORT_LOCK_TIMEOUT"))
    currency: str = Field("USD", pattern=r"^[A-Z]{3}$", validation_alias=_env("AR_CURRENCY"))
    refresh_seconds: int = Field(15, ge=1, validation_alias=_env("AR_REFRESH_SECONDS"))
    secure_cookies_env: bool | None = Field(None, validation_alias=_env("AR_SECURE_COOKIES"))
    behind_proxy: bool = Field(False, validation_alias=_env("AR_BEHIND_PROXY"))
    session_hours: float = Field(12, gt=0, validation_alias=_env("AR_SESSION_HOURS"))
    smtp_host: str = Field("127.0.0.1", validation_alias=_env("SMTP_HOST"))
    smtp_port: int = Field(25, ge=1, le=65535, validation_alias=_env("SMTP_PORT"))
    smtp_user: str | None = Field(None, validation_alias=_env("SMTP_USER"))
    smtp_password: str | None = Field(None, validation_alias=_env("SMTP_PASSWORD"))
    smtp_from: str = Field("ar-dashboard@localhost", validation_alias=_env("SMTP_FROM"))
    smtp_starttls: bool = Field(False, validation_alias=_env("SMTP_STARTTLS"))
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", validation_alias=_env("LOG_LEVEL")
    )
    log_format: Literal["text", "json"] = Field("text", validation_alias=_env("LOG_FORMAT"))
    metrics_token: str | None = Field(None, validation_alias=_env("METRICS_TOKEN"))
    check_system: bool = Field(True, validation_alias=_env("AR_CHECK_SYSTEM"))
    # gunicorn.conf.py (the production web server)
    web_concurrency: int = Field(4, ge=1, le=64, validation_alias=_env("WEB_CONCURRENCY"))
    gunicorn_threads: int = Field(4, ge=1, le=64, validation_alias=_env("GUNICORN_THREADS"))
    gunicorn_timeout: int = Field(120, ge=10, validation_alias=_env("GUNICORN_TIMEOUT"))
    gunicorn_max_requests: int = Field(20000, ge=0, validation_alias=_env("GUNICORN_MAX_REQUESTS"))
    # Multi-currency (issue 15): AR_BASE_CURRENCY, else AR_CURRENCY (see the base_currency property)
    base_currency_env: str | None = Field(
        None, pattern=r"^[A-Za-z]{3}$", validation_alias=_env("AR_BASE_CURRENCY")
    )
    # Subscriptions, alerts and statements (docs/subscriptions.md)
    smtp_attempts: int = Field(3, ge=1, le=20, validation_alias=_env("AR_SMTP_ATTEMPTS"))
    smtp_retry_seconds: float = Field(2.0, ge=0, validation_alias=_env("AR_SMTP_RETRY_SECONDS"))
    send_retry_minutes: int = Field(15, ge=1, validation_alias=_env("AR_SEND_RETRY_MINUTES"))
    send_max_tries: int = Field(4, ge=1, validation_alias=_env("AR_SEND_MAX_TRIES"))
    scheduler: Literal["auto", "on", "off"] = Field("auto", validation_alias=_env("AR_SCHEDULER"))
    scheduler_seconds: int = Field(60, ge=1, validation_alias=_env("AR_SCHEDULER_SECONDS"))
    public_url: str = Field("http://127.0.0.1:8050", validation_alias=_env("AR_PUBLIC_URL"))
    company_name: str = Field("Our Company", validation_alias=_env("AR_COMPANY_NAME"))
    company_address: str = Field("", validation_alias=_env("AR_COMPANY_ADDRESS"))
    company_email: str = Field("", validation_alias=_env("AR_COMPANY_EMAIL"))
    company_phone: str = Field("", validation_alias=_env("AR_COMPANY_PHONE"))
    company_tax_id: str = Field("", validation_alias=_env("AR_COMPANY_TAX_ID"))
    company_payment_note: str = Field("", validation_alias=_env("AR_COMPANY_PAYMENT_NOTE"))
    # Hardening limits (docs/roles.md "Limits")
    max_request_bytes: int = Field(5 * MB, ge=1, validation_alias=_env("AR_MAX_REQUEST_BYTES"))
    max_upload_bytes: int = Field(110 * MB, ge=1, validation_alias=_env("AR_MAX_UPLOAD_BYTES"))
    login_max_per_user: int = Field(5, ge=1, validation_alias=_env("AR_LOGIN_MAX_PER_USER"))
    login_max_per_ip: int = Field(50, ge=1, validation_alias=_env("AR_LOGIN_MAX_PER_IP"))
    login_window_minutes: int = Field(15, ge=1, validation_alias=_env("AR_LOGIN_WINDOW_MINUTES"))
    trusted_origins: str = Field("", validation_alias=_env("AR_TRUSTED_ORIGINS"))
    api_rate_limit: str = Field("300 per minute", validation_alias=_env("AR_API_RATE_LIMIT"))
    export_rate_limit: str = Field("30 per minute", validation_alias=_env("AR_EXPORT_RATE_LIMIT"))
    export_max_pixels: int = Field(16_000_000, ge=1, validation_alias=_env("AR_EXPORT_MAX_PIXELS"))
    import_max_rows: int = Field(5_000_000, ge=1, validation_alias=_env("AR_IMPORT_MAX_ROWS"))
    import_max_bytes: int = Field(1024 * MB, ge=1, validation_alias=_env("AR_IMPORT_MAX_BYTES"))
    import_max_seconds: int = Field(1800, ge=1, validation_alias=_env("AR_IMPORT_MAX_SECONDS"))
    # Payment predictions (docs/analytics.md)
    model_dir: Path = Field(ROOT / "data" / "models", validation_alias=_env("AR_MODEL_DIR"))
    # The shared snapshot store (docs/production.md "Snapshots"): one directory per machine
    snapshot_dir: Path = Field(
        ROOT / "data" / "snapshots", validation_alias=_env("AR_SNAPSHOT_DIR")
    )
    # fsync every column file before a version is published (durability across a power cut); the
    # tests turn it off (a lost version is rebuilt from the database anyway)
    snapshot_fsync: bool = Field(True, validation_alias=_env("AR_SNAPSHOT_FSYNC"))
    predict_threads: int = Field(1, ge=1, le=64, validation_alias=_env("AR_PREDICT_THREADS"))
    predict_autotrain: bool = Field(True, validation_alias=_env("AR_PREDICT_AUTOTRAIN"))
    # after a data version is served, compute each page's default figures (no filter, the unrestricted
    # scope) in the background, so a page's first visit finds them (dashboard/views/warm.py)
    warm_pages: bool = Field(True, validation_alias=_env("AR_WARM_PAGES"))

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _case(cls, value: Any) -> Any:
        """LOG_LEVEL=info and LOG_FORMAT=JSON are accepted."""
        if not isinstance(value, str):
            return value
        return (
            value.strip().upper()
            if value.strip().lower() in {"debug", "info", "warning", "error"}
            else value.strip().lower()
        )

    @property
    def base_currency(self) -> str:
        """The currency every KPI money value is reported in (AR_BASE_CURRENCY, else AR_CURRENCY)."""
        return (self.base_currency_env or self.currency).upper()

    @property
    def production(self) -> bool:
        """True when AR_ENV=production."""
        return self.env == "production"

    @property
    def secure_cookies(self) -> bool:
        """Secure cookies when AR_SECURE_COOKIES says so, else in production."""
        return self.production if self.secure_cookies_env is None else self.secure_cookies_env

    def masked(self) -> dict[str, Any]:
        """The settings by environment variable, secrets masked (for `python -m dashboard config`)."""
        out: dict[str, Any] = {}
        for name, info in type(self).model_fields.items():
            value = getattr(self, name)
            if name in SECRET_FIELDS and value:
                value = "********"
            elif name in ("database_url", "redis_url") and value:
                value = mask_url(str(value))
            out[env_name(name, info)] = None if value is None else str(value)
        return out


def env_name(field: str, info: Any | None = None) -> str:
    """The environment variable of a settings field."""
    info = info or Settings.model_fields[field]
    alias = getattr(info, "validation_alias", None)
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return alias if isinstance(alias, str) else field.upper()


def mask_url(url: str) -> str:
    """A URL with its password replaced by ****."""
    # lazy (b): sqlalchemy 100 ms; every CLI command and gunicorn.conf.py import this module first
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return url
    return parsed.render_as_string(hide_password=True) if parsed.password else url


def _message(error: ValidationError) -> str:
    """One line per bad variable: NAME='value': reason."""
    lines = []
    for item in error.errors():
        name = str(item["loc"][0]) if item.get("loc") else "?"
        shown = (
            "********" if name in {env_name(f) for f in SECRET_FIELDS} else repr(item.get("input"))
        )
        lines.append(f"{name}={shown}: {item['msg']}")
    return "bad setting: " + "; ".join(lines)


def load_settings(**overrides: Any) -> Settings:
    """Read and validate the settings from the environment (SettingsError naming the variable)."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        raise SettingsError(_message(error)) from None


@lru_cache(maxsize=1)
def _env_names() -> tuple[bytes | str, ...]:
    names = sorted(env_name(f) for f in Settings.model_fields)
    return (
        tuple(os.fsencode(n) for n in names)
        if isinstance(_raw_environ(), dict) and os.name == "posix"
        else tuple(names)
    )


def _raw_environ() -> Mapping[Any, Any]:
    """os.environ's own mapping (bytes keys on POSIX): a lookup costs no encoding."""
    return getattr(os.environ, "_data", os.environ)


def _env_key() -> tuple:
    raw = _raw_environ()
    return tuple(map(raw.get, _env_names()))


@lru_cache(maxsize=8)
def _cached(key: tuple) -> Settings:
    _ = key
    return load_settings()


def get_settings() -> Settings:
    """The process's settings: read and validated once (again only if the environment changed)."""
    return _cached(_env_key())


def local_secret_key() -> str:
    """Development only: a random key kept in data/.secret_key, shared by workers and restarts."""
    path = ROOT / "data" / ".secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32))
    return path.read_text().strip()
