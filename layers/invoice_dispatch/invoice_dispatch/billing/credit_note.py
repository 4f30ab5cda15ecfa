"""Credit notes: the only way to correct a finalized invoice.

A finalized invoice is a legal document and is never edited (design: corrections are credit
notes). A credit note is a new invoice-shaped document with negated lines that names the
invoice it corrects (EN 16931 BT-25, ``credited_invoice_number``); it is numbered when it
is finalized, like any invoice.
"""

from __future__ import annotations

from collections.abc import Collection
from decimal import Decimal

from invoice_dispatch.billing.wording import language_of, wording
from invoice_dispatch.invoice import Invoice, InvoiceStatus, TaxSubtotal
from invoice_dispatch.money import round_money


class NotCreditable(ValueError):
    """Only finalized, numbered invoices can be credited; drafts are simply regenerated."""


def create_credit_note(
    invoice: Invoice,
    reason: str,
    *,
    line_ids: Collection[str] | None = None,
    run_id: str | None = None,
) -> Invoice:
    """A draft credit note for all of ``invoice`` or for the lines named in ``line_ids``.

    A full credit negates the original tax breakdown exactly, so the two documents cancel
    to the minor unit even for tax-inclusive invoices; a partial credit computes tax per
    rate on the credited lines with the same rounding rule as a draft.
    """
    if invoice.status != InvoiceStatus.FINALIZED or not invoice.number:
        raise NotCreditable(
            f"Invoice {invoice.invoice_id} is {invoice.status.value}: only a finalized, "
            "numbered invoice can be credited"
        )
    if not reason.strip():
        raise ValueError("A credit note needs a reason the customer can read")
    chosen = [line for line in invoice.lines if line_ids is None or line.line_id in line_ids]
    if not chosen:
        raise ValueError("None of the requested lines are on the invoice")
    unknown = set(line_ids or ()) - {line.line_id for line in invoice.lines}
    if unknown:
        raise ValueError(f"Lines {sorted(unknown)} are not on invoice {invoice.number}")
    words = wording(language_of(invoice.customer.locale))
    lines = tuple(
        line.model_copy(
            update={
                "line_id": f"C{index:03d}",
                "description": words(
                    "credit_for",
                    number=invoice.number,
                    line_id=line.line_id,
                    description=line.description,
                    reason=reason,
                ),
                "quantity": -line.quantity,
                "net_amount": -line.net_amount,
            }
        )
        for index, line in enumerate(chosen, start=1)
    )
    if len(chosen) == len(invoice.lines):
        breakdown = tuple(
            subtotal.model_copy(
                update={
                    "taxable_amount": -subtotal.taxable_amount,
                    "tax_amount": -subtotal.tax_amount,
                }
            )
            for subtotal in invoice.tax_breakdown
        )
    else:
        groups: dict[tuple[str, Decimal], Decimal] = {}
        for line in lines:
            key = (line.tax_category.value, line.tax_rate)
            groups[key] = groups.get(key, Decimal(0)) + line.net_amount
        reasons = {(s.tax_category.value, s.tax_rate): s for s in invoice.tax_breakdown}
        breakdown = tuple(
            TaxSubtotal(
                tax_category=reasons[key].tax_category,
                tax_rate=key[1],
                taxable_amount=taxable,
                tax_amount=round_money(taxable * key[1] / 100, invoice.currency),
                exemption_reason=reasons[key].exemption_reason,
            )
            for key, taxable in groups.items()
        )
    net_total = sum((line.net_amount for line in lines), Decimal(0))
    tax_total = sum((subtotal.tax_amount for subtotal in breakdown), Decimal(0))
    return Invoice(
        invoice_id=f"credit:{invoice.number}:{len(chosen)}-of-{len(invoice.lines)}",
        account_id=invoice.account_id,
        period=invoice.period,
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        mode=invoice.mode,
        run_id=run_id or invoice.run_id,
        legal_entity=invoice.legal_entity,
        currency=invoice.currency,
        customer=invoice.customer,
        lines=lines,
        tax_breakdown=breakdown,
        net_total=net_total,
        tax_total=tax_total,
        gross_total=net_total + tax_total,
        prices_include_tax=invoice.prices_include_tax,
        payment_terms_days=invoice.payment_terms_days,
        status=InvoiceStatus.DRAFT,
        credited_invoice_number=invoice.number,
        credited_invoice_issue_date=invoice.issue_date,
    )
