"""The signed token inside the approval form.

The POST must prove it comes from a page this server rendered for this run and approver,
not from a forged form on another site or a hand-made request: the token binds
(run id, approver, expiry, nonce) under a key separate from the link key. The nonce lets
the store record which rendered form made the decision (useful in the audit trail);
single use itself is enforced by the store's conditional write of the decision.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import secrets
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict, ValidationError

from invoice_dispatch.approval._signing import derive_key, mac_hex, require_aware
from invoice_dispatch.approval.errors import LinkRejected

#: The batch page's form; other pages (a correction) sign their forms under their own purpose.
APPROVAL_FORM = "approval-form"
_VERSION = "f1"


class FormClaims(BaseModel):
    """What a verified form token proves: this rendered form may decide this run until then."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    approver: str
    expires_at: datetime
    nonce: str


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    r: str
    a: str
    e: int
    n: str


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue_form_token(
    run_id: str,
    approver: str,
    key: bytes,
    now: datetime,
    ttl: timedelta,
    purpose: str = APPROVAL_FORM,
) -> str:
    """A token for one rendered page; ``ttl`` should not outlive the link that showed it.

    ``purpose`` keeps the forms of different pages (a batch, a correction) apart."""
    require_aware(now, "now")
    if ttl <= timedelta(0):
        raise ValueError("A form token needs a positive lifetime")
    payload = _Payload(
        r=run_id, a=approver, e=int((now + ttl).timestamp()), n=secrets.token_urlsafe(12)
    )
    body = _b64(payload.model_dump_json().encode())
    return f"{_VERSION}.{body}.{mac_hex(derive_key(key, purpose), _VERSION, body)}"


def verify_form_token(
    token: str | None, run_id: str, key: bytes, now: datetime, purpose: str = APPROVAL_FORM
) -> FormClaims:
    """Check a posted token; raise ``LinkRejected`` and let nothing change otherwise."""
    require_aware(now, "now")
    if not token:
        raise LinkRejected(
            "The decision form arrived without its security token, so it was ignored. "
            "Open the approval link from the email and decide on that page.",
            403,
        )
    forged = LinkRejected(
        "The decision form's security token is not valid, so the decision was ignored. "
        "Open the approval link from the email and decide on that page.",
        403,
    )
    version, _, rest = token.partition(".")
    body, _, signature = rest.partition(".")
    expected = mac_hex(derive_key(key, purpose), _VERSION, body)
    if version != _VERSION or not hmac.compare_digest(expected, signature):
        raise forged
    try:
        payload = _Payload.model_validate(json.loads(_unb64(body)))
    except (binascii.Error, ValueError, ValidationError):
        raise forged from None
    if payload.r != run_id:
        raise LinkRejected(
            "This decision form belongs to a different invoice run, so it was ignored.", 403
        )
    expires_at = datetime.fromtimestamp(payload.e, tz=UTC)
    if now >= expires_at:
        raise LinkRejected(
            "This page was open too long and its form expired, so the decision was ignored. "
            "Reload the page from the approval link and decide again.",
            410,
        )
    return FormClaims(run_id=payload.r, approver=payload.a, expires_at=expires_at, nonce=payload.n)
