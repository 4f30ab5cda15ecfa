"""Apply a payment to the ledger exactly once: match it, then record it in one transaction.

Whatever brought the payment (the webhook, a bank statement), it goes through here. A
key already recorded is answered from the ledger (``duplicate``) and changes nothing; the
store's transaction makes that hold even for two deliveries of one webhook at the same
moment. When an invoice moved between reading and writing (another payment for it), the
payment is matched again on fresh amounts, so "several invoices, exact total" is always
judged on what is open at the time of writing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, Field

from invoice_dispatch.adapters.ledger_store import MAX_INVOICES_PER_POSTING, Recorded
from invoice_dispatch.errors import PermanentError, TransientError
from invoice_dispatch.payments.camt053 import parse_camt053
from invoice_dispatch.payments.incoming import IncomingPayment
from invoice_dispatch.payments.matching import match_payment
from invoice_dispatch.payments.references import InvoiceNumberFinder
from invoice_dispatch.payments.statement import ParsedStatement
from invoice_dispatch.payments.statement_csv import parse_statement_csv
from invoice_dispatch.platform import Platform
from invoice_dispatch.receivables import Posting, PostingOutcome, Receivable

#: Matching again after a concurrent change; five in a row means something keeps writing.
_ATTEMPTS = 5


class PaymentResult(BaseModel):
    key: str
    outcome: Literal["applied", "unmatched", "ambiguous", "duplicate"]
    explanation: str
    numbers: list[str] = Field(default_factory=list)


def _result(posting: Posting, duplicate: bool = False) -> PaymentResult:
    return PaymentResult(
        key=posting.key,
        outcome="duplicate" if duplicate else posting.outcome.value,
        explanation=(
            f"Already recorded: {posting.explanation}" if duplicate else posting.explanation
        ),
        numbers=[allocation.number for allocation in posting.allocations],
    )


def record_once(
    key: str,
    numbers: list[str],
    decide: Callable[[Mapping[str, Receivable]], Posting],
    platform: Platform,
) -> PaymentResult:
    """Read the named receivables, let ``decide`` build the posting, write it once."""
    ledger = platform.ledger
    for _attempt in range(_ATTEMPTS):
        existing = ledger.posting(key)
        if existing is not None:
            return _result(existing, duplicate=True)
        receivables = ledger.receivables(numbers)
        posting = decide(receivables)
        if len(posting.allocations) > MAX_INVOICES_PER_POSTING:
            posting = posting.model_copy(
                update={
                    "outcome": PostingOutcome.AMBIGUOUS,
                    "allocations": (),
                    "explanation": f"{posting.explanation} It pays {len(posting.allocations)} "
                    f"invoices, more than the {MAX_INVOICES_PER_POSTING} one payment may pay "
                    "at once: split it by hand.",
                }
            )
        recorded = ledger.record_posting(posting, dict(receivables))
        if recorded is Recorded.WRITTEN:
            return _result(posting)
    raise TransientError(f"The invoices of payment {key} kept changing while it was applied")


def receive_payment(
    payment: IncomingPayment, platform: Platform, finder: InvoiceNumberFinder | None = None
) -> PaymentResult:
    finder = finder or number_finder(platform)
    numbers = finder.find(payment.reference)
    return record_once(
        payment.key,
        numbers,
        lambda receivables: match_payment(payment, numbers, receivables),
        platform,
    )


def number_finder(platform: Platform) -> InvoiceNumberFinder:
    entity = platform.legal_entity
    return InvoiceNumberFinder(entity.number_format, entity.code)


class StatementImport(BaseModel):
    """What importing one statement did, payment by payment, for the log and the caller."""

    name: str
    applied: int = 0
    exceptions: int = 0
    duplicates: int = 0
    skipped: list[str] = Field(default_factory=list)
    payments: list[PaymentResult] = Field(default_factory=list)


def parse_statement(content: bytes) -> ParsedStatement:
    """camt.053 if the file is XML, otherwise CSV (UTF-8, with or without a BOM)."""
    if content.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return parse_camt053(content)
    return parse_statement_csv(content.decode("utf-8-sig", errors="replace"))


def import_statement(name: str, content: bytes, platform: Platform) -> StatementImport:
    parsed = parse_statement(content)
    finder = number_finder(platform)
    report = StatementImport(name=name, skipped=parsed.skipped)
    for payment in parsed.payments:
        result = receive_payment(payment, platform, finder)
        report.payments.append(result)
        if result.outcome == "applied":
            report.applied += 1
        elif result.outcome == "duplicate":
            report.duplicates += 1
        else:
            report.exceptions += 1
    return report


class StatementImportEvent(BaseModel):
    """What starts an import: S3's "Object Created" event through EventBridge for a file
    dropped under ``statements/inbox/``, or an on-demand input naming an object in the
    documents bucket (``{"key": ...}``) or carrying the file itself (``{"name": ...,
    "content": ...}``, text)."""

    detail: dict[str, Any] = Field(default_factory=dict)
    key: str | None = None
    name: str | None = None
    content: str | None = None


def statement_files(event: StatementImportEvent, platform: Platform) -> list[tuple[str, bytes]]:
    """(name, bytes) of every statement the event brings."""
    if event.content is not None:
        return [(event.name or "on-demand statement", event.content.encode("utf-8"))]
    dropped = event.detail.get("object", {}).get("key")
    keys = [key for key in (event.key, dropped) if key]
    if not keys:
        raise PermanentError(
            'A statement import needs an S3 notification, {"key": "<object key>"} or '
            '{"name": ..., "content": ...}'
        )
    return [(key, platform.documents.get_bytes(key)) for key in keys]
