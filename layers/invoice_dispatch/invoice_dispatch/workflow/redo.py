"""On-demand redo of a period: re-send failed e-mails and replay ERP errors, never twice.

A billing team fixes a bounced address in the account source, or a missing line in the
ERP mapping, then starts a run with ``resend_failed_deliveries`` or
``replay_erp_errors``. The affected finalized invoices are handed to this run with only
their failed tracking state reset, and go through the same delivery Map as a monthly
run: dispatch claims each e-mail once, and the ERP post still looks up by invoice
number before creating, so a replay can never book a second entry.
"""

from __future__ import annotations

import json

from invoice_dispatch.adapters.s3_documents import read_uri
from invoice_dispatch.invoice import ErpStatus, InvoiceStatus
from invoice_dispatch.lifecycle import FAILED_DELIVERY_STATUSES
from invoice_dispatch.platform import Platform
from invoice_dispatch.run import RunContext
from invoice_dispatch.tracking import StoredInvoice
from invoice_dispatch.workflow.delivery import DeliveryPlan, write_delivery_plan
from invoice_dispatch.workflow.gather import parse_account_source


def _current_emails(platform: Platform) -> dict[str, str]:
    """Each account's e-mail as the source says today (a bounced address may be fixed)."""
    uri = platform.settings.account_source_uri
    accounts = parse_account_source(uri, read_uri(platform.clients.client("s3"), uri))
    emails = {}
    for raw in accounts:
        customer = raw.get("customer") if isinstance(raw, dict) else None
        if isinstance(customer, dict) and isinstance(customer.get("email"), str):
            emails[str(raw.get("account_id"))] = customer["email"]
    return emails


def _drain_error_queue(platform: Platform, invoice_ids: set[str]) -> int:
    """Delete the queued ERP errors of the invoices being replayed; leave the others.

    Messages read but not ours stay hidden for the visibility timeout, so one pass sees
    each message once and ends; they reappear in the queue afterwards untouched.
    """
    sqs = platform.clients.client("sqs")
    queue_url = platform.settings.erp_error_queue_url
    removed = 0
    while messages := sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=120
    ).get("Messages", []):
        for message in messages:
            if json.loads(message["Body"]).get("invoice_id") in invoice_ids:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
                removed += 1
    return removed


def plan_redo(context: RunContext, resend: bool, replay: bool, platform: Platform) -> DeliveryPlan:
    emails = _current_emails(platform) if resend else {}
    selected: list[StoredInvoice] = []
    for stored in platform.store.period_invoices(context.mode, context.period):
        if stored.invoice.status is not InvoiceStatus.FINALIZED:
            continue
        needs_resend = resend and stored.delivery_status in FAILED_DELIVERY_STATUSES
        needs_replay = replay and stored.erp_status is ErpStatus.FAILED
        if not (needs_resend or needs_replay):
            continue
        recipient = emails.get(stored.invoice.account_id, stored.invoice.customer.email)
        platform.store.claim_for_redo(
            stored,
            context.run_id,
            resend_to=recipient if needs_resend else None,
            replay_erp=needs_replay,
        )
        what = " and ".join(
            part
            for part, wanted in (("e-mail re-send", needs_resend), ("ERP replay", needs_replay))
            if wanted
        )
        platform.store.append_audit(
            stored.invoice_id, "redo_requested", f"{what} in run {context.run_id}"
        )
        selected.append(stored)
    if replay:
        _drain_error_queue(
            platform, {s.invoice_id for s in selected if s.erp_status is ErpStatus.FAILED}
        )
    return write_delivery_plan(context, sorted(s.invoice_id for s in selected), platform)
