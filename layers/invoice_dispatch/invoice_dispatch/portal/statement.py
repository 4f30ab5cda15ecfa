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
from invoice_dispatch.portal.labels import portal_labels
from invoice_dispatch.receivables.receivable import Receivable, ReceivableStatus
from invoice_dispatch.rendering.formatting import (
    format_date,
    format_iban,
    format_money,
    language_of,
)


@dataclass(frozen=True)
class Wording:
    """The customer's language: the page's words and how amounts and dates are written."""

    locale: str
    labels: dict[str, str]

    @classmethod
    def for_locale(cls, locale: str) -> Wording:
        return cls(locale, portal_labels(language_of(locale)))

    @property
    def language(self) -> str:
        return language_of(self.locale)

    def money(self, amount: Decimal, currency: str) -> str:
        return format_money(amount, currency, self.locale)

    def day(self, value: date | None) -> str:
        return format_date(value, self.locale) if value else "–"


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
    issue_date: str
    due_date: str
    status: str
    amount: str
    open_amount: str | None
    pdf_url: str | None
    note: str = ""
    payment: PaymentDetails | None = None
    #: Where the "Pay online" button posts to (only with a gateway, only while payable).
    pay_url: str | None = None


def _payment(receivable: Receivable, seller: LegalEntity, wording: Wording) -> PaymentDetails:
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
        amount=wording.money(receivable.open_amount, receivable.currency),
        reference=transfer.reference,
        # segno's SVG holds only the code's drawing and a fixed title: no customer text.
        qr_svg=Markup(epc_qr_svg(payload)) if payload else None,
    )


@dataclass(frozen=True)
class Standing:
    """Where an invoice stands for its customer today: what is open and who collects it.

    The page and the "Pay online" request both judge from this one reading, so a button
    is never shown for what the request would refuse, nor the other way round.
    """

    receivable: Receivable
    status: ReceivableStatus
    #: Auto-pay is collecting it, or will once collections admits it.
    auto_pay: bool
    #: Collections has opened its receivable (the day after it was sent): a payment that
    #: arrives before that finds no invoice to match and waits on the exception list.
    admitted: bool

    @property
    def owed(self) -> bool:
        return self.receivable.open_amount > 0 and self.status is not ReceivableStatus.DISPUTED

    @property
    def payable(self) -> bool:
        """Whether the customer should pay it themselves: owed and not auto-pay's to take."""
        return self.owed and not self.auto_pay

    @property
    def payable_online(self) -> bool:
        """A card payment is matched at once, so it waits until the ledger knows the
        invoice; until then the page shows the transfer details only."""
        return self.payable and self.admitted


def standing(invoice: Invoice, ledger: tuple[Receivable | None, bool], today: date) -> Standing:
    """``ledger`` is the receivable (None before collections admits the invoice) and whether
    auto-pay is collecting it. An invoice auto-pay will take asks for no transfer (the
    customer would pay twice): until auto-pay has charged it or handed it over, it is
    collected automatically."""
    admitted, collecting = ledger
    receivable = admitted or Receivable.opened_for(invoice)
    return Standing(
        receivable=receivable,
        status=receivable.status(today),
        auto_pay=invoice.auto_pay is not None and (collecting or admitted is None),
        admitted=admitted is not None,
    )


def invoice_row(
    invoice: Invoice,
    ledger: tuple[Receivable | None, bool],
    pdf_url: str | None,
    seller: LegalEntity,
    today: date,
    wording: Wording,
    pay_url: str | None = None,
) -> PortalRow:
    """One invoice as the customer sees it today; payment details while anything is owed,
    and the "Pay online" button's address (``pay_url``, given when a gateway is set up)."""
    current = standing(invoice, ledger, today)
    receivable = current.receivable
    return PortalRow(
        kind=wording.labels["invoice"],
        number=receivable.number,
        issue_date=wording.day(invoice.issue_date),
        due_date=wording.day(invoice.due_date),
        status=wording.labels[current.status.value],
        amount=wording.money(invoice.gross_total, invoice.currency),
        open_amount=wording.money(receivable.open_amount, invoice.currency),
        pdf_url=pdf_url,
        note=wording.labels["auto_pay"] if current.owed and current.auto_pay else "",
        payment=_payment(receivable, seller, wording) if current.payable else None,
        pay_url=pay_url if current.payable_online else None,
    )


def credit_note_row(credit_note: Invoice, pdf_url: str | None, wording: Wording) -> PortalRow:
    """A credit note: what it credits and against which invoice; nothing to pay."""
    credited = credit_note.credited_invoice_number
    return PortalRow(
        kind=wording.labels["credit_note"],
        number=credit_note.number or "",
        issue_date=wording.day(credit_note.issue_date),
        due_date=wording.day(None),
        status=wording.labels["issued"],
        amount=wording.money(-credit_note.gross_total, credit_note.currency),
        open_amount=None,
        pdf_url=pdf_url,
        note=wording.labels["credits"].format(number=credited) if credited else "",
    )


@dataclass(frozen=True)
class PortalView:
    wording: Wording
    account_id: str
    customer_name: str
    rows: list[PortalRow]
    seller: LegalEntity
    expires_text: str
    first_page_url: str | None
    older_url: str | None
