"""Finalized invoices as the billing engine would hand them to PostToErp.

Totals follow the project's rounding rule (money.py): round each line, then tax per rate
over the rounded lines, so the ERP's own computation must land on the same cents.
"""

from __future__ import annotations

from collections import defaultdict
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

#: (product code, kind, quantity, unit price in EUR-like units)
DEFAULT_LINES: tuple[tuple[str, str, str, str], ...] = (
    ("BUSINESS", "recurring", "1", "499.00"),
    ("TEAM-SEAT", "recurring", "7", "12.50"),
    ("API-CALLS", "usage", "153421", "0.00012"),
    ("SMS", "usage", "310", "0.075"),
    ("DISCOUNT", "discount", "1", "-25.00"),
)

COUNTRIES = {
    (TaxCategory.STANDARD, Decimal("19")): "DE",
    (TaxCategory.STANDARD, Decimal("20")): "FR",
    (TaxCategory.STANDARD, Decimal("21")): "NL",
    (TaxCategory.STANDARD, Decimal("10")): "JP",
    (TaxCategory.STANDARD, Decimal("7.25")): "US",
    (TaxCategory.REVERSE_CHARGE, Decimal("0")): "AT",
    (TaxCategory.OUTSIDE_SCOPE, Decimal("0")): "CH",
}


def make_finalized_invoice(
    sequence: int,
    *,
    currency: str = "EUR",
    tax_category: TaxCategory = TaxCategory.STANDARD,
    tax_rate: str = "19",
    lines: tuple[tuple[str, str, str, str], ...] = DEFAULT_LINES,
    period: str = "2026-10",
    account_id: str | None = None,
) -> Invoice:
    rate = Decimal(tax_rate)
    year, month = (int(part) for part in period.split("-"))
    period_start = date(year, month, 1)
    period_end = (period_start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    issue_date = period_end + timedelta(days=1)
    scale = Decimal(150) if currency == "JPY" else Decimal(1)
    invoice_lines = []
    for index, (product_code, kind, quantity, unit_price) in enumerate(lines, start=1):
        price = Decimal(unit_price) * scale
        invoice_lines.append(
            InvoiceLine(
                line_id=f"L{index}",
                kind=kind,  # type: ignore[arg-type]
                description=f"{product_code.title()} for {period}",
                product_code=product_code,
                quantity=Decimal(quantity),
                unit_price=price,
                net_amount=round_money(Decimal(quantity) * price, currency),
                tax_rate=rate,
                tax_category=tax_category,
                service_start=period_start,
                service_end=period_end,
            )
        )
    taxable: dict[tuple[TaxCategory, Decimal], Decimal] = defaultdict(Decimal)
    for line in invoice_lines:
        taxable[(line.tax_category, line.tax_rate)] += line.net_amount
    breakdown = tuple(
        TaxSubtotal(
            tax_category=category,
            tax_rate=line_rate,
            taxable_amount=amount,
            tax_amount=round_money(amount * line_rate / 100, currency),
        )
        for (category, line_rate), amount in taxable.items()
    )
    net_total = sum((line.net_amount for line in invoice_lines), Decimal(0))
    tax_total = sum((subtotal.tax_amount for subtotal in breakdown), Decimal(0))
    account = account_id or f"ACC-{sequence:04d}"
    country = COUNTRIES.get((tax_category, rate), "DE")
    return Invoice(
        invoice_id=f"{period}:{account}",
        account_id=account,
        period=period,
        period_start=period_start,
        period_end=period_end,
        run_id="run-erp-test",
        legal_entity="NORTHWIND-EU",
        currency=currency,
        customer=Customer(
            account_id=account,
            name=f"Customer {sequence:04d} Ltd",
            email=f"billing{sequence}@customer.test",
            address=PostalAddress(
                line1=f"{sequence} Harbour Street",
                city="Hamburg",
                postal_code="20457",
                country=country,
            ),
            vat_id=f"{country}{100000000 + sequence}" if tax_category != "O" else None,
        ),
        lines=tuple(invoice_lines),
        tax_breakdown=breakdown,
        net_total=net_total,
        tax_total=tax_total,
        gross_total=net_total + tax_total,
        status=InvoiceStatus.FINALIZED,
        number=f"INV-{year}-{sequence:06d}",
        issue_date=issue_date,
        due_date=issue_date + timedelta(days=30),
    )
