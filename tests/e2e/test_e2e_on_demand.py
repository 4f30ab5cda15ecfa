"""On-demand runs from the console: bad input, released holds, re-sends, ERP replays,
auto-approval, approval timeouts and reminders, all on the real state machine."""

from __future__ import annotations

import email
import email.policy
import json
import threading
from pathlib import Path

import boto3
import pytest
from aws_lambda_powertools.metrics import MetricUnit

from invoice_dispatch.invoice import DeliveryStatus, ErpStatus, InvoiceStatus
from invoice_dispatch.observability import metrics
from invoice_dispatch.platform import get_platform
from tests.conftest import ses_sample_event
from tests.e2e.conftest import SAMPLE_ACCOUNTS, Stack
from tools.local_run import lambda_router
from tools.local_run.lambda_router import fresh_metrics
from tools.local_run.runner import ApprovalPlan
from tools.local_run.wiring import REGION, Template

pytestmark = pytest.mark.e2e

PERIOD = "2026-11"
SMALL = ["ACC-1001", "ACC-1002", "ACC-1009", "ACC-1011"]


def _recipients(out_dir: Path) -> list[str]:
    return [
        str(email.message_from_bytes(p.read_bytes(), policy=email.policy.default)["To"])
        for p in sorted((out_dir / "outbox").glob("*.eml"))
    ]


def test_invalid_console_input_ends_the_run_at_once_with_a_readable_error(stack: Stack) -> None:
    result = stack.env.run({"period": "2026-13", "mode": "live", "currencies": ["EURO"]})

    assert result.status == "FAILED"
    assert result.error is not None and result.error.startswith("InvalidStartInput")
    assert "period" in result.error and "currencies" in result.error
    assert "Traceback" not in result.error


def test_released_holds_go_through_approval_again_and_get_the_next_numbers(stack: Stack) -> None:
    first = stack.env.run(
        {"period": PERIOD, "mode": "live", "account_ids": SMALL},
        ApprovalPlan(hold_invoice_ids=["2026-11:ACC-1009", "2026-11:ACC-1011"]),
    )
    assert first.status == "SUCCEEDED", first.error
    store = get_platform().store
    assert store.get_invoice("2026-11:ACC-1009").invoice.status is InvoiceStatus.HELD  # type: ignore[union-attr]

    one = stack.env.run({"period": PERIOD, "mode": "live", "release_held": ["2026-11:ACC-1009"]})
    rest = stack.env.run({"period": PERIOD, "mode": "live", "release_held": "all"})

    assert one.status == rest.status == "SUCCEEDED", (one.error, rest.error)
    numbers = [store.get_invoice(f"2026-11:{a}").invoice.number for a in ("ACC-1009", "ACC-1011")]  # type: ignore[union-attr]
    assert numbers == ["INV-2026-000003", "INV-2026-000004"]
    assert one.report["counts"]["finalized"] == 1 and rest.report["counts"]["finalized"] == 1  # type: ignore[index]


def test_bounced_invoice_is_resent_once_to_the_corrected_address(stack: Stack) -> None:
    store = get_platform().store
    invoice_id = "2026-11:ACC-1001"
    stored = store.get_invoice(invoice_id)
    assert stored is not None and stored.ses_message_id
    handler = stack.env.router.handler_for("DeliveryEventsFunction")[1]
    from tools.approval_server import LocalLambdaContext

    handler(
        ses_sample_event("bounce", stored.ses_message_id, invoice_id),
        LocalLambdaContext(function_name="DeliveryEventsFunction"),
    )
    assert store.get_invoice(invoice_id).delivery_status is DeliveryStatus.BOUNCED  # type: ignore[union-attr]
    accounts = json.loads(SAMPLE_ACCOUNTS.read_text())
    for account in accounts:
        if account["account_id"] == "ACC-1001":
            account["customer"]["email"] = "accounts-payable@corrected.example.com"
    corrected = stack.out_root / "accounts-corrected.json"
    corrected.write_text(json.dumps(accounts))
    stack.env.upload_accounts(corrected)

    resend = stack.env.run({"period": PERIOD, "mode": "live", "resend_failed_deliveries": True})
    again = stack.env.run({"period": PERIOD, "mode": "live", "resend_failed_deliveries": True})

    assert resend.status == again.status == "SUCCEEDED", (resend.error, again.error)
    assert _recipients(resend.out_dir) == ["accounts-payable@corrected.example.com"]
    assert _recipients(again.out_dir) == []
    resent = store.get_invoice(invoice_id)
    assert resent is not None and resent.delivery_status is DeliveryStatus.DELIVERED  # local SES
    assert resent.ses_message_id != stored.ses_message_id


