"""Bank statements as CSV: for banks (and bookkeeping exports) that do not offer camt.053.

One row per booked entry, with a header naming the columns (any order, extra columns
ignored):

    entry_reference  the bank's reference of the entry (required: it is the import key)
    booking_date     YYYY-MM-DD or DD.MM.YYYY
    amount           positive for money in; a negative amount is a debit and is skipped
    currency         ISO 4217 code
    payer            who paid (optional)
    remittance       the payer's reference text, where the invoice number is (optional)
    account          the IBAN the statement is for (optional; with it, the same entry
                     imported from camt.053 and from CSV is recognised as one)

Comma, semicolon or tab separated, decimal commas in semicolon files: the dialect is read
from the header exactly as for account sources (``billing/csv_dialect.py``). A file with
a bad row is refused whole, listing the rows to fix: half a statement imported would
leave a person guessing which half.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from pydantic import ValidationError

from invoice_dispatch.billing.csv_dialect import CsvDialectError, csv_number, read_csv
from invoice_dispatch.billing.quoting import quote
from invoice_dispatch.payments.incoming import IncomingPayment
from invoice_dispatch.payments.statement import ParsedStatement, StatementError

REQUIRED_COLUMNS = ("entry_reference", "booking_date", "amount", "currency")
#: A refusal lists at most this many rows; fixing those usually reveals the pattern.
_MAX_PROBLEMS = 10


def _booking_date(cell: str) -> date:
    for pattern in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(cell, pattern).date()
        except ValueError:
            continue
    raise ValueError(f"booking_date {quote(cell)} is not YYYY-MM-DD or DD.MM.YYYY")


def _amount(cell: str, delimiter: str) -> Decimal:
    number, problem = csv_number(cell, delimiter)
    if problem:
        raise ValueError(f"amount {problem}")
    try:
        return Decimal(number)
    except InvalidOperation:
        raise ValueError(f"amount {quote(cell)} is not a number") from None


def parse_statement_csv(text: str) -> ParsedStatement:
    try:
        delimiter, rows = read_csv(text, required_column="entry_reference")
    except CsvDialectError as error:
        raise StatementError(f"The statement {error}") from None
    missing = [column for column in REQUIRED_COLUMNS if rows and column not in rows[0]]
    if missing:
        raise StatementError(f"The statement has no {', '.join(missing)} column")
    payments: list[IncomingPayment] = []
    skipped: list[str] = []
    problems: list[str] = []
    for line, row in enumerate(rows, start=2):
        reference = row["entry_reference"]
        try:
            if not reference:
                raise ValueError("entry_reference is empty")
            amount = _amount(row["amount"], delimiter)
            if amount <= 0:
                skipped.append(f"Row {line} ({reference}, {amount}) is a debit, not a payment")
                continue
            payments.append(
                IncomingPayment(
                    key=f"bank:{row.get('account') or 'csv'}:{reference}",
                    source="bank statement",
                    received_on=_booking_date(row["booking_date"]),
                    currency=row["currency"].upper(),
                    amount=amount,
                    payer=row.get("payer", ""),
                    reference=row.get("remittance", ""),
                )
            )
        except ValidationError as error:
            problems.append(f"row {line}: {error.errors(include_url=False)[0]['msg']}")
        except ValueError as error:
            problems.append(f"row {line}: {error}")
    if problems:
        shown = "; ".join(problems[:_MAX_PROBLEMS])
        more = (
            f" (and {len(problems) - _MAX_PROBLEMS} more)" if len(problems) > _MAX_PROBLEMS else ""
        )
        raise StatementError(f"The statement was not imported: {shown}{more}")
    return ParsedStatement(payments=payments, skipped=skipped)
