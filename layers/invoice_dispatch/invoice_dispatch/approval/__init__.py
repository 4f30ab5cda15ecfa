"""The approval step: signed links, the summary page, the decision, the start input.

Pure domain code: no AWS SDK. The Lambda handler verifies a link, loads the summary and
drafts from the store, renders with these functions and, on a valid decision, sends the
task token's success or failure.
"""

from invoice_dispatch.approval.decision import parse_decision_form
from invoice_dispatch.approval.drafts import PageRequest, sort_and_page
from invoice_dispatch.approval.errors import ApprovalError, InvalidDecision, LinkRejected
from invoice_dispatch.approval.form_token import FormClaims, issue_form_token, verify_form_token
from invoice_dispatch.approval.links import LinkClaims, sign_approval_link, verify_approval_link
from invoice_dispatch.approval.models import (
    ApprovalDecision,
    ApprovalSummary,
    CurrencyTotal,
    DraftPage,
    DraftRow,
    ExcludedAccount,
    FlaggedInvoice,
    QuarantinedAccount,
)
from invoice_dispatch.approval.page import (
    decision_sentence,
    render_approval_email,
    render_decided_page,
    render_error_page,
    render_summary_page,
)
from invoice_dispatch.approval.start_input import (
    StartRunInput,
    describe_validation_error,
    parse_start_input,
)

__all__ = [
    "ApprovalDecision",
    "ApprovalError",
    "ApprovalSummary",
    "CurrencyTotal",
    "DraftPage",
    "DraftRow",
    "ExcludedAccount",
    "FlaggedInvoice",
    "FormClaims",
    "InvalidDecision",
    "LinkClaims",
    "LinkRejected",
    "PageRequest",
    "QuarantinedAccount",
    "StartRunInput",
    "decision_sentence",
    "describe_validation_error",
    "issue_form_token",
    "parse_decision_form",
    "parse_start_input",
    "render_approval_email",
    "render_decided_page",
    "render_error_page",
    "render_summary_page",
    "sign_approval_link",
    "sort_and_page",
    "verify_approval_link",
    "verify_form_token",
]
