"""The smaller approval page and e-mail of one correction (a credit note, a write-off).

Same house as the batch's page (``page.py``): server-rendered, autoescaped (the reason and
the customer's name are untrusted text), no script, the same two forms posting to the
signed URL. It shows one invoice, what is asked of it and why.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import AwareDatetime, BaseModel, ConfigDict

from invoice_dispatch.approval.models import ApprovalDecision, as_utc_text
from invoice_dispatch.approval.page import _environment, decision_sentence

#: The form key's purpose (``form_token.py``): a batch's form never decides a correction.
CORRECTION_FORM = "correction-form"
#: The link's path segment (``links.py``).
CORRECTIONS = "corrections"


class CorrectionSummary(BaseModel):
    """What the approver decides on; written once when the correction is requested."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    request_id: str
    kind_label: str
    invoice_number: str
    account_id: str
    customer_name: str
    currency: str
    invoice_gross: Decimal
    open_amount: Decimal
    credited_before: Decimal = Decimal(0)
    amount_label: str
    amount_net: Decimal
    amount_tax: Decimal
    amount_gross: Decimal
    lines: list[str] = []
    reason: str
    expires_at: AwareDatetime | None = None

    @property
    def title(self) -> str:
        return f"{self.kind_label.capitalize()} for {self.invoice_number}"


def render_correction_page(
    summary: CorrectionSummary,
    *,
    form_token: str | None,
    post_url: str,
    decision: ApprovalDecision | None = None,
) -> str:
    """With a form token, the page to decide on; with a decision, what was decided."""
    return (
        _environment()
        .get_template("approval/correction.html")
        .render(
            summary=summary,
            form_token=form_token,
            post_url=post_url,
            expires_text=as_utc_text(summary.expires_at) if summary.expires_at else "",
            decided_sentence=_decided(decision, summary) if decision else "",
            approved=bool(decision and decision.decision == "approve"),
        )
    )


def _decided(decision: ApprovalDecision, summary: CorrectionSummary) -> str:
    return decision_sentence(decision).replace("This batch", f"This {summary.kind_label}", 1)


def render_correction_email(
    summary: CorrectionSummary, link: str, expires_at: datetime
) -> tuple[str, str, str]:
    """(subject, text body, HTML body) of the e-mail that asks for the sign-off."""
    environment = _environment()
    context = {"summary": summary, "link": link, "expires_text": as_utc_text(expires_at)}
    subject = f"Approve: {summary.title} ({summary.amount_gross} {summary.currency})"
    return (
        subject,
        environment.get_template("approval/correction_email.txt").render(**context),
        environment.get_template("approval/correction_email.html").render(**context),
    )