def test_erp_refusal_is_queued_readably_and_the_replay_books_it_once(stack: Stack) -> None:
    stack.erp.blocked_customers.add("ACC-1002")
    run = stack.env.run({"period": "2026-12", "mode": "live", "account_ids": ["ACC-1002"]})
    store = get_platform().store
    stored = store.get_invoice("2026-12:ACC-1002")
    assert stored is not None and stored.erp_status is ErpStatus.FAILED
    assert run.report["erp_problems"][0]["detail"].endswith("blocked for posting in this ERP")  # type: ignore[index]
    queue = boto3.client("sqs", region_name=REGION)
    queue_url = get_platform().settings.erp_error_queue_url
    queued = queue.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    assert any("blocked" in json.loads(m["Body"])["diagnostic"] for m in queued["Messages"])

    stack.erp.blocked_customers.clear()
    replay = stack.env.run({"period": "2026-12", "mode": "live", "replay_erp_errors": True})
    replay_again = stack.env.run({"period": "2026-12", "mode": "live", "replay_erp_errors": True})

    assert replay.status == replay_again.status == "SUCCEEDED"
    assert store.get_invoice("2026-12:ACC-1002").erp_status is ErpStatus.POSTED  # type: ignore[union-attr]
    assert list(stack.erp.bookings).count(stored.invoice.number) == 1
    assert "Messages" not in queue.receive_message(QueueUrl=queue_url, VisibilityTimeout=0)
    assert _recipients(replay.out_dir) == []  # a replay books, it does not e-mail again


def test_reminder_resends_the_link_only_while_the_run_waits(stack: Stack) -> None:
    reminder = stack.env.router.handler_for("ApprovalReminderFunction")[1]
    from tools.approval_server import LocalLambdaContext

    context = LocalLambdaContext(function_name="ApprovalReminderFunction")
    finished_run = next(r for r in _run_ids(stack) if r)
    assert reminder({"run_id": finished_run}, context) == {"emails_sent": 0}

    reminders: list[dict[str, int]] = []

    def remind_then_approve(link: str) -> None:
        run_id = link.split("/approvals/")[1].split("?")[0]
        reminders.append(reminder({"run_id": run_id}, context))
        stack.env.click_approval(link, ApprovalPlan())

    result = stack.env.run(
        {"period": "2027-01", "mode": "live", "account_ids": ["ACC-1001"]},
        ApprovalPlan(wait_for_person=True, on_link=remind_then_approve),
    )
    assert result.status == "SUCCEEDED", result.error
    assert reminders == [{"emails_sent": 1}]
    subjects = [
        str(email.message_from_bytes(p.read_bytes(), policy=email.policy.default)["Subject"])
        for p in sorted((result.out_dir / "outbox").glob("*.eml"))
    ]
    assert sum(s.startswith("Reminder: ") for s in subjects) == 1


def _run_ids(stack: Stack) -> list[str]:
    return [p.name for p in stack.out_root.iterdir() if p.is_dir()]


def test_template_declares_every_function_the_state_machine_calls() -> None:
    template = Template()
    definition = (Path(template.path).parent / "../statemachine/monthly_run.asl.json").read_text()
    substitutions = template.resources["MonthlyRunStateMachine"]["Properties"][
        "DefinitionSubstitutions"
    ]
    for name in substitutions:
        assert "${" + name + "}" in definition, name


def test_each_local_invocation_starts_with_no_metrics(stack: Stack) -> None:
    """Metrics are disabled locally; one invocation's values must not pile up into the next
    (Powertools' auto-flush at 100 values fails where no namespace is configured)."""
    for _ in range(120):
        result, error = stack.env.router.invoke("DeliveryEventsFunction", {"Records": []})
        assert error is None, result

    assert metrics.metric_set["DeliveryEventsApplied"]["Value"] == [0.0], "the last one's only"


def test_a_local_invocation_may_add_a_hundred_values_of_one_metric(stack: Stack) -> None:
    """The shared Metrics made before the stack named its namespace (as in a test session):
    a chunk's hundred ERP latencies make Powertools flush by itself, which needs one."""
    metrics.namespace = None

    fresh_metrics()
    for _ in range(150):
        metrics.add_metric(name="ErpPostLatency", unit=MetricUnit.Milliseconds, value=1)

    assert metrics.namespace == "InvoiceDispatch"


def test_invocations_in_threads_take_turns_with_the_shared_metrics(stack: Stack) -> None:
    """A Map's children run in threads here and share Powertools' one Metrics: one's flush
    must not walk it while another adds to it (that failed ERP chunks at 10,000). While one
    caller holds it, another's add waits."""
    fresh_metrics()
    added = threading.Event()

    def another_invocation() -> None:
        metrics.add_metric(name="ErpPostLatency", unit=MetricUnit.Milliseconds, value=1)
        added.set()

    with lambda_router.METRICS_LOCK:  # this invocation is flushing
        thread = threading.Thread(target=another_invocation)
        thread.start()
        waited = not added.wait(0.3)
    thread.join()

    assert waited, "the other invocation added while the metrics were being flushed"
    assert added.is_set()
