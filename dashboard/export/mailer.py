"""SMTP delivery with retries: a temporary failure is retried, a refused address is not."""

from __future__ import annotations

import logging
import smtplib
import time
from email.message import EmailMessage
from typing import Any

from dashboard.export.email import send

log = logging.getLogger(__name__)


class MailError(RuntimeError):
    """Delivery failed; `permanent` when retrying cannot help (the server refused the address)."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


def _send_once(message: EmailMessage, recipients: list[str], settings: Any) -> None:
    send(message, recipients, settings)


def deliver(message: EmailMessage, recipients: list[str], settings: Any) -> int:
    """Send, trying up to settings.smtp_attempts times; returns the attempts used, raises MailError."""
    attempts = max(1, int(settings.smtp_attempts))
    for attempt in range(1, attempts + 1):
        try:
            _send_once(message, recipients, settings)
            return attempt
        except smtplib.SMTPRecipientsRefused as error:
            refused = ", ".join(
                f"{a}: {c} {m.decode(errors='replace') if isinstance(m, bytes) else m}"
                for a, (c, m) in error.recipients.items()
            )
            raise MailError(
                f"address refused by the mail server ({refused})", permanent=True
            ) from error
        except (smtplib.SMTPException, OSError) as error:
            permanent = (
                isinstance(error, smtplib.SMTPResponseException) and 500 <= error.smtp_code < 600
            )
            reason = f"{settings.smtp_host}:{settings.smtp_port}: {type(error).__name__}: {error}"
            if permanent or attempt == attempts:
                raise MailError(
                    f"could not send through {reason} (attempt {attempt} of {attempts})",
                    permanent=permanent,
                ) from error
            log.warning("mail attempt %d of %d failed (%s); retrying", attempt, attempts, reason)
            time.sleep(settings.smtp_retry_seconds * attempt)
    raise MailError("no attempt made")  # unreachable
