"""Every sample in events/ is accepted by the entry point it is for."""

from __future__ import annotations

import json

import pytest

from invoice_dispatch.approval.start_input import StartRunInput
from invoice_dispatch.platform import Platform
from invoice_dispatch.run import RunContext
from invoice_dispatch.workflow.start import start_run
from tools.local_run.wiring import REPO_ROOT

EVENTS = REPO_ROOT / "events"


@pytest.mark.parametrize("path", sorted(EVENTS.glob("start-*.json")), ids=lambda p: p.name)
def test_each_start_sample_starts_a_run(platform: Platform, path: object) -> None:
    raw = json.loads(EVENTS.joinpath(str(path)).read_text())

    run = start_run(raw, f"run-{EVENTS.joinpath(str(path)).stem}", "2026-12-01T06:00:00Z", platform)

    assert isinstance(run, RunContext)
    assert platform.store.get_run(run.run_id) is not None
    # A schedule bills the month before its tick (2026-11-01 -> October); a resume with no
    # period reports under the month before its start (2026-12-01 -> November).
    default_period = "2026-10" if "schedule" in raw else "2026-11"
    assert isinstance(run, RunContext)
    assert run.period == raw.get("period", default_period)


def test_schedule_on_the_first_bills_the_month_that_ended_in_berlin(platform: Platform) -> None:
    scheduled = json.loads((EVENTS / "start-scheduled.json").read_text())
    scheduled["schedule"]["scheduled_time"] = "2026-11-30T23:30:00Z"  # 1 December in Berlin

    run = start_run(scheduled, "run-schedule", "2026-11-30T23:30:02Z", platform)

    assert isinstance(run, RunContext)
    assert run.period == "2026-11"


def test_start_input_schema_file_matches_the_model() -> None:
    published = json.loads((EVENTS / "schema" / "start-run.schema.json").read_text())
    assert published["properties"].keys() == StartRunInput.model_json_schema()["properties"].keys()


@pytest.mark.parametrize("name", ["approval-get.json", "approval-post.json"])
def test_http_samples_are_api_gateway_v2_events(name: str) -> None:
    event = json.loads((EVENTS / name).read_text())
    assert event["version"] == "2.0" and event["rawPath"].startswith("/approvals/")


def test_usage_file_adds_readings_and_reports_unknown_accounts() -> None:
    from invoice_dispatch.workflow.gather import merge_usage_file

    accounts = [
        {"account_id": "ACC-1", "usage": [{"metric": "SMS", "quantity": "3"}]},
        {"account_id": "ACC-2"},
    ]
    csv_body = b"account_id,metric,quantity\nACC-1,API-CALLS,1200\nACC-2,SMS,40\nACC-9,SMS,5\n"

    orphans = merge_usage_file(accounts, "s3://bucket/usage-2026-11.csv", csv_body)

    assert [u["metric"] for u in accounts[0]["usage"]] == ["SMS", "API-CALLS"]
    assert accounts[1]["usage"] == [
        {"metric": "SMS", "quantity": "40", "source": "s3://bucket/usage-2026-11.csv"}
    ]
    assert [o.account_id for o in orphans] == ["ACC-9"]
    assert "missing from the account source" in orphans[0].reason


def test_anomaly_thresholds_come_from_configuration(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    from decimal import Decimal

    from invoice_dispatch.platform import get_platform, reset_platform

    monkeypatch.setenv("ANOMALY_TOTAL_CHANGE_PERCENT", "25")
    monkeypatch.setenv("ANOMALY_HOLD_CODES", "NON_POSITIVE_TOTAL, TOTAL_CHANGE")
    reset_platform()
    thresholds = get_platform().thresholds

    assert thresholds.total_change_percent == Decimal(25)
    assert thresholds.hold_codes == {"NON_POSITIVE_TOTAL", "TOTAL_CHANGE"}


def test_unknown_hold_code_is_refused_with_the_known_ones(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    from invoice_dispatch.errors import PermanentError
    from invoice_dispatch.platform import get_platform, reset_platform

    monkeypatch.setenv("ANOMALY_HOLD_CODES", "TOTAL_CHANGES")
    reset_platform()

    with pytest.raises(PermanentError, match=r"TOTAL_CHANGES.*TOTAL_CHANGE"):
        get_platform().thresholds  # noqa: B018


def test_account_with_nothing_to_bill_is_reported_as_excluded_not_quarantined(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    from invoice_dispatch.billing import DraftResult
    from invoice_dispatch.run import RunContext, Screening
    from invoice_dispatch.workflow import drafting, keys
    from invoice_dispatch.workflow.approval import collect_screening
    from tests.unit.billing.billing_factories import raw_account

    run = RunContext(run_id="run-1", period="2026-11", mode="live", approval_timeout_seconds=60)
    platform.documents.put_json(keys.screening_report("run-1"), Screening(eligible_count=1))
    chunk_key = platform.documents.put_json(keys.account_chunk("run-1", 0), [raw_account()])
    monkeypatch.setattr(
        drafting,
        "generate_draft",
        lambda *_: DraftResult(invoice=None, skipped_reason="Annual plan already billed in May"),
    )

    result = drafting.draft_chunk(run, 0, chunk_key, platform)
    screening = collect_screening(platform, run)

    assert (result.drafted, result.quarantined) == (0, 0)
    assert [(e.account_id, e.reason) for e in screening.excluded] == [
        ("ACC-TEST", "Annual plan already billed in May")
    ]
    assert screening.quarantined == []


def test_shadow_run_without_named_accounts_is_refused(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    from invoice_dispatch.errors import InvalidStartInput
    from invoice_dispatch.platform import get_platform, reset_platform

    monkeypatch.setenv("SHADOW_ACCOUNT_IDS", "")
    reset_platform()

    with pytest.raises(InvalidStartInput, match="account_ids"):
        start_run({"period": "2026-11", "mode": "shadow"}, "run-shadow", "now", get_platform())


def test_account_listed_twice_in_a_chunk_is_drafted_once(platform: Platform) -> None:
    from invoice_dispatch.run import RunContext, Screening
    from invoice_dispatch.workflow import drafting, keys
    from tests.unit.billing.billing_factories import raw_account

    run = RunContext(run_id="run-1", period="2026-11", mode="live", approval_timeout_seconds=60)
    platform.documents.put_json(keys.screening_report("run-1"), Screening(eligible_count=2))
    chunk_key = platform.documents.put_json(
        keys.account_chunk("run-1", 0), [raw_account(), raw_account()]
    )

    first = drafting.draft_chunk(run, 0, chunk_key, platform)
    again = drafting.draft_chunk(run, 0, chunk_key, platform)

    assert (first.drafted, first.already_existed) == (1, 1)
    assert (again.drafted, again.already_existed) == (0, 2)
