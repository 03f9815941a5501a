"""One way to show money, counts, ratios and dates everywhere: UI, figures, exports, e-mails (exact, never via floats).

The lowest shared layer (it imports only dashboard.config): figures, components, pages, export and
subscriptions all format through it.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from dashboard.config import get_settings

# Symbols for the currencies a finance team meets most; others are shown as "CHF 1,234.56".
SYMBOLS = {
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "JPY": "¥",
    "AUD": "A$",
    "CAD": "CA$",
    "NZD": "NZ$",
    "INR": "₹",
}
DASH = "–"


def default_currency() -> str:
    """AR_CURRENCY (USD unless configured)."""
    return (get_settings().currency or "USD").upper()


def to_cents(value: int | str | Decimal | None) -> int | None:
    """Integer cents from int cents, or from a decimal string/Decimal of currency units ("12.34")."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise TypeError("money value cannot be a bool")
    if isinstance(value, int):
        return value
    if hasattr(value, "dtype") and getattr(value.dtype, "kind", "") in "iu":  # numpy integer
        return int(value)
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ValueError(f"not a money amount: {value!r}") from exc
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def symbol(currency: str | None = None) -> str:
    """The prefix of an amount in currency ("$", "€", "CHF ")."""
    code = (currency or default_currency()).upper()
    return SYMBOLS.get(code, f"{code} ")


def money(value: int | str | Decimal | None, currency: str | None = None) -> str:
    """ "$1,234.56" from 123456 (int cents) or "1234.56" (a decimal string); "–" for None."""
    cents = to_cents(value)
    if cents is None:
        return DASH
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{symbol(currency)}{whole:,}.{part:02d}"


def plain_money(cents: int) -> str:
    """Integer cents as plain currency units with two places, no symbol or separators ("-12.05")."""
    cents = int(cents)
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"


def money_short(value: int | str | Decimal | None, currency: str | None = None) -> str:
    """A compact amount for chart labels ("$1.23M", "$45.6K"); exact below 10,000."""
    cents = to_cents(value)
    if cents is None:
        return DASH
    units = Decimal(abs(cents)) / 100
    sign = "-" if cents < 0 else ""
    for limit, suffix in ((Decimal(10**9), "B"), (Decimal(10**6), "M"), (Decimal(10**4), "K")):
        if units >= limit:
            scaled = (units / (limit if suffix != "K" else Decimal(1000))).quantize(
                Decimal("0.01"), ROUND_HALF_UP
            )
            return f"{sign}{symbol(currency)}{scaled}{suffix}"
    return money(cents, currency)


MONEY_TEXT = re.compile(
    r"^(-?)("
    + "|".join(re.escape(s) for s in sorted(SYMBOLS.values(), key=len, reverse=True))
    + r"|[A-Z]{3} )([\d,]+\.\d{2})$"
)


def compact_money_text(text: str) -> str | None:
    """ "$16.46M" for a money text such as "$16,463,812.34" (money()'s output); None for anything else."""
    found = MONEY_TEXT.match(text.strip()) if isinstance(text, str) else None
    if found is None:
        return None
    sign, prefix, digits = found.groups()
    cents = to_cents(sign + digits.replace(",", ""))
    code = next((c for c, s in SYMBOLS.items() if s == prefix), prefix.strip())
    short = money_short(cents, code)
    return None if short == text.strip() else short


def plural(count: int, word: str, many: str | None = None) -> str:
    """ "1 row", "2 rows", "1,234 rows" (`many` for irregular plurals)."""
    return f"{count:,} {word if count == 1 else (many or word + 's')}"


def number(value: int | float | None) -> str:
    """A count with thousands separators."""
    return DASH if value is None else f"{int(value):,}"


def ratio(value: float | None, suffix: str = "", digits: int = 2) -> str:
    """A rounded ratio ("45.12 days", "96.3 %"); "–" when undefined (zero denominator)."""
    if value is None:
        return DASH
    return f"{value:,.{digits}f}{suffix}"


def days(value: float | None) -> str:
    """Days with one decimal ("45.3 days")."""
    return ratio(value, " days", 1)


def pct(value: float | None, digits: int = 1) -> str:
    """A percentage ("96.3 %")."""
    return ratio(value, " %", digits)


def date(value: dt.date | str | None) -> str:
    """An ISO date as shown in the UI (ISO: unambiguous across locales)."""
    if value is None or value == "":
        return DASH
    return value.isoformat() if isinstance(value, dt.date) else str(value)
