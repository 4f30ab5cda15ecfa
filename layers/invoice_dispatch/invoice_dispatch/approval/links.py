"""Signed, expiring approval links.

The emailed link names the run, the approver and an expiry, and carries an HMAC-SHA256
signature over them. The Step Functions task token never leaves the server: a leaked
link lets someone *see* a summary until it expires, never resume an execution directly.

The signature is two MACs side by side: a short one over the run id alone, then the full
one over (run id, approver, expiry). Checking the first separately lets us tell an
approver "this link belongs to another approval run" instead of a vague "invalid link",
without weakening anything (it is a MAC of a value the URL already shows).
"""

from __future__ import annotations

import hmac
import re
from datetime import UTC, datetime
from urllib.parse import quote, urlencode

from pydantic import BaseModel, ConfigDict

from invoice_dispatch.approval._signing import derive_key, mac_hex, require_aware
from invoice_dispatch.approval.errors import LinkRejected

_PURPOSE = "approval-link"
#: The path segment of a batch's page; a correction's page is ``corrections``.
APPROVALS = "approvals"
_RUN_TAG_HEX = 16
_MAC_HEX = 64
_SIG_PATTERN = re.compile(rf"^[0-9a-f]{{{_RUN_TAG_HEX + _MAC_HEX}}}$")
_EXP_PATTERN = re.compile(r"^\d{1,12}$")


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
    link_key = derive_key(key, _purpose(resource))
    run_tag = mac_hex(link_key, "run", run_id)[:_RUN_TAG_HEX]
    return run_tag + mac_hex(link_key, "link", run_id, approver, exp)


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
    if not approver or not _SIG_PATTERN.match(sig) or not _EXP_PATTERN.match(exp):
        raise LinkRejected(
            "This approval link is incomplete. Open it again from the approval email, "
            "making sure the whole address was copied.",
            400,
        )
    expected = _signature(run_id, approver, exp, key, resource)
    if not hmac.compare_digest(expected, sig):
        if not hmac.compare_digest(expected[:_RUN_TAG_HEX], sig[:_RUN_TAG_HEX]):
            raise LinkRejected(
                "This approval link was issued for a different invoice run. "
                "Open the link from the most recent approval email.",
                403,
            )
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
