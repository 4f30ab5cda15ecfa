"""The collections team's documents: the daily report's summaries and the escalation e-mail.

Internal and in English (the team's working language), unlike the customer's reminders.
Customer names are untrusted text: the HTML templates are autoescaped like every other.
"""

from __future__ import annotations

import json

from invoice_dispatch.collections.escalation import Escalation
from invoice_dispatch.collections.kpis import CollectionsReport
from invoice_dispatch.receivables import BUCKET_LABELS
from invoice_dispatch.rendering.email import RenderedEmail
from invoice_dispatch.rendering.templates import cached_environment


def render_report(report: CollectionsReport) -> tuple[str, str]:
    """The report as plain text (logs, the terminal) and as an HTML page."""
    aging = [
        {
            "currency": currency,
            "cells": [str(row.buckets[label].amount) for label in BUCKET_LABELS],
            "total": row.total,
        }
        for currency, row in report.aging.currencies.items()
    ]
    rate = report.payments.success_rate_percent
    context = {
        "report": report,
        "aging": aging,
        "buckets": BUCKET_LABELS,
        "rate": "n/a (no payments)" if rate is None else f"{rate} %",
    }
    environment = cached_environment()
    return (
        environment.get_template("collections/report.txt").render(context),
        environment.get_template("collections/report.html").render(context),
    )


def render_escalation(escalation: Escalation) -> RenderedEmail:
    example = {
        "escalation_decision": {
            "escalation_id": escalation.escalation_id,
            "decision": "promise_to_pay",
            "promised_date": "YYYY-MM-DD",
            "decided_by": escalation.owner,
            "note": "what the customer said",
        }
    }
    context = {"escalation": escalation, "decision_example": json.dumps(example, indent=2)}
    environment = cached_environment()
    totals = ", ".join(
        f"{amount} {currency}" for currency, amount in escalation.open_by_currency().items()
    )
    return RenderedEmail(
        subject=f"Collections: {escalation.customer_name} owes {totals}, "
        f"{escalation.days_overdue} days overdue",
        text_body=environment.get_template("collections/escalation.txt").render(context),
        html_body=environment.get_template("collections/escalation.html").render(context),
    )
