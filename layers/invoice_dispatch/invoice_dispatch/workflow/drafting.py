"""GenerateDrafts: one draft per (account, period, mode), written with a condition.

Overlapping or repeated runs are the classic source of double billing (Lago #958,
#1086, #1988). Here the invoice id is derived from (account, period, mode) and the
store writes it only if it does not exist yet, so a second run, a retried chunk or two
runs racing each other all end with exactly one draft.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel

from invoice_dispatch.billing import (
    BillingContext,
    BillingHistory,
    billing_period,
    generate_draft,
    screen_account,
)
from invoice_dispatch.invoice import InvoiceStatus, invoice_id_for
from invoice_dispatch.platform import Platform
from invoice_dispatch.run import RunContext, ScreenedOut
from invoice_dispatch.tracking import StoredInvoice
from invoice_dispatch.workflow import keys
from invoice_dispatch.workflow.customer_credit import with_customer_credits


class DraftChunkResult(BaseModel):
    chunk_index: int
    drafted: int
    already_existed: int
    quarantined: int


def previous_period(period: str) -> str:
    year, month = (int(part) for part in period.split("-"))
    return f"{year - 1}-12" if month == 1 else f"{year}-{month - 1:02d}"


def _known_invoices(
    platform: Platform, account_ids: list[str], context: RunContext
) -> dict[str, StoredInvoice]:
    """This period's and the previous period's invoices of a chunk, in one batch read.

    The previous one is the baseline for anomaly checks; an existing one for this period
    means there is nothing to draft (the conditional write would refuse it anyway).
    """
    earlier = previous_period(context.period)
    wanted = {  # a dict keeps order and drops repeats, which a batch read refuses
        invoice_id_for(account_id, label, context.mode, context.milestone): None
        for account_id in account_ids
        for label in (context.period, earlier)
    }
    return platform.store.get_invoices(list(wanted))


def _history(previous: StoredInvoice | None) -> BillingHistory | None:
    if previous is None or previous.invoice.status is not InvoiceStatus.FINALIZED:
        return None
    return BillingHistory(previous_gross_total=Decimal(previous.invoice.gross_total))


def draft_chunk(
    context: RunContext, chunk_index: int, chunk_key: str, platform: Platform
) -> DraftChunkResult:
    period = billing_period(context.period)
    billing_context = BillingContext(
        period=period,
        run_id=context.run_id,
        mode=context.mode,
        legal_entity=platform.legal_entity,
        catalog=platform.catalog,
        tax_table=platform.tax_table,
        thresholds=platform.thresholds,
        completed_milestone=context.milestone,
    )
    drafted = existed = 0
    quarantined: list[ScreenedOut] = []
    nothing_to_bill: list[ScreenedOut] = []
    raw_accounts = with_customer_credits(platform.documents.get_json(chunk_key), platform)
    known = _known_invoices(platform, [str(raw.get("account_id")) for raw in raw_accounts], context)
    earlier = previous_period(context.period)
    for raw in raw_accounts:
        current = known.get(
            invoice_id_for(
                str(raw.get("account_id")), context.period, context.mode, context.milestone
            )
        )
        if current is not None and current.invoice.status is not InvoiceStatus.VOID:
            existed += 1
            continue
        screening = screen_account(raw, period, platform.catalog, context.milestone)
        if screening.account is None:
            quarantined.append(
                ScreenedOut(account_id=screening.account_id, reason=screening.reason or "")
            )
            continue
        account = screening.account
        # A milestone's share compared with last month's invoice says nothing.
        previous = known.get(invoice_id_for(account.account_id, earlier, context.mode))
        history = None if context.milestone else _history(previous) or account.history
        result = generate_draft(account, billing_context, history)
        if result.invoice is None and result.skipped_reason:
            nothing_to_bill.append(
                ScreenedOut(account_id=account.account_id, reason=result.skipped_reason)
            )
            continue
        if result.invoice is None:
            reason = result.quarantine_reason or "The billing engine could not draft an invoice"
            quarantined.append(ScreenedOut(account_id=account.account_id, reason=reason))
            continue
        if platform.store.create_draft(result.invoice):  # its audit lines: dynamodb_store.py
            drafted += 1
        else:
            existed += 1
    platform.documents.put_json(
        keys.drafting_report(context.run_id, chunk_index),
        {
            "quarantined": [entry.model_dump() for entry in quarantined],
            "excluded": [entry.model_dump() for entry in nothing_to_bill],
            "already_existed": existed,
            "drafted": drafted,
        },
    )
    return DraftChunkResult(
        chunk_index=chunk_index,
        drafted=drafted,
        already_existed=existed,
        quarantined=len(quarantined),
    )
