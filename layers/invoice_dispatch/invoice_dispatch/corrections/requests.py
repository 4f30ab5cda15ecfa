"""What an operator may ask of a finalized invoice, as a Step Functions execution input.

``{"credit_note": {"invoice": "INV-2026-000017", "lines": "all" | ["L001"], "amount": "50.00",
"reason": "..."}}``, ``{"write_off": {"invoice": ..., "amount": ... (optional: all that is
open), "reason": ...}}`` or ``{"dispute": {"invoice": ..., "reason": ..., "action": "open" |
"close"}}``. Exactly one of them, validated strictly: a correction moves money, so an
unknown field or a credit note that names both lines and an amount is refused, never
guessed at.

A request is identified by ``request_id`` when the caller gives one, else by a digest of
what it asks: the same request sent twice is one correction (one credit note, one number,
one e-mail, one ERP document). To issue the same credit twice on purpose, give each its
own ``request_id``.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from invoice_dispatch.approval.start_input import describe_validation_error
from invoice_dispatch.errors import PermanentError


class CorrectionRefused(PermanentError):
    """A correction the ledger or the invoice does not allow; the message is for a person."""


class CorrectionKind(StrEnum):
    CREDIT_NOTE = "credit_note"
    WRITE_OFF = "write_off"
    DISPUTE = "dispute"


_REQUEST_ID = r"^[A-Za-z0-9_.-]{1,64}$"


class _Request(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    invoice: str = Field(min_length=1, max_length=64, pattern=r"^\S+$")
    reason: str = Field(min_length=1, max_length=300)
    request_id: str | None = Field(default=None, pattern=_REQUEST_ID)

    @model_validator(mode="after")
    def _reason_has_words(self) -> _Request:
        if not self.reason.strip():
            raise ValueError("the reason must say something the customer can read")
        return self


class CreditNoteRequest(_Request):
    """Credit whole lines (``"all"``: every line not credited yet) or a net amount.

    ``amount`` is before tax, at the invoice's one tax rate (as a carried credit's amount
    is): tax is then computed on it by the same rule as on any line.
    """

    lines: Literal["all"] | list[str] | None = None
    amount: Decimal | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _lines_or_amount(self) -> CreditNoteRequest:
        if (self.lines is None) == (self.amount is None):
            raise ValueError('name either "lines" ("all" or line ids) or a net "amount"')
        if isinstance(self.lines, list) and not self.lines:
            raise ValueError('"lines" names no line; use "all" or line ids such as "L001"')
        return self


class WriteOffRequest(_Request):
    """Give up (part of) what is still open; without ``amount``, all of it."""

    amount: Decimal | None = Field(default=None, gt=0)


class DisputeRequest(_Request):
    """Open a dispute (reminders pause) or close it (back to open)."""

    action: Literal["open", "close"] = "open"


class CorrectionInput(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    credit_note: CreditNoteRequest | None = None
    write_off: WriteOffRequest | None = None
    dispute: DisputeRequest | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> CorrectionInput:
        named = [kind for kind in CorrectionKind if getattr(self, kind.value) is not None]
        if len(named) != 1:
            raise ValueError('give exactly one of "credit_note", "write_off" or "dispute"')
        return self

    @property
    def kind(self) -> CorrectionKind:
        return next(kind for kind in CorrectionKind if getattr(self, kind.value) is not None)

    @property
    def request(self) -> CreditNoteRequest | WriteOffRequest | DisputeRequest:
        request: CreditNoteRequest | WriteOffRequest | DisputeRequest = getattr(
            self, self.kind.value
        )
        return request

    @property
    def request_id(self) -> str:
        """The caller's id, else ``<kind>-<invoice>-<digest of the request>``."""
        request = self.request
        if request.request_id:
            return request.request_id
        canonical = json.dumps(
            {self.kind.value: request.model_dump(mode="json")}, sort_keys=True
        ).encode()
        digest = hashlib.sha256(canonical).hexdigest()[:16]
        return f"{self.kind.value.replace('_', '-')}-{request.invoice}-{digest}"[:80]


def parse_correction_input(raw: dict[str, Any]) -> CorrectionInput:
    """The execution input, or ``CorrectionRefused`` saying which field is wrong."""
    try:
        return CorrectionInput.model_validate(raw)
    except ValidationError as error:
        raise CorrectionRefused(
            f"The correction request is not valid: {describe_validation_error(error)}"
        ) from None
