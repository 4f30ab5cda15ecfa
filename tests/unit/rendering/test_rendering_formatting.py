"""Money and dates as each customer writes them (babel/CLDR), and where templates are found."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from rendering_samples import normalise_spaces

from invoice_dispatch.rendering import format_date, format_money, templates_dir
from invoice_dispatch.rendering.formatting import format_unit_price, language_of

REPOSITORY = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("amount", "currency", "locale", "expected"),
    [
        ("1234.56", "EUR", "de", "1.234,56 €"),
        ("1234.56", "EUR", "fr", "1 234,56 €"),
        ("1234.56", "EUR", "en", "€1,234.56"),
        ("1235", "JPY", "en", "¥1,235"),
        ("-99.50", "USD", "en", "-$99.50"),
        ("1234.567", "BHD", "en", "BHD 1,234.567"),
        ("1234.56", "EUR", "de-DE", "1.234,56 €"),
        ("1234.56", "EUR", "not-a-locale", "€1,234.56"),
    ],
)
def test_money_is_formatted_for_the_customer_locale(
    amount: str, currency: str, locale: str, expected: str
) -> None:
    assert normalise_spaces(format_money(Decimal(amount), currency, locale)) == expected


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("en", "Dec 31, 2026"), ("de", "31.12.2026"), ("fr", "31 déc. 2026"), ("de_AT", "31.12.2026")],
)
def test_dates_are_formatted_for_the_customer_locale(locale: str, expected: str) -> None:
    assert format_date(date(2026, 12, 31), locale) == expected


def test_unit_price_keeps_sub_cent_precision_without_trailing_zeros() -> None:
    assert normalise_spaces(format_unit_price(Decimal("0.001200"), "EUR", "de")) == "0,0012 €"
    assert normalise_spaces(format_unit_price(Decimal("15.000000"), "EUR", "de")) == "15,00 €"


def test_unsupported_language_falls_back_to_english_labels() -> None:
    assert language_of("fr-CA") == "fr"
    assert language_of("es") == "en"


def test_templates_dir_prefers_environment_then_the_package(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("TEMPLATES_DIR", raising=False)
    bundled_templates = templates_dir()
    assert (bundled_templates / "invoice" / "invoice.html").is_file()
    assert (bundled_templates / "email" / "invoice.txt").is_file()
    assert (REPOSITORY / "templates").resolve() == bundled_templates, (
        "the top-level templates/ is where designers edit the files the package ships"
    )

    monkeypatch.setenv("TEMPLATES_DIR", str(tmp_path))
    assert templates_dir() == tmp_path
