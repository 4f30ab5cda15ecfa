"""PlanResume: every run first finishes what earlier runs left half-done.

A Lambda killed after the number commit, a crash between the e-mail claim and SES, an
ERP down past every retry: each leaves finalized invoices in an intermediate stage of
``lifecycle.py``. A run's summary enters those it left in the store's unfinished index;
a run that died before its summary is still in the index itself, as unsettled, and is
opened here first: its unfinished invoices enter the index, then it is settled. This
step then hands every invoice in the index to the
current run, which takes them through the same Finalize / Dispatch / PostToErp chunk
steps (each does only what is missing, with the same conditional writes), so they are
finished exactly once and reconciled in this run's report.

Invoices of a period whose own run is still active are left to that run. An e-mail
claim still inside its lease is left alone (its sender may be alive); one whose lease
ran out with no SES event about its message is released, sent again and counted
"possibly sent twice".
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from invoice_dispatch import lifecycle
from invoice_dispatch.invoice import InvoiceStatus, lock_scope_of
from invoice_dispatch.platform import Platform
from invoice_dispatch.run import RunContext
from invoice_dispatch.tracking import StoredInvoice
from invoice_dispatch.workflow.delivery import DeliveryPlan, chunked, write_delivery_plan

_BATCH = 100


def _owned_by_another_active_run(
    stored: StoredInvoice,
    context: RunContext,
    lock_holders: dict[str, str | None],
    platform: Platform,
) -> bool:
    """The invoice's own run still holds its lock (period or milestone): that run finishes it."""
    scope = lock_scope_of(stored.invoice)
    if scope not in lock_holders:
        lock_holders[scope] = platform.store.period_lock_holder(context.mode, scope)
    return lock_holders[scope] == stored.invoice.run_id != context.run_id


def _resumable(stored: StoredInvoice, now: datetime, lease: timedelta, platform: Platform) -> bool:
    """Whether this run may take the invoice on now (releasing an expired e-mail claim).

    A draft in the index was approved but never numbered; a finished invoice still in the
    index (its last write raced another) just leaves it.
    """
    if stored.invoice.status is InvoiceStatus.DRAFT:
        return True
    if lifecycle.is_finished(stored):
        platform.store.leave_unfinished_index(stored.invoice_id)
        return False
    if lifecycle.Need.CONFIRM_SEND not in lifecycle.remaining_work(stored):
        return True
    if not lifecycle.claim_expired(stored, now, lease) or stored.dispatch_claimed_at is None:
        return False
    return platform.store.release_expired_claim(stored.invoice_id, stored.dispatch_claimed_at)


def settle_ended_runs(context: RunContext, platform: Platform) -> None:
    """Open every unsettled run that has ended without its summary: a crashed execution.

    A run still holding its lock (its period's, or its milestone part's) is alive (or its
    lock was never broken) and is left alone, as is this run. Each invoice the dead run
    left unfinished enters the index before the run's own entry leaves it, so a crash
    here loses nothing either.
    """
    for scope, run_id in platform.store.unsettled_runs(context.mode):
        if run_id == context.run_id:
            continue
        if platform.store.period_lock_holder(context.mode, scope) == run_id:
            continue
        for stored in platform.store.run_invoices(run_id):
            if stored.invoice.status is InvoiceStatus.FINALIZED and not lifecycle.is_finished(
                stored
            ):
                platform.store.mark_unfinished(stored.invoice)
        platform.store.settle_run(run_id)


def plan_resume(context: RunContext, platform: Platform, now: datetime) -> DeliveryPlan:
    """Claim what earlier runs left and write it as this run's resume manifest.

    The unfinished index is walked once, a batch read at a time, and each claimed id goes
    straight into the manifest: after a crash the index may hold a whole run. The index
    is ordered by period and id, so the manifest lists ids in id order. A retry claims
    again what a first attempt claimed (the claim is idempotent), so none is lost.
    """
    settle_ended_runs(context, platform)
    lease = timedelta(seconds=platform.settings.dispatch_claim_lease_seconds)
    lock_holders: dict[str, str | None] = {}

    def resumed_ids() -> Iterator[str]:
        for invoice_ids in chunked(platform.store.unfinished_invoice_ids(context.mode), _BATCH):
            batch = platform.store.get_invoices(invoice_ids)
            for invoice_id in invoice_ids:
                stored = batch.get(invoice_id)
                if stored is None:
                    continue
                if _owned_by_another_active_run(stored, context, lock_holders, platform):
                    continue
                if not _resumable(stored, now, lease, platform):
                    continue
                if platform.store.claim_for_resume(invoice_id, context.run_id):
                    platform.store.append_audit(
                        invoice_id,
                        "resumed",
                        f"{lifecycle.describe(stored)}; finished by run {context.run_id}",
                    )
                    yield invoice_id

    return write_delivery_plan(context, resumed_ids(), platform, phase="resume")
