"""The approval step: summarize the batch, ask the approver, apply the decision.

The task token stays in the run record (server-side); the approver's link only carries
the run id, the approver, an expiry and an HMAC signature. A decision is written with a
condition (first one wins), then relayed to Step Functions, so a replayed POST, a second
approver or a mail scanner's GET can never approve twice or approve a finished run.

Every step here walks the run's drafts once, as the store pages them in, keeping only
counts, per-currency totals and the drafts that need a word (flagged, held by a rule):
a run of 100,000 drafts never has them all in memory at once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from invoice_dispatch.adapters.aws_errors import already_exists
from invoice_dispatch.approval.links import sign_approval_link
from invoice_dispatch.approval.models import (
    ApprovalDecision,
    ApprovalSummary,
    CurrencyTotal,
    DraftRow,
    ExcludedAccount,
    FlaggedInvoice,
    QuarantinedAccount,
)
from invoice_dispatch.approval.page import render_approval_email
from invoice_dispatch.errors import ApprovalRejected
from invoice_dispatch.invoice import InvoiceStatus
from invoice_dispatch.platform import Platform
from invoice_dispatch.run import ApprovalRecord, RunContext, RunStatus, ScreenedOut, Screening
from invoice_dispatch.tracking import StoredInvoice
from invoice_dispatch.workflow import keys
from invoice_dispatch.workflow.mime import build_message


class BatchOverview(BaseModel):
    draft_count: int
    flagged_count: int
    held_by_rule_count: int


def drafting_reports(platform: Platform, run_id: str) -> list[dict[str, Any]]:
    """What each drafting chunk wrote down: drafted, already billed, set aside and why."""
    return list(platform.documents.get_json_under(keys.drafting_reports_prefix(run_id)))


def collect_screening(
    platform: Platform, context: RunContext, reports: list[dict[str, Any]] | None = None
) -> Screening:
    """GatherAccounts' screening plus what the engine set aside while drafting.

    The engine can still quarantine an account (a problem only computing reveals) or find
    nothing to bill; both are reported with their reason, never dropped. A caller that has
    already read the drafting ``reports`` passes them, so they are read once.
    """
    screening = Screening.model_validate(
        platform.documents.get_json_if_exists(keys.screening_report(context.run_id)) or {}
    )
    if reports is None:
        reports = drafting_reports(platform, context.run_id)
    for report in reports:
        screening.quarantined.extend(ScreenedOut(**q) for q in report["quarantined"])
        screening.excluded.extend(ScreenedOut(**e) for e in report.get("excluded", []))
    return screening


def held_by_rule_now(stored: StoredInvoice) -> bool:
    """A threshold holds the invoice, unless an approver already released it once."""
    return stored.invoice.is_held_by_rule and not stored.hold_waived


def pending_drafts(platform: Platform, run_id: str) -> Iterator[StoredInvoice]:
    return (
        s for s in platform.store.run_invoices(run_id) if s.invoice.status is InvoiceStatus.DRAFT
    )


def draft_row(stored: StoredInvoice) -> DraftRow:
    invoice = stored.invoice
    return DraftRow(
        invoice_id=invoice.invoice_id,
        account_id=invoice.account_id,
        customer_name=invoice.customer.name,
        currency=invoice.currency,
        net_total=invoice.net_total,
        tax_total=invoice.tax_total,
        gross_total=invoice.gross_total,
        flag_count=len(invoice.anomalies),
        held_by_rule=held_by_rule_now(stored),
    )


@dataclass
class _CurrencySums:
    net: Decimal = Decimal(0)
    tax: Decimal = Decimal(0)
    gross: Decimal = Decimal(0)
    invoice_count: int = 0


@dataclass
class DraftTally:
    """The pending drafts as approval shows them, added up one draft at a time.

    The state machine's overview and the approver's summary count with this one
    definition, so the branch taken and the page shown cannot disagree.
    """

    draft_count: int = 0
    flagged: list[FlaggedInvoice] = field(default_factory=list)
    _sums: dict[str, _CurrencySums] = field(default_factory=dict)

    def add(self, stored: StoredInvoice) -> None:
        invoice = stored.invoice
        sums = self._sums.setdefault(invoice.currency, _CurrencySums())
        sums.net += invoice.net_total
        sums.tax += invoice.tax_total
        sums.gross += invoice.gross_total
        sums.invoice_count += 1
        self.draft_count += 1
        if invoice.anomalies:
            self.flagged.append(
                FlaggedInvoice(
                    invoice_id=invoice.invoice_id,
                    account_id=invoice.account_id,
                    customer_name=invoice.customer.name,
                    gross_total=invoice.gross_total,
                    currency=invoice.currency,
                    messages=[flag.message for flag in invoice.anomalies],
                    held_by_rule=held_by_rule_now(stored),
                )
            )

    def tallied(self, drafts: Iterable[StoredInvoice]) -> Iterator[StoredInvoice]:
        """Each draft, added to the tally as it passes (for a pass that also writes rows)."""
        for stored in drafts:
            self.add(stored)
            yield stored

    @property
    def held_by_rule_count(self) -> int:
        """A rule only holds a draft through a flag, so the flagged drafts hold them all."""
        return sum(1 for flagged in self.flagged if flagged.held_by_rule)

    def currency_totals(self) -> list[CurrencyTotal]:
        return [
            CurrencyTotal(
                currency=currency,
                net=sums.net,
                tax=sums.tax,
                gross=sums.gross,
                invoice_count=sums.invoice_count,
            )
            for currency, sums in sorted(self._sums.items())
        ]


def build_summary(
    context: RunContext, drafts: DraftTally, platform: Platform, expires_at: datetime
) -> ApprovalSummary:
    screening = collect_screening(platform, context)
    return ApprovalSummary(
        run_id=context.run_id,
        period=context.period,
        mode=context.mode,
        legal_entity_name=platform.legal_entity.name,
        totals=drafts.currency_totals(),
        eligible_count=screening.eligible_count,
        excluded=[
            ExcludedAccount(account_id=e.account_id, reason=e.reason) for e in screening.excluded
        ],
        quarantined=[
            QuarantinedAccount(account_id=q.account_id, reason=q.reason)
            for q in screening.quarantined
        ],
        flagged=drafts.flagged,
        held_by_rule_count=drafts.held_by_rule_count,
        expires_at=expires_at,
    )


def overview(context: RunContext, platform: Platform) -> BatchOverview:
    """What the state machine needs to choose a branch: is there anything to approve?"""
    drafts = DraftTally()
    for stored in pending_drafts(platform, context.run_id):
        drafts.add(stored)
    return BatchOverview(
        draft_count=drafts.draft_count,
        flagged_count=len(drafts.flagged),
        held_by_rule_count=drafts.held_by_rule_count,
    )


def _email_approvers(
    context: RunContext,
    summary: ApprovalSummary,
    expires_at: datetime,
    platform: Platform,
    reminder: bool,
) -> int:
    key = platform.approval_key()
    sent = 0
    for approver in platform.settings.approver_emails:
        link = sign_approval_link(
            platform.settings.approval_base_url, context.run_id, approver, expires_at, key
        )
        subject, text_body, html_body = render_approval_email(summary, link)
        message = build_message(
            sender=platform.settings.sender_email,
            recipient=approver,
            subject=f"Reminder: {subject}" if reminder else subject,
            text_body=text_body,
            html_body=html_body,
        )
        platform.mailer.send_raw(
            platform.settings.sender_email,
            approver,
            message,
            {"run_id": context.run_id, "kind": "approval_reminder" if reminder else "approval"},
        )
        sent += 1
    return sent


def _schedule_reminder(context: RunContext, at: datetime, platform: Platform) -> None:
    """A one-time EventBridge Scheduler entry nudges the approvers at half-time."""
    settings = platform.settings
    if not (settings.approval_reminder_function_arn and settings.scheduler_role_arn):
        return
    try:
        platform.clients.client("scheduler").create_schedule(
            Name=f"approval-reminder-{context.run_id}"[:64],
            ScheduleExpression=f"at({at:%Y-%m-%dT%H:%M:%S})",
            ScheduleExpressionTimezone="UTC",
            FlexibleTimeWindow={"Mode": "OFF"},
            ActionAfterCompletion="DELETE",
            Target={
                "Arn": settings.approval_reminder_function_arn,
                "RoleArn": settings.scheduler_role_arn,
                "Input": json.dumps({"run_id": context.run_id}),
            },
        )
    except Exception as error:
        if not already_exists(error):  # a retried RequestApproval scheduled it already
            raise


def request_approval(
    context: RunContext, task_token: str, platform: Platform, now: datetime | None = None
) -> int:
    """Store the token, then e-mail each approver their own signed link. Returns e-mails sent."""
    now = now or datetime.now(UTC)
    expires_at = now + timedelta(seconds=context.approval_timeout_seconds)
    platform.store.update_run(
        context.run_id,
        RunStatus.AWAITING_APPROVAL,
        task_token=task_token,
        approval_expires_at=expires_at.isoformat(),
        approval_requested_at=now.isoformat(),
    )
    # The page lists every draft; one small S3 object per run keeps 10,000 rows fast to
    # page through (drafts cannot change while the run waits for its decision). It is
    # written row by row in the same pass that adds the drafts up for the summary.
    drafts = DraftTally()
    platform.documents.put_json_stream(
        keys.approval_rows(context.run_id),
        (draft_row(stored) for stored in drafts.tallied(pending_drafts(platform, context.run_id))),
    )
    summary = build_summary(context, drafts, platform, expires_at)
    platform.documents.put_json(keys.approval_summary(context.run_id), summary)
    sent = _email_approvers(context, summary, expires_at, platform, reminder=False)
    _schedule_reminder(context, now + (expires_at - now) / 2, platform)
    return sent


def remind_approvers(run_id: str, platform: Platform) -> int:
    """Send the approval link again (half-time reminder, or an operator's re-send).

    Only while the run still waits: a decided, expired or finished run gets no e-mail.
    The link keeps the original expiry; the task's timeout does not move.
    """
    run = platform.store.get_run(run_id)
    if run is None or run["status"] != RunStatus.AWAITING_APPROVAL.value:
        return 0
    context: RunContext = run["context"]
    summary = ApprovalSummary.model_validate(
        platform.documents.get_json(keys.approval_summary(run_id))
    )
    expires_at = datetime.fromisoformat(run["approval_expires_at"])
    return _email_approvers(context, summary, expires_at, platform, reminder=True)


def apply_decision(
    run: dict[str, Any],
    decision: ApprovalDecision,
    held_by_rule: list[str],
    platform: Platform,
) -> bool:
    """Record the first decision and relay it to Step Functions; later ones change nothing.

    ``held_by_rule`` are the drafts a threshold holds whatever the approver decides (the
    page lists them without a checkbox).
    """
    context: RunContext = run["context"]
    record = ApprovalRecord(
        decision=decision.decision,
        approver=decision.approver,
        decided_at=decision.decided_at,
        held_invoice_ids=list(decision.held_invoice_ids),
        reason=decision.reason,
        source_ip=decision.source_ip,
        user_agent=decision.user_agent,
    )
    if not platform.store.record_decision(context.run_id, record):
        return False
    sfn = platform.clients.client("stepfunctions")
    if decision.decision == "reject":
        sfn.send_task_failure(
            taskToken=run["task_token"],
            error=ApprovalRejected.__name__,
            cause=f"Rejected by {decision.approver}: {decision.reason}",
        )
        return True
    # Rule holds first: a forged form that also names a rule-held draft cannot put the
    # approver's name on a hold the rule made.
    held = hold_by_rule(context, platform.store.get_invoices(held_by_rule).values(), platform)
    held += hold_invoices(context, decision.held_invoice_ids, decision.approver, platform)
    sfn.send_task_success(
        taskToken=run["task_token"],
        output=json.dumps(
            {"decision": "approve", "approver": decision.approver, "held_count": held}
        ),
    )
    return True


def _move_drafts(
    context: RunContext,
    invoice_ids: Iterable[str],
    transition: tuple[InvoiceStatus, InvoiceStatus],
    audit: tuple[str, str, str],
    platform: Platform,
    *,
    claim_for_run: bool = False,
    held_by: str | None = None,
) -> int:
    """Move each draft from one status to another (conditionally) and audit each move.

    ``audit`` is (event, detail, actor); the detail is also kept as the hold/void reason,
    ``held_by`` as who held it. Returns how many moved: one already moved by a retry or
    another run is skipped.
    """
    expected, new_status = transition
    event, detail, actor = audit
    moved = 0
    for invoice_id in invoice_ids:
        if platform.store.set_status(
            invoice_id,
            context.run_id,
            new_status,
            (expected,),
            claim_for_run=claim_for_run,
            reason=None if claim_for_run else detail,
            held_by=held_by,
        ):
            platform.store.append_audit(invoice_id, event, detail, actor)
            moved += 1
    return moved


_DRAFT_TO_HELD = (InvoiceStatus.DRAFT, InvoiceStatus.HELD)


def hold_invoices(
    context: RunContext, invoice_ids: list[str], approver: str, platform: Platform
) -> int:
    """An approver's holds: they stay unnumbered drafts until a later run releases them."""
    audit = ("held", f"Held at approval by {approver}", approver)
    return _move_drafts(context, invoice_ids, _DRAFT_TO_HELD, audit, platform, held_by=approver)


def hold_by_rule(context: RunContext, drafts: Iterable[StoredInvoice], platform: Platform) -> int:
    """Holds a threshold makes by itself, audited as the system's and naming the rule.

    Nobody chose these (the page shows them without a checkbox, auto-approval has no
    person), so the audit trail and the run report must not put an approver's name on them.
    """
    held = 0
    for stored in drafts:
        rules = stored.invoice.holding_flags
        detail = "; ".join(f"Held by rule {flag.code}: {flag.message}" for flag in rules)
        held_by = ", ".join(f"rule {flag.code}" for flag in rules)
        held += _move_drafts(
            context,
            [stored.invoice_id],
            _DRAFT_TO_HELD,
            ("held", detail, "system"),
            platform,
            held_by=held_by,
        )
    return held


def void_draft(context: RunContext, invoice_id: str, reason: str, platform: Platform) -> bool:
    """A rejected or expired batch gives its drafts up, so a corrected run can draft again.

    SummarizeRun voids each pending draft in the pass that reports the run.
    """
    audit = ("voided", reason, "system")
    transition = (InvoiceStatus.DRAFT, InvoiceStatus.VOID)
    return _move_drafts(context, [invoice_id], transition, audit, platform) == 1


def auto_approve(context: RunContext, platform: Platform) -> int:
    """Trusted set-ups skip the human step; invoices that trip a hold threshold stay held."""
    # Only the drafts a rule holds are kept: they are the exceptions, not the run.
    rule_held = [d for d in pending_drafts(platform, context.run_id) if held_by_rule_now(d)]
    platform.store.update_run(
        context.run_id,
        RunStatus.APPROVED,
        approval=ApprovalRecord(
            decision="approve",
            approver="auto-approve",
            decided_at=datetime.now(UTC),
            held_invoice_ids=[d.invoice_id for d in rule_held],
        ).model_dump_json(),
    )
    return hold_by_rule(context, rule_held, platform)


def release_held(context: RunContext, platform: Platform) -> int:
    """Bring held drafts of this period into this run so they go through approval again.

    Releasing is the approver's explicit wish, so a threshold that held the invoice
    automatically is waived for it; the flags stay on the page for the next decision.
    """
    held_ids: Iterable[str]
    if context.release_held == "all":
        # Moved as the period is paged through: the move changes neither the period's
        # index key nor the status the filter already read.
        held_ids = (
            stored.invoice_id
            for stored in platform.store.period_invoices(context.mode, context.period)
            if stored.invoice.status is InvoiceStatus.HELD
        )
    else:
        held_ids = list(context.release_held or [])
    audit = ("released", f"Released for approval in run {context.run_id}", "system")
    released = _move_drafts(
        context,
        held_ids,
        (InvoiceStatus.HELD, InvoiceStatus.DRAFT),
        audit,
        platform,
        claim_for_run=True,
    )
    platform.documents.put_json(
        keys.screening_report(context.run_id), Screening(eligible_count=released)
    )
    return released
