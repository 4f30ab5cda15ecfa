"""A moto stack holding two customers' finalized invoices, and the portal's real handler."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from invoice_dispatch.platform import Platform
from invoice_dispatch.portal.links import sign_portal_link
from invoice_dispatch.run import RunContext
from invoice_dispatch.workflow.finalize import finalize_chunk
from tests.conftest import draft_invoice
from tools.approval_server import LocalLambdaContext, build_http_api_event
from tools.local_run.lambda_router import load_handler
from tools.local_run.wiring import Template

RUN = RunContext(run_id="run-1", period="2026-11", mode="live", approval_timeout_seconds=3600)
FINALIZED_AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
OURS = "ACC-P1"
THEIRS = "ACC-P2"

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def finalize_for(
    platform: Platform, *account_ids: str, locale: str = "en", **account_fields: Any
) -> dict[str, str]:
    """One finalized live invoice with its PDF per account: account id -> invoice id."""
    drafts = {
        account_id: draft_invoice(
            account_id,
            customer={
                "name": f"Kunde {account_id} <b>GmbH</b>",
                "email": f"ap@{account_id.lower()}.example.com",
                "channel": "portal",
                "locale": locale,
                "address": {"line1": "Teststraße 1", "city": "Berlin", "country": "DE"},
            },
            **account_fields,
        )
        for account_id in account_ids
    }
    for draft in drafts.values():
        platform.store.create_draft(draft)
    finalize_chunk(RUN, [draft.invoice_id for draft in drafts.values()], platform, FINALIZED_AT)
    return {account_id: draft.invoice_id for account_id, draft in drafts.items()}


@dataclass
class PortalApi:
    """The real portal handler (from the template), called with API Gateway's events."""

    platform: Platform

    def __post_init__(self) -> None:
        self.handler: Handler = load_handler(Template().functions()["CustomerPortalFunction"])

    def link(self, account_id: str, expires_in: timedelta = timedelta(days=7)) -> str:
        expires_at = datetime.now(UTC) + expires_in
        return sign_portal_link(
            self.platform.settings.approval_base_url,
            account_id,
            expires_at,
            self.platform.portal_key(),
        )

    def get(self, url: str) -> dict[str, Any]:
        return self.request("GET", url)

    def post(self, url: str) -> dict[str, Any]:
        """A form's POST: the browser sends the action's query and an empty form body."""
        return self.request("POST", url, {"content-type": "application/x-www-form-urlencoded"})

    def request(
        self, method: str, url: str, headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        parts = urlsplit(url)
        event = build_http_api_event(
            method,
            f"{parts.path}?{parts.query}",
            headers or {},
            b"",
            "203.0.113.7",
            "portal.example.com",
        )
        return self.handler(event, LocalLambdaContext(function_name="CustomerPortalFunction"))
