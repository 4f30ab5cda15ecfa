"""The invoice register of a period: one row per invoice and tax rate, and its totals.

An auditor (or a tax inspector: GoBD in Germany, the FEC in France) asks for the list of
every invoice issued, with its date, customer and amounts per tax rate, and for proof
that the stored documents are the ones issued. The row therefore carries the SHA-256
recorded when the PDF was locked (never a hash of the object as it is now: that is what
the verifier compares against) and the credit notes that corrected the invoice.

Rows are built one invoice at a time and written as they come (``csv_lines``), so a
period of 100,000 invoices is never held; only the totals and, for the PDF, either the
rows (small periods) or one summary per block of numbers (``RegisterDigest``) stay.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import groupby

from invoice_dispatch.audit.series import NumberFormat
from invoice_dispatch.invoice import Invoice

CSV_COLUMNS = (
    "number",
    "issue_date",
    "account_id",
    "customer",
    "currency",
    "tax_category",
    "tax_rate",
    "net",
    "tax",
    "gross",
    "invoice_gross",
    "pdf_sha256",
    "credit_notes",
)
#: Up to this many invoices the PDF lists each one; beyond, one line per block of numbers
#: (a 100,000-invoice period would be 2,000 pages nobody reads, and the pages' drawing
#: would have to be held at once). The CSV always lists every invoice.
PDF_ROWS_AT_MOST = 2_000
NUMBERS_PER_BLOCK = 100


@dataclass(frozen=True)
class RegisterRow:
    """One invoice's amounts at one tax rate; ``gross`` is net plus tax at that rate."""

    number: str
    issue_date: date
    account_id: str
    customer: str
    currency: str
    tax_category: str
    tax_rate: Decimal
    net: Decimal
    tax: Decimal
    gross: Decimal
    invoice_gross: Decimal
    pdf_sha256: str
    credit_notes: tuple[str, ...]

    def csv_values(self) -> list[str]:
        return [
            self.number,
            self.issue_date.isoformat(),
            self.account_id,
            self.customer,
            self.currency,
            self.tax_category,
            str(self.tax_rate),
            str(self.net),
            str(self.tax),
            str(self.gross),
            str(self.invoice_gross),
            self.pdf_sha256,
            " ".join(self.credit_notes),
        ]


def register_rows(
    invoice: Invoice, pdf_sha256: str | None, credit_notes: Iterable[str] = ()
) -> list[RegisterRow]:
    """A finalized invoice's rows: one per rate of its tax breakdown (EN 16931 BG-23)."""
    if invoice.number is None or invoice.issue_date is None:
        raise ValueError(f"Invoice {invoice.invoice_id} is not finalized: it has no number")
    notes = tuple(credit_notes)
    return [
        RegisterRow(
            number=invoice.number,
            issue_date=invoice.issue_date,
            account_id=invoice.customer.account_id,
            customer=invoice.customer.name,
            currency=invoice.currency,
            tax_category=str(subtotal.tax_category),
            tax_rate=subtotal.tax_rate,
            net=subtotal.taxable_amount,
            tax=subtotal.tax_amount,
            gross=subtotal.taxable_amount + subtotal.tax_amount,
            invoice_gross=invoice.gross_total,
            pdf_sha256=pdf_sha256 or "",
            credit_notes=notes,
        )
        for subtotal in invoice.tax_breakdown
    ]


def csv_lines(rows: Iterable[RegisterRow]) -> Iterator[str]:
    """The header, then one CSV line per row, as the rows arrive (RFC 4180 quoting)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for values in ([*CSV_COLUMNS], *(row.csv_values() for row in rows)):
        writer.writerow(values)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


@dataclass
class Amounts:
    net: Decimal = Decimal(0)
    tax: Decimal = Decimal(0)
    gross: Decimal = Decimal(0)

    def add(self, row: RegisterRow) -> None:
        self.net += row.net
        self.tax += row.tax
        self.gross += row.gross


@dataclass
class BlockSummary:
    """The invoices of one block of numbers (``INV-2026-000001`` to ``…000100``)."""

    first: str
    last: str
    invoices: int = 0
    by_currency: dict[str, Amounts] = field(default_factory=dict)


@dataclass
class RegisterDigest:
    """What the register PDF shows, gathered while the rows stream past.

    Every row is kept for the PDF while the period has at most ``PDF_ROWS_AT_MOST``
    invoices (``detailed``); past that, the rows kept are folded into one
    ``BlockSummary`` per ``NUMBERS_PER_BLOCK`` numbers and later invoices go straight
    into their block, so what is held stays a few hundred bytes per block.
    """

    period: str
    number_format: NumberFormat
    detailed: bool = True
    invoices: int = 0
    credit_notes: int = 0
    #: (currency, tax category, rate) -> amounts: the period's totals per tax rate.
    totals: dict[tuple[str, str, Decimal], Amounts] = field(default_factory=dict)
    rows: list[RegisterRow] = field(default_factory=list)
    blocks: dict[tuple[int, int], BlockSummary] = field(default_factory=dict)

    def add_invoice(self, rows: list[RegisterRow]) -> None:
        if not rows:
            return
        self.invoices += 1
        self.credit_notes += len(rows[0].credit_notes)
        for row in rows:
            key = (row.currency, row.tax_category, row.tax_rate)
            self.totals.setdefault(key, Amounts()).add(row)
        if not self.detailed:
            self._add_to_block(rows)
            return
        self.rows.extend(rows)
        if self.invoices > PDF_ROWS_AT_MOST:
            self.detailed = False
            for _number, invoice_rows in groupby(self.rows, key=lambda row: row.number):
                self._add_to_block(list(invoice_rows))
            self.rows = []

    def _add_to_block(self, rows: list[RegisterRow]) -> None:
        block = self._block(rows[0].number)
        block.invoices += 1
        for row in rows:
            block.by_currency.setdefault(row.currency, Amounts()).add(row)

    def _block(self, number: str) -> BlockSummary:
        parsed = self.number_format.parse(number)
        year, sequence = parsed if parsed else (0, 0)
        index = (sequence - 1) // NUMBERS_PER_BLOCK
        key = (year, index)
        if key not in self.blocks:
            first = index * NUMBERS_PER_BLOCK + 1
            self.blocks[key] = BlockSummary(
                first=self.number_format.number(year, first),
                last=self.number_format.number(year, first + NUMBERS_PER_BLOCK - 1),
            )
        return self.blocks[key]

    def rows_in_number_order(self) -> list[RegisterRow]:
        return sorted(self.rows, key=lambda row: (row.number, row.tax_category, row.tax_rate))

    def blocks_in_number_order(self) -> list[BlockSummary]:
        return [self.blocks[key] for key in sorted(self.blocks)]

    def totals_in_order(self) -> list[tuple[tuple[str, str, Decimal], Amounts]]:
        return sorted(self.totals.items())
