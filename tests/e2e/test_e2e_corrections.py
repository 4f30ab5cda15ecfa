"""Corrections on the real corrections state machine, after a real monthly run.

A partial credit note, then the rest, then a third one refused with a sentence; credit
notes numbered in their own series without gaps; each approved through the signed link
and the real approval handler; e-mailed, booked in the HTTP ERP once, applied to the
ledger; write-offs below and above the approval threshold; a dispute opened and closed;
and every request repeated changes nothing.
"""

from __future__ import annotations

import email
import email.policy
import io
import json
import re
import sys
from datetime import UTC, datetime
from decimal import Decimal
from html import unescape
from pathlib import Path
from typing import Any

import pytest
import requests
from lxml import etree
from pypdf import PdfReader

from invoice_dispatch.invoice import Invoice
from invoice_dispatch.platform import get_platform
from invoice_dispatch.portal.labels import portal_labels
from invoice_dispatch.receivables import EntryKind, Receivable, ReceivableStatus
from invoice_dispatch.rendering.formatting import language_of
from tests.e2e.conftest import Stack

# The validators' helpers import their sibling sample module by its bare name, as pytest
# does when it collects that folder.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "rendering"))
from tests.unit.rendering.einvoice_validation import embedded_xml, schematron_findings
from tools.local_run.corrections import CorrectionResult, admit, run_correction

pytestmark = pytest.mark.e2e

PERIOD = "2026-11"
NS = {"ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"}


def _receivables() -> list[Receivable]:
    return sorted(get_platform().ledger.unsettled_receivables(), key=lambda r: r.number)


def _invoice(receivable: Receivable) -> Invoice:
    stored = get_platform().store.get_invoice(receivable.invoice_id)
    assert stored is not None
    return stored.invoice


@pytest.fixture(scope="module")
def ledger(stack: Stack) -> dict[str, Receivable]:
    """The demo's monthly run, then admission: its invoices become receivables."""
    result = stack.env.run({"period": PERIOD, "mode": "live"})
    assert result.status == "SUCCEEDED", result.error
    admit(stack.env)
    eur = [r for r in _receivables() if r.currency == "EUR"]
    several_lines = [
        r for r in eur if len(_invoice(r).lines) >= 2 and len(_invoice(r).tax_breakdown) == 1
    ]
    return {
        "credited": several_lines[0],
        "paid": eur[-1],
        "small_write_off": eur[-2],
        "large_write_off": eur[-3],
        "disputed": eur[-4],
    }


def _credit(stack: Stack, number: str, **fields: Any) -> CorrectionResult:
    return run_correction(stack.env, {"credit_note": {"invoice": number, **fields}})


@pytest.fixture(scope="module")
def credits(stack: Stack, ledger: dict[str, Receivable]) -> dict[str, Any]:
    number = ledger["credited"].number
    invoice = _invoice(ledger["credited"])
    first_line = invoice.lines[0].line_id
    partial = _credit(stack, number, lines=[first_line], reason="Seat count <b>was</b> wrong")
    messages_after_partial = len(stack.env.sent_messages())
    bookings_after_partial = len(stack.erp.bookings)
    repeated = _credit(stack, number, lines=[first_line], reason="Seat count <b>was</b> wrong")
    repeat_effects = (
        len(stack.env.sent_messages()) - messages_after_partial,
        len(stack.erp.bookings) - bookings_after_partial,
    )
    rest = _credit(stack, number, lines="all", reason="Contract cancelled")
    third = _credit(stack, number, amount="1.00", reason="Goodwill")
    return {
        "invoice": invoice,
        "partial": partial,
        "repeated": repeated,
        "repeat_effects": repeat_effects,
        "rest": rest,
        "third": third,
    }


def test_partial_then_rest_are_issued_after_approval_through_the_signed_link(
    credits: dict[str, Any],
) -> None:
    for name in ("partial", "rest"):
        result = credits[name]
        assert result.status == "SUCCEEDED", result.error
        assert result.approval_link and "/corrections/" in result.approval_link
        assert "sig=" in result.approval_link
        assert result.record["status"] == "done"
        assert json.loads(result.record["decision"])["approver"]


def test_credit_notes_are_numbered_in_their_own_gapless_series(credits: dict[str, Any]) -> None:
    year = credits["partial"].record["number"][3:7]
    assert credits["partial"].record["number"] == f"CN-{year}-000001"
    assert credits["rest"].record["number"] == f"CN-{year}-000002"
    counter = get_platform().corrections.last_number(f"NORTHWIND-EU:CREDIT:{year}")
    assert counter == 2  # the refused third attempt burned no number


def test_a_third_credit_is_refused_with_a_sentence_and_changes_nothing(
    credits: dict[str, Any],
) -> None:
    third = credits["third"]
    invoice: Invoice = credits["invoice"]
    assert third.status == "FAILED"
    assert third.error.startswith("CorrectionRefused: ")
    assert f"{invoice.number} is fully credited" in third.error
    assert "no credit note was issued" in third.error
    assert third.record == {}  # refused before anything was written


