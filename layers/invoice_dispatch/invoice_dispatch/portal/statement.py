"""What a customer's portal page shows: their documents, what is open, how to pay it.

Built from what the product already stores, read for one page of the customer's documents
(``DynamoStore.customer_documents``): the invoice state and document, the receivable when
collections has admitted the invoice (its open amount and status follow every payment,
credit note and write-off), and the issued credit notes. An invoice not admitted yet (the
daily collections run admits yesterday's) is what ``Receivable.opened_for`` says: its
whole gross is open, so the page is right from the minute the e-mail arrives.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from markupsafe import Markup

from invoice_dispatch.invoice import Invoice
from invoice_dispatch.legal_entity import LegalEntity
from invoice_dispatch.portal.epc_qr import CreditTransfer, epc_payload, epc_qr_svg
from invoice_dispatch.receivables.receivable import Receivable, ReceivableStatus
from invoice_dispatch.rendering.formatting import format_iban, format_money

#: The page's language for now; amounts still follow each currency's digits.
LOCALE = "en"

STATUS_LABELS: dict[ReceivableStatus, str] = {
    ReceivableStatus.OPEN: "Open",
    ReceivableStatus.PARTIALLY_PAID: "Partially paid",
    ReceivableStatus.PAID: "Paid",
    ReceivableStatus.OVERPAID: "Overpaid",
    ReceivableStatus.OVERDUE: "Overdue",
    ReceivableStatus.DISPUTED: "Disputed",
    ReceivableStatus.CREDITED: "Credited",
    ReceivableStatus.WRITTEN_OFF: "Written off",
}


def money(amount: Decimal, currency: str) -> str:
    return format_money(amount, currency, LOCALE)


@dataclass(frozen=True)
class PaymentDetails:
    """How to pay what is open on one invoice: always as text, for euro also as a QR code."""

    beneficiary: str
    iban: str
    bic: str
    amount: str
    reference: str
    qr_svg: Markup | None


@dataclass(frozen=True)
class PortalRow:
    kind: str
    number: str
    issue_date: date | None
    due_date: date | None
    status: str
    amount: str
    open_amount: str | None
    pdf_url: str | None
    note: str = ""
    payment: PaymentDetails | None = None


def _payment(receivable: Receivable, seller: LegalEntity) -> PaymentDetails:
    transfer = CreditTransfer(
        beneficiary=seller.name,
        iban=seller.bank.iban,
        bic=seller.bank.bic,
        currency=receivable.currency,
        amount=receivable.open_amount,
        invoice_number=receivable.number,
    )
    payload = epc_payload(transfer)
    return PaymentDetails(
        beneficiary=seller.name,
        iban=format_iban(seller.bank.iban),
        bic=seller.bank.bic,
        amount=money(receivable.open_amount, receivable.currency),
        reference=transfer.reference,
        # segno's SVG holds only the code's drawing and a fixed title: no customer text.
        qr_svg=Markup(epc_qr_svg(payload)) if payload else None,
    )


def invoice_row(
    invoice: Invoice,
    receivable: Receivable | None,
    pdf_url: str | None,
    seller: LegalEntity,
    today: date,
) -> PortalRow:
    """One invoice as the customer sees it today; payment details while anything is owed."""
    receivable = receivable or Receivable.opened_for(invoice)
    status = receivable.status(today)
    owed = receivable.open_amount > 0 and status is not ReceivableStatus.DISPUTED
    return PortalRow(
        kind="Invoice",
        number=receivable.number,
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        status=STATUS_LABELS[status],
        amount=money(invoice.gross_total, invoice.currency),
        open_amount=money(receivable.open_amount, invoice.currency),
        pdf_url=pdf_url,
        payment=_payment(receivable, seller) if owed else None,
    )


def credit_note_row(credit_note: Invoice, pdf_url: str | None) -> PortalRow:
    """A credit note: what it credits and against which invoice; nothing to pay."""
    return PortalRow(
        kind="Credit note",
        number=credit_note.number or "",
        issue_date=credit_note.issue_date,
        due_date=None,
        status="Issued",
        amount=money(-credit_note.gross_total, credit_note.currency),
        open_amount=None,
        pdf_url=pdf_url,
        note=f"Credits {credit_note.credited_invoice_number}"
        if credit_note.credited_invoice_number
        else "",
    )


@dataclass(frozen=True)
class PortalView:
    account_id: str
    customer_name: str
    rows: list[PortalRow]
    seller: LegalEntity
    expires_text: str
    first_page_url: str | None
    older_url: str | None
