"""What the local stack keeps between runs comes back exactly, in a brand-new moto."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from tools.local_run.persistence import HTTP_ERP_FILE, StackState
from tools.local_run.stack import LocalStack
from tools.local_run.wiring import REGION, Template

INVOICE_KEY = {"PK": "INVOICE#2026-11:ACC-1", "SK": "INVOICE"}


@contextlib.contextmanager
def provisioned_stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalStack]:
    """A stack provisioned in a moto of its own, as each local run starts one."""
    stack = LocalStack(Template())
    for name, value in stack.environment().items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        stack.provision()
        yield stack


def _save_a_stack_in_use(stack: LocalStack, state_dir: Path) -> dict[str, str]:
    boto3.resource("dynamodb", region_name=REGION).Table(stack.names.table).put_item(
        Item={
            **INVOICE_KEY,
            "gross": Decimal("119.00"),
            "digest": b"\x00\xffpdf",
            "lines": [{"qty": Decimal("1.5")}],
        }
    )
    boto3.client("s3", region_name=REGION).put_object(
        Bucket=stack.names.bucket,
        Key="invoices/2026-11/INV-2026-000001.pdf",
        Body=b"%PDF-1.7 invoice",
        ContentType="application/pdf",
        Metadata={"sha256": "ab" * 32},
    )
    sqs = boto3.client("sqs", region_name=REGION)
    queue_url = sqs.get_queue_url(QueueName=stack.names.erp_error_queue)["QueueUrl"]
    sqs.send_message(QueueUrl=queue_url, MessageBody='{"invoice_id": "2026-11:ACC-1"}')
    sqs.send_message(QueueUrl=queue_url, MessageBody='{"invoice_id": "2026-11:ACC-2"}')
    sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=1, VisibilityTimeout=300)
    secrets = boto3.client("secretsmanager", region_name=REGION)
    kept = {
        name: secrets.get_secret_value(SecretId=name)["SecretString"]
        for name in (stack.names.approval_secret, stack.names.erp_secret)
    }
    StackState(state_dir, stack.names).save()
    return kept


def test_items_objects_queued_messages_and_secrets_come_back(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    state_dir = tmp_path / ".local-stack"
    with provisioned_stack(monkeypatch) as stack:
        kept_secrets = _save_a_stack_in_use(stack, state_dir)
    with provisioned_stack(monkeypatch) as stack:
        counts = StackState(state_dir, stack.names).restore()
        item = (
            boto3.resource("dynamodb", region_name=REGION)
            .Table(stack.names.table)
            .get_item(Key=INVOICE_KEY)["Item"]
        )
        pdf = boto3.client("s3", region_name=REGION).get_object(
            Bucket=stack.names.bucket, Key="invoices/2026-11/INV-2026-000001.pdf"
        )
        sqs = boto3.client("sqs", region_name=REGION)
        queue_url = sqs.get_queue_url(QueueName=stack.names.erp_error_queue)["QueueUrl"]
        bodies = sorted(
            m["Body"]
            for m in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
        )
        secrets = boto3.client("secretsmanager", region_name=REGION)
        restored_secrets = {
            name: secrets.get_secret_value(SecretId=name)["SecretString"] for name in kept_secrets
        }

    assert (counts.items, counts.objects, counts.queued_messages) == (1, 1, 2)
    assert item["gross"] == Decimal("119.00") and item["lines"] == [{"qty": Decimal("1.5")}]
    assert item["digest"].value == b"\x00\xffpdf"
    assert pdf["Body"].read() == b"%PDF-1.7 invoice"
    assert pdf["ContentType"] == "application/pdf" and pdf["Metadata"] == {"sha256": "ab" * 32}
    assert bodies == ['{"invoice_id": "2026-11:ACC-1"}', '{"invoice_id": "2026-11:ACC-2"}'], (
        "the message in flight at the end of the run is kept too"
    )
    assert restored_secrets == kept_secrets, "old approval links stay valid"


def test_a_state_saved_over_an_old_one_replaces_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".local-stack").mkdir()
    (tmp_path / ".local-stack" / "left-over").write_text("from an older layout")

    with provisioned_stack(monkeypatch) as stack:
        state = StackState(tmp_path / ".local-stack", stack.names)
        state.save()

    assert state.exists() and not (tmp_path / ".local-stack" / "left-over").exists()
    assert not (tmp_path / ".local-stack.saving").exists()


def test_the_local_erps_bookings_survive_the_stacks_save(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The ERP saves its own file when it stops; a save of the stack meanwhile keeps it."""
    state_dir = tmp_path / ".local-stack"
    state_dir.mkdir()
    (state_dir / HTTP_ERP_FILE).write_text('{"bookings": {"INV-2026-000001": {}}}')

    with provisioned_stack(monkeypatch) as stack:
        StackState(state_dir, stack.names).save()

    assert (state_dir / HTTP_ERP_FILE).read_text() == '{"bookings": {"INV-2026-000001": {}}}'
