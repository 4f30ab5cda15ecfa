"""Realistic sample invoices for template previews, benchmarks and rendering tests.

A designer changing ``templates/invoice`` needs an invoice to look at without running a
billing cycle, and the benchmark must render the same document in a fresh interpreter;
both build it here. Amounts follow the project's rounding rule (per line, then tax per
rate), so the samples are valid EN 16931 invoices, not lorem ipsum.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from invoice_dispatch.invoice import (
    Customer,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    PostalAddress,
    TaxCategory,
    TaxSubtotal,
)
from invoice_dispatch.money import round_money

#: (description, product code, quantity, unit price in EUR) — scaled for other currencies.
_CATALOGUE: tuple[tuple[str, str, str, str], ...] = (
    ("Platform subscription, Business plan (monthly)", "PLAN-BUSINESS", "1", "1234.56"),
    ("API calls beyond the 1,000,000 included in the plan", "USAGE-API", "234567", "0.0012"),
    ("Additional user seats", "SEAT", "12", "15.00"),
    ("Object storage, GB-months", "USAGE-STORAGE", "512.5", "0.08"),
    ("Premium support (24/7, 1-hour response)", "SUPPORT-PREMIUM", "1", "199.00"),
)
_CUSTOMERS: dict[str, tuple[str, PostalAddress, str | None]] = {
    "de": (
        "Müller & Söhne Maschinenbau GmbH",
        PostalAddress(line1="Königsallee 12", city="Düsseldorf", postal_code="40212", country="DE"),
        "DE811569869",
    ),
    "fr": (
        "Société Générale d'Informatique SARL",
        PostalAddress(
            line1="14 rue de la Paix",
            line2="Bâtiment B",
            city="Paris",
            postal_code="75002",
            country="FR",
        ),
        "FR40303265045",
    ),
    "en": (
        "Acme Widgets Inc.",
        PostalAddress(
            line1="500 Market Street",
            line2="Suite 1200",
            city="San Francisco",
            region="CA",
            postal_code="94105",
            country="US",
        ),
        None,
    ),
}
_CURRENCY_SCALE: dict[str, Decimal] = {"JPY": Decimal(150), "USD": Decimal("1.08")}


def sample_invoice(
    *,
    locale: str = "de",
    currency: str = "EUR",
    line_count: int = 5,
    tax_category: TaxCategory = TaxCategory.STANDARD,
    tax_rate: Decimal = Decimal(19),
    finalized: bool = True,
    customer_name: str | None = None,
    customer_vat_id: str | None = None,
    number: str = "INV-2026-000123",
    period: str = "2026-11",
    issue_date: date = date(2026, 12, 1),
    payment_terms_days: int = 30,
) -> Invoice:
    """An invoice for ``period`` with ``line_count`` lines from a small SaaS catalogue.

    ``tax_category`` applies to every line; reverse charge and exemptions use rate 0.
    """
    year, month = (int(part) for part in period.split("-"))
    period_start = date(year, month, 1)
    period_end = (date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)
    scale = _CURRENCY_SCALE.get(currency, Decimal(1))
    if tax_category is not TaxCategory.STANDARD:
        tax_rate = Decimal(0)

    lines = []
    for index in range(line_count):
        description, product_code, quantity_text, price_text = _CATALOGUE[index % len(_CATALOGUE)]
        if index >= len(_CATALOGUE):
            description = f"{description}, project {index // len(_CATALOGUE) + 1}"
        quantity = Decimal(quantity_text)
        unit_price = Decimal(price_text) * scale
        lines.append(
            InvoiceLine(
                line_id=f"line-{index + 1:03d}",
                kind="usage" if product_code.startswith("USAGE") else "recurring",
                description=description,
                product_code=product_code,
                quantity=quantity,
                unit_price=unit_price.normalize(),
                net_amount=round_money(quantity * unit_price, currency),
                tax_rate=tax_rate,
                tax_category=tax_category,
                service_start=period_start,
                service_end=period_end,
            )
        )

    net_total = sum((line.net_amount for line in lines), Decimal(0))
    tax_total = round_money(net_total * tax_rate / 100, currency)
    default_name, address, default_vat_id = _CUSTOMERS.get(locale[:2], _CUSTOMERS["en"])
    customer = Customer(
        account_id="ACC-00042",
        name=customer_name or default_name,
        email="accounts@customer.example",
        address=address,
        vat_id=customer_vat_id or default_vat_id,
        locale=locale,
    )
    return Invoice(
        invoice_id=f"{period}:ACC-00042",
        account_id=customer.account_id,
        period=period,
        period_start=period_start,
        period_end=period_end,
        run_id="run-sample",
        legal_entity="NORTHWIND-EU",
        currency=currency,
        customer=customer,
        lines=tuple(lines),
        tax_breakdown=(
            TaxSubtotal(
                tax_category=tax_category,
                tax_rate=tax_rate,
                taxable_amount=net_total,
                tax_amount=tax_total,
            ),
        ),
        net_total=net_total,
        tax_total=tax_total,
        gross_total=net_total + tax_total,
        payment_terms_days=payment_terms_days,
        status=InvoiceStatus.FINALIZED if finalized else InvoiceStatus.DRAFT,
        number=number if finalized else None,
        issue_date=issue_date if finalized else None,
        due_date=issue_date + timedelta(days=payment_terms_days) if finalized else None,
    )
