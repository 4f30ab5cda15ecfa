"""Locale-aware formatting of money, quantities, rates and dates with babel.

A customer reads amounts the way their country writes them ("1.234,56 €" in German,
"€1,234.56" in English): babel's CLDR data knows those conventions, so nothing here
hand-builds a separator or a currency symbol.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as babel_format_date
from babel.numbers import format_currency, format_decimal, format_percent

#: Languages whose labels exist on the PDF and in the e-mails; any other locale still gets
#: its own number and date formats but English words.
SUPPORTED_LANGUAGES: tuple[str, ...] = ("en", "de", "fr")
FALLBACK_LOCALE = "en"


@lru_cache(maxsize=64)
def parse_locale(locale: str) -> Locale:
    """Accept "de", "de-DE" or "de_DE" (account sources differ); unknown values fall back to en.

    An invoice must never fail to render because an account carries an odd locale string.
    """
    try:
        return Locale.parse(locale.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale.parse(FALLBACK_LOCALE)


def language_of(locale: str) -> str:
    """The label language for ``locale``: one of ``SUPPORTED_LANGUAGES``."""
    language = parse_locale(locale).language
    return language if language in SUPPORTED_LANGUAGES else FALLBACK_LOCALE


def format_money(amount: Decimal, currency: str, locale: str) -> str:
    """An amount already rounded to the currency's minor unit, e.g. "1.234,56 €" for de/EUR."""
    return _space_currency_code(format_currency(amount, currency, locale=parse_locale(locale)))


def format_unit_price(amount: Decimal, currency: str, locale: str) -> str:
    """A unit price keeps its own precision (usage is priced at 0.0012 € per call).

    Rounding it to the currency's minor unit would print a price that does not multiply
    out to the line amount, which is the first thing a customer's accountant checks.
    """
    return _space_currency_code(
        format_currency(
            _without_trailing_zeros(amount),
            currency,
            locale=parse_locale(locale),
            decimal_quantization=False,
        )
    )


def format_quantity(quantity: Decimal, locale: str) -> str:
    return format_decimal(
        _without_trailing_zeros(quantity), locale=parse_locale(locale), decimal_quantization=False
    )


def format_rate(rate_percent: Decimal, locale: str) -> str:
    """A VAT rate given in percent (19, 7.7): "19%" in English, "19 %" in German and French."""
    return format_percent(
        _without_trailing_zeros(rate_percent) / 100,
        locale=parse_locale(locale),
        decimal_quantization=False,
    )


def format_date(value: date, locale: str) -> str:
    """Medium date: "Nov 30, 2026", "30.11.2026", "30 nov. 2026"."""
    return babel_format_date(value, format="medium", locale=parse_locale(locale))


def format_month(value: date, locale: str) -> str:
    """Stand-alone month and year for the billing period: "November 2026", "novembre 2026"."""
    return babel_format_date(value, format="LLLL yyyy", locale=parse_locale(locale))


_CODE_BEFORE_DIGIT = re.compile(r"([A-Za-z])(\d)")


def _space_currency_code(formatted: str) -> str:
    """CLDR's currency spacing rule that babel does not apply: "BHD1,234.567" -> "BHD 1,234.567".

    A symbol such as "$" or "€" is written against the digits; an ISO code is separated by a
    non-breaking space.
    """
    return _CODE_BEFORE_DIGIT.sub("\\1\u00a0\\2", formatted)


def _without_trailing_zeros(value: Decimal) -> Decimal:
    """``Decimal("10.000000")`` -> ``10`` without switching to exponent notation ("1E+1")."""
    normalized = value.normalize()
    if normalized == normalized.to_integral_value():
        return normalized.quantize(Decimal(1))
    return normalized


def country_name(country_code: str, locale: str) -> str:
    """ISO 3166 code to the country's name in ``locale``; an unknown code stays as it is."""
    return parse_locale(locale).territories.get(country_code, country_code)


def format_iban(iban: str) -> str:
    """Groups of four, as printed on bank statements, so a person can type it without error."""
    compact = iban.replace(" ", "")
    return " ".join(compact[index : index + 4] for index in range(0, len(compact), 4))
