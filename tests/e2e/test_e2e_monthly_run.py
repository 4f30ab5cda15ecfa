"""The whole monthly run on the real state machine: what a billing team sees afterwards."""

from __future__ import annotations

import email
import email.policy
import io
import json
import re
from typing import Any

import boto3
import pytest
from pypdf import PdfReader

from invoice_dispatch.invoice import InvoiceStatus
from invoice_dispatch.platform import get_platform
from invoice_dispatch.rendering import format_money
from tests.e2e.conftest import SAMPLE_ACCOUNTS, Stack
from tools.local_run.runner import ApprovalPlan, RunResult
from tools.local_run.wiring import REGION

pytestmark = pytest.mark.e2e

PERIOD = "2026-11"


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\xa0", " ").replace("\u202f", " ")).strip()


def _eligible_ids() -> set[str]:
    from invoice_dispatch.billing import billing_period, load_catalog, screen_account

    period = billing_period(PERIOD)
    catalog = load_catalog()
    accounts = json.loads(SAMPLE_ACCOUNTS.read_text())
    return {
        a["account_id"]
        for a in accounts
        if screen_account(a, period, catalog).outcome == "eligible"
    }


@pytest.fixture(scope="module")
def first_run(stack: Stack) -> tuple[RunResult, dict[str, Any]]:
    seen_at_approval: dict[str, Any] = {}

    def snapshot(link: str) -> None:
        listing = boto3.client("s3", region_name=REGION).list_objects_v2(
            Bucket=stack.env.stack.names.bucket, Prefix="invoices/"
        )
        seen_at_approval["pdfs"] = listing.get("KeyCount", 0)
        seen_at_approval["emails"] = [m.raw_data for m in stack.env.sent_messages()]
        seen_at_approval["link"] = link

    result = stack.env.run({"period": PERIOD, "mode": "live"}, ApprovalPlan(on_link=snapshot))
    return result, seen_at_approval


def test_run_succeeds_with_one_invoice_per_eligible_account(
    first_run: tuple[RunResult, dict[str, Any]],
) -> None:
    result, _ = first_run
    assert result.status == "SUCCEEDED", result.error
    invoices = list(get_platform().store.run_invoices(result.run_id))
    assert {stored.invoice.account_id for stored in invoices} == _eligible_ids()
    counts = result.report["counts"]  # type: ignore[index]
    assert counts["finalized"] + counts["held"] == len(_eligible_ids())
    assert counts["finalized"] == len(list((result.out_dir / "invoices").glob("*.pdf")))


def test_holds_made_by_a_rule_are_reported_and_audited_as_the_rule_s(
    first_run: tuple[RunResult, dict[str, Any]],
) -> None:
    result, _ = first_run
    held = result.report["held"]  # type: ignore[index]
    assert held and all(entry["held_by"].startswith("rule ") for entry in held)
    store = get_platform().store
    for entry in held:
        holds = [a for a in store.audit_trail(entry["invoice_id"]) if a["event"] == "held"]
        assert [(a["actor"], a["detail"]) for a in holds] == [("system", entry["reason"])]
        assert entry["reason"].startswith("Held by rule ")


def test_nothing_is_rendered_or_emailed_before_approval(
    first_run: tuple[RunResult, dict[str, Any]],
) -> None:
    _, seen = first_run
    assert seen["pdfs"] == 0
    assert len(seen["emails"]) == 1 and "/approvals/" in seen["emails"][0]


def test_each_pdf_shows_its_number_customer_and_total(
    first_run: tuple[RunResult, dict[str, Any]],
) -> None:
    result, _ = first_run
    finalized = [
        s
        for s in get_platform().store.run_invoices(result.run_id)
        if s.invoice.status is InvoiceStatus.FINALIZED
    ]
    assert finalized
    for stored in finalized:
        invoice = stored.invoice
        pdf = (result.out_dir / "invoices" / f"{invoice.number}.pdf").read_bytes()
        text = _normalise(
            " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
        )
        assert invoice.number in text
        assert _normalise(invoice.customer.name) in text
        assert (
            _normalise(format_money(invoice.gross_total, invoice.currency, invoice.customer.locale))
            in text
        )


def test_numbers_are_consecutive_from_one(first_run: tuple[RunResult, dict[str, Any]]) -> None:
    result, _ = first_run
    numbers = sorted(p.stem for p in (result.out_dir / "invoices").glob("*.pdf"))
    assert numbers == [f"INV-2026-{n:06d}" for n in range(1, len(numbers) + 1)]


