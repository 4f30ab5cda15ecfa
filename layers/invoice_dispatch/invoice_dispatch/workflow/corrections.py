"""The corrections run: one credit note, write-off or dispute, asked for on demand.

Why a state machine of its own (``statemachine/corrections.asl.json``) and not a branch
of the monthly one: a correction concerns one invoice and may be asked any day, while
the monthly run holds its period's lock, pages through a whole run and keeps its history
for 100,000 invoices; a correction run is a dozen events. What the two share is below
the ASL: the signed-link approval (``approval/``), the numbering transaction's shape,
the renderer, the SES sender, the ERP adapters and the ledger.

Every step is idempotent, so a retried Lambda or a repeated request creates nothing
twice: the request is one item per request id (``corrections/requests.py``), the number
is assigned once in a transaction (``adapters/corrections_store.py``), the PDF goes to a
key named by the number, the e-mail is claimed before SES is called, the ERP is asked
for the number before creating, and ledger entries are postings keyed by the credit note
number or the request id (``payments_in.record_once``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from invoice_dispatch.adapters.aws_errors import transient_reason
from invoice_dispatch.adapters.corrections_store import (
    ENDED_WITHOUT_EFFECT,
    CorrectionStatus,
    now_iso,
)
from invoice_dispatch.approval.correction_page import (
    CORRECTIONS,
    CorrectionSummary,
    render_correction_email,
)
from invoice_dispatch.approval.links import sign_approval_link
from invoice_dispatch.billing.credits import next_period
from invoice_dispatch.corrections import (
    CorrectionInput,
    CorrectionKind,
    CorrectionRefused,
    CreditedSoFar,
    CreditNotePlan,
    CreditNoteRequest,
    DisputeRequest,
    WriteOffRequest,
    parse_correction_input,
    plan_credit_note,
)
from invoice_dispatch.erp import (
    ErpPermanentError,
    ErpReceipt,
    build_payment,
    post_credit_note_once,
    post_payment_once,
)
from invoice_dispatch.errors import PermanentError, TransientError
from invoice_dispatch.invoice import Invoice, InvoiceStatus, invoice_id_for
from invoice_dispatch.legal_entity import LegalEntity
from invoice_dispatch.money import round_money
from invoice_dispatch.platform import Platform
from invoice_dispatch.receivables import (
    EntryKind,
    LedgerEntry,
    Posting,
    Receivable,
)
from invoice_dispatch.rendering import render_invoice_email
from invoice_dispatch.workflow.dispatch import customer_message
from invoice_dispatch.workflow.finalize import finalized_copy
from invoice_dispatch.workflow.mime import build_message
from invoice_dispatch.workflow.payments_in import record_once
from invoice_dispatch.workflow.receivables_admission import apply_credit_note
from invoice_dispatch.workflow.run_history import correction_record, record_run

#: Numbering again after a concurrent change: twenty in a row means something keeps writing.
_ATTEMPTS = 20


class CorrectionState(BaseModel):
    """What travels between the corrections run's states: ids and flags, never documents."""

    request_id: str
    kind: CorrectionKind
    invoice: str
    needs_approval: bool
    approval_timeout_seconds: int
    #: An earlier run of the same request finished it: this one changes nothing.
    already_done: bool = False


class CorrectionStepEvent(BaseModel):
    """The input of every step after StartCorrection (the ASL passes these fields only)."""

    correction: CorrectionState
    task_token: str | None = None
    #: For CloseCorrection: why the run ends without effect, and the error it caught.
    outcome: CorrectionStatus | None = None
    error: dict[str, str] | None = None


# ------------------------------------------------------------------ start
def _receivable(number: str, platform: Platform) -> Receivable:
    receivable = platform.ledger.receivable(number)
    if receivable is None:
        raise CorrectionRefused(
            f"{number} is not an invoice on the receivables ledger: only a finalized invoice "
            "that was e-mailed (the daily collections run admits it) can be corrected."
        )
    return receivable


def _invoice(receivable: Receivable, platform: Platform) -> Invoice:
    stored = platform.store.get_invoice(receivable.invoice_id)
    if stored is None or stored.invoice.status is not InvoiceStatus.FINALIZED:
        raise CorrectionRefused(f"{receivable.number} has no finalized invoice document.")
    return stored.invoice


