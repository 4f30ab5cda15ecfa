"""What we hand an ERP: one finalized invoice, translated into the ERP's vocabulary.

The booking carries everything finance needs to close the month without opening the PDF:
who (the customer, upserted by our account id), which GL revenue account and cost center
each line lands on, which tax account each tax amount lands on, in which accounting
period, in which currency, and the totals the ERP's own computation must agree with.
The external id is the invoice number: it is what makes a retried post find the first one.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from invoice_dispatch.erp.errors import ErpPermanentError, MissingMapping
from invoice_dispatch.erp.mapping import ErpMapping
from invoice_dispatch.invoice import Invoice, InvoiceStatus, PostalAddress, TaxCategory


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ErpCustomer(_Frozen):
    """The ERP party; ``account_id`` is the upsert key, so a renamed customer stays one party."""

    account_id: str
    name: str
    email: str
    address: PostalAddress
    vat_id: str | None = None


class ErpBookingLine(_Frozen):
    line_id: str
    description: str
    product_code: str
    quantity: Decimal
    unit_price: Decimal
    #: The price is per this many units (EN 16931 BT-149), as on the invoice line.
    base_quantity: Decimal = Decimal(1)
    net_amount: Decimal
    revenue_account: str
    cost_center: str
    tax_code: str
    tax_category: TaxCategory
    tax_rate: Decimal


class ErpTaxLine(_Frozen):
    tax_code: str
    tax_category: TaxCategory
    tax_rate: Decimal
    tax_account: str
    taxable_amount: Decimal
    tax_amount: Decimal


class ErpBooking(_Frozen):
    external_id: str
    invoice_id: str
    mapping_version: int
    customer: ErpCustomer
    currency: str
    accounting_date: date
    billing_period: str
    period_start: date
    period_end: date
    due_date: date
    receivable_account: str
    lines: tuple[ErpBookingLine, ...]
    tax_lines: tuple[ErpTaxLine, ...]
    net_total: Decimal
    tax_total: Decimal
    gross_total: Decimal


class ErpReceipt(_Frozen):
    """What the ERP answered: ``created`` is False when an earlier post was found instead."""

    external_id: str
    erp_id: str
    created: bool


def build_booking(invoice: Invoice, mapping: ErpMapping) -> ErpBooking:
    """Translate a finalized invoice, or say in one sentence what the mapping lacks.

    All gaps are collected before raising so finance fixes the mapping once, not once per
    replay.
    """
    number = invoice.number
    if invoice.status != InvoiceStatus.FINALIZED or not number or not invoice.issue_date:
        raise ErpPermanentError(
            f"Invoice {number or invoice.invoice_id} is {invoice.status.value}, not finalized"
            " with a number and issue date; only finalized invoices are booked in the ERP."
        )
    gaps: list[str] = []
    lines: list[ErpBookingLine] = []
    for line in invoice.lines:
        product = mapping.product(line.product_code)
        tax = mapping.tax(line.tax_category, line.tax_rate)
        if product is None:
            gap = f"product '{line.product_code}' has no GL revenue account"
            if gap not in gaps:
                gaps.append(gap)
        if tax is None:
            gap = _tax_gap(line.tax_category, line.tax_rate)
            if gap not in gaps:
                gaps.append(gap)
        if product is None or tax is None:
            continue
        lines.append(
            ErpBookingLine(
                line_id=line.line_id,
                description=line.description,
                product_code=line.product_code,
                quantity=line.quantity,
                unit_price=line.unit_price,
                base_quantity=line.base_quantity,
                net_amount=line.net_amount,
                revenue_account=product.revenue_account,
                cost_center=product.cost_center,
                tax_code=tax.code,
                tax_category=line.tax_category,
                tax_rate=line.tax_rate,
            )
        )
    tax_lines: list[ErpTaxLine] = []
    for subtotal in invoice.tax_breakdown:
        tax = mapping.tax(subtotal.tax_category, subtotal.tax_rate)
        if tax is None:
            gap = _tax_gap(subtotal.tax_category, subtotal.tax_rate)
            if gap not in gaps:
                gaps.append(gap)
            continue
        tax_lines.append(
            ErpTaxLine(
                tax_code=tax.code,
                tax_category=subtotal.tax_category,
                tax_rate=subtotal.tax_rate,
                tax_account=tax.tax_account,
                taxable_amount=subtotal.taxable_amount,
                tax_amount=subtotal.tax_amount,
            )
        )
    if gaps:
        what = "it" if len(gaps) == 1 else "them"
        raise MissingMapping(
            f"Invoice {number}: {'; '.join(gaps)} in ERP mapping v{mapping.version};"
            f" add {what} to the mapping and replay."
        )
    customer = invoice.customer
    return ErpBooking(
        external_id=number,
        invoice_id=invoice.invoice_id,
        mapping_version=mapping.version,
        customer=ErpCustomer(
            account_id=customer.account_id,
            name=customer.name,
            email=customer.email,
            address=customer.address,
            vat_id=customer.vat_id,
        ),
        currency=invoice.currency,
        accounting_date=invoice.issue_date,
        billing_period=invoice.period,
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        due_date=invoice.due_date or invoice.issue_date,
        receivable_account=mapping.receivable_account,
        lines=tuple(lines),
        tax_lines=tuple(tax_lines),
        net_total=invoice.net_total,
        tax_total=invoice.tax_total,
        gross_total=invoice.gross_total,
    )


def _tax_gap(category: TaxCategory, rate: Decimal) -> str:
    percent = rate.normalize()
    return f"tax category {category.value} at {percent:f}% has no tax account"
