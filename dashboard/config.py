"""Configuration read from the environment (documented in the README)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB_PATH = ROOT / "data" / "ar.db"


def _bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


MB = 1024 * 1024


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return default if raw is None or raw.strip() == "" else int(raw)


def default_database_url() -> str:
    """The embedded SQLite database under data/."""
    return f"sqlite:///{DEFAULT_DB_PATH}"


@dataclass(frozen=True)
class Settings:
    """Everything the app reads from its environment."""

    database_url: str = field(default_factory=lambda: os.environ.get("DATABASE_URL") or default_database_url())
    secret_key: str | None = field(default_factory=lambda: os.environ.get("SECRET_KEY") or None)
    env: str = field(default_factory=lambda: os.environ.get("AR_ENV", "development"))
    host: str = field(default_factory=lambda: os.environ.get("HOST", "127.0.0.1"))
    port: int = field(default_factory=lambda: int(os.environ.get("PORT", "8050")))
    demo_on_empty: bool = field(default_factory=lambda: _bool("AR_DEMO_ON_EMPTY", True))
    demo_invoices: int = field(default_factory=lambda: int(os.environ.get("AR_DEMO_INVOICES", "20000")))
    demo_customers: int = field(default_factory=lambda: int(os.environ.get("AR_DEMO_CUSTOMERS", "600")))
    redis_url: str | None = field(default_factory=lambda: os.environ.get("REDIS_URL") or None)
    currency: str = field(default_factory=lambda: os.environ.get("AR_CURRENCY", "USD"))
    base_currency: str = field(
        default_factory=lambda: (os.environ.get("AR_BASE_CURRENCY") or os.environ.get("AR_CURRENCY") or "USD").strip().upper()
    )
    refresh_seconds: int = field(default_factory=lambda: int(os.environ.get("AR_REFRESH_SECONDS", "15")))
    smtp_host: str = field(default_factory=lambda: os.environ.get("SMTP_HOST", "127.0.0.1"))
    smtp_port: int = field(default_factory=lambda: int(os.environ.get("SMTP_PORT", "25")))
    smtp_user: str | None = field(default_factory=lambda: os.environ.get("SMTP_USER") or None)
    smtp_password: str | None = field(default_factory=lambda: os.environ.get("SMTP_PASSWORD") or None)
    smtp_from: str = field(default_factory=lambda: os.environ.get("SMTP_FROM", "ar-dashboard@localhost"))
    smtp_starttls: bool = field(default_factory=lambda: _bool("SMTP_STARTTLS", False))
    smtp_attempts: int = field(default_factory=lambda: int(os.environ.get("AR_SMTP_ATTEMPTS", "3")))
    smtp_retry_seconds: float = field(default_factory=lambda: float(os.environ.get("AR_SMTP_RETRY_SECONDS", "2")))
    send_retry_minutes: int = field(default_factory=lambda: int(os.environ.get("AR_SEND_RETRY_MINUTES", "15")))
    send_max_tries: int = field(default_factory=lambda: int(os.environ.get("AR_SEND_MAX_TRIES", "4")))
    scheduler: str = field(default_factory=lambda: os.environ.get("AR_SCHEDULER", "auto"))
    scheduler_seconds: int = field(default_factory=lambda: int(os.environ.get("AR_SCHEDULER_SECONDS", "60")))
    public_url: str = field(default_factory=lambda: os.environ.get("AR_PUBLIC_URL", "http://127.0.0.1:8050"))
    company_name: str = field(default_factory=lambda: os.environ.get("AR_COMPANY_NAME", "Our Company"))
    company_address: str = field(default_factory=lambda: os.environ.get("AR_COMPANY_ADDRESS", ""))
    company_email: str = field(default_factory=lambda: os.environ.get("AR_COMPANY_EMAIL", ""))
    company_phone: str = field(default_factory=lambda: os.environ.get("AR_COMPANY_PHONE", ""))
    company_tax_id: str = field(default_factory=lambda: os.environ.get("AR_COMPANY_TAX_ID", ""))
    company_payment_note: str = field(default_factory=lambda: os.environ.get("AR_COMPANY_PAYMENT_NOTE", ""))
    # Hardening limits (issue 14; documented in docs/production.md)
    session_hours: int = field(default_factory=lambda: _int("AR_SESSION_HOURS", 12))
    max_request_bytes: int = field(default_factory=lambda: _int("AR_MAX_REQUEST_BYTES", 5 * MB))
    max_upload_bytes: int = field(default_factory=lambda: _int("AR_MAX_UPLOAD_BYTES", 110 * MB))
    login_max_per_user: int = field(default_factory=lambda: _int("AR_LOGIN_MAX_PER_USER", 5))
    login_max_per_ip: int = field(default_factory=lambda: _int("AR_LOGIN_MAX_PER_IP", 50))
    login_window_minutes: int = field(default_factory=lambda: _int("AR_LOGIN_WINDOW_MINUTES", 15))
    trusted_origins: str = field(default_factory=lambda: os.environ.get("AR_TRUSTED_ORIGINS", ""))
    api_rate_limit: str = field(default_factory=lambda: os.environ.get("AR_API_RATE_LIMIT", "300 per minute"))
    export_rate_limit: str = field(default_factory=lambda: os.environ.get("AR_EXPORT_RATE_LIMIT", "30 per minute"))
    export_max_pixels: int = field(default_factory=lambda: _int("AR_EXPORT_MAX_PIXELS", 16_000_000))
    import_max_rows: int = field(default_factory=lambda: _int("AR_IMPORT_MAX_ROWS", 5_000_000))
    import_max_bytes: int = field(default_factory=lambda: _int("AR_IMPORT_MAX_BYTES", 1024 * MB))
    import_max_seconds: int = field(default_factory=lambda: _int("AR_IMPORT_MAX_SECONDS", 1800))

    @property
    def production(self) -> bool:
        """True when AR_ENV=production."""
        return self.env == "production"


def get_settings() -> Settings:
    """Read the settings afresh from the environment."""
    return Settings()