def _credited_so_far(invoice: Invoice, platform: Platform) -> CreditedSoFar:
    number = str(invoice.number)
    return platform.corrections.credited_so_far(number) or CreditedSoFar.nothing_yet(invoice)


def _summary(
    parsed: CorrectionInput,
    request_id: str,
    receivable: Receivable,
    amounts: tuple[Decimal, Decimal, Decimal],
    lines: list[str],
    credited_before: Decimal,
) -> CorrectionSummary:
    net, tax, gross = amounts
    labels = {
        CorrectionKind.CREDIT_NOTE: ("credit note", "Credit (with tax)"),
        CorrectionKind.WRITE_OFF: ("write-off", "Written off"),
        CorrectionKind.DISPUTE: ("dispute", "Disputed"),
    }
    kind_label, amount_label = labels[parsed.kind]
    return CorrectionSummary(
        request_id=request_id,
        kind_label=kind_label,
        invoice_number=receivable.number,
        account_id=receivable.account_id,
        customer_name=receivable.customer_name,
        currency=receivable.currency,
        invoice_gross=receivable.gross,
        open_amount=receivable.open_amount,
        credited_before=credited_before,
        amount_label=amount_label,
        amount_net=net,
        amount_tax=tax,
        amount_gross=gross,
        lines=lines,
        reason=parsed.request.reason,
    )


def start_correction(raw_input: dict[str, object], platform: Platform) -> CorrectionState:
    """Validate the request against the invoice and the ledger, and write it once.

    Refusals (an invoice not on the ledger, a credit beyond what is left, a write-off of
    more than is open, a dispute already open) end the run at once with a sentence, and
    nothing is written.
    """
    parsed = parse_correction_input(raw_input)
    request_id = parsed.request_id
    request = parsed.request
    receivable = _receivable(request.invoice, platform)
    state = CorrectionState(
        request_id=request_id,
        kind=parsed.kind,
        invoice=receivable.number,
        needs_approval=True,
        approval_timeout_seconds=int(platform.settings.approval_ttl_hours * 3600),
    )
    existing = platform.corrections.get(request_id)
    if existing is not None and CorrectionStatus(existing["status"]) not in ENDED_WITHOUT_EFFECT:
        return _asked_again(state, existing)
    fields: dict[str, object] = {
        "kind": parsed.kind.value,
        "request": parsed.model_dump_json(exclude_none=True),
        "invoice_number": receivable.number,
        "invoice_id": receivable.invoice_id,
        "account_id": receivable.account_id,
    }
    needs_approval = True
    if isinstance(request, CreditNoteRequest):
        invoice = _invoice(receivable, platform)
        so_far = _credited_so_far(invoice, platform)
        plan = plan_credit_note(invoice, request, so_far, run_id=request_id)
        note = plan.credit_note.model_copy(update={"invoice_id": f"credit:{request_id}"})
        plan = plan.model_copy(update={"credit_note": note})
        fields["plan"] = plan.model_dump_json()
        fields["invoice_gross"] = invoice.gross_total
        amounts = (-note.net_total, -note.tax_total, -note.gross_total)
        lines = [f"{line.description}: {-line.net_amount} {note.currency}" for line in note.lines]
        summary = _summary(parsed, request_id, receivable, amounts, lines, so_far.credited_gross)
    elif isinstance(request, WriteOffRequest):
        amount = _write_off_amount(request, receivable)
        fields["amount"] = amount
        needs_approval = amount > platform.settings.write_off_approval_threshold
        zero = Decimal(0)
        summary = _summary(parsed, request_id, receivable, (amount, zero, amount), [], zero)
    else:
        _check_dispute(request, receivable)
        needs_approval = False
        zero = Decimal(0)
        summary = _summary(parsed, request_id, receivable, (zero, zero, zero), [], zero)
    fields["summary"] = summary.model_dump_json()
    fields["needs_approval"] = needs_approval
    state = state.model_copy(update={"needs_approval": needs_approval})
    existing = platform.corrections.open(request_id, fields)
    return state if existing is None else _asked_again(state, existing)


