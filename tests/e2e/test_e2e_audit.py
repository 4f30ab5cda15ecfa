"""The audit register and its verifier after a real monthly run and a real credit note.

The register is written by the run's summary and again on demand; the verifier passes
on the clean period and fails, with a sentence naming the document, on each kind of
tampering: a PDF altered in S3, an invoice's record deleted, a credit note pointed at an
invoice that does not exist, and a total changed in the ERP. Each tampering is undone
after its test, so the next one starts from the clean period.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto.s3.models import s3_backends
from pypdf import PdfReader

from invoice_dispatch.adapters.erp_http import HttpErpClient
from invoice_dispatch.platform import Platform, get_platform
from tests.e2e.conftest import Stack
from tools.audit.commands import export_register, main, verify
from tools.local_run.corrections import demo_credit_note
from tools.local_run.wiring import ACCOUNT_ID, REGION

pytestmark = pytest.mark.e2e

PERIOD = "2026-11"


@pytest.fixture(scope="module")
def audited(stack: Stack) -> dict[str, Any]:
    """The demo's run, then its credit note on the first invoice, then the register."""
    result = stack.env.run({"period": PERIOD, "mode": "live"})
    assert result.status == "SUCCEEDED", result.error
    assert result.report is not None
    credit_note = demo_credit_note(stack.env)
    lines = export_register(PERIOD, get_platform(), stack.out_root)
    return {"report": result.report, "credit_note": credit_note, "register_lines": lines}


