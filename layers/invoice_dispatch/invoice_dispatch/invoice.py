"""The invoice: one document per (account, billing period, mode).

An invoice is born a draft from the billing engine, may be held at approval, and is
finalized exactly once: that is when it receives its number, issue and due dates. From
then on the stored document never changes (corrections are credit notes); delivery and
ERP booking are tracked beside it, as separate states, so a bounce never rewrites the
legal document.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from invoice_dispatch.milestone import MILESTONE_KEY_PREFIX, MilestoneRef

RunMode = Literal["live", "shadow"]


class InvoiceStatus(StrEnum):
    DRAFT = "draft"
    HELD = "held"
    FINALIZED = "finalized"
    VOID = "void"


class DeliveryStatus(StrEnum):
    """Per-invoice e-mail delivery, as SES reports it (design: 'sent' only after SES accepted)."""

    NOT_QUEUED = "not_queued"
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    BOUNCED = "bounced"
    COMPLAINED = "complained"
    REJECTED = "rejected"
    FAILED = "failed"


class ErpStatus(StrEnum):
    NOT_POSTED = "not_posted"
    POSTED = "posted"
    FAILED = "failed"
    SKIPPED = "skipped"


class TaxCategory(StrEnum):
    """EN 16931 VAT category codes (UNTDID 5305), used on the PDF and in Factur-X."""

    STANDARD = "S"
    ZERO_RATED = "Z"
    EXEMPT = "E"
    REVERSE_CHARGE = "AE"
    INTRA_COMMUNITY = "K"
    OUTSIDE_SCOPE = "O"


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PostalAddress(Frozen):
    line1: str
    line2: str | None = None
    city: str
    postal_code: str | None = None
    region: str | None = None
    country: str = Field(pattern=r"^[A-Z]{2}$")


class Channel(StrEnum):
    """How an account receives its documents (the account's ``customer.channel``).

    Every invoice and reminder e-mail carries the customer's signed portal link; the
    channel decides only whether the PDF travels with it. ``email`` (the default) and
    ``both``: attached, with the link beside it, so the two send the same message and
    ``both`` keeps the customer's stated wish on record. ``portal``: the link instead of
    the attachment (no 45 KB per message).
    """

    EMAIL = "email"
    PORTAL = "portal"
    BOTH = "both"

    @property
    def attaches_pdf(self) -> bool:
        return self is not Channel.PORTAL


class Customer(Frozen):
    """The customer as billed: a snapshot, so a later address change never alters an invoice."""

    account_id: str
    name: str
    email: str
    address: PostalAddress
    vat_id: str | None = None
    locale: str = "en"
    channel: Channel = Channel.EMAIL

    @model_validator(mode="before")
    @classmethod
    def _channel_from_delivery_method(cls, value: Any) -> Any:
        """Invoices stored before the portal name ``delivery_method`` (``email_attachment``
        or ``portal_link``); they stay readable as the channel it meant."""
        if isinstance(value, dict) and "delivery_method" in value:
            value = dict(value)
            legacy = value.pop("delivery_method")
            value.setdefault("channel", "portal" if legacy == "portal_link" else "email")
        return value


class InvoiceLine(Frozen):
    """One explainable line: ``description`` is the sentence a customer reads on the PDF.

    Quantity x unit price / base quantity, rounded half up to the currency's minor unit, is
    the net amount on every line (Peppol R120; ``billing/line_terms.py`` says how prorated
    and graduated charges are stated so that it holds).
    """

    line_id: str
    kind: Literal[
        "recurring",
        "proration_credit",
        "proration_charge",
        "usage",
        "minimum_commitment",
        "one_off",
        "milestone",
        "discount",
        "credit",
    ]
    description: str
    product_code: str
    quantity: Decimal
    unit_price: Decimal
    base_quantity: Decimal = Field(
        default=Decimal(1),
        gt=0,
        description="EN 16931 BT-149: the price is per this many units, so "
        "net_amount = round(quantity x unit_price / base_quantity)",
    )
    net_amount: Decimal
    tax_rate: Decimal = Field(description="Percent, as EN 16931 BT-152 writes it: 19 means 19 %")
    tax_category: TaxCategory
    service_start: date
    service_end: date


class TaxSubtotal(Frozen):
    """One row of the tax breakdown (EN 16931 BG-23): tax is computed per rate, then rounded."""

    tax_category: TaxCategory
    tax_rate: Decimal = Field(description="Percent (EN 16931 BT-119): 19 means 19 %")
    taxable_amount: Decimal
    tax_amount: Decimal
    exemption_reason: str | None = None


class AnomalyFlag(Frozen):
    code: str
    message: str
    holds_invoice: bool = False


class AutoPayMeans(Frozen):
    """The stored means the invoice is collected with (issue 18, item 5): a reference only.

    Snapshotted from the account when the draft is made, like the customer: the payment run
    collects the invoice with what the customer had agreed to when it was billed. It is
    what EN 16931 calls the mandate reference (BT-89) for a direct debit; a card is a
    gateway's payment method id. Exactly one of the two is set.
    """

    method_ref: str | None = None
    mandate_ref: str | None = None

    @property
    def reference(self) -> str:
        return self.method_ref or self.mandate_ref or ""


class Invoice(Frozen):
    invoice_id: str
    account_id: str
    period: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    period_start: date
    period_end: date
    mode: RunMode = "live"
    run_id: str
    legal_entity: str
    currency: str
    customer: Customer
    lines: tuple[InvoiceLine, ...]
    tax_breakdown: tuple[TaxSubtotal, ...]
    net_total: Decimal
    tax_total: Decimal
    gross_total: Decimal
    prices_include_tax: bool = False
    payment_terms_days: int = 30
    anomalies: tuple[AnomalyFlag, ...] = ()
    status: InvoiceStatus = InvoiceStatus.DRAFT
    number: str | None = None
    issue_date: date | None = None
    due_date: date | None = None
    credited_invoice_number: str | None = None
    #: EN 16931 BT-26: the credited invoice's issue date, which a credit note states with
    #: its number (BT-25) so the receiver can find the one invoice it corrects.
    credited_invoice_issue_date: date | None = None
    #: Collected by the payment run when set (``autopay/``); otherwise the customer pays.
    auto_pay: AutoPayMeans | None = None

    @property
    def invoicing_period(self) -> tuple[date, date]:
        """The period the whole document covers: the billing period and every line's service.

        A term billed in advance reaches past its billing month (an annual plan billed in
        November runs to next October), and EN 16931 as Peppol applies it (rules R110/R111)
        wants every line's period inside the invoice's period (BT-73/BT-74): so the invoice
        period is the billing period widened to cover its lines.
        """
        start = min((line.service_start for line in self.lines), default=self.period_start)
        end = max((line.service_end for line in self.lines), default=self.period_end)
        return min(start, self.period_start), max(end, self.period_end)

    @property
    def holding_flags(self) -> tuple[AnomalyFlag, ...]:
        """The flags whose rule holds the invoice at approval by itself."""
        return tuple(flag for flag in self.anomalies if flag.holds_invoice)

    @property
    def is_held_by_rule(self) -> bool:
        return bool(self.holding_flags)


def invoice_id_for(
    account_id: str, period: str, mode: RunMode, milestone: MilestoneRef | None = None
) -> str:
    """Deterministic id: the same (account, period, mode) always names the same invoice.

    This is what makes a re-run of a period unable to create a second draft: the store
    writes drafts with a condition that this id does not exist yet. A milestone's invoice
    is named by the milestone part alone, not the month: the same completion reported
    again in a later month still finds its invoice.
    """
    prefix = "" if mode == "live" else "shadow:"
    if milestone is not None:
        return f"{prefix}{milestone.key}"
    return f"{prefix}{period}:{account_id}"


def lock_scope_of(invoice: Invoice) -> str:
    """What the invoice's run locks while it lives: its milestone part, or its period."""
    key = invoice.invoice_id.removeprefix("shadow:")
    return key if key.startswith(MILESTONE_KEY_PREFIX) else invoice.period