def _asked_again(state: CorrectionState, existing: Mapping[str, object]) -> CorrectionState:
    """The same request once more: it waits for approval (refused), or this run finishes
    what an approved one started (each step is idempotent), or it is done (nothing)."""
    request_id = state.request_id
    status = CorrectionStatus(str(existing["status"]))
    if status in (CorrectionStatus.REQUESTED, CorrectionStatus.AWAITING_APPROVAL):
        raise CorrectionRefused(
            f"Correction {request_id} was already requested at {existing['requested_at']} and "
            "waits for its approval; decide it from the e-mailed link. Nothing was done."
        )
    # Approved earlier: this run finishes what that one started (each step is idempotent).
    return state.model_copy(
        update={"needs_approval": False, "already_done": status is CorrectionStatus.DONE}
    )


def _write_off_amount(request: WriteOffRequest, receivable: Receivable) -> Decimal:
    open_amount = receivable.open_amount
    if open_amount <= 0:
        raise CorrectionRefused(
            f"{receivable.number} has nothing open ({open_amount} {receivable.currency}): "
            "there is nothing to write off."
        )
    amount = request.amount if request.amount is not None else open_amount
    if round_money(amount, receivable.currency) != amount:
        raise CorrectionRefused(
            f"{amount} has more decimals than {receivable.currency} has minor units."
        )
    if amount > open_amount:
        raise CorrectionRefused(
            f"A write-off of {amount} {receivable.currency} is more than the "
            f"{open_amount} {receivable.currency} still open on {receivable.number}; "
            "nothing was written off."
        )
    return amount


def _check_dispute(request: DisputeRequest, receivable: Receivable) -> None:
    if request.action == "open" and receivable.dispute_open:
        raise CorrectionRefused(f"{receivable.number} is already disputed; nothing was changed.")
    if request.action == "open" and receivable.open_amount <= 0:
        raise CorrectionRefused(
            f"{receivable.number} has nothing open, so there is nothing to dispute."
        )
    if request.action == "close" and not receivable.dispute_open:
        raise CorrectionRefused(f"{receivable.number} has no open dispute to close.")


# --------------------------------------------------------------- approval
def _summary_of(item: Mapping[str, object]) -> CorrectionSummary:
    return CorrectionSummary.model_validate_json(str(item["summary"]))


def _item(request_id: str, platform: Platform) -> dict[str, object]:
    item = platform.corrections.get(request_id)
    if item is None:
        raise PermanentError(f"There is no correction {request_id}")
    return item


def request_correction_approval(
    state: CorrectionState, task_token: str, platform: Platform, now: datetime | None = None
) -> int:
    """Store the token, then e-mail each approver their own signed link to the small page."""
    now = now or datetime.now(UTC)
    expires_at = now + timedelta(seconds=state.approval_timeout_seconds)
    summary = _summary_of(_item(state.request_id, platform)).model_copy(
        update={"expires_at": expires_at}
    )
    written = platform.corrections.update(
        state.request_id,
        {
            "status": CorrectionStatus.AWAITING_APPROVAL.value,
            "task_token": task_token,
            "approval_expires_at": expires_at.isoformat(),
            "approval_requested_at": now.isoformat(),
            "summary": summary.model_dump_json(),
        },
        expected=(CorrectionStatus.REQUESTED, CorrectionStatus.AWAITING_APPROVAL),
    )
    if not written:
        raise PermanentError(f"Correction {state.request_id} is no longer waiting for approval")
    settings = platform.settings
    key = platform.approval_key()
    for approver in settings.approver_emails:
        link = sign_approval_link(
            settings.approval_base_url, state.request_id, approver, expires_at, key, CORRECTIONS
        )
        subject, text_body, html_body = render_correction_email(summary, link, expires_at)
        message = build_message(
            sender=settings.sender_email,
            recipient=approver,
            subject=subject,
            text_body=text_body,
            html_body=html_body,
        )
        platform.mailer.send_raw(
            settings.sender_email,
            approver,
            message,
            {"correction": state.request_id, "kind": "correction_approval"},
        )
    return len(settings.approver_emails)


def close_correction(
    request_id: str, outcome: CorrectionStatus, cause: str, platform: Platform
) -> None:
    """A rejected, expired or refused correction ends without effect; asked again, it may run."""
    platform.corrections.update(
        request_id,
        {"status": outcome.value, "outcome": cause[:1000], "closed_at": now_iso()},
        expected=(
            CorrectionStatus.REQUESTED,
            CorrectionStatus.AWAITING_APPROVAL,
            CorrectionStatus.APPROVED,
        ),
    )


