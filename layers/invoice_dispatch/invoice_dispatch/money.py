"""Money: ``Decimal`` amounts quantized to each currency's ISO 4217 minor units.

The one rounding rule of this project: every monetary amount is rounded to the
currency's minor unit with ROUND_HALF_UP (commercial rounding, the rule EN 16931
validators assume) at the moment it becomes an invoice line or a tax amount.
Totals are sums of already-rounded amounts, never rounded again, so a total always
equals the sum of its lines.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

#: ISO 4217 minor units for the currencies this product bills in. A currency not
#: listed is rejected at the account source (quarantined), never guessed.
MINOR_UNITS: dict[str, int] = {
    "AUD": 2,
    "BHD": 3,
    "BRL": 2,
    "CAD": 2,
    "CHF": 2,
    "CLP": 0,
    "CNY": 2,
    "CZK": 2,
    "DKK": 2,
    "EUR": 2,
    "GBP": 2,
    "HKD": 2,
    "HUF": 2,
    "IDR": 2,
    "INR": 2,
    "ISK": 0,
    "JOD": 3,
    "JPY": 0,
    "KRW": 0,
    "KWD": 3,
    "MXN": 2,
    "NOK": 2,
    "NZD": 2,
    "OMR": 3,
    "PLN": 2,
    "RON": 2,
    "SEK": 2,
    "SGD": 2,
    "TND": 3,
    "TRY": 2,
    "USD": 2,
    "VND": 0,
    "ZAR": 2,
}

_QUANTUM_CACHE: dict[str, Decimal] = {
    code: Decimal(1).scaleb(-digits) for code, digits in MINOR_UNITS.items()
}


class UnknownCurrency(ValueError):
    """A currency code that is not ISO 4217 or not supported for billing."""


def is_supported_currency(currency: str) -> bool:
    return currency in _QUANTUM_CACHE


def quantum(currency: str) -> Decimal:
    """The smallest amount of ``currency`` (0.01 for EUR, 1 for JPY, 0.001 for BHD)."""
    try:
        return _QUANTUM_CACHE[currency]
    except KeyError:
        raise UnknownCurrency(f"Currency '{currency}' is not a supported ISO 4217 code") from None


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Round ``amount`` to the currency's minor unit, half up (the project's one rule)."""
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_UP)


def zero(currency: str) -> Decimal:
    return Decimal(0).quantize(quantum(currency))