def test_invoice_and_its_credit_notes_sum_to_zero_on_the_ledger(credits: dict[str, Any]) -> None:
    invoice: Invoice = credits["invoice"]
    ledger = get_platform().ledger
    receivable = ledger.receivable(str(invoice.number))
    assert receivable is not None
    notes = [
        Invoice.model_validate_json(credits[name].record["document"])
        for name in ("partial", "rest")
    ]
    assert invoice.gross_total + sum(note.gross_total for note in notes) == 0
    assert invoice.tax_total + sum(note.tax_total for note in notes) == 0
    assert receivable.open_amount == 0
    assert receivable.total(EntryKind.CREDIT) == invoice.gross_total
    assert receivable.status(invoice.due_date or invoice.period_end) is ReceivableStatus.CREDITED
    entries = [entry.entry_key for entry in ledger.entries(str(invoice.number))]
    assert entries == [f"credit:{credits[n].record['number']}" for n in ("partial", "rest")]


def test_a_repeated_request_creates_no_second_credit_note_email_or_erp_document(
    credits: dict[str, Any],
) -> None:
    repeated = credits["repeated"]
    assert repeated.status == "SUCCEEDED"
    assert repeated.request_id == credits["partial"].request_id
    assert repeated.approval_link is None
    assert credits["repeat_effects"] == (0, 0)
    assert repeated.record["number"] == credits["partial"].record["number"]


def test_the_credit_note_pdf_names_the_invoice_it_credits_and_escapes_the_reason(
    credits: dict[str, Any],
) -> None:
    invoice: Invoice = credits["invoice"]
    pdf = credits["partial"].pdf_path.read_bytes()
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert str(invoice.number) in text
    assert credits["partial"].record["number"] in text
    assert "Seat count <b>was</b> wrong" in text  # drawn as text, not markup


def test_the_credit_note_factur_x_is_type_381_referencing_the_invoice_and_passes_cen(
    credits: dict[str, Any],
) -> None:
    invoice: Invoice = credits["invoice"]
    xml = embedded_xml(credits["rest"].pdf_path.read_bytes())
    root = etree.fromstring(xml)
    assert root.findtext(".//{*}ExchangedDocument/{*}TypeCode") == "381"
    referenced = root.find(".//ram:InvoiceReferencedDocument", NS)
    assert referenced.findtext("ram:IssuerAssignedID", namespaces=NS) == invoice.number
    issued = referenced.findtext("ram:FormattedIssueDateTime/{*}DateTimeString", namespaces=NS)
    assert issued == f"{invoice.issue_date:%Y%m%d}"
    findings = schematron_findings(xml, "CEN")
    assert [str(finding) for finding in findings if finding.is_error] == []


def test_the_customer_gets_the_credit_note_by_email_once_with_the_portal_link(
    stack: Stack, credits: dict[str, Any]
) -> None:
    invoice: Invoice = credits["invoice"]
    sent = [
        email.message_from_string(m.raw_data, policy=email.policy.default)
        for m in stack.env.sent_messages()
    ]
    to_customer = [
        m for m in sent if m["To"] == invoice.customer.email and " CN-" in str(m["Subject"])
    ]
    assert sorted(re.search(r"CN-\d{4}-\d{6}", m["Subject"])[0] for m in to_customer) == sorted(
        credits[n].record["number"] for n in ("partial", "rest")
    )
    attachments = [part.get_filename() for m in to_customer for part in m.iter_attachments()]
    assert attachments == [f"{credits[n].record['number']}.pdf" for n in ("partial", "rest")]
    for message in to_customer:  # and, as every customer e-mail, the signed portal link
        text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
        assert f"/portal/{invoice.account_id}?exp=" in text and "&sig=" in text


def test_the_erp_holds_each_credit_note_once_against_its_invoice(
    stack: Stack, credits: dict[str, Any]
) -> None:
    invoice: Invoice = credits["invoice"]
    for name in ("partial", "rest"):
        number = credits[name].record["number"]
        booked = stack.erp.bookings[number]
        assert booked["credited_invoice"] == invoice.number
        assert Decimal(booked["gross_total"]) < 0
        assert credits[name].record["erp_id"] == stack.erp.erp_ids[number]
    total = Decimal(stack.erp.bookings[str(invoice.number)]["gross_total"]) + sum(
        Decimal(stack.erp.bookings[credits[n].record["number"]]["gross_total"])
        for n in ("partial", "rest")
    )
    assert total == 0