def test_each_email_goes_to_its_customer_with_its_pdf_and_portal_link(
    first_run: tuple[RunResult, dict[str, Any]],
) -> None:
    result, _ = first_run
    by_number = {
        s.invoice.number: s.invoice for s in get_platform().store.run_invoices(result.run_id)
    }
    portal_customers = {
        i.customer.email: i for i in by_number.values() if i.customer.channel == "portal"
    }
    invoice_emails = 0
    for path in sorted((result.out_dir / "outbox").glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        attachments = list(message.iter_attachments())
        if not attachments and message["To"] in portal_customers:
            text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
            account_id = portal_customers[message["To"]].account_id
            assert f"/portal/{account_id}?exp=" in text  # the link instead of the PDF
            invoice_emails += 1
            continue
        if not attachments:
            assert "/approvals/" in path.read_text()  # the approver's e-mail
            continue
        invoice = by_number[attachments[0].get_filename().removesuffix(".pdf")]
        assert message["To"] == invoice.customer.email
        assert (
            attachments[0].get_content()
            == (result.out_dir / "invoices" / f"{invoice.number}.pdf").read_bytes()
        )
        text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
        assert f"/portal/{invoice.account_id}?exp=" in text  # and the link, whatever the channel
        invoice_emails += 1
    assert portal_customers  # the sample accounts have a portal customer
    assert invoice_emails == result.report["counts"]["finalized"]  # type: ignore[index]


def test_quarantined_and_excluded_accounts_are_reported_with_reasons(
    first_run: tuple[RunResult, dict[str, Any]],
) -> None:
    result, _ = first_run
    report = json.loads((result.out_dir / "run.json").read_text())
    quarantined = {entry["account_id"]: entry["reason"] for entry in report["quarantined"]}
    assert set(quarantined) == {"ACC-1031", "ACC-1032", "ACC-1033", "ACC-1034", "ACC-1035"}
    assert "XYZ" in quarantined["ACC-1031"]
    assert all(len(reason) > 15 for reason in quarantined.values())
    assert {entry["account_id"] for entry in report["excluded"]} == {
        "ACC-1004",
        "ACC-1005",
        "ACC-1006",
        "ACC-1008",
    }


def test_every_finalized_invoice_is_booked_once_in_the_erp(
    stack: Stack,
    first_run: tuple[RunResult, dict[str, Any]],
) -> None:
    result, _ = first_run
    assert result.report["counts"]["erp_failed"] == 0, result.report["erp_problems"]  # type: ignore[index]
    numbers = {
        s.invoice.number
        for s in get_platform().store.run_invoices(result.run_id)
        if s.invoice.number
    }
    assert set(stack.erp.bookings) == numbers


def test_second_run_for_the_same_period_creates_nothing(
    stack: Stack,
    first_run: tuple[RunResult, dict[str, Any]],
) -> None:
    emails_before = len(stack.env.sent_messages())
    bookings_before = dict(stack.erp.bookings)

    second = stack.env.run({"period": PERIOD, "mode": "live"})

    assert second.status == "SUCCEEDED", second.error
    assert second.report["status"] == "nothing_to_bill"  # type: ignore[index]
    assert list(get_platform().store.run_invoices(second.run_id)) == []
    assert len(stack.env.sent_messages()) == emails_before
    assert stack.erp.bookings == bookings_before
    assert list((second.out_dir / "invoices").glob("*.pdf")) == []


def test_shadow_run_mails_the_internal_address_numbers_apart_and_books_nothing(
    stack: Stack,
) -> None:
    bookings_before = dict(stack.erp.bookings)

    shadow = stack.env.run(
        {"period": PERIOD, "mode": "shadow", "account_ids": ["ACC-1001", "ACC-1002"]}
    )

    assert shadow.status == "SUCCEEDED", shadow.error
    assert sorted(p.stem for p in (shadow.out_dir / "invoices").glob("*.pdf")) == [
        "SHADOW-2026-000001",
        "SHADOW-2026-000002",
    ]
    recipients = {
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)["To"]
        for p in (shadow.out_dir / "outbox").glob("*.eml")
    }
    assert recipients == {"controller@northwind.example", get_platform().settings.shadow_recipient}
    assert stack.erp.bookings == bookings_before


def test_rejected_batch_finalizes_nothing_and_ends_as_rejected(stack: Stack) -> None:
    emails_before = len(stack.env.sent_messages())

    rejected = stack.env.run(
        {"period": "2026-12", "mode": "live", "account_ids": ["ACC-1001", "ACC-1009"]},
        ApprovalPlan(reject_reason="Usage import for December is incomplete"),
    )

    assert rejected.status == "FAILED"
    assert rejected.report["status"] == "rejected"  # type: ignore[index]
    assert rejected.report["approval"]["reason"] == "Usage import for December is incomplete"  # type: ignore[index]
    statuses = {s.invoice.status for s in get_platform().store.run_invoices(rejected.run_id)}
    assert statuses == {InvoiceStatus.VOID}
    assert len(stack.env.sent_messages()) == emails_before + 1  # only the approval request
