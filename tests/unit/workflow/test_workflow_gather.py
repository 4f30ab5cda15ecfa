"""GatherAccounts and the run report: every record of the source lands in exactly one list,
and run.json's counts are the lengths of its lists (issue 16)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3

from invoice_dispatch.platform import Platform
from invoice_dispatch.run import RunContext
from invoice_dispatch.workflow.drafting import draft_chunk
from invoice_dispatch.workflow.gather import gather_accounts
from invoice_dispatch.workflow.summary import summarize_run
from tests.unit.billing.billing_factories import customer, raw_account

RUN = RunContext(run_id="run-gather", period="2026-11", mode="live", approval_timeout_seconds=60)


def _seats(account_id: str, quantity: object) -> dict[str, Any]:
    return raw_account(
        account_id=account_id,
        subscriptions=[
            {
                "subscription_id": "S",
                "plan": "TEAM-SEAT",
                "quantity": quantity,
                "start": "2025-01-01",
            }
        ],
    )


def _run(platform: Platform, source: bytes, uri_suffix: str = ".json") -> dict[str, Any]:
    """Gather, draft every chunk and summarize, as the state machine does, on ``source``."""
    settings = platform.settings
    bucket, _, key = settings.account_source_uri[len("s3://") :].partition("/")
    if uri_suffix != ".json":
        key = key.rsplit(".", 1)[0] + uri_suffix
        object.__setattr__(settings, "account_source_uri", f"s3://{bucket}/{key}")
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=source)
    platform.store.create_run(RUN, datetime.now(UTC).isoformat())
    gathered = gather_accounts(RUN, platform)
    for chunk in platform.documents.get_json(gathered.account_chunks_key):
        draft_chunk(RUN, chunk["chunk_index"], chunk["chunk_key"], platform)
    return summarize_run(RUN, "completed", platform)


def test_run_json_counts_equal_its_lists_when_the_engine_sets_accounts_aside(
    platform: Platform,
) -> None:
    accounts = [
        raw_account(account_id="ACC-OK"),
        raw_account(account_id="ACC-PAUSED", status="paused"),
        raw_account(account_id="ACC-NO-RATE", customer=customer("XX")),  # no tax rate: engine
        _seats("ACC-1E25", 1e25),
        _seats("ACC-1E30", "1e30"),
        _seats("ACC-1E400", "1e400"),
    ]

    report = _run(platform, json.dumps(accounts).encode())

    counts = report["counts"]
    quarantined = {entry["account_id"]: entry["reason"] for entry in report["quarantined"]}
    assert counts["quarantined"] == len(report["quarantined"]) == 4
    assert counts["excluded"] == len(report["excluded"]) == 1
    assert counts["eligible"] == 1
    assert counts["eligible"] + counts["excluded"] + counts["quarantined"] == counts["selected"]
    assert quarantined["ACC-1E25"] == (
        "Field 'subscriptions #1 quantity': must be 1,000,000,000 or less (got 1e+25)"
    )
    assert quarantined["ACC-1E400"].endswith("(got '1e400')")
    assert quarantined["ACC-NO-RATE"] == "No tax rate for country 'XX' in tax table 2026-07-01"
    assert report["reconciliation"]["problems"] == []


def test_two_records_with_one_account_id_are_both_quarantined_naming_each_other(
    platform: Platform,
) -> None:
    eur_starter = raw_account(account_id="ACC-DUP")
    usd_business = raw_account(
        account_id="ACC-DUP",
        currency="USD",
        subscriptions=[
            {"subscription_id": "S", "plan": "BUSINESS", "quantity": "3", "start": "2025-01-01"}
        ],
    )
    source = [eur_starter, raw_account(account_id="ACC-OK"), usd_business]

    report = _run(platform, json.dumps(source).encode())

    sentence = (
        "Account id 'ACC-DUP' is held by 2 records of the account source (records 1 and 3): "
        "none is billed until the source holds one record per account"
    )
    assert report["quarantined"] == [
        {"account_id": "ACC-DUP", "reason": sentence},
        {"account_id": "ACC-DUP", "reason": sentence},
    ]
    counts = report["counts"]
    assert (counts["selected"], counts["eligible"], counts["quarantined"]) == (3, 1, 2)
    assert counts["drafts_in_run"] == 1
    assert report["reconciliation"]["equations"][0] == (
        "Accounts: 3 selected = 1 drafted + 0 already billed + 0 excluded + 2 quarantined"
    )


def test_a_period_that_leaves_a_credit_is_listed_and_counted_as_excluded(
    platform: Platform,
) -> None:
    """A negative total is no invoice (a carried credit): run.json lists the account with
    the sentence that says how the credit is carried, and counts it where it lists it."""
    downgrade = raw_account(
        account_id="ACC-DOWN",
        subscriptions=[
            {
                "subscription_id": "S",
                "plan": "ENTERPRISE",
                "quantity": "10",
                "start": "2026-01-01",
                "changes": [{"effective": "2026-11-16", "quantity": "4"}],
            }
        ],
    )

    report = _run(platform, json.dumps([downgrade, raw_account(account_id="ACC-OK")]).encode())

    (excluded,) = report["excluded"]
    assert excluded["account_id"] == "ACC-DOWN"
    assert excluded["reason"].startswith(
        "No invoice for 2026-11: the period's charges and credits leave the customer a credit "
        "of 10,798.02 EUR"
    )
    counts = report["counts"]
    assert (counts["selected"], counts["eligible"], counts["excluded"]) == (2, 1, 1)
    assert counts["drafts_in_run"] == 1
    assert report["reconciliation"]["problems"] == []
    assert report["reconciliation"]["equations"][0] == (
        "Accounts: 2 selected = 1 drafted + 0 already billed + 1 excluded + 0 quarantined"
    )
