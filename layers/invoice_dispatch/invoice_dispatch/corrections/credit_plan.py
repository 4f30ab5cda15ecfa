"""What a credit note may credit, given the invoice and the credit notes issued before it.

Several credit notes together never credit more than the invoice: per invoice, the store
keeps what was credited so far (``CreditedSoFar``: gross, the lines, tax per rate) and
the numbering transaction moves it on the condition that nobody else did meanwhile
(``adapters/corrections_store.py``), so two approvals arriving together are judged one
after the other, never both against the same remainder.

Crediting "the rest" closes the invoice to the minor unit: a partial credit computes tax
per rate on its own lines (``billing/credit_note.py``), and two roundings can differ by a
cent from the invoice's one; so the credit note that takes the last lines takes exactly
the tax the earlier ones left, and invoice plus credit notes sum to zero.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from invoice_dispatch.billing.credit_note import NotCreditable, create_credit_note
from invoice_dispatch.billing.credits import CREDIT_PRODUCT
from invoice_dispatch.billing.wording import language_of, wording
from invoice_dispatch.corrections.requests import CorrectionRefused, CreditNoteRequest
from invoice_dispatch.invoice import Invoice, InvoiceLine, TaxSubtotal
from invoice_dispatch.money import round_money, zero


def _rate_key(subtotal: TaxSubtotal | InvoiceLine) -> str:
    return f"{subtotal.tax_category.value}:{subtotal.tax_rate.normalize():f}"


class CreditedSoFar(BaseModel):
    """One invoice's credit notes, summed: the store's ``CREDITS#<number>`` item."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    invoice_number: str
    currency: str
    invoice_gross: Decimal
    credited_gross: Decimal = Decimal(0)
    #: Of ``credited_gross``, what plain-amount credit notes took (no line behind it).
    credited_by_amount: Decimal = Decimal(0)
    credited_lines: tuple[str, ...] = ()
    #: Per tax rate (``<category>:<rate>``), the taxable amount and tax credited so far.
    credited_taxable: dict[str, Decimal] = Field(default_factory=dict)
    credited_tax: dict[str, Decimal] = Field(default_factory=dict)
    credit_notes: tuple[str, ...] = ()
    #: The store's version: the numbering transaction's condition.
    version: int = Field(default=0, ge=0)

    @classmethod
    def nothing_yet(cls, invoice: Invoice) -> CreditedSoFar:
        return cls(
            invoice_number=str(invoice.number),
            currency=invoice.currency,
            invoice_gross=invoice.gross_total,
        )

    @property
    def remaining_gross(self) -> Decimal:
        return self.invoice_gross - self.credited_gross

    def with_credit_note(self, plan: CreditNotePlan, number: str) -> CreditedSoFar:
        """This state once ``plan`` is issued as ``number`` (the next version)."""
        note = plan.credit_note
        taxable = dict(self.credited_taxable)
        tax = dict(self.credited_tax)
        for subtotal in note.tax_breakdown:
            key = _rate_key(subtotal)
            taxable[key] = taxable.get(key, Decimal(0)) - subtotal.taxable_amount
            tax[key] = tax.get(key, Decimal(0)) - subtotal.tax_amount
        return self.model_copy(
            update={
                "credited_gross": self.credited_gross - note.gross_total,
                "credited_by_amount": self.credited_by_amount
                + (Decimal(0) if plan.credited_lines else -note.gross_total),
                "credited_lines": (*self.credited_lines, *plan.credited_lines),
                "credited_taxable": taxable,
                "credited_tax": tax,
                "credit_notes": (*self.credit_notes, number),
                "version": self.version + 1,
            }
        )

    def fully_credited(self) -> str:
        return (
            f"{self.invoice_number} is fully credited ({self.credited_gross} {self.currency} by "
            f"{', '.join(self.credit_notes)}): nothing is left to credit, so no credit note "
            "was issued."
        )

    def refusal(self, plan: CreditNotePlan) -> str | None:
        """Why ``plan`` cannot be issued on top of what is credited, or None if it can."""
        number = self.invoice_number
        done = ", ".join(self.credit_notes)
        if self.remaining_gross <= 0:
            return self.fully_credited()
        again = sorted(set(plan.credited_lines) & set(self.credited_lines))
        if again:
            return (
                f"Line {', '.join(again)} of {number} was already credited by {done}; "
                "a line is credited once, so no credit note was issued."
            )
        asked = -plan.credit_note.gross_total
        if asked > self.remaining_gross:
            return (
                f"A credit note of {asked} {self.currency} would credit more than {number}'s "
                f"{self.invoice_gross} {self.currency}: {self.credited_gross} {self.currency} "
                f"is already credited by {done}, so at most {self.remaining_gross} "
                f"{self.currency} is left. No credit note was issued."
            )
        return None