def end_correction(
    state: CorrectionState, outcome: CorrectionStatus | None, cause: str, platform: Platform
) -> None:
    """Every corrections run ends here: closed without effect (``outcome``) or done; either
    way its record enters the run history."""
    if outcome is not None:
        close_correction(state.request_id, outcome, cause, platform)
    item = _item(state.request_id, platform)
    record_run(correction_record(state.kind.value, item, platform), platform)


# ------------------------------------------------------------ credit note
def credit_note_series(legal_entity: LegalEntity, year: int) -> str:
    """Credit notes count apart from invoices: one gapless series per entity and year."""
    return f"{legal_entity.code}:CREDIT:{year}"


def credit_note_copy(
    draft: Invoice, legal_entity: LegalEntity, sequence: int, issued_at: datetime
) -> Invoice:
    """Finalized as an invoice is, numbered in the credit-note series, due when issued."""
    finalized = finalized_copy(draft, legal_entity, sequence, issued_at)
    issue_date = finalized.issue_date
    assert issue_date is not None  # finalized_copy always dates the document
    number = legal_entity.credit_note_number_format.format(
        year=issue_date.year, sequence=sequence, entity=legal_entity.code
    )
    return finalized.model_copy(update={"number": number, "due_date": issue_date})


def _issued(item: Mapping[str, object]) -> Invoice:
    return Invoice.model_validate_json(str(item["document"]))


def issue_credit_note(request_id: str, platform: Platform, now: datetime | None = None) -> str:
    """Number the approved credit note, then render and store its PDF. Returns its number.

    The remainder is judged again on the totals the transaction will move: a credit note
    approved while another one was issued may no longer fit, and is refused then.
    """
    now = now or datetime.now(UTC)
    corrections = platform.corrections
    entity = platform.legal_entity
    series = credit_note_series(entity, now.astimezone(ZoneInfo(entity.timezone)).year)
    for _attempt in range(_ATTEMPTS):
        item = _item(request_id, platform)
        if item.get("number"):
            break
        if item["status"] != CorrectionStatus.APPROVED.value:
            raise PermanentError(f"Correction {request_id} is {item['status']}, not approved")
        plan = CreditNotePlan.model_validate_json(str(item["plan"]))
        invoice_number = str(item["invoice_number"])
        before = corrections.credited_so_far(invoice_number) or CreditedSoFar(
            invoice_number=invoice_number,
            currency=plan.credit_note.currency,
            invoice_gross=Decimal(str(item["invoice_gross"])),
        )
        refusal = before.refusal(plan)
        if refusal:
            close_correction(request_id, CorrectionStatus.REFUSED, refusal, platform)
            raise CorrectionRefused(refusal)
        last_number = corrections.last_number(series)
        note = credit_note_copy(plan.credit_note, entity, last_number + 1, now)
        after = before.with_credit_note(plan, str(note.number))
        if corrections.commit_credit_note(request_id, note, before, after, series, last_number):
            item = _item(request_id, platform)
            break
    else:
        raise TransientError(f"Could not number credit note {request_id}: kept contended")
    note = _issued(item)
    if not item.get("pdf_key"):
        pdf = platform.renderer.render_pdf(note)
        digest = hashlib.sha256(pdf).hexdigest()
        key = platform.documents.put_bytes(
            f"credit-notes/{note.period}/{note.number}.pdf",
            pdf,
            "application/pdf",
            {"invoice-number": str(note.number), "sha256": digest},
        )
        corrections.update(request_id, {"pdf_key": key, "pdf_sha256": digest}, unset="pdf_key")
    return str(note.number)


