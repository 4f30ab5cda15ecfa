"""CollectionsReport: the day's KPIs as JSON, text and HTML in S3, and as metrics.

Everything is read from what the day's steps left (their result files under the day's
prefix, every run of the day added up) and from the ledger as it stands, so the report
can be written again at any time and says the same; a second run the same day rewrites
it with both runs' figures. ``collections/kpis.py`` defines each figure.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from invoice_dispatch.collections.kpis import (
    AutoPayRate,
    CollectionsReport,
    MatchingRate,
    dso_per_currency,
    kpi_window,
)
from invoice_dispatch.events import CollectionsRun
from invoice_dispatch.platform import Platform
from invoice_dispatch.receivables import age_receivables
from invoice_dispatch.rendering.collections import render_report
from invoice_dispatch.workflow import keys

#: Exception sentences listed on the report; the exception list itself has them all.
_EXCEPTIONS_SHOWN = 50


def _day_results(prefix: str, platform: Platform) -> list[Any]:
    return list(platform.documents.get_json_under(prefix))


def build_report(run: CollectionsRun, platform: Platform) -> CollectionsReport:
    day = str(run.as_of)
    first, last = kpi_window(run.as_of, platform.settings.kpi_period_days)
    store = platform.collections
    owed_receivables = [receivable for receivable, _ in store.unsettled()]
    owed: dict[str, Decimal] = {}
    for receivable in owed_receivables:
        owed[receivable.currency] = owed.get(receivable.currency, Decimal(0)) + max(
            receivable.open_amount, Decimal(0)
        )
    sent = {stage.label: 0 for stage in platform.reminder_schedule.stages}
    failed = 0
    for chunk in _day_results(keys.collections_reminders_prefix(day), platform):
        for _number, offset in chunk["sent"]:
            label = f"{int(offset):+d}"
            sent[label] = sent.get(label, 0) + 1
        failed += len(chunk["failed"])
    plans = _day_results(keys.collections_plan_prefix(day), platform)
    opened = [
        escalation_id
        for result in _day_results(keys.collections_escalations_prefix(day), platform)
        for escalation_id in result["opened"]
    ]
    charged_today: dict[str, int] = {}
    for chunk in _day_results(keys.collections_autopay_prefix(day), platform):
        for line in chunk["lines"]:
            charged_today[line["outcome"]] = charged_today.get(line["outcome"], 0) + 1
    automatic, needs_person = store.matching_between(first, last)
    exceptions = [
        posting.explanation
        for posting in platform.ledger.payment_exceptions()
        if first <= posting.received_on <= last
    ]
    return CollectionsReport(
        as_of=run.as_of,
        period_start=first,
        period_end=last,
        dso_days=dso_per_currency(owed, store.sales_between(first, last), first, last),
        aging=age_receivables(owed_receivables, run.as_of),
        reminders_sent=sent,
        reminders_failed=failed,
        # The day's first plan says why invoices were left alone; later runs that day
        # mostly find "reminded already".
        planned_skips=min(plans, key=lambda plan: plan["planned_at"])["skipped"] if plans else {},
        payments=MatchingRate(automatic=automatic, needs_person=needs_person),
        auto_pay={
            currency: AutoPayRate(
                attempted=row.attempted,
                collected=row.collected,
                handed_over=row.handed_over,
                collected_amount=row.collected_amount,
            )
            for currency, row in platform.autopay.tallies_between(first, last).items()
        },
        auto_pay_today=dict(sorted(charged_today.items())),
        payment_exceptions=exceptions[:_EXCEPTIONS_SHOWN],
        escalations_opened=opened,
        open_escalations=list(store.open_escalations()),
        awaiting_erp=sum(1 for _ in platform.ledger.entries_awaiting_erp()),
    )


def write_report(run: CollectionsRun, platform: Platform) -> CollectionsReport:
    report = build_report(run, platform)
    text, html = render_report(report)
    day = str(run.as_of)
    documents = platform.documents
    documents.put_json(keys.collections_report(day, "json"), report)
    documents.put_bytes(keys.collections_report(day, "txt"), text.encode(), "text/plain", {})
    documents.put_bytes(
        keys.collections_report(day, "html"), html.encode(), "text/html; charset=utf-8", {}
    )
    return report