def _verify(stack: Stack, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = verify(PERIOD, get_platform(), HttpErpClient(str(stack.env.erp.url)))
    return code, capsys.readouterr().out


def _by_number(platform: Platform, number: str) -> Any:
    return next(
        s for s in platform.store.period_invoices("live", PERIOD) if s.invoice.number == number
    )


def test_the_run_writes_its_periods_register(stack: Stack, audited: dict[str, Any]) -> None:
    assert audited["report"]["register"] == {
        "csv": "registers/2026-11/register.csv",
        "pdf": "registers/2026-11/register.pdf",
    }
    stored = json.loads(
        get_platform().documents.get_bytes(f"runs/{audited['report']['run_id']}/run.json")
    )
    assert stored["register"] == audited["report"]["register"]


def test_the_register_lists_every_invoice_with_its_locked_hash_and_credit_note(
    stack: Stack, audited: dict[str, Any]
) -> None:
    platform = get_platform()
    rows = list(
        csv.DictReader(
            io.StringIO((stack.out_root / "registers" / PERIOD / "register.csv").read_text())
        )
    )
    invoices = {
        s.invoice.number: s
        for s in platform.store.period_invoices("live", PERIOD)
        if s.invoice.number
    }
    assert {row["number"] for row in rows} == set(invoices) and len(invoices) == 28
    for row in rows:
        assert row["pdf_sha256"] == invoices[row["number"]].pdf_sha256
    assert len(rows) == sum(len(s.invoice.tax_breakdown) for s in invoices.values())
    assert {row["credit_notes"] for row in rows if row["number"] == "INV-2026-000001"} == {
        "CN-2026-000001"
    }
    pdf = PdfReader(io.BytesIO(platform.documents.get_bytes("registers/2026-11/register.pdf")))
    text = "\n".join(page.extract_text() for page in pdf.pages)
    first = invoices["INV-2026-000001"].invoice
    for shown in (*invoices, str(first.gross_total), str(invoices["INV-2026-000001"].pdf_sha256)):
        assert shown in text
    assert audited["register_lines"][0] == "Register for 2026-11: 28 invoice(s), 1 credit note(s)"


def test_the_clean_period_verifies(
    stack: Stack, audited: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _verify(stack, capsys)
    assert code == 0, out
    assert "28 invoice(s): INV-2026-000001 to INV-2026-000028" in out
    assert "The register for 2026-11 holds: every check passed." in out
    assert out.count(" ok ") == 5
    assert "PDFs under Object Lock             not checked  the bucket locks nothing" in out


@contextmanager
def _altered_pdf(number: str) -> Iterator[None]:
    documents = get_platform().documents
    key = str(_by_number(get_platform(), number).pdf_key)
    original = documents.get_bytes(key)
    s3 = boto3.client("s3", region_name=REGION)
    s3.put_object(
        Bucket=documents.bucket,
        Key=key,
        Body=original + b"\n% an incremental update appended after finalization\n",
    )
    try:
        yield
    finally:
        s3.put_object(Bucket=documents.bucket, Key=key, Body=original)


def test_a_pdf_altered_in_s3_breaks_the_register(
    stack: Stack, audited: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    recorded = _by_number(get_platform(), "INV-2026-000007").pdf_sha256
    with _altered_pdf("INV-2026-000007"):
        code, out = _verify(stack, capsys)
    assert code == 1
    assert (
        f"INV-2026-000007's PDF no longer matches the SHA-256 recorded when it was locked "
        f"({recorded}; it now hashes to "
    ) in out
    assert "it was altered after finalization." in out


def _table() -> Any:
    return boto3.resource("dynamodb", region_name=REGION).Table(get_platform().settings.table_name)


@contextmanager
def _item_changed(key: dict[str, str], change: dict[str, Any] | None) -> Iterator[None]:
    """Delete the item (``change`` None) or overwrite some of its fields; put it back after."""
    table = _table()
    original = table.get_item(Key=key)["Item"]
    if change is None:
        table.delete_item(Key=key)
    else:
        table.put_item(Item={**original, **change})
    try:
        yield
    finally:
        table.put_item(Item=original)


def test_a_removed_number_breaks_the_series(
    stack: Stack, audited: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    invoice_id = _by_number(get_platform(), "INV-2026-000012").invoice_id
    with _item_changed({"PK": f"INVOICE#{invoice_id}", "SK": "DOC"}, None):
        code, out = _verify(stack, capsys)
    assert code == 1
    assert (
        "The INV-2026 series jumps from INV-2026-000011 to INV-2026-000013: "
        "INV-2026-000012 is missing."
    ) in out


def test_a_credit_note_for_an_invoice_that_does_not_exist_breaks(
    stack: Stack, audited: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    note = next(get_platform().corrections.credit_notes_of_series("NORTHWIND-EU:CREDIT:2026"))
    key = {"PK": note["PK"], "SK": note["SK"]}
    with _item_changed(
        key, {"invoice_number": "INV-2026-009999", "invoice_id": "ACC-9999:2026-11:live"}
    ):
        code, out = _verify(stack, capsys)
    assert code == 1
    assert (
        "CN-2026-000001 credits INV-2026-009999, but no finalized invoice carries that number: "
        "the credit note corrects an invoice that does not exist."
    ) in out


def test_a_total_changed_in_the_erp_breaks(
    stack: Stack, audited: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    booking = stack.erp.bookings["INV-2026-000003"]
    original = booking["gross_total"]
    booking["gross_total"] = "1.00"
    try:
        code, out = _verify(stack, capsys)
    finally:
        booking["gross_total"] = original
    assert code == 1
    invoice = _by_number(get_platform(), "INV-2026-000003").invoice
    assert (
        f"INV-2026-000003 is booked in the ERP at {invoice.net_total} net, {invoice.tax_total} "
        f"tax, 1.00 gross EUR, but the invoice says {invoice.net_total} net, "
        f"{invoice.tax_total} tax, {invoice.gross_total} gross EUR."
    ) in out


def test_a_deployed_stack_is_verified_through_its_outputs(
    stack: Stack, audited: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """``--stack NAME``: the table, bucket and ERP come from CloudFormation (moto's here)."""
    settings = get_platform().settings
    template = {
        "Parameters": {"ErpAdapter": {"Type": "String"}, "ErpEndpoint": {"Type": "String"}},
        "Resources": {"AlertTopic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {
            "BillingTableName": {"Value": settings.table_name},
            "DocumentsBucketName": {"Value": settings.documents_bucket},
        },
    }
    boto3.client("cloudformation", region_name=REGION).create_stack(
        StackName="invoice-dispatch-audit",
        TemplateBody=json.dumps(template),
        Parameters=[
            {"ParameterKey": "ErpAdapter", "ParameterValue": "http"},
            {"ParameterKey": "ErpEndpoint", "ParameterValue": str(stack.env.erp.url)},
        ],
    )
    with _altered_pdf("INV-2026-000002"):
        tampered = main(["verify", "--period", PERIOD, "--stack", "invoice-dispatch-audit"])
    clean = main(["verify", "--period", PERIOD, "--stack", "invoice-dispatch-audit"])
    out = capsys.readouterr().out
    assert (tampered, clean) == (1, 0)
    assert "INV-2026-000002's PDF no longer matches" in out
    assert "Totals match the ERP               ok           28 invoice(s) looked up" in out


def test_a_pdf_outside_object_lock_breaks_where_the_bucket_locks_invoices(
    stack: Stack, audited: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """The template's ``InvoiceRetentionDays`` above 0: every PDF must carry a retention."""
    documents = get_platform().documents
    s3 = boto3.client("s3", region_name=REGION)
    # The deployed bucket is created versioned with Object Lock on (infra/template.yaml);
    # the local stand-in is not, and moto refuses to turn the lock on once a bucket holds
    # objects (S3 has allowed it since 2023), so the test sets moto's bucket as S3 has it.
    bucket = s3_backends[ACCOUNT_ID]["aws"].get_bucket(documents.bucket)
    bucket.versioning_status = "Enabled"
    bucket.object_lock_enabled = True
    bucket.default_lock_mode, bucket.default_lock_days = "GOVERNANCE", 1
    until = datetime.now(UTC) + timedelta(days=1)
    for stored in get_platform().store.period_invoices("live", PERIOD):
        if stored.pdf_key and stored.invoice.number != "INV-2026-000005":
            s3.put_object_retention(
                Bucket=documents.bucket,
                Key=stored.pdf_key,
                Retention={"Mode": "GOVERNANCE", "RetainUntilDate": until},
            )
    try:
        code, out = _verify(stack, capsys)
    finally:
        bucket.default_lock_mode = bucket.default_lock_days = None
    assert code == 1
    assert (
        "PDFs under Object Lock             2 break(s)   bucket default GOVERNANCE, 1 days" in out
    )
    assert (
        "INV-2026-000005's PDF is not under Object Lock although the bucket locks invoices "
        "(GOVERNANCE, 1 days): it could be changed or deleted."
    ) in out
    assert "CN-2026-000001's PDF is not under Object Lock" in out
