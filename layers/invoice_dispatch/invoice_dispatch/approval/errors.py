"""Errors the approval HTTP handler turns into a 4xx page, in one place.

Each carries a sentence an approver can act on (not a stack trace) and the HTTP status
the handler should answer with, so the mapping lives beside the rule that raises it.
"""

from __future__ import annotations


class ApprovalError(Exception):
    """Base of the approval errors: ``reason`` is shown to the approver as is."""

    status_code: int = 400

    def __init__(self, reason: str, status_code: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        if status_code is not None:
            self.status_code = status_code


class LinkRejected(ApprovalError):
    """A link or form token that is forged, altered, expired or for another run.

    Nothing may change state after this error: the handler renders an error page only.
    """

    status_code = 403


class InvalidDecision(ApprovalError):
    """A well-signed form whose content is not a valid decision (answered with 400)."""

    status_code = 400