def test_a_small_write_off_applies_at_once_and_stops_reminders(
    stack: Stack, ledger: dict[str, Receivable]
) -> None:
    receivable = ledger["small_write_off"]
    result = run_correction(
        stack.env,
        {"write_off": {"invoice": receivable.number, "amount": "10.00", "reason": "Bank fees"}},
    )
    assert result.status == "SUCCEEDED", result.error
    assert result.approval_link is None  # 10.00 is below the 100 threshold
    after = get_platform().ledger.receivable(receivable.number)
    assert after is not None and after.total(EntryKind.WRITE_OFF) == Decimal("10.00")
    payment = next(
        p for k, p in stack.erp.payments.items() if k.startswith(f"write-off:{result.request_id}")
    )
    assert payment["kind"] == "write_off"
    assert payment["offset_account"] == get_platform().erp_mapping.payments.write_off_account


def test_a_write_off_above_the_threshold_waits_for_approval_then_settles_the_invoice(
    stack: Stack, ledger: dict[str, Receivable]
) -> None:
    receivable = ledger["large_write_off"]
    assert receivable.open_amount > 100
    request = {"write_off": {"invoice": receivable.number, "reason": "Customer insolvent"}}
    result = run_correction(stack.env, request)
    assert result.status == "SUCCEEDED", result.error
    assert result.approval_link and "/corrections/" in result.approval_link
    after = get_platform().ledger.receivable(receivable.number)
    assert after is not None
    assert after.status(after.due_date) is ReceivableStatus.WRITTEN_OFF
    again = run_correction(stack.env, request)
    assert again.status == "SUCCEEDED" and again.approval_link is None
    assert get_platform().ledger.receivable(receivable.number) == after


def test_a_dispute_pauses_the_invoice_and_closing_it_reopens_it(
    stack: Stack, ledger: dict[str, Receivable]
) -> None:
    receivable = ledger["disputed"]
    opened = run_correction(
        stack.env, {"dispute": {"invoice": receivable.number, "reason": "Service outage"}}
    )
    assert opened.status == "SUCCEEDED", opened.error
    during = get_platform().ledger.receivable(receivable.number)
    assert during is not None and during.status(during.due_date) is ReceivableStatus.DISPUTED
    twice = run_correction(
        stack.env, {"dispute": {"invoice": receivable.number, "reason": "Another complaint"}}
    )
    assert twice.status == "FAILED" and "already disputed" in (twice.error or "")
    closed = run_correction(
        stack.env,
        {"dispute": {"invoice": receivable.number, "reason": "Outage credited", "action": "close"}},
    )
    assert closed.status == "SUCCEEDED", closed.error
    after = get_platform().ledger.receivable(receivable.number)
    assert after is not None and after.status(after.due_date) is ReceivableStatus.OPEN
    assert after.open_amount == receivable.open_amount


def test_crediting_a_paid_invoice_leaves_a_credit_the_next_invoice_uses_first(
    stack: Stack, ledger: dict[str, Receivable]
) -> None:
    from invoice_dispatch.payments.incoming import IncomingPayment
    from invoice_dispatch.workflow.payments_in import receive_payment

    receivable = ledger["paid"]
    payment = IncomingPayment(
        key=f"test:{receivable.number}",
        source="payments webhook",
        received_on=receivable.issue_date,
        currency=receivable.currency,
        amount=receivable.gross,
        reference=receivable.number,
    )
    assert receive_payment(payment, get_platform()).outcome == "applied"
    result = _credit(stack, receivable.number, lines="all", reason="Refund as credit")
    assert result.status == "SUCCEEDED", result.error
    note = Invoice.model_validate_json(result.record["document"])
    owed = get_platform().corrections.customer_credits([receivable.account_id])
    (credit,) = owed[receivable.account_id]
    assert credit["credit_id"] == note.number
    assert Decimal(credit["amount"]) == -note.net_total
    after = get_platform().ledger.receivable(receivable.number)
    assert after is not None and after.open_amount == 0


def test_the_customers_portal_shows_the_invoice_credited_and_both_credit_notes(
    credits: dict[str, Any],
) -> None:
    invoice: Invoice = credits["invoice"]
    page = requests.get(
        get_platform().portal_link(invoice.account_id, datetime.now(UTC)), timeout=30
    )
    notes = [credits[name].record["number"] for name in ("partial", "rest")]
    pdf_links = dict(
        re.findall(r'href="([^"]+/credit-notes/[^"]+)" download="([^"]+)\.pdf"', page.text)
    )

    words = portal_labels(language_of(invoice.customer.locale))

    assert page.status_code == 200
    assert invoice.number in page.text and words["credited"] in page.text
    assert sorted(pdf_links.values()) == sorted(notes)
    assert words["how_to_pay"] not in page.text  # nothing is open any more
    link, number = next(iter(pdf_links.items()))
    pdf = requests.get(unescape(link), timeout=30)
    key = next(
        credits[n].record["pdf_key"]
        for n in ("partial", "rest")
        if credits[n].record["number"] == number
    )
    assert pdf.content == get_platform().documents.get_bytes(str(key))
