"""A real headless Chromium opens the signed link, holds two invoices and approves.

The handler here is a minimal approval app built only from the domain functions (no AWS):
it is what the Lambda handler does around the store, and it proves the page works in a
browser without JavaScript, through the same API Gateway bridge the local runner uses.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

import pytest
from invoice_dispatch.approval import (
    ApprovalDecision,
    ApprovalError,
    PageRequest,
    issue_form_token,
    parse_decision_form,
    render_decided_page,
    render_error_page,
    render_summary_page,
    sign_approval_link,
    verify_approval_link,
    verify_form_token,
)

from tests.unit.approval.approval_factories import (
    APPROVER,
    HOSTILE_NAME,
    KEY,
    RUN_ID,
    make_draft_row,
    make_summary,
)
from tools.approval_server import LocalLambdaContext, serve_lambda

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.integration,
    pytest.mark.enable_socket,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]


class _TinyApprovalApp:
    """GET renders the summary (changing nothing); the first valid POST decides, once."""

    def __init__(self) -> None:
        self.rows = [make_draft_row(index) for index in range(60)]
        self.rows[3] = make_draft_row(3, customer_name=HOSTILE_NAME)
        self.summary = make_summary(expires_at=datetime.now(UTC) + timedelta(hours=72))
        self.decision: ApprovalDecision | None = None

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        query = event.get("queryStringParameters") or {}
        now = datetime.now(UTC)
        try:
            claims = verify_approval_link(
                RUN_ID,
                query.get("approver", ""),
                query.get("exp", ""),
                query.get("sig", ""),
                KEY,
                now,
            )
            if self.decision is not None:
                return self._page(200, render_decided_page(self.decision, RUN_ID))
            if event["requestContext"]["http"]["method"] == "GET":
                return self._page(200, self._summary(event, claims.approver, now))
            raw_body = event.get("body") or ""
            if event.get("isBase64Encoded"):
                raw_body = base64.b64decode(raw_body).decode()
            form = parse_qs(raw_body, keep_blank_values=True)
            verify_form_token((form.get("form_token") or [None])[0], RUN_ID, KEY, now)
            self.decision = parse_decision_form(
                form,
                {row.invoice_id for row in self.rows},
                claims.approver,
                event["requestContext"]["http"]["sourceIp"],
                event["requestContext"]["http"]["userAgent"],
                now,
            )
            return self._page(200, render_decided_page(self.decision, RUN_ID))
        except ApprovalError as refused:
            return self._page(
                refused.status_code, render_error_page("Not accepted", refused.reason)
            )

    def _summary(self, event: dict[str, Any], approver: str, now: datetime) -> str:
        query = event.get("queryStringParameters") or {}
        page_request = PageRequest.from_query({**query, "size": query.get("size", "25")})
        signed_url = f"{event['rawPath']}?{event['rawQueryString']}"
        return render_summary_page(
            self.summary,
            page_request.apply(self.rows),
            issue_form_token(RUN_ID, approver, KEY, now, timedelta(hours=1)),
            signed_url,
            lambda invoice_id: f"/approvals/{RUN_ID}/preview/{quote(invoice_id, safe='')}",
        )

    @staticmethod
    def _page(status_code: int, html: str) -> dict[str, Any]:
        return {
            "statusCode": status_code,
            "headers": {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"},
            "body": html,
        }


def test_approver_holds_two_invoices_and_approves_in_a_real_browser(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    app = _TinyApprovalApp()
    with serve_lambda(app, LocalLambdaContext) as server, sync_playwright() as playwright:
        link = sign_approval_link(
            server.url, RUN_ID, APPROVER, datetime.now(UTC) + timedelta(hours=1), KEY
        )
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})
            page.goto(link)
            assert page.title() == "Approve invoices for 2026-10"
            totals = page.locator("#totals").inner_text()
            assert "€14,691.26" in totals and "¥550,000" in totals
            assert HOSTILE_NAME in page.locator("body").inner_text()
            assert app.decision is None, "a GET must never decide"

            page.get_by_role("link", name="Next ›").click()
            assert "Page 2 of 3" in page.locator("nav.pager").last.inner_text()

            boxes = page.locator("input[name=hold]")
            held = [boxes.nth(0).get_attribute("value"), boxes.nth(2).get_attribute("value")]
            boxes.nth(0).check()
            boxes.nth(2).check()
            page.screenshot(path=str(tmp_path / "approval-summary.png"), full_page=True)
            page.get_by_role("button", name="Approve, holding the checked invoices").click()

            assert "This batch was approved by ceo@example.com" in page.locator("body").inner_text()
            assert "(2 invoices held)" in page.locator("body").inner_text()
            assert app.decision is not None
            assert app.decision.held_invoice_ids == held
            assert app.decision.source_ip == "127.0.0.1"
            assert "Chrome" in app.decision.user_agent

            page.goto(link)
            assert "This batch has been decided" in page.locator("h1").inner_text()
        finally:
            browser.close()
    assert (tmp_path / "approval-summary.png").stat().st_size > 0
