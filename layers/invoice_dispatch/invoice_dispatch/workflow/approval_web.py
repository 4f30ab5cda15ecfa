"""The approver's page and decision, as plain functions of (request, platform) -> page.

GET never changes state (mail scanners prefetch links); POST needs both the signed link
and the page's own signed form token; the run record decides who was first.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from pydantic import TypeAdapter

from invoice_dispatch.approval.decision import (
    FORM_TOKEN_FIELD,
    InvalidDecision,
    parse_decision_form,
)
from invoice_dispatch.approval.drafts import PageRequest
from invoice_dispatch.approval.form_token import (
    APPROVAL_FORM,
    issue_form_token,
    verify_form_token,
)
from invoice_dispatch.approval.links import LinkClaims, LinkRejected, verify_approval_link
from invoice_dispatch.approval.models import ApprovalDecision, ApprovalSummary, DraftRow
from invoice_dispatch.approval.page import (
    render_decided_page,
    render_error_page,
    render_summary_page,
)
from invoice_dispatch.platform import Platform
from invoice_dispatch.run import RunStatus
from invoice_dispatch.workflow import keys
from invoice_dispatch.workflow.approval import apply_decision

FORM_TOKEN_TTL = timedelta(hours=2)

#: Sent with every response of the approval API, whatever its status or content type.
#: The pages hold a one-click "Approve all" button, so no other site may frame them
#: (clickjacking): ``frame-ancestors 'none'`` for current browsers and ``X-Frame-Options``
#: for those that predate it. The pages need no script, only inline styles and data:
#: images, and post only to themselves; the link's signature must not leak through
#: ``Referer`` or a shared cache.
SECURITY_HEADERS: Mapping[str, str] = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
}


@dataclass(frozen=True)
class Page:
    status_code: int
    body: str | bytes
    content_type: str = "text/html; charset=utf-8"
    #: Beside the security headers: a redirect's ``Location``, a 503's ``Retry-After``.
    headers: Mapping[str, str] = field(default_factory=dict)


def error_page(status_code: int, title: str, message: str) -> Page:
    return Page(status_code, render_error_page(title, message))


def _verified(
    run_id: str, query: Mapping[str, str], platform: Platform, now: datetime
) -> LinkClaims:
    return verify_approval_link(
        run_id,
        query.get("approver", ""),
        query.get("exp", ""),
        query.get("sig", ""),
        platform.approval_key(),
        now,
    )


def _decided_page(run: dict[str, Any], run_id: str) -> Page:
    record = run["approval"]
    decision = ApprovalDecision(
        decision=record.decision,
        held_invoice_ids=record.held_invoice_ids,
        reason=record.reason,
        approver=record.approver,
        decided_at=record.decided_at,
        source_ip=record.source_ip or "",
        user_agent=record.user_agent or "",
    )
    return Page(409, render_decided_page(decision, run_id))


_DRAFT_ROWS = TypeAdapter(list[DraftRow])


def _draft_rows(run_id: str, platform: Platform) -> list[DraftRow]:
    """The drafts as listed when approval was requested (written once per run)."""
    return _DRAFT_ROWS.validate_json(platform.documents.get_bytes(keys.approval_rows(run_id)))


def _open_run(
    run_id: str, query: Mapping[str, str], platform: Platform, now: datetime, refusal: str
) -> tuple[LinkClaims, dict[str, Any]] | Page:
    """The signed link first (nothing about a run is told to someone without one), then
    the run; a run already decided answers with what was decided, by whom and when."""
    try:
        claims = _verified(run_id, query, platform, now)
    except LinkRejected as rejected:
        return error_page(rejected.status_code, refusal, rejected.reason)
    run = platform.store.get_run(run_id)
    if run is None:
        return error_page(404, "Unknown run", f"There is no billing run '{run_id}'.")
    if run.get("approval") is not None:
        return _decided_page(run, run_id)
    return claims, run


def signed_query(query: Mapping[str, str]) -> dict[str, str]:
    return {name: query[name] for name in ("approver", "exp", "sig") if name in query}


@dataclass(frozen=True)
class PostedForm:
    """A decision form as it arrived, with who sent it (kept in the audit trail)."""

    fields: Mapping[str, list[str]]
    source_ip: str
    user_agent: str


def posted_decision(
    subject_id: str,
    claims: LinkClaims,
    posted: PostedForm,
    known_invoice_ids: Collection[str],
    not_awaiting: Page | None,
    platform: Platform,
    now: datetime,
    form_purpose: str = APPROVAL_FORM,
) -> ApprovalDecision | Page:
    """The decision a POST carries, or the page refusing it: one order for every page.

    The form's own token comes first (a forged or replayed form learns nothing more), then
    whether anything is still awaiting a decision, then the form's fields."""
    try:
        verify_form_token(
            (posted.fields.get(FORM_TOKEN_FIELD) or [""])[0],
            subject_id,
            platform.approval_key(),
            now,
            form_purpose,
        )
    except LinkRejected as rejected:
        return error_page(rejected.status_code, "This decision cannot be accepted", rejected.reason)
    if not_awaiting is not None:
        return not_awaiting
    try:
        return parse_decision_form(
            posted.fields,
            known_invoice_ids,
            claims.approver,
            posted.source_ip,
            posted.user_agent,
            now,
        )
    except InvalidDecision as invalid:
        return error_page(400, "The decision is incomplete", invalid.reason)


