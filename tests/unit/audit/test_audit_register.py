"""Register rows per tax rate with exact Decimals, the CSV, and the PDF read back."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pypdf import PdfReader

from invoice_dispatch.audit import register as register_module
from invoice_dispatch.audit.checks import (
    CheckResult,
    erp_totals_break,
    pdf_hash_break,
    report_lines,
)
from invoice_dispatch.audit.register import RegisterDigest, csv_lines, register_rows
from invoice_dispatch.audit.series import NumberFormat
from invoice_dispatch.erp import ErpBookedTotals
from invoice_dispatch.invoice import Invoice, InvoiceStatus, TaxCategory, TaxSubtotal
from invoice_dispatch.rendering.register_pdf import render_register_pdf
from tests.unit.billing.billing_factories import invoice_for, raw_account

INVOICES = NumberFormat("INV-{year}-{sequence:06d}", "NORTHWIND-EU")
SHA = "ab" * 32


def finalized(sequence: int, *rates: tuple[str, str, str]) -> Invoice:
    """A real engine draft, numbered, with the tax breakdown given as (rate, net, tax)."""
    draft = invoice_for(raw_account(account_id=f"ACC-{sequence:04d}"))
    breakdown = tuple(
        TaxSubtotal(
            tax_category=TaxCategory.STANDARD,
            tax_rate=Decimal(rate),
            taxable_amount=Decimal(net),
            tax_amount=Decimal(tax),
        )
        for rate, net, tax in rates
    )
    net = sum((s.taxable_amount for s in breakdown), Decimal(0))
    tax = sum((s.tax_amount for s in breakdown), Decimal(0))
    return draft.model_copy(
        update={
            "status": InvoiceStatus.FINALIZED,
            "number": INVOICES.number(2026, sequence),
            "issue_date": date(2026, 11, 30),
            "tax_breakdown": breakdown,
            "net_total": net,
            "tax_total": tax,
            "gross_total": net + tax,
        }
    )


def test_one_row_per_tax_rate_with_exact_decimals() -> None:
    invoice = finalized(7, ("19", "100.10", "19.02"), ("7", "0.30", "0.02"))
    rows = register_rows(invoice, SHA, ["CN-2026-000002"])
    assert [(r.tax_rate, r.net, r.tax, r.gross) for r in rows] == [
        (Decimal("19"), Decimal("100.10"), Decimal("19.02"), Decimal("119.12")),
        (Decimal("7"), Decimal("0.30"), Decimal("0.02"), Decimal("0.32")),
    ]
    assert {(r.number, r.invoice_gross, r.pdf_sha256, r.credit_notes) for r in rows} == {
        ("INV-2026-000007", Decimal("119.44"), SHA, ("CN-2026-000002",))
    }


def test_a_draft_has_no_register_row() -> None:
    with pytest.raises(ValueError, match="has no number"):
        register_rows(invoice_for(raw_account()), SHA)


def test_the_csv_quotes_names_and_keeps_amounts_as_written() -> None:
    invoice = finalized(1, ("19", "10.00", "1.90"))
    invoice = invoice.model_copy(
        update={"customer": invoice.customer.model_copy(update={"name": 'Müller, "Data" AG'})}
    )
    parsed = list(csv.DictReader(io.StringIO("".join(csv_lines(register_rows(invoice, SHA))))))
    assert parsed == [
        {
            "number": "INV-2026-000001",
            "issue_date": "2026-11-30",
            "account_id": "ACC-0001",
            "customer": 'Müller, "Data" AG',
            "currency": "EUR",
            "tax_category": "S",
            "tax_rate": "19",
            "net": "10.00",
            "tax": "1.90",
            "gross": "11.90",
            "invoice_gross": "11.90",
            "pdf_sha256": SHA,
            "credit_notes": "",
        }
    ]


def test_totals_per_rate_add_up_across_invoices() -> None:
    digest = RegisterDigest("2026-11", INVOICES)
    digest.add_invoice(register_rows(finalized(1, ("19", "0.10", "0.02")), SHA))
    digest.add_invoice(register_rows(finalized(2, ("19", "0.20", "0.04"), ("7", "1", "0.07")), SHA))
    totals = {key[2]: (a.net, a.tax, a.gross) for key, a in digest.totals_in_order()}
    assert totals == {
        Decimal("7"): (Decimal("1"), Decimal("0.07"), Decimal("1.07")),
        Decimal("19"): (Decimal("0.30"), Decimal("0.06"), Decimal("0.36")),
    }


def test_a_large_period_is_summarised_per_block_of_numbers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(register_module, "PDF_ROWS_AT_MOST", 2)
    digest = RegisterDigest("2026-11", INVOICES)
    for sequence in (1, 2, 101):
        digest.add_invoice(register_rows(finalized(sequence, ("19", "10.00", "1.90")), SHA))
    assert not digest.detailed and digest.rows == []
    blocks = digest.blocks_in_number_order()
    assert [(b.first, b.last, b.invoices, b.by_currency["EUR"].gross) for b in blocks] == [
        ("INV-2026-000001", "INV-2026-000100", 2, Decimal("23.80")),
        ("INV-2026-000101", "INV-2026-000200", 1, Decimal("11.90")),
    ]
    text = _pdf_text(digest)
    assert "INV-2026-000001 to INV-2026-000100" in text
    assert "23.80" in text


def test_the_register_pdf_shows_every_number_hash_and_total() -> None:
    digest = RegisterDigest("2026-11", INVOICES)
    digest.add_invoice(
        register_rows(finalized(2, ("19", "100.10", "19.02")), SHA, ["CN-2026-000001"])
    )
    digest.add_invoice(register_rows(finalized(1, ("7", "0.30", "0.02")), "cd" * 32))
    text = _pdf_text(digest)
    assert "Invoice register 2026-11" in text
    assert text.index("INV-2026-000001") < text.index("INV-2026-000002")  # number order
    for shown in ("119.12", "0.32", SHA, "cd" * 32, "CN-2026-000001"):
        assert shown in text


def _pdf_text(digest: RegisterDigest) -> str:
    pdf = render_register_pdf(
        digest, "Northwind Cloud Services GmbH", datetime(2026, 12, 1, tzinfo=UTC)
    )
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_break_sentences_name_the_document() -> None:
    assert pdf_hash_break("INV-2026-000007", SHA, SHA) is None
    assert pdf_hash_break("INV-2026-000007", SHA, "ff" * 32) == (
        f"INV-2026-000007's PDF no longer matches the SHA-256 recorded when it was locked "
        f"({SHA}; it now hashes to {'ff' * 32}); it was altered after finalization."
    )
    booked = ErpBookedTotals(
        external_id="INV-2026-000007",
        currency="EUR",
        net_total=Decimal("10.00"),
        tax_total=Decimal("1.90"),
        gross_total=Decimal("11.90"),
    )
    ours = (Decimal("10.00"), Decimal("1.90"), Decimal("11.90"))
    assert erp_totals_break("INV-2026-000007", "EUR", ours, booked) is None
    assert erp_totals_break("INV-2026-000007", "EUR", ours, None) == (
        "INV-2026-000007 is not booked in the ERP."
    )
    changed = booked.model_copy(update={"gross_total": Decimal("11.91")})
    assert "booked in the ERP at 10.00 net, 1.90 tax, 11.91 gross EUR" in str(
        erp_totals_break("INV-2026-000007", "EUR", ours, changed)
    )


def test_a_check_without_anything_to_compare_with_says_so_rather_than_ok() -> None:
    unchecked = CheckResult("Totals match the ERP", "no ERP to compare with", checked=False)
    broken = CheckResult("PDFs match their recorded SHA-256", "2 PDF(s) hashed", ["X altered."])
    assert report_lines([unchecked, broken]) == [
        "Totals match the ERP               not checked  no ERP to compare with",
        "PDFs match their recorded SHA-256  1 break(s)   2 PDF(s) hashed",
        "  PDFs match their recorded SHA-256: X altered.",
    ]