def deliver_credit_note(request_id: str, platform: Platform) -> str:
    """E-mail the credit note to the customer once: claimed first, ``sent`` on SES's id."""
    corrections = platform.corrections
    item = _item(request_id, platform)
    if item.get("message_id"):
        return str(item["message_id"])
    if not corrections.update(
        request_id, {"email_claimed_at": now_iso()}, unset="email_claimed_at"
    ):
        raise PermanentError(
            f"The e-mail of correction {request_id} was claimed at {item.get('email_claimed_at')} "
            "by an attempt that did not record SES's answer; check the outbox before sending it "
            "again (remove email_claimed_at to allow it)."
        )
    note = _issued(item)
    settings = platform.settings
    recipient = note.customer.email
    try:
        # As every customer e-mail: the portal link, and the PDF unless the channel is portal.
        portal_url = platform.portal_link(note.account_id, datetime.now(UTC))
        email = render_invoice_email(note, platform.legal_entity, portal_url)
        attachment = (
            platform.documents.get_bytes(str(item["pdf_key"]))
            if note.customer.channel.attaches_pdf
            else None
        )
        message = customer_message(note, recipient, email, attachment, platform)
        message_id = platform.mailer.send_raw(
            settings.sender_email,
            recipient,
            message,
            {"correction": request_id, "kind": "credit_note"},
        )
    except Exception as error:
        corrections.release_email_claim(request_id)
        if isinstance(error, TransientError) or transient_reason(error):
            raise TransientError(f"Credit note {note.number} not sent yet: {error}") from error
        raise
    corrections.update(request_id, {"message_id": message_id, "sent_at": now_iso()})
    return message_id


# -------------------------------------------------------------------- ERP
def post_correction_to_erp(request_id: str, platform: Platform) -> str:
    """Book the credit note (a document) or the write-off (a payment to bad debt) once."""
    item = _item(request_id, platform)
    if item.get("erp_id"):
        return str(item["erp_id"])
    if platform.settings.erp_adapter == "none":
        return ""
    try:
        if item["kind"] == CorrectionKind.CREDIT_NOTE.value:
            receipt = post_credit_note_once(
                _issued(item), platform.erp_mapping, platform.erp_credit_note_client
            )
        else:
            receipt = _post_write_off(request_id, str(item["invoice_number"]), platform)
    except ErpPermanentError as refused:
        raise PermanentError(f"The ERP refused correction {request_id}: {refused}") from refused
    platform.corrections.update(request_id, {"erp_id": receipt.erp_id, "erp_at": now_iso()})
    return receipt.erp_id


def _post_write_off(request_id: str, number: str, platform: Platform) -> ErpReceipt:
    ledger = platform.ledger
    key = write_off_key(request_id)
    for sequence, entry in enumerate(ledger.entries(number), start=1):
        if entry.entry_key == key:
            receivable = _receivable(number, platform)
            payment = build_payment(receivable, entry, platform.erp_mapping)
            receipt = post_payment_once(payment, platform.erp_payment_client)
            ledger.record_erp_booked(number, sequence, receipt.erp_id)
            return receipt
    raise PermanentError(f"Write-off {request_id} is not on {number}'s ledger yet")


# ----------------------------------------------------------------- ledger
def write_off_key(request_id: str) -> str:
    return f"write-off:{request_id}"


def _record_entry(
    key: str,
    number: str,
    kind: EntryKind,
    amount: Decimal,
    note: str,
    source: str,
    platform: Platform,
    on: datetime,
) -> None:
    """One entry on one invoice's ledger, once per key; ``kind``'s own checks run on the
    receivable as the transaction will find it (``record_once`` judges again on conflict)."""

    def decide(receivables: Mapping[str, Receivable]) -> Posting:
        receivable = receivables.get(number)
        if receivable is None:
            raise CorrectionRefused(f"{number} is not on the receivables ledger.")
        if kind is EntryKind.WRITE_OFF and amount > receivable.open_amount:
            raise CorrectionRefused(
                f"A write-off of {amount} {receivable.currency} is more than the "
                f"{receivable.open_amount} {receivable.currency} still open on {number}; "
                "nothing was written off."
            )
        if kind is EntryKind.DISPUTE_OPENED and receivable.dispute_open:
            raise CorrectionRefused(f"{number} is already disputed; nothing was changed.")
        if kind is EntryKind.DISPUTE_CLOSED and not receivable.dispute_open:
            raise CorrectionRefused(f"{number} has no open dispute to close.")
        entry = LedgerEntry(
            entry_key=key,
            kind=kind,
            currency=receivable.currency,
            amount=amount,
            booked_on=on.date(),
            note=note[:500],
        )
        return Posting.applied_to_one(key, source, entry, number, note)

    record_once(key, [number], decide, platform)


