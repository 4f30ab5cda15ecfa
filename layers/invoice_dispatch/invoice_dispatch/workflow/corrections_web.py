"""The approver's page of one correction and its decision: the batch page's rules, smaller.

GET never changes state; POST needs the signed link and the page's own signed form token
(each under its own derived key, so neither a batch's link nor its form can decide a
correction); the first decision wins by a conditional write, and only then is it relayed
to Step Functions.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import urlencode

from invoice_dispatch.adapters.corrections_store import CorrectionStatus
from invoice_dispatch.approval.correction_page import (
    CORRECTION_FORM,
    CORRECTIONS,
    CorrectionSummary,
    render_correction_page,
)
from invoice_dispatch.approval.form_token import issue_form_token
from invoice_dispatch.approval.links import LinkClaims, LinkRejected, verify_approval_link
from invoice_dispatch.approval.models import ApprovalDecision
from invoice_dispatch.errors import ApprovalRejected
from invoice_dispatch.platform import Platform
from invoice_dispatch.workflow.approval_web import (
    FORM_TOKEN_TTL,
    Page,
    PostedForm,
    error_page,
    posted_decision,
    signed_query,
)


def _opened(
    request_id: str, query: Mapping[str, str], platform: Platform, now: datetime, refusal: str
) -> tuple[LinkClaims, dict[str, object]] | Page:
    """The signed link first (nothing is told without one), then the correction."""
    try:
        claims = verify_approval_link(
            request_id,
            query.get("approver", ""),
            query.get("exp", ""),
            query.get("sig", ""),
            platform.approval_key(),
            now,
            CORRECTIONS,
        )
    except LinkRejected as rejected:
        return error_page(rejected.status_code, refusal, rejected.reason)
    item = platform.corrections.get(request_id)
    if item is None:
        return error_page(404, "Unknown correction", f"There is no correction '{request_id}'.")
    return claims, item


def _post_url(request_id: str, query: Mapping[str, str], platform: Platform) -> str:
    base = platform.settings.approval_base_url.rstrip("/")
    return f"{base}/{CORRECTIONS}/{request_id}?{urlencode(signed_query(query))}"


def _not_awaiting(request_id: str, item: Mapping[str, object]) -> Page | None:
    if item["status"] == CorrectionStatus.AWAITING_APPROVAL.value:
        return None
    return error_page(409, "Nothing to approve", f"Correction {request_id} is {item['status']}.")


def _decided(item: Mapping[str, object], summary: CorrectionSummary, post_url: str) -> Page:
    decision = ApprovalDecision.model_validate_json(str(item["decision"]))
    return Page(
        409, render_correction_page(summary, form_token=None, post_url=post_url, decision=decision)
    )


def show_correction(
    request_id: str, query: Mapping[str, str], platform: Platform, now: datetime | None = None
) -> Page:
    now = now or datetime.now(UTC)
    opened = _opened(request_id, query, platform, now, "This link cannot be used")
    if isinstance(opened, Page):
        return opened
    claims, item = opened
    summary = CorrectionSummary.model_validate_json(str(item["summary"]))
    post_url = _post_url(request_id, query, platform)
    if item.get("decision"):
        return _decided(item, summary, post_url)
    not_awaiting = _not_awaiting(request_id, item)
    if not_awaiting is not None:
        return not_awaiting
    token = issue_form_token(
        request_id, claims.approver, platform.approval_key(), now, FORM_TOKEN_TTL, CORRECTION_FORM
    )
    return Page(200, render_correction_page(summary, form_token=token, post_url=post_url))


def decide_correction(
    request_id: str,
    query: Mapping[str, str],
    form: Mapping[str, list[str]],
    source_ip: str,
    user_agent: str,
    platform: Platform,
    now: datetime | None = None,
) -> Page:
    now = now or datetime.now(UTC)
    refusal = "This decision cannot be accepted"
    opened = _opened(request_id, query, platform, now, refusal)
    if isinstance(opened, Page):
        return opened
    claims, item = opened
    summary = CorrectionSummary.model_validate_json(str(item["summary"]))
    post_url = _post_url(request_id, query, platform)
    if item.get("decision"):
        return _decided(item, summary, post_url)
    decision = posted_decision(
        request_id,
        claims,
        PostedForm(form, source_ip, user_agent),
        (),
        _not_awaiting(request_id, item),
        platform,
        now,
        CORRECTION_FORM,
    )
    if isinstance(decision, Page):
        return decision
    approved = decision.decision == "approve"
    new_status = CorrectionStatus.APPROVED if approved else CorrectionStatus.REJECTED
    written = platform.corrections.update(
        request_id,
        {"status": new_status.value, "decision": decision.model_dump_json()},
        expected=(CorrectionStatus.AWAITING_APPROVAL,),
        unset="decision",
    )
    if not written:
        return _decided(platform.corrections.get(request_id) or item, summary, post_url)
    sfn = platform.clients.client("stepfunctions")
    if approved:
        sfn.send_task_success(
            taskToken=str(item["task_token"]),
            output=json.dumps({"decision": "approve", "approver": decision.approver}),
        )
    else:
        sfn.send_task_failure(
            taskToken=str(item["task_token"]),
            error=ApprovalRejected.__name__,
            cause=f"Rejected by {decision.approver}: {decision.reason}",
        )
    page = render_correction_page(summary, form_token=None, post_url=post_url, decision=decision)
    return Page(200, page)
