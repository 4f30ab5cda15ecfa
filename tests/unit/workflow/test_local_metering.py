"""The meter counts AWS calls and DynamoDB capacity units the way AWS bills them.

Each test makes a few DynamoDB requests of known size against moto and checks the units
the meter charged to the actor that made them (``tools/local_run/metering.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from tools.local_run.metering import STATE_MACHINE, Meter, acting_as

REGION = "eu-central-1"
TABLE = "metered"


@pytest.fixture
def meter() -> Iterator[Meter]:
    with mock_aws(), Meter() as meter:
        dynamodb().create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": name, "AttributeType": "S"}
                for name in ("PK", "SK", "GSI1PK", "GSI3PK")
            ],
            KeySchema=[
                {"AttributeName": "PK", "KeyType": "HASH"},
                {"AttributeName": "SK", "KeyType": "RANGE"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "GSI1",
                    "KeySchema": [{"AttributeName": "GSI1PK", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                },
                {
                    "IndexName": "GSI3",
                    "KeySchema": [{"AttributeName": "GSI3PK", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                },
            ],
        )
        yield meter


def dynamodb() -> Any:
    return boto3.client("dynamodb", region_name=REGION)


def document(kilobytes: float, **extra: str) -> dict[str, Any]:
    """An item of about ``kilobytes`` KB: its ``body`` carries nearly all of the size."""
    item = {"PK": {"S": "INVOICE#1"}, "SK": {"S": "DOC"}}
    item.update({name: {"S": value} for name, value in extra.items()})
    item["body"] = {"S": "x" * int(kilobytes * 1024 - 40)}
    return item


def test_a_put_costs_one_write_unit_per_started_kilobyte_plus_its_index_entries(
    meter: Meter,
) -> None:
    with acting_as("DraftFunction"):
        dynamodb().put_item(TableName=TABLE, Item=document(3.5, GSI1PK="RUN#1"))

    used = meter.capacity["DraftFunction"]
    assert used.write_units == 4
    assert used.index_write_units == 4, "GSI1 projects the whole 3.5 KB item; GSI3 is absent"
    assert meter.calls[("DraftFunction", "dynamodb", "PutItem")] == 1


def test_an_update_costs_the_larger_item_and_moving_an_index_key_costs_two_index_writes(
    meter: Meter,
) -> None:
    dynamodb().put_item(TableName=TABLE, Item=document(1.5, GSI1PK="RUN#1", GSI3PK="TODO"))
    with acting_as("Updater"):
        dynamodb().update_item(
            TableName=TABLE,
            Key={"PK": {"S": "INVOICE#1"}, "SK": {"S": "DOC"}},
            UpdateExpression="SET GSI1PK = :run REMOVE body, GSI3PK",
            ExpressionAttributeValues={":run": {"S": "RUN#2"}},
        )

    used = meter.capacity["Updater"]
    assert used.write_units == 2, "1.5 KB before, a few bytes after: the larger counts"
    assert used.index_write_units == 2 + 1 + 1, "GSI1 moves (delete 2 + put 1); GSI3 leaves (1)"


def test_transactions_cost_twice_and_a_failed_condition_still_costs_a_write(meter: Meter) -> None:
    dynamodb().put_item(TableName=TABLE, Item=document(0.5))
    with acting_as("Sender"):
        dynamodb().transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": TABLE,
                        "Key": {"PK": {"S": "INVOICE#1"}, "SK": {"S": "DOC"}},
                        "UpdateExpression": "SET sent = :yes",
                        "ExpressionAttributeValues": {":yes": {"S": "yes"}},
                    }
                },
                {"Put": {"TableName": TABLE, "Item": {"PK": {"S": "MSG#1"}, "SK": {"S": "MSG"}}}},
            ]
        )
        with pytest.raises(ClientError, match="ConditionalCheckFailed"):
            dynamodb().put_item(
                TableName=TABLE, Item=document(0.5), ConditionExpression="attribute_not_exists(PK)"
            )

    assert meter.capacity["Sender"].write_units == 2 * 1 + 2 * 1 + 1


def test_reads_cost_per_four_kilobytes_half_when_eventually_consistent(meter: Meter) -> None:
    dynamodb().put_item(TableName=TABLE, Item=document(5, GSI1PK="RUN#1"))
    key = {"PK": {"S": "INVOICE#1"}, "SK": {"S": "DOC"}}
    with acting_as("Reader"):
        dynamodb().get_item(TableName=TABLE, Key=key, ConsistentRead=True)  # 2
        dynamodb().get_item(TableName=TABLE, Key=key)  # 1
        dynamodb().get_item(TableName=TABLE, Key={"PK": {"S": "NONE"}, "SK": {"S": "DOC"}})  # 0.5
        dynamodb().query(
            TableName=TABLE,
            IndexName="GSI1",
            KeyConditionExpression="GSI1PK = :run",
            ExpressionAttributeValues={":run": {"S": "RUN#1"}},
        )  # 5 KB on a GSI: eventually consistent, 1
        dynamodb().batch_get_item(RequestItems={TABLE: {"Keys": [key], "ConsistentRead": True}})

    assert meter.capacity["Reader"].read_units == 2 + 1 + 0.5 + 1 + 2


def test_calls_outside_any_handler_are_the_state_machines(meter: Meter) -> None:
    dynamodb().get_item(TableName=TABLE, Key={"PK": {"S": "A"}, "SK": {"S": "B"}})

    assert meter.calls[(STATE_MACHINE, "dynamodb", "GetItem")] == 1


def test_uninstalling_stops_counting(meter: Meter) -> None:
    counted = sum(meter.calls.values())
    meter.uninstall()
    dynamodb().get_item(TableName=TABLE, Key={"PK": {"S": "A"}, "SK": {"S": "B"}})

    assert sum(meter.calls.values()) == counted
