"""NotifyDueAndPaid: tell the team which invoices fell due and which were paid.

*Due*: the unsettled invoices whose due date passed since the last announcement (a
cursor day), so a missed run announces its days with the next one, each day once.
*Paid*: the receivables an entry settled since the last run, read from the ledger's
newly-settled list and taken off it once announced. Both are at least once: a crash
between the message and the write that records it repeats the message next time; a
repeated "paid" line is harmless, a lost one is not.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel

from invoice_dispatch.collections.notifications import NewsEvent, Topic, listing, routes
from invoice_dispatch.events import CollectionsRun
from invoice_dispatch.platform import Platform
from invoice_dispatch.receivables import Receivable

#: An SNS subject stops at 100 characters.
_SUBJECT_LIMIT = 100


class NotifyResult(BaseModel):
    due: int = 0
    paid: int = 0


def publish(event: NewsEvent, subject: str, message: str, platform: Platform) -> bool:
    """Publish on the topic configured for ``event``; False when it is configured off."""
    topic = routes(platform.settings.collections_notify)[event]
    arn = {
        Topic.ALERT: platform.settings.alert_topic_arn,
        Topic.NOTIFICATION: platform.settings.collections_topic_arn,
        Topic.NONE: None,
    }[topic]
    if not arn:
        return False
    platform.clients.client("sns").publish(
        TopicArn=arn, Subject=subject[:_SUBJECT_LIMIT], Message=message
    )
    return True


def _line(receivable: Receivable, what: str) -> str:
    return (
        f"{receivable.number}  {receivable.customer_name}  {receivable.gross} "
        f"{receivable.currency}  {what}"
    )


def notify_due_and_paid(run: CollectionsRun, platform: Platform) -> NotifyResult:
    store = platform.collections
    result = NotifyResult()
    cursor = store.due_cursor()
    if cursor is None or cursor < run.as_of:
        since = cursor or run.as_of - timedelta(days=1)
        due = [
            _line(receivable, f"open {receivable.open_amount}, due {receivable.due_date}")
            for receivable, _ in store.unsettled(due_after=since, due_until=run.as_of)
        ]
        if due:
            publish(
                NewsEvent.DUE,
                f"{len(due)} invoice(s) fell due by {run.as_of}",
                listing(due),
                platform,
            )
        store.set_due_cursor(run.as_of)
        result.due = len(due)
    settled = list(store.newly_settled())
    if settled:
        publish(
            NewsEvent.PAID,
            f"{len(settled)} invoice(s) settled by {run.as_of}",
            listing([_line(r, r.status(run.as_of).value) for r in settled]),
            platform,
        )
        for receivable in settled:
            store.settled_news_told(receivable.number)
        result.paid = len(settled)
    return result
