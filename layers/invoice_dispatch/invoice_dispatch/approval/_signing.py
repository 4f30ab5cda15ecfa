"""Key handling shared by links and form tokens (the approval pages and the customer portal).

A secret from Secrets Manager is never used directly: each purpose derives its own
sub-key (HMAC(key, purpose)), so a link signature can never be replayed as a form
token or the other way round, even though both sign similar fields.

A link's signature is two MACs side by side: a short one over the link's subject alone
(the run, the correction, the customer account), then the full one over the subject and
the link's other fields. Checking the first separately lets a page say "this link belongs
to another run (or account)" instead of a vague "invalid link", without weakening
anything (it is a MAC of a value the URL already shows).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime
from enum import Enum

#: A shorter secret would make brute-forcing a signature realistic; 32 bytes is what
#: ``secrets.token_bytes()`` and Secrets Manager's generated passwords give by default.
MIN_KEY_BYTES = 16


def derive_key(key: bytes, purpose: str) -> bytes:
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"A signing key must be at least {MIN_KEY_BYTES} bytes long")
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


_SUBJECT_TAG_HEX = 16
_MAC_HEX = 64
#: A link's ``sig`` as it must arrive: the subject's tag, then the full MAC.
SIGNATURE_PATTERN = re.compile(rf"^[0-9a-f]{{{_SUBJECT_TAG_HEX + _MAC_HEX}}}$")
#: A link's ``exp``: Unix seconds.
EXPIRY_PATTERN = re.compile(r"^\d{1,12}$")


class LinkCheck(Enum):
    VALID = "valid"
    OTHER_SUBJECT = "other subject"
    ALTERED = "altered"


def link_signature(link_key: bytes, subject: str, *fields: str) -> str:
    """The subject's tag, then the MAC over the subject and ``fields``."""
    return mac_hex(link_key, "run", subject)[:_SUBJECT_TAG_HEX] + mac_hex(
        link_key, "link", subject, *fields
    )


def check_link_signature(expected: str, received: str) -> LinkCheck:
    """Constant-time comparison of both parts; tells an other subject from an alteration."""
    if hmac.compare_digest(expected, received):
        return LinkCheck.VALID
    if hmac.compare_digest(expected[:_SUBJECT_TAG_HEX], received[:_SUBJECT_TAG_HEX]):
        return LinkCheck.ALTERED
    return LinkCheck.OTHER_SUBJECT
