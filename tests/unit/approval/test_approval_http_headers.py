"""Every answer of the approval API, page or PDF, success or refusal, forbids framing.

The page carries a one-click "Approve all" button: a site that framed it could trick an
approver into clicking it (clickjacking), so no response may miss the headers.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from invoice_dispatch.approval.form_token import issue_form_token
from invoice_dispatch.approval.links import sign_approval_link
from invoice_dispatch.platform import Platform
from invoice_dispatch.run import ApprovalRecord, RunContext
from invoice_dispatch.workflow.approval import request_approval
from tests.conftest import draft_invoice
from tools.approval_server import LocalLambdaContext, build_http_api_event
from tools.local_run.lambda_router import load_handler
from tools.local_run.wiring import Template

RUN = RunContext(run_id="run-1", period="2026-11", mode="live", approval_timeout_seconds=3600)
APPROVER = "controller@example.com"

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


class ApprovalApi:
    """The real approval handler, called with the events API Gateway would send."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.handler: Handler = load_handler(Template().functions()["ApprovalApiFunction"])
        self.invoice_id = draft_invoice("ACC-1", run_id=RUN.run_id).invoice_id
        self.path_and_query = self.signed_path(RUN.run_id)

    def signed_path(self, run_id: str) -> str:
        """The path and query of the link e-mailed to the approver for ``run_id``."""
        expires_at = datetime.now(UTC) + timedelta(hours=1)
        link = sign_approval_link(
            self.platform.settings.approval_base_url,
            run_id,
            APPROVER,
            expires_at,
            self.platform.approval_key(),
        )
        return f"{urlsplit(link).path}?{urlsplit(link).query}"

    def call(self, method: str, path_and_query: str, form: dict[str, str] | None = None) -> Any:
        body = urlencode(form or {}).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if form else {}
        event = build_http_api_event(
            method, path_and_query, headers, body, "203.0.113.7", "approvals.example.com"
        )
        return self.handler(event, LocalLambdaContext(function_name="ApprovalApiFunction"))

    def draft_path(self, invoice_id: str) -> str:
        path, query = self.path_and_query.split("?", 1)
        return f"{path}/drafts/{invoice_id}?{query}"

    def decision_form(self, decision: str, reason: str = "") -> dict[str, str]:
        token = issue_form_token(
            RUN.run_id,
            APPROVER,
            self.platform.approval_key(),
            datetime.now(UTC),
            timedelta(hours=1),
        )
        return {"decision": decision, "reason": reason, "form_token": token}


@pytest.fixture
def api(platform: Platform) -> ApprovalApi:
    platform.store.create_run(RUN, datetime.now(UTC).isoformat())
    platform.store.create_draft(draft_invoice("ACC-1", run_id=RUN.run_id))
    request_approval(RUN, "task-token", platform)
    return ApprovalApi(platform)


def _assert_not_frameable(response: dict[str, Any]) -> None:
    headers = {name.lower(): value for name, value in response["headers"].items()}
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"


def test_summary_draft_preview_and_decision_receipt_cannot_be_framed(api: ApprovalApi) -> None:
    summary = api.call("GET", api.path_and_query)
    preview = api.call("GET", api.draft_path(api.invoice_id))
    receipt = api.call("POST", api.path_and_query, api.decision_form("reject", "Wrong prices"))

    assert summary["statusCode"] == 200 and "form_token" in summary["body"]
    assert preview["statusCode"] == 200 and preview["headers"]["Content-Type"] == "application/pdf"
    assert receipt["statusCode"] == 200 and "rejected" in receipt["body"]
    for response in (summary, preview, receipt):
        _assert_not_frameable(response)


def test_decided_page_cannot_be_framed(api: ApprovalApi, platform: Platform) -> None:
    platform.store.record_decision(
        RUN.run_id,
        ApprovalRecord(decision="approve", approver=APPROVER, decided_at=datetime.now(UTC)),
    )

    decided = api.call("GET", api.path_and_query)
    late_post = api.call("POST", api.path_and_query, api.decision_form("approve_all"))

    assert decided["statusCode"] == late_post["statusCode"] == 409
    _assert_not_frameable(decided)
    _assert_not_frameable(late_post)


@pytest.mark.parametrize(
    ("request_kind", "status"),
    [
        ("tampered signature", 403),
        ("unknown invoice preview", 404),
        ("unknown run", 404),
        ("post without form token", 403),
        ("incomplete decision", 400),
        ("path the API does not serve", 404),
    ],
)
def test_refusals_cannot_be_framed(api: ApprovalApi, request_kind: str, status: int) -> None:
    path, query = api.path_and_query.split("?", 1)
    forged_query = urlencode({**dict(parse_qsl(query)), "sig": "0" * 80})
    requests_by_kind: dict[str, tuple[str, str, dict[str, str] | None]] = {
        "tampered signature": ("GET", f"{path}?{forged_query}", None),
        "unknown invoice preview": ("GET", api.draft_path("2026-11:ACC-NOPE"), None),
        "unknown run": ("GET", api.signed_path("run-unknown"), None),
        "post without form token": ("POST", api.path_and_query, {"decision": "approve_all"}),
        "incomplete decision": ("POST", api.path_and_query, api.decision_form("reject")),
        "path the API does not serve": ("GET", "/admin", None),
    }
    method, path_and_query, form = requests_by_kind[request_kind]

    response = api.call(method, path_and_query, form)

    assert response["statusCode"] == status
    _assert_not_frameable(response)
