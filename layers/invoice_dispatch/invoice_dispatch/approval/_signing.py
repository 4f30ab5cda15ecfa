"""Key handling shared by links and form tokens.

The one secret from Secrets Manager is never used directly: each purpose derives its
own sub-key (HMAC(key, purpose)), so a link signature can never be replayed as a form
token or the other way round, even though both sign similar fields.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

#: A shorter secret would make brute-forcing a signature realistic; 32 bytes is what
#: ``secrets.token_bytes()`` and Secrets Manager's generated passwords give by default.
MIN_KEY_BYTES = 16


def derive_key(key: bytes, purpose: str) -> bytes:
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"The approval signing key must be at least {MIN_KEY_BYTES} bytes long")
    return hmac.new(key, f"invoice-dispatch/{purpose}/v1".encode(), hashlib.sha256).digest()


def mac_hex(key: bytes, *fields: str) -> str:
    """HMAC-SHA256 over length-prefixed fields, so ("ab", "c") never equals ("a", "bc")."""
    message = b"".join(
        len(encoded).to_bytes(4, "big") + encoded for encoded in (f.encode() for f in fields)
    )
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def require_aware(moment: datetime, name: str) -> None:
    """Expiry compares instants; a naive datetime would silently mean the server's zone."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
