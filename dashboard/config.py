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

    @property
    def production(self) -> bool:
        """True when AR_ENV=production."""
        return self.env == "production"


def get_settings() -> Settings:
    """Read the settings afresh from the environment."""
    return Settings()