def _close_dispute_if_open(
    request_id: str, number: str, resolution: str, platform: Platform, now: datetime
) -> None:
    receivable = platform.ledger.receivable(number)
    if receivable is not None and receivable.dispute_open:
        _record_entry(
            f"dispute-closed:{request_id}",
            number,
            EntryKind.DISPUTE_CLOSED,
            Decimal(0),
            f"Dispute resolved: {resolution}",
            "dispute",
            platform,
            now,
        )


def apply_correction(request_id: str, platform: Platform, now: datetime | None = None) -> str:
    """Write the correction to the ledger once; returns the invoice's status afterwards."""
    now = now or datetime.now(UTC)
    item = _item(request_id, platform)
    number = str(item["invoice_number"])
    request = CorrectionInput.model_validate_json(str(item["request"])).request
    if isinstance(request, CreditNoteRequest):
        note = _issued(item)
        apply_credit_note(note, platform)
        carry_over_credit(note, platform)
        _close_dispute_if_open(request_id, number, f"credit note {note.number}", platform, now)
    elif isinstance(request, WriteOffRequest):
        _record_entry(
            write_off_key(request_id),
            number,
            EntryKind.WRITE_OFF,
            Decimal(str(item["amount"])),
            f"Written off: {request.reason}",
            "write-off",
            platform,
            now,
        )
        _close_dispute_if_open(request_id, number, "written off", platform, now)
    else:
        assert isinstance(request, DisputeRequest)
        kind = EntryKind.DISPUTE_OPENED if request.action == "open" else EntryKind.DISPUTE_CLOSED
        verb = "Disputed" if request.action == "open" else "Dispute closed, back to open"
        _record_entry(
            f"dispute:{request_id}",
            number,
            kind,
            Decimal(0),
            f"{verb}: {request.reason}",
            "dispute",
            platform,
            now,
        )
    platform.corrections.update(
        request_id,
        {"status": CorrectionStatus.DONE.value, "ledger_at": now_iso()},
        expected=(CorrectionStatus.REQUESTED, CorrectionStatus.APPROVED, CorrectionStatus.ISSUED),
    )
    receivable = _receivable(number, platform)
    return receivable.status(now.date()).value


def carry_over_credit(note: Invoice, platform: Platform) -> Decimal:
    """What a credit note gives beyond what was open becomes the customer's credit balance.

    A paid invoice credited leaves the customer owed money (the receivable is overpaid).
    As with a period whose total is negative (``billing/credits.py``), that money is not
    paid out here: the customer's next invoice carries it first, as a credit line at its
    own tax rate. So the excess (net, in the credit note's proportion of net to gross) is
    written to the customer's balance, which drafting merges into the account's
    ``credits``, and the receivable records it as handed on (a ``refund`` entry: it left
    this invoice), which settles it. Both writes are once per credit note number.
    Returns the gross amount carried (0 when the credit fitted in what was open).
    """
    number = str(note.credited_invoice_number)
    receivable = platform.ledger.receivable(number)
    if receivable is None or receivable.open_amount >= 0:
        return Decimal(0)
    gross_credit = -note.gross_total
    excess = min(-receivable.open_amount, gross_credit)
    net_excess = round_money(excess * note.net_total / note.gross_total, note.currency)
    platform.corrections.add_customer_credit(
        note.account_id,
        {
            "credit_id": str(note.number),
            "from_period": note.period,
            "apply_in": _first_period_to_draft(note, platform),
            "amount": f"{net_excess:f}",
            "currency": note.currency,
            "description": f"credit note {note.number} for paid invoice {number}",
        },
    )
    key = f"carried:{note.number}"
    _record_entry(
        key,
        number,
        EntryKind.REFUND,
        excess,
        f"Carried to the customer's next invoice as credit {note.number}",
        "credit note",
        platform,
        datetime.combine(note.issue_date or datetime.now(UTC).date(), datetime.min.time()),
    )
    return excess


def _first_period_to_draft(note: Invoice, platform: Platform) -> str:
    """The period of the issue date, or the next one if its invoice is drafted already."""
    issued = note.issue_date or datetime.now(UTC).date()
    period = issued.strftime("%Y-%m")
    while True:
        existing = platform.store.get_invoice(invoice_id_for(note.account_id, period, "live"))
        if existing is None or existing.invoice.status is InvoiceStatus.VOID:
            return period
        period = next_period(period)