class CreditNotePlan(BaseModel):
    """The draft credit note an approver sees, and the invoice lines it credits."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    credit_note: Invoice
    credited_lines: tuple[str, ...] = ()


def plan_credit_note(
    invoice: Invoice, request: CreditNoteRequest, so_far: CreditedSoFar, run_id: str
) -> CreditNotePlan:
    """The draft credit note ``request`` asks for, or ``CorrectionRefused`` with a sentence."""
    if so_far.remaining_gross <= 0:
        raise CorrectionRefused(str(so_far.fully_credited()))
    try:
        if request.amount is not None:
            plan = CreditNotePlan(credit_note=_amount_credit(invoice, request, run_id))
        else:
            plan = _line_credit(invoice, request, so_far, run_id)
    except (NotCreditable, ValueError) as error:
        raise CorrectionRefused(f"No credit note for {request.invoice}: {error}") from None
    refusal = so_far.refusal(plan)
    if refusal:
        raise CorrectionRefused(refusal)
    return plan


def _line_credit(
    invoice: Invoice, request: CreditNoteRequest, so_far: CreditedSoFar, run_id: str
) -> CreditNotePlan:
    credited = set(so_far.credited_lines)
    if request.lines == "all":
        if so_far.credited_by_amount:
            raise ValueError(
                f"{so_far.credited_by_amount} {so_far.currency} of it is credited as an amount "
                f"by {', '.join(so_far.credit_notes)}, which no line stands for; credit what is "
                f"left ({so_far.remaining_gross} {so_far.currency} with tax) as an amount"
            )
        line_ids = [line.line_id for line in invoice.lines if line.line_id not in credited]
    else:
        line_ids = list(dict.fromkeys(request.lines or ()))
    if not line_ids:
        raise ValueError("every line is credited already")
    note = create_credit_note(invoice, request.reason, line_ids=line_ids, run_id=run_id)
    closes = len(credited) + len(line_ids) == len(invoice.lines) and credited.isdisjoint(line_ids)
    if closes and credited:
        note = _closing_tax(invoice, note, so_far)
    return CreditNotePlan(credit_note=note, credited_lines=tuple(line_ids))


def _closing_tax(invoice: Invoice, note: Invoice, so_far: CreditedSoFar) -> Invoice:
    """The last lines' credit note takes, per rate, exactly what the earlier ones left."""
    breakdown = tuple(
        subtotal.model_copy(
            update={
                "taxable_amount": -(
                    subtotal.taxable_amount
                    - so_far.credited_taxable.get(_rate_key(subtotal), Decimal(0))
                ),
                "tax_amount": -(
                    subtotal.tax_amount - so_far.credited_tax.get(_rate_key(subtotal), Decimal(0))
                ),
            }
        )
        for subtotal in invoice.tax_breakdown
    )
    breakdown = tuple(s for s in breakdown if s.taxable_amount or s.tax_amount)
    tax_total = sum((s.tax_amount for s in breakdown), zero(invoice.currency))
    return note.model_copy(
        update={
            "tax_breakdown": breakdown,
            "tax_total": tax_total,
            "gross_total": note.net_total + tax_total,
        }
    )


def _amount_credit(invoice: Invoice, request: CreditNoteRequest, run_id: str) -> Invoice:
    """One credit line of a net amount at the invoice's only tax rate."""
    amount = request.amount or Decimal(0)
    if round_money(amount, invoice.currency) != amount:
        raise ValueError(f"{amount} has more decimals than {invoice.currency} has minor units")
    if len(invoice.tax_breakdown) != 1:
        raise ValueError(
            f"{invoice.number} has {len(invoice.tax_breakdown)} tax rates, so an amount alone "
            "does not say which one it is taxed at; credit its lines instead"
        )
    (rate,) = invoice.tax_breakdown
    template = create_credit_note(
        invoice, request.reason, line_ids=[invoice.lines[0].line_id], run_id=run_id
    )
    words = wording(language_of(invoice.customer.locale))
    line = InvoiceLine(
        line_id="C001",
        kind="credit",
        description=words("credit_amount", number=invoice.number, reason=request.reason),
        product_code=CREDIT_PRODUCT,
        quantity=Decimal(-1),
        unit_price=amount,
        net_amount=-amount,
        tax_rate=rate.tax_rate,
        tax_category=rate.tax_category,
        service_start=invoice.period_start,
        service_end=invoice.period_end,
    )
    tax = round_money(-amount * rate.tax_rate / 100, invoice.currency)
    return template.model_copy(
        update={
            "invoice_id": f"credit:{invoice.number}:amount",
            "lines": (line,),
            "tax_breakdown": (
                rate.model_copy(update={"taxable_amount": -amount, "tax_amount": tax}),
            ),
            "net_total": -amount,
            "tax_total": tax,
            "gross_total": -amount + tax,
        }
    )
