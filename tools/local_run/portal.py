"""``make demo``'s portal: one customer's signed link, opened through the local HTTP API.

The link is the one the customer's e-mails carry (signed with the stack's portal key);
the page is what the real portal handler answers it with, behind the local API Gateway
stand-in (``LocalEnvironment``'s server routes ``/portal/`` to the portal's function).
It is written to ``out/portal/<account>.html`` so a person can open it after the demo.

The demo's local payment gateway (``collections_demo.demo_gateway``) runs beside the stack,
so an open invoice has "Pay online": while the stack is up (``--wait-for-approval``) the
button leads to the gateway's page, and paying there posts the signed payment event to
the stack's webhook.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import requests

from invoice_dispatch.invoice import InvoiceStatus
from invoice_dispatch.platform import get_platform
from tools.local_run.runner import LocalEnvironment


def demo_portal(env: LocalEnvironment, period: str) -> list[str]:
    """The portal of the period's first invoice's customer (the one ``demo_credit_note``
    credits, so the page shows an invoice and its credit note); the lines it prints. A
    second demo on the kept stack bills nothing new and shows the same page."""
    platform = get_platform()
    finalized = [
        stored.invoice
        for stored in platform.store.period_invoices("live", period)
        if stored.invoice.status is InvoiceStatus.FINALIZED and stored.invoice.number
    ]
    if not finalized:
        return [f"Portal: no finalized invoice for {period}"]
    invoice = min(finalized, key=lambda candidate: str(candidate.number))
    link = platform.portal_link(invoice.account_id, datetime.now(UTC))
    response = requests.get(link, timeout=30)
    page = env.out_root / "portal" / f"{invoice.account_id}.html"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(response.text, encoding="utf-8")
    documents = response.text.count('data-label="PDF"')
    buttons = response.text.count('class="pay-online"')
    gateway = platform.settings.payment_gateway_url or "none"
    return [
        f"Portal link of {invoice.account_id} ({invoice.customer.name}, "
        f"channel {invoice.customer.channel.value}): {link}",
        f"  page       {Path(page)} (HTTP {response.status_code}, {documents} document(s))",
        f"  pay online {buttons} button(s), to the local payment gateway {gateway}",
    ]
