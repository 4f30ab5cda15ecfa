"""Prove a period's register: gapless numbers, untouched PDFs, real credits, ERP agreement.

What an auditor asks of an invoicing system (GoBD's "Unveränderbarkeit" and
"Vollständigkeit", the French anti-fraud rules' inalterability and continuity):

* every number the counters handed out is carried by a document, per series and year
  (``audit.series``); a period's numbers continue the previous period's, so a number the
  period lacks is looked for in the other periods of its year before it is called missing;
* every stored PDF still hashes to the SHA-256 recorded when it was locked, and is under
  S3 Object Lock where the bucket locks invoices by default;
* every credit note credits a finalized invoice that carries the number it names;
* the ERP holds each invoice at the invoice's own totals.

The period is read a page of 100 invoices at a time; only one integer per invoice (its
sequence in the series) is kept, for the continuity check.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

from invoice_dispatch.audit.checks import CheckResult, erp_totals_break, pdf_hash_break
from invoice_dispatch.audit.series import NumberFormat, continuity_breaks
from invoice_dispatch.billing.period import add_months
from invoice_dispatch.erp import ErpError, ErpTotalsReader
from invoice_dispatch.invoice import Invoice, InvoiceStatus
from invoice_dispatch.legal_entity import LegalEntity
from invoice_dispatch.platform import Platform
from invoice_dispatch.workflow.corrections import credit_note_series
from invoice_dispatch.workflow.finalize import number_series
from invoice_dispatch.workflow.register import (
    REGISTER_MODE,
    credit_notes_by_invoice,
    finalized_pages,
)


class _Checks:
    """The period's checks, filled as the invoices and credit notes pass."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.numbers = CheckResult("Invoice numbers continuous")
        self.credit_numbers = CheckResult("Credit-note numbers continuous")
        self.pdfs = CheckResult("PDFs match their recorded SHA-256")
        self.locks = CheckResult("PDFs under Object Lock")
        self.references = CheckResult("Credit notes credit real invoices")
        self.erp_totals = CheckResult("Totals match the ERP")
        self.retention = platform.documents.default_retention()
        self.pdf_count = 0

    def results(self) -> list[CheckResult]:
        return [
            self.numbers,
            self.credit_numbers,
            self.pdfs,
            self.locks,
            self.references,
            self.erp_totals,
        ]

    def document(self, number: str, pdf_key: str | None, recorded: str | None) -> None:
        """The stored PDF of one invoice or credit note: its hash, then its lock."""
        self.pdf_count += 1
        documents = self.platform.documents
        current = documents.sha256_of(pdf_key) if pdf_key else None
        if problem := pdf_hash_break(number, recorded, current):
            self.pdfs.breaks.append(problem)
        if self.retention and pdf_key and documents.retained_until(pdf_key) is None:
            self.locks.breaks.append(
                f"{number}'s PDF is not under Object Lock although the bucket locks invoices "
                f"({self.retention}): it could be changed or deleted."
            )


def verify_period(
    period: str, platform: Platform, erp: ErpTotalsReader | None
) -> list[CheckResult]:
    """Every check of the period, in the order an auditor reads them."""
    entity = platform.legal_entity
    invoice_format = NumberFormat(entity.number_format, entity.code)
    checks = _Checks(platform)
    sequences: dict[int, array[int]] = {}
    credit_years: set[int] = set()
    invoices = 0
    for page in finalized_pages(platform, period):
        notes = credit_notes_by_invoice(platform, page)
        for stored in page:
            invoice = stored.invoice
            number = str(invoice.number)
            invoices += 1
            parsed = invoice_format.parse(number)
            if parsed is None:
                checks.numbers.breaks.append(
                    f"{number} is not a number of the series format {entity.number_format}."
                )
            else:
                sequences.setdefault(parsed[0], array("q")).append(parsed[1])
            credit_years.update(_years(notes.get(number, ()), entity))
            checks.document(number, stored.pdf_key, stored.pdf_sha256)
            if erp is not None:
                _check_erp(checks, invoice, erp)
    for year, held in sorted(sequences.items()):
        counter = platform.store.last_number(number_series(entity, REGISTER_MODE, year))
        checks.numbers.breaks += [
            found.sentence
            for found in continuity_breaks(
                invoice_format,
                year,
                held,
                counter,
                _other_periods_finder(platform, invoice_format, year, period),
            )
        ]
    ranges = ", ".join(
        f"{invoice_format.number(year, min(held))} to {invoice_format.number(year, max(held))}"
        for year, held in sorted(sequences.items())
    )
    checks.numbers.looked_at = f"{invoices} invoice(s): {ranges or 'none'}"
    _check_credit_notes(checks, platform, credit_years | set(sequences))
    checks.pdfs.looked_at = f"{checks.pdf_count} PDF(s) hashed"
    checks.locks.looked_at = (
        f"bucket default {checks.retention}" if checks.retention else "the bucket locks nothing"
    )
    checks.locks.checked = checks.retention is not None
    checks.erp_totals.looked_at = (
        f"{invoices} invoice(s) looked up" if erp is not None else "no ERP to compare with"
    )
    checks.erp_totals.checked = erp is not None
    return checks.results()


