"""Signed, expiring links to one customer's portal page.

The link names the account and an expiry and carries ``_signing.link_signature`` with
the account as its subject, under a key derived for this purpose only from the portal's
own secret (not the approval key: the portal's Lambda can read its secret and nothing
else, so it could never sign an approval). The account id is inside the signature, so
editing it in the address yields "issued for another account", never another
customer's page. The same signed query opens the account's document downloads.
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

_PURPOSE = "portal-link"
#: The path segment of a customer's page: ``/portal/<account id>``.
PORTAL = "portal"
#: What a customer can do about a refused link, in every refusal.
_ASK_AGAIN = (
    "Open the link in your most recent invoice or reminder e-mail, or reply to it for a new one."
)


class PortalClaims(BaseModel):
    """What a verified link proves: its holder may see this account's documents until then."""

    model_config = ConfigDict(frozen=True)

    account_id: str
    expires_at: datetime


def _signature(account_id: str, exp: str, key: bytes) -> str:
    return link_signature(derive_key(key, _PURPOSE), account_id, exp)


def portal_path(account_id: str) -> str:
    return f"/{PORTAL}/{quote(account_id, safe='')}"


def sign_portal_link(base_url: str, account_id: str, expires_at: datetime, key: bytes) -> str:
    """The URL put in the customer's e-mails: ``{base_url}/portal/{account_id}?exp=&sig=``."""
    require_aware(expires_at, "expires_at")
    if not account_id:
        raise ValueError("A portal link needs an account id")
    exp = str(int(expires_at.timestamp()))
    query = urlencode({"exp": exp, "sig": _signature(account_id, exp, key)})
    return f"{base_url.rstrip('/')}{portal_path(account_id)}?{query}"


def verify_portal_link(
    account_id: str, exp: str, sig: str, key: bytes, now: datetime
) -> PortalClaims:
    """Check a link's fields as they arrived; raise ``LinkRejected`` with a readable reason.

    The signature is checked before the expiry, so an edited expiry reads as "altered"
    and an expired link cannot be revived.
    """
    require_aware(now, "now")
    sig = (sig or "").strip().lower()
    exp = (exp or "").strip()
    if not account_id or not SIGNATURE_PATTERN.match(sig) or not EXPIRY_PATTERN.match(exp):
        raise LinkRejected(
            f"This link is incomplete: the whole address may not have been copied. {_ASK_AGAIN}",
            400,
        )
    check = check_link_signature(_signature(account_id, exp, key), sig)
    if check is LinkCheck.OTHER_SUBJECT:
        raise LinkRejected(
            f"This link belongs to another customer account. {_ASK_AGAIN}",
            403,
        )
    if check is LinkCheck.ALTERED:
        raise LinkRejected(f"This link has been altered and cannot be trusted. {_ASK_AGAIN}", 403)
    expires_at = datetime.fromtimestamp(int(exp), tz=UTC)
    if now >= expires_at:
        raise LinkRejected(
            f"This link expired on {expires_at:%Y-%m-%d %H:%M} UTC. {_ASK_AGAIN}",
            410,
        )
    return PortalClaims(account_id=account_id, expires_at=expires_at)
