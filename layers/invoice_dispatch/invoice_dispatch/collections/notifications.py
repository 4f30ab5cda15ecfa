"""Which internal topic hears of which collections event (``COLLECTIONS_NOTIFY``).

Customers get reminders; the team gets *news*: invoices falling due, invoices paid,
invoices escalated. Each event goes to the alert topic (someone must act: subscribed by
the on-call address), to the collections notification topic (good to know: finance's
channel) or nowhere, per event, because teams disagree on which deserve a page.
Messages are one per run and event, listing the invoices: a topic that gets one message
per paid invoice at 100,000 invoices a month is muted within a week.
"""

from __future__ import annotations

from enum import StrEnum

from invoice_dispatch.errors import PermanentError


class NewsEvent(StrEnum):
    DUE = "due"
    PAID = "paid"
    ESCALATION = "escalation"


class Topic(StrEnum):
    ALERT = "alert"
    NOTIFICATION = "notification"
    NONE = "none"


DEFAULT_ROUTES = {
    NewsEvent.DUE: Topic.NOTIFICATION,
    NewsEvent.PAID: Topic.NOTIFICATION,
    NewsEvent.ESCALATION: Topic.ALERT,
}
#: An SNS message stops at 256 KB; a list this long is read in the report instead.
MAX_LISTED = 200


def routes(configured: dict[str, str]) -> dict[NewsEvent, Topic]:
    """The defaults with the configured pairs over them; unknown names are refused."""
    chosen = dict(DEFAULT_ROUTES)
    for event, topic in configured.items():
        try:
            chosen[NewsEvent(event)] = Topic(topic)
        except ValueError:
            raise PermanentError(
                f"COLLECTIONS_NOTIFY has {event}={topic}; events are "
                f"{', '.join(e.value for e in NewsEvent)} and topics "
                f"{', '.join(t.value for t in Topic)}"
            ) from None
    return chosen


def listing(lines: list[str]) -> str:
    """The lines of a message, cut at ``MAX_LISTED`` with how many more there are."""
    shown = lines[:MAX_LISTED]
    if len(lines) > MAX_LISTED:
        shown.append(f"... and {len(lines) - MAX_LISTED} more (see the collections report)")
    return "\n".join(shown)
