"""The approval page, the "already decided" page, error pages and the approval e-mail.

Server-rendered Jinja2 with autoescaping: customer names come from an account source the
product does not control, so every one is untrusted text. The page needs no JavaScript
(mail clients and locked-down phones often block it); paging and sorting are plain
links built from the signed URL the page was opened with, so they keep the signature.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from jinja2 import Environment

from invoice_dispatch.approval.drafts import page_query
from invoice_dispatch.approval.models import (
    ApprovalDecision,
    ApprovalSummary,
    DraftPage,
    as_utc_text,
)
from invoice_dispatch.rendering.formatting import format_money
from invoice_dispatch.rendering.templates import jinja_environment, templates_dir

#: Approvers read one language for now; amounts still follow each currency's digits.
_LOCALE = "en"

SORT_LABELS: dict[str, str] = {
    "flags": "flags",
    "customer": "customer",
    "gross": "gross amount",
    "currency": "currency",
}
_PAGING_PARAMS = frozenset(page_query("", False, 0, 0))


@lru_cache(maxsize=1)
def _environment() -> Environment:
    environment = jinja_environment(templates_dir())
    environment.globals["money"] = _money
    return environment


#: Quarantined accounts, flagged invoices and exclusion reasons listed on the page, each:
#: they grow with the run (a page of them all was 8.7 MB at 100,000 accounts, over the
#: 6 MB a Lambda may answer). Every one is in the run report; the draft list below pages.
SUMMARY_LIST_LIMIT = 200


def _money(amount: Decimal, currency: str) -> str:
    return format_money(amount, currency, _LOCALE)


def _with_query(url: str, extra: dict[str, str]) -> str:
    """``url`` with paging parameters replaced and every other parameter (the signature) kept."""
    parts = urlsplit(url)
    kept = [
        (name, value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if name not in _PAGING_PARAMS
    ]
    return urlunsplit(parts._replace(query=urlencode([*kept, *extra.items()])))


def render_summary_page(
    summary: ApprovalSummary,
    drafts: DraftPage,
    form_token: str,
    post_url: str,
    preview_url_for: Callable[[str], str],
) -> str:
    """The page behind the emailed link.

    ``post_url`` is the signed URL the page was opened with (path plus ``approver``,
    ``exp`` and ``sig``): the forms post to it, and sort and page links add their own
    parameters to it. ``preview_url_for(invoice_id)`` gives the DRAFT PDF preview's URL.
    """

    def link(sort: str, descending: bool, page: int) -> str:
        return _with_query(post_url, page_query(sort, descending, page, drafts.page_size))

    def first_click_descending(key: str) -> bool:
        """Clicking the current sort flips it; a new one starts where the interesting rows are."""
        return not drafts.descending if key == drafts.sort else key in ("flags", "gross")

    sort_links = {key: link(key, first_click_descending(key), 1) for key in SORT_LABELS}
    page_links = {
        "first": link(drafts.sort, drafts.descending, 1),
        "previous": link(drafts.sort, drafts.descending, drafts.page - 1),
        "next": link(drafts.sort, drafts.descending, drafts.page + 1),
        "last": link(drafts.sort, drafts.descending, drafts.page_count),
    }
    return (
        _environment()
        .get_template("approval/summary.html")
        .render(
            summary=summary,
            drafts=drafts,
            form_token=form_token,
            post_url=post_url,
            preview_urls={row.invoice_id: preview_url_for(row.invoice_id) for row in drafts.rows},
            sort_labels=SORT_LABELS,
            sort_links=sort_links,
            page_links=page_links,
            expires_text=as_utc_text(summary.expires_at),
            approvable_count=max(summary.draft_count - summary.held_by_rule_count, 0),
            list_limit=SUMMARY_LIST_LIMIT,
        )
    )


def _decided_verb(decision: ApprovalDecision) -> str:
    return "approved" if decision.decision == "approve" else "rejected"


def decision_sentence(decision: ApprovalDecision) -> str:
    """The sentence "This batch was approved by X at T (2 invoices held)." for pages and logs."""
    verb = _decided_verb(decision)
    sentence = f"This batch was {verb} by {decision.approver} at {as_utc_text(decision.decided_at)}"
    if decision.decision == "approve" and decision.held_invoice_ids:
        plural = "invoice" if decision.held_count == 1 else "invoices"
        sentence += f" ({decision.held_count} {plural} held)"
    return sentence + "."


def render_decided_page(
    decision: ApprovalDecision, run_id: str, *, just_recorded: bool = False
) -> str:
    """The decision: as a receipt right after the approver's POST (``just_recorded``), or
    as the answer to a second POST, a replayed link or a visit after the run finished."""
    return (
        _environment()
        .get_template("approval/decided.html")
        .render(
            decision=decision,
            decided_verb=_decided_verb(decision),
            run_id=run_id,
            sentence=decision_sentence(decision),
            just_recorded=just_recorded,
        )
    )


#: Where an approver finds help; the portal names the customer's e-mail instead.
APPROVAL_HELP = "If you need help, reply to the approval email."


def render_error_page(title: str, message: str, help_text: str = APPROVAL_HELP) -> str:
    return (
        _environment()
        .get_template("approval/error.html")
        .render(title=title, message=message, help=help_text)
    )


def approval_email_subject(summary: ApprovalSummary) -> str:
    prefix = "[SHADOW] " if summary.mode == "shadow" else ""
    return (
        f"{prefix}Approve {summary.draft_count} invoices for {summary.period} "
        f"({len(summary.flagged)} flagged, {summary.held_by_rule_count} held)"
    )


def render_approval_email(summary: ApprovalSummary, link: str) -> tuple[str, str, str]:
    """(subject, text body, HTML body) of the e-mail that asks for the sign-off."""
    subject = approval_email_subject(summary)
    environment = _environment()
    context = {
        "summary": summary,
        "link": link,
        "subject": subject,
        "expires_text": as_utc_text(summary.expires_at),
    }
    text_body = environment.get_template("approval/email.txt").render(**context)
    html_body = environment.get_template("approval/email.html").render(**context)
    return subject, text_body, html_body
