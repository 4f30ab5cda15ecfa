"""Set-ups that need their own stack: auto-approval, and an approval nobody answers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.sns.models import sns_backends

from invoice_dispatch.invoice import InvoiceStatus
from invoice_dispatch.platform import get_platform
from tests.e2e.conftest import SAMPLE_ACCOUNTS
from tools.erp.http_erp_server import running_http_erp
from tools.local_run.runner import ApprovalPlan, ErpTarget, LocalEnvironment
from tools.local_run.wiring import ACCOUNT_ID, REGION

pytestmark = pytest.mark.e2e

PERIOD = "2026-11"


@pytest.fixture
def fresh_stack(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[LocalEnvironment]:
    with (
        running_http_erp() as (url, state),
        LocalEnvironment(
            SAMPLE_ACCOUNTS,
            tmp_path,
            ErpTarget("http", url, {"token": "t"}, state.dump),
            parameters=request.param,
        ) as env,
    ):
        yield env


@pytest.mark.parametrize("fresh_stack", [{"AutoApprove": "true"}], indirect=True)
def test_auto_approve_skips_the_human_but_still_holds_what_a_threshold_flags(
    fresh_stack: LocalEnvironment,
) -> None:
    result = fresh_stack.run(
        {"period": PERIOD, "mode": "live", "account_ids": ["ACC-1001", "ACC-1026"]}
    )

    assert result.status == "SUCCEEDED", result.error
    assert result.approval_link is None
    store = get_platform().store
    assert store.get_invoice("2026-11:ACC-1026").invoice.status is InvoiceStatus.HELD  # type: ignore[union-attr]
    assert store.get_invoice("2026-11:ACC-1001").invoice.status is InvoiceStatus.FINALIZED  # type: ignore[union-attr]
    assert result.report["approval"]["approver"] == "auto-approve"  # type: ignore[index]


@pytest.mark.parametrize("fresh_stack", [{"ApprovalTtlHours": "0.001"}], indirect=True)
def test_unanswered_approval_expires_alerts_and_frees_the_drafts(
    fresh_stack: LocalEnvironment,
) -> None:
    sns_published: list[str] = []
    result = fresh_stack.run(
        {"period": PERIOD, "mode": "live", "account_ids": ["ACC-1001"]},
        ApprovalPlan(wait_for_person=True, on_link=sns_published.append),
    )

    assert result.status == "FAILED"
    assert result.report["status"] == "expired"  # type: ignore[index]
    store = get_platform().store
    assert store.get_invoice("2026-11:ACC-1001").invoice.status is InvoiceStatus.VOID  # type: ignore[union-attr]
    topic = get_platform().settings.alert_topic_arn
    alerts = sns_backends[ACCOUNT_ID][REGION].topics[topic].sent_notifications
    assert any("expired" in subject for _id, _message, subject, *_ in alerts)
    schedules = boto3.client("scheduler", region_name=REGION).list_schedules()["Schedules"]
    assert [s["Name"] for s in schedules] == [f"approval-reminder-{result.run_id}"[:64]]


@pytest.mark.parametrize("fresh_stack", [{}], indirect=True)
def test_unreadable_account_source_fails_the_run_with_the_reason_in_the_report(
    fresh_stack: LocalEnvironment, tmp_path: Path
) -> None:
    broken = tmp_path / "accounts.json"
    broken.write_text('[{"account_id": "ACC-1",}')
    fresh_stack.upload_accounts(broken)

    result = fresh_stack.run({"period": PERIOD, "mode": "live"})

    assert result.status == "FAILED"
    assert result.report is not None and result.report["status"] == "failed"
    assert "is not valid JSON (line 1)" in result.report["error"]
    assert "Traceback" not in result.report["error"]
    topic = get_platform().settings.alert_topic_arn
    alerts = sns_backends[ACCOUNT_ID][REGION].topics[topic].sent_notifications
    assert any("failed" in subject for _id, _message, subject, *_ in alerts)
