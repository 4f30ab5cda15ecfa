"""MilestoneCompleted events on the real state machine: one invoice per completed part.

The samples in ``events/milestones/`` are what the template's EventBridge rule hands the
state machine: the whole event. EventBridge delivers at least once, so the same
completion arrives twice here, once while the first run waits for its approval and once
after it has ended.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import boto3
import pytest

from invoice_dispatch.invoice import ErpStatus, InvoiceStatus
from invoice_dispatch.observability import metrics
from invoice_dispatch.platform import get_platform
from tests.e2e.conftest import Stack
from tools.local_run.runner import ApprovalPlan
from tools.local_run.wiring import REGION, REPO_ROOT

pytestmark = pytest.mark.e2e

SAMPLES = REPO_ROOT / "events" / "milestones"
INVOICE_ID = "milestone:ACC-1010:MS-1010-SHOP:1"


def sample(name: str) -> dict[str, Any]:
    return dict(json.loads((SAMPLES / name).read_text()))


def test_an_event_delivered_twice_makes_one_invoice_for_its_share(stack: Stack) -> None:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    while_awaiting_approval: dict[str, Any] = {}

    def deliver_again(link: str) -> None:
        arn = sfn.start_execution(
            stateMachineArn=stack.env.state_machine_arn,
            name="milestone-delivered-again",
            input=json.dumps(sample("milestone-completed-duplicate.json")),
        )["executionArn"]
        status, description = stack.env.wait_for(arn, 120)
        while_awaiting_approval.update(status=status, output=json.loads(description["output"]))

    first = stack.env.run(sample("milestone-completed.json"), ApprovalPlan(on_link=deliver_again))
    after_it_ended = stack.env.run(sample("milestone-completed-duplicate.json"))

    assert first.status == "SUCCEEDED", first.error
    stored = get_platform().store.get_invoice(INVOICE_ID)
    assert stored is not None and stored.invoice.status is InvoiceStatus.FINALIZED
    invoice = stored.invoice
    # 9,999.99 EUR split 50/50: 4,999.99 and 5,000.00, the last share absorbing the cent.
    assert (invoice.net_total, invoice.tax_total, invoice.gross_total) == (
        Decimal("4999.99"),
        Decimal("950.00"),
        Decimal("5949.99"),
    )
    assert [line.description for line in invoice.lines] == [
        "Online-Shop Einführung: Meilenstein 1 von 2 'Konzept', 50 % von 9.999,99 EUR"
    ]
    assert first.report is not None and first.report["status"] == "completed"
    assert first.report["totals_by_currency"]["EUR"]["gross"] == "5949.99"
    assert [pdf.name for pdf in (first.out_dir / "invoices").glob("*.pdf")] == [
        f"{invoice.number}.pdf"
    ]
    assert stored.erp_status is ErpStatus.POSTED
    assert list(stack.erp.bookings).count(invoice.number) == 1

    assert while_awaiting_approval["status"] == "SUCCEEDED"
    assert while_awaiting_approval["output"]["ignored"].startswith(
        "The milestone MS-1010-SHOP part 1 of account ACC-1010 is being billed by run "
        f"{first.run_id} (awaiting approval since "
    )
    assert after_it_ended.status == "SUCCEEDED", after_it_ended.error
    assert after_it_ended.report is not None
    assert after_it_ended.report["status"] == "nothing_to_bill"
    assert after_it_ended.report["excluded"] == [
        {
            "account_id": "ACC-1010",
            "reason": "MilestoneCompleted refused for milestone MS-1010-SHOP part 1 of account "
            f"ACC-1010: it was already billed as invoice {invoice.number} by run "
            f"{first.run_id}; no second invoice was made.",
        }
    ]
    assert list((after_it_ended.out_dir / "invoices").glob("*.pdf")) == []
    assert list((after_it_ended.out_dir / "outbox").glob("*.eml")) == []


def test_an_event_for_an_unknown_contract_is_refused_in_a_sentence(stack: Stack) -> None:
    result = stack.env.run(sample("milestone-completed-unknown-contract.json"))

    assert result.status == "SUCCEEDED", result.error
    assert result.report is not None and result.report["status"] == "nothing_to_bill"
    assert result.report["quarantined"] == [
        {
            "account_id": "ACC-9999",
            "reason": "MilestoneCompleted refused for milestone MS-9999 part 1 of account "
            "ACC-9999: the account source has no account ACC-9999; no invoice was made.",
        }
    ]
    assert result.report["milestone"] == {
        "account_id": "ACC-9999",
        "milestone_id": "MS-9999",
        "part": 1,
    }
    assert result.report["reconciliation"]["complete"]
    assert get_platform().store.get_invoice("milestone:ACC-9999:MS-9999:1") is None
    assert list((result.out_dir / "outbox").glob("*.eml")) == []


def test_quiet_starts_and_refusals_are_logged_and_counted(stack: Stack) -> None:
    """The handlers' metrics: what a CloudWatch alarm or dashboard on them would see."""
    non_billing_day = {
        "input": {
            "schedule": {
                "kind": "business-day",
                "business_day": 3,
                "scheduled_time": "2026-12-01T05:00:00Z",
            }
        },
        "execution_name": "fire-2026-12-01",
        "started_at": "2026-12-01T05:00:01Z",
    }

    output, error = stack.env.router.invoke("StartRunFunction", non_billing_day)

    assert error is None, output
    assert output == {
        "ignored": "Not the billing day: the 3rd business day of 2026-12 is 2026-12-03.",
        "kind": "schedule",
    }
    assert metrics.metric_set["ScheduledFiresIgnored"]["Value"] == [1.0]

    started, error = stack.env.router.invoke(
        "StartRunFunction",
        {
            "input": sample("milestone-completed-unknown-contract.json"),
            "execution_name": "unknown-contract-direct",
            "started_at": "2026-11-20T15:30:01Z",
        },
    )
    assert error is None, started
    gathered, error = stack.env.router.invoke("GatherAccountsFunction", {"run": started})

    assert error is None, gathered
    assert gathered["milestone_refused"].startswith("MilestoneCompleted refused for milestone")
    assert metrics.metric_set["MilestoneEventsRefused"]["Value"] == [1.0]