def show_summary(
    run_id: str, query: Mapping[str, str], platform: Platform, now: datetime | None = None
) -> Page:
    now = now or datetime.now(UTC)
    opened = _open_run(run_id, query, platform, now, "This link cannot be used")
    if isinstance(opened, Page):
        return opened
    claims, run = opened
    if run["status"] != RunStatus.AWAITING_APPROVAL.value:
        return error_page(
            409, "Nothing to approve", f"Run {run_id} is {run['status'].replace('_', ' ')}."
        )
    summary = ApprovalSummary.model_validate(
        platform.documents.get_json(keys.approval_summary(run_id))
    )
    rows = _draft_rows(run_id, platform)
    drafts = PageRequest.from_query(query).apply(rows)
    signed = signed_query(query)
    base = platform.settings.approval_base_url.rstrip("/")
    html = render_summary_page(
        summary,
        drafts,
        issue_form_token(run_id, claims.approver, platform.approval_key(), now, FORM_TOKEN_TTL),
        f"{base}/approvals/{run_id}?{urlencode(signed)}",
        lambda invoice_id: f"{base}/approvals/{run_id}/drafts/{invoice_id}?{urlencode(signed)}",
    )
    return Page(200, html)


def draft_preview(
    run_id: str,
    invoice_id: str,
    query: Mapping[str, str],
    platform: Platform,
    now: datetime | None = None,
) -> Page:
    """A DRAFT-marked PDF of one pending invoice, rendered on demand and cached in S3."""
    now = now or datetime.now(UTC)
    try:
        _verified(run_id, query, platform, now)
    except LinkRejected as rejected:
        return error_page(rejected.status_code, "This link cannot be used", rejected.reason)
    stored = platform.store.get_invoice(invoice_id)
    if stored is None or stored.invoice.run_id != run_id:
        return error_page(
            404, "Unknown invoice", f"Invoice '{invoice_id}' is not part of run {run_id}."
        )
    pdf = platform.renderer.render_pdf(stored.invoice)
    return Page(200, pdf, "application/pdf")


def decide(
    run_id: str,
    query: Mapping[str, str],
    form: Mapping[str, list[str]],
    source_ip: str,
    user_agent: str,
    platform: Platform,
    now: datetime | None = None,
) -> Page:
    now = now or datetime.now(UTC)
    opened = _open_run(run_id, query, platform, now, "This decision cannot be accepted")
    if isinstance(opened, Page):
        return opened
    claims, run = opened
    not_awaiting = None
    if run["status"] != RunStatus.AWAITING_APPROVAL.value:
        not_awaiting = error_page(
            409, "Nothing to approve", f"Run {run_id} is {run['status'].replace('_', ' ')}."
        )
    rows = _draft_rows(run_id, platform) if not_awaiting is None else []
    posted = PostedForm(form, source_ip, user_agent)
    decision = posted_decision(
        run_id, claims, posted, {row.invoice_id for row in rows}, not_awaiting, platform, now
    )
    if isinstance(decision, Page):
        return decision
    held_by_rule = [row.invoice_id for row in rows if row.held_by_rule]
    if not apply_decision(run, decision, held_by_rule, platform):
        latest = platform.store.get_run(run_id) or run
        return _decided_page(latest, run_id)
    return Page(200, render_decided_page(decision, run_id, just_recorded=True))
