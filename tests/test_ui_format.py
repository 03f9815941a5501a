"""One money format everywhere: exact, with the currency."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from dashboard import format as fmt


@pytest.mark.parametrize(
    ("value", "currency", "expected"),
    [
        (123456, "USD", "$1,234.56"),
        ("1234.56", "USD", "$1,234.56"),
        ("1234.5", "USD", "$1,234.50"),
        (Decimal("0.05"), "USD", "$0.05"),
        (-5, "USD", "-$0.05"),
        ("-1000000.00", "EUR", "-€1,000,000.00"),
        (0, "GBP", "£0.00"),
        (99, "CHF", "CHF 0.99"),
        (np.int64(900719925474099), "USD", "$9,007,199,254,740.99"),
        (None, "USD", "–"),
    ],
)
def test_money(value, currency, expected):
    assert fmt.money(value, currency) == expected


def test_money_uses_ar_currency_by_default(monkeypatch):
    monkeypatch.setenv("AR_CURRENCY", "EUR")
    assert fmt.money(100) == "€1.00"


def test_to_cents_is_exact_and_rejects_garbage():
    assert fmt.to_cents("0.1") + fmt.to_cents("0.2") == fmt.to_cents("0.3") == 30
    assert fmt.to_cents("12345678901234.56") == 1234567890123456
    with pytest.raises(ValueError):
        fmt.to_cents("twelve")
    with pytest.raises(TypeError):
        fmt.to_cents(True)


def test_short_money_and_ratios():
    assert fmt.money_short(123456789, "USD") == "$1.23M"
    assert fmt.money_short(1250000, "USD") == "$12.50K"
    assert fmt.money_short(999999, "USD") == "$9,999.99"
    assert fmt.days(45.26) == "45.3 days"
    assert fmt.pct(96.349) == "96.3 %"
    assert fmt.pct(None) == fmt.days(None) == "–"
    assert fmt.number(1234567) == "1,234,567"