def _years(credit_note_numbers: tuple[str, ...], entity: LegalEntity) -> Iterator[int]:
    note_format = NumberFormat(entity.credit_note_number_format, entity.code)
    for number in credit_note_numbers:
        if (parsed := note_format.parse(number)) is not None:
            yield parsed[0]


def _check_erp(checks: _Checks, invoice: Invoice, erp: ErpTotalsReader) -> None:
    number = str(invoice.number)
    try:
        booked = erp.booked_totals(number)
    except ErpError as error:
        checks.erp_totals.breaks.append(f"{number} could not be looked up in the ERP: {error}")
        return
    ours = (invoice.net_total, invoice.tax_total, invoice.gross_total)
    if problem := erp_totals_break(number, invoice.currency, ours, booked):
        checks.erp_totals.breaks.append(problem)


def _check_credit_notes(checks: _Checks, platform: Platform, years: set[int]) -> None:
    """The credit-note series of the period's years: every note, its invoice and its PDF.

    Credit notes are few (one in a few hundred invoices), and a series' notes are listed
    from their own index partition, so the whole year's series is checked at once.
    """
    entity = platform.legal_entity
    note_format = NumberFormat(entity.credit_note_number_format, entity.code)
    notes = 0
    for year in sorted(years):
        series = credit_note_series(entity, year)
        held: list[int] = []
        for item in platform.corrections.credit_notes_of_series(series):
            notes += 1
            number = str(item["number"])
            if (parsed := note_format.parse(number)) is not None:
                held.append(parsed[1])
            checks.document(number, item.get("pdf_key"), item.get("pdf_sha256"))
            if problem := _reference_break(platform, item):
                checks.references.breaks.append(problem)
        counter = platform.store.last_number(series)
        if counter and not held:
            held_nothing = note_format.number(year, counter)
            checks.credit_numbers.breaks.append(
                f"The {note_format.label(year)} counter has handed out numbers up to "
                f"{held_nothing}, but no credit note of that series is stored."
            )
        checks.credit_numbers.breaks += [
            found.sentence
            for found in continuity_breaks(note_format, year, held, counter, lambda wanted: set())
        ]
    checks.credit_numbers.looked_at = f"{notes} credit note(s) in {len(years)} yearly series"
    checks.references.looked_at = f"{notes} credit note(s)"


def _reference_break(platform: Platform, credit_note: dict[str, Any]) -> str | None:
    number = str(credit_note["number"])
    credited = str(credit_note.get("invoice_number", ""))
    stored = platform.store.get_invoice(str(credit_note.get("invoice_id", "")))
    if (
        stored is None
        or stored.invoice.status is not InvoiceStatus.FINALIZED
        or stored.invoice.number != credited
    ):
        return (
            f"{number} credits {credited or 'no invoice'}, but no finalized invoice carries "
            f"that number: the credit note corrects an invoice that does not exist."
        )
    return None


def _other_periods_finder(
    platform: Platform, number_format: NumberFormat, year: int, period: str
) -> Callable[[set[int]], set[int]]:
    """Look for numbers of ``year``'s series in the other periods, nearest period first.

    A number of year Y is issued in Y, to an invoice of a period up to Y's December and,
    for a late release, as early as Y-1's January; the search stops as soon as all are found
    (usually in the period just before, which holds the number before this period's first).
    """

    def found_elsewhere(wanted: set[int]) -> set[int]:
        remaining = set(wanted)
        for other in _periods_nearest_first(period, year):
            for number in platform.store.period_numbers(REGISTER_MODE, other):
                parsed = number_format.parse(number)
                if parsed is not None and parsed[0] == year:
                    remaining.discard(parsed[1])
            if not remaining:
                break
        return wanted - remaining

    return found_elsewhere


def _periods_nearest_first(period: str, year: int) -> list[str]:
    start = date(int(period[:4]), int(period[5:7]), 1)
    first, last = date(year - 1, 1, 1), date(year, 12, 1)
    candidates = [add_months(start, offset) for offset in range(-24, 25) if offset]
    inside = [day for day in candidates if first <= day <= last]
    inside.sort(key=lambda day: abs((day.year - start.year) * 12 + day.month - start.month))
    return [day.strftime("%Y-%m") for day in inside]
