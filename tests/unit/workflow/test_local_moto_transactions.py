"""The local stack's moto keeps DynamoDB's all-or-nothing transactions without copying the table."""

from __future__ import annotations

import copy

import pytest
from botocore.exceptions import ClientError
from moto.dynamodb.models import dynamodb_backends

from invoice_dispatch.platform import Platform
from tools.local_run.moto_scale import TableBackup
from tools.local_run.wiring import ACCOUNT_ID, REGION


def test_a_failed_transaction_leaves_every_item_as_it_was(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = platform.store._table  # the single table the store writes
    client = platform.store._client
    table.put_item(Item={"PK": "T#1", "SK": "X", "value": 1})
    table_copies = []
    real_deepcopy = copy.deepcopy

    def counting_deepcopy(value: object, memo: object = None) -> object:
        if type(value).__name__ == "Table":
            table_copies.append(value)
        return real_deepcopy(value, memo)  # type: ignore[arg-type]

    monkeypatch.setattr(copy, "deepcopy", counting_deepcopy)
    items = [
        {"Put": {"TableName": table.name, "Item": {"PK": {"S": f"T#{n}"}, "SK": {"S": "Y"}}}}
        for n in range(2, 12)
    ]
    items.append(
        {
            "Update": {
                "TableName": table.name,
                "Key": {"PK": {"S": "T#1"}, "SK": {"S": "X"}},
                "UpdateExpression": "SET #v = :two",
                "ConditionExpression": "#v = :zero",
                "ExpressionAttributeNames": {"#v": "value"},
                "ExpressionAttributeValues": {":two": {"N": "2"}, ":zero": {"N": "0"}},
            }
        }
    )

    with pytest.raises(ClientError, match="TransactionCanceled"):
        client.transact_write_items(TransactItems=items)

    assert table_copies == [], "undo records per item, no copy of the table"
    assert table.get_item(Key={"PK": "T#1", "SK": "X"})["Item"]["value"] == 1
    for n in range(2, 12):
        assert "Item" not in table.get_item(Key={"PK": f"T#{n}", "SK": "Y"})


def test_a_reader_that_finds_the_rollback_stand_in_is_still_answered(platform: Platform) -> None:
    """On failure moto puts the transaction's stand-in into its tables and raises; another
    thread reading in that window must be answered from the live table (a concurrent
    numbering chunk once failed on ``'TableBackup' object has no attribute ...``)."""
    table = platform.store._table
    table.put_item(Item={"PK": "T#1", "SK": "X", "value": 1})
    backend = dynamodb_backends[ACCOUNT_ID][REGION]
    live = backend.tables[table.name]
    backend.tables[table.name] = TableBackup(live)  # the window, held open
    try:
        assert table.get_item(Key={"PK": "T#1", "SK": "X"})["Item"]["value"] == 1
    finally:
        backend.tables[table.name] = live
