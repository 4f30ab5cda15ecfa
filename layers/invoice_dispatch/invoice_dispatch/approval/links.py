"""Signed, expiring approval links.

The emailed link names the run, the approver and an expiry, and carries an HMAC-SHA256
signature over them. The Step Functions task token never leaves the server: a leaked
link lets someone *see* a summary until it expires, never resume an execution directly.

The signature is ``_signing.link_signature`` with the run as its subject: a short MAC of
the run id, then the full one over (run id, approver, expiry).
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote, urlencode

from pydantic import BaseModel, ConfigDict

from invoice_dispatch.approval._signing import (
    EXPIRY_PATTERN,
    SIGNATURE_PATTERN,
    LinkCheck,
    check_link_signature,
    derive_key,
    link_signature,
    require_aware,
)
from invoice_dispatch.approval.errors import LinkRejected

_PURPOSE = "approval-link"
#: The path segment of a batch's page; a correction's page is ``corrections``.
APPROVALS = "approvals"


class LinkClaims(BaseModel):
    """What a verified link proves: this approver may view this run's summary until then."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    approver: str
    expires_at: datetime


def _purpose(resource: str) -> str:
    """One derived key per page kind: a correction's link never opens a run's page."""
    return _PURPOSE if resource == APPROVALS else f"{resource}-link"


def _signature(run_id: str, approver: str, exp: str, key: bytes, resource: str) -> str:
    return link_signature(derive_key(key, _purpose(resource)), run_id, approver, exp)


def sign_approval_link(
    base_url: str,
    run_id: str,
    approver: str,
    expires_at: datetime,
    key: bytes,
    resource: str = APPROVALS,
) -> str:
    """The URL emailed to ``approver``: ``{base_url}/{resource}/{run_id}?approver=&exp=&sig=``."""
    require_aware(expires_at, "expires_at")
    if not run_id or not approver:
        raise ValueError("An approval link needs a run id and an approver")
    exp = str(int(expires_at.timestamp()))
    query = urlencode(
        {"approver": approver, "exp": exp, "sig": _signature(run_id, approver, exp, key, resource)}
    )
    return f"{base_url.rstrip('/')}/{resource}/{quote(run_id, safe='')}?{query}"


def verify_approval_link(
    run_id: str,
    approver: str,
    exp: str,
    sig: str,
    key: bytes,
    now: datetime,
    resource: str = APPROVALS,
) -> LinkClaims:
    """Check a link's fields as they arrived; raise ``LinkRejected`` with a readable reason.

    The signature is checked before the expiry, so an altered expiry reads as "altered",
    and an expired link cannot be revived by editing ``exp``.
    """
    require_aware(now, "now")
    sig = (sig or "").strip().lower()
    exp = (exp or "").strip()
    if not approver or not SIGNATURE_PATTERN.match(sig) or not EXPIRY_PATTERN.match(exp):
        raise LinkRejected(
            "This approval link is incomplete. Open it again from the approval email, "
            "making sure the whole address was copied.",
            400,
        )
    check = check_link_signature(_signature(run_id, approver, exp, key, resource), sig)
    if check is LinkCheck.OTHER_SUBJECT:
        raise LinkRejected(
            "This approval link was issued for a different invoice run. "
            "Open the link from the most recent approval email.",
            403,
        )
    if check is LinkCheck.ALTERED:
        raise LinkRejected(
            "This approval link has been altered and cannot be trusted. "
            "Open it again from the approval email.",
            403,
        )
    expires_at = datetime.fromtimestamp(int(exp), tz=UTC)
    if now >= expires_at:
        raise LinkRejected(
            f"This approval link expired on {expires_at:%Y-%m-%d %H:%M} UTC. "
            "Ask the billing team to re-send the approval email.",
            410,
        )
    return LinkClaims(run_id=run_id, approver=approver, expires_at=expires_at)
