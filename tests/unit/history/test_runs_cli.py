"""`python -m tools.runs --stack NAME` against a deployed stack (moto's CloudFormation):
the table is found through the stack's output and read by key, newest run first."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from invoice_dispatch.adapters.history_store import HistoryStore
from invoice_dispatch.history import RunKind
from tests.unit.history.history_factories import history_record
from tools.local_run.wiring import Template
from tools.runs.__main__ import main

STACK = "invoice-dispatch-test"


@pytest.fixture
def deployed() -> Iterator[HistoryStore]:
    """A stack whose only resource is the template's billing table, with its output."""
    table = dict(Template().resources["BillingTable"]["Properties"])
    template = {
        "Resources": {
            "BillingTable": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {
                    key: table[key]
                    for key in (
                        "BillingMode",
                        "AttributeDefinitions",
                        "KeySchema",
                        "GlobalSecondaryIndexes",
                    )
                },
            }
        },
        "Outputs": {"BillingTableName": {"Value": {"Ref": "BillingTable"}}},
    }
    saved = dict(os.environ)
    os.environ["AWS_DEFAULT_REGION"] = "eu-central-1"
    try:
        with mock_aws():
            cloudformation = boto3.client("cloudformation")
            cloudformation.create_stack(StackName=STACK, TemplateBody=json.dumps(template))
            outputs = cloudformation.describe_stacks(StackName=STACK)["Stacks"][0]["Outputs"]
            yield HistoryStore(boto3.resource("dynamodb").Table(outputs[0]["OutputValue"]))
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_list_reads_the_deployed_stacks_history_newest_first(
    deployed: HistoryStore, capsys: pytest.CaptureFixture[str]
) -> None:
    deployed.put(history_record("nov-monthly", day=0, finalized=28, held=4, sent=28, delivered=27))
    deployed.put(history_record("dec-collections", RunKind.COLLECTIONS, day=9))
    deployed.put(history_record("credit-1", RunKind.CREDIT_NOTE, day=3))
    deployed.put(history_record("nov-monthly", day=0, finalized=28, held=4))  # a retried summary

    assert main(["list", "--stack", STACK]) == 0
    _header, *lines = capsys.readouterr().out.splitlines()
    assert [line.split()[2] for line in lines] == ["dec-collections", "credit-1", "nov-monthly"]
    assert [line.split()[3] for line in lines] == ["collections", "credit_note", "monthly"]
    assert lines[2].split()[6:8] == ["28", "4"]


def test_show_finds_a_run_by_its_id(
    deployed: HistoryStore, capsys: pytest.CaptureFixture[str]
) -> None:
    deployed.put(history_record("nov-monthly", sent=28, delivered=27, latencies=(1, 2, 4, 8)))
    assert main(["show", "nov-monthly", "--stack", STACK]) == 0
    shown = capsys.readouterr().out
    assert "delivery rate      96.4 % (27 delivered of 28 SES reported on; 28 sent)" in shown
    assert "ERP latency        p50/p95 2.0/8.0s" in shown
    assert main(["show", "no-such-run", "--stack", STACK]) == 1


def test_recent_pages_through_more_runs_than_one_query_returns(deployed: HistoryStore) -> None:
    for day in range(130):
        deployed.put(history_record(f"run-{day:03d}", day=day))
    newest = list(deployed.recent(120))
    assert len(newest) == 120
    assert (newest[0].run_id, newest[-1].run_id) == ("run-129", "run-010")
