"""The local stack's moto answers exactly as moto 5.2.5 does, at a cost that does not grow
with the table (``tools/local_run/moto_scale.py``).

Each test runs one scenario twice, in two fresh moto accounts: once with moto as released
(``stock_moto``) and once patched, and compares everything the client sees: items,
pages, counts, start keys, cancellation reasons, bodies and ETags.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from tools.local_run import moto_scale
from tools.local_run.moto_scale import make_moto_scale, stock_moto

REGION = "eu-central-1"
TABLE = "scale"
BUCKET = "scale-documents"
GSI_PARTITIONS = ("A", "B", "C", "Z")


@pytest.fixture(autouse=True)
def patched_moto() -> None:
    make_moto_scale()


def stock_and_patched(scenario: Callable[[], Any]) -> tuple[Any, Any]:
    """The scenario's observations on moto as released, then on the patched moto."""
    with stock_moto(), mock_aws():
        stock = scenario()
    with mock_aws():
        patched = scenario()
    return stock, patched


def dynamodb() -> Any:
    return boto3.client("dynamodb", region_name=REGION)


def create_table() -> None:
    def key(name: str, kind: str) -> dict[str, str]:
        return {"AttributeName": name, "KeyType": kind}

    dynamodb().create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": name, "AttributeType": kind}
            for name, kind in (
                ("PK", "S"),
                ("SK", "S"),
                ("GSI1PK", "S"),
                ("GSI1SK", "S"),
                ("GSI3PK", "S"),
                ("GSI3SK", "S"),
                ("NPK", "N"),
            )
        ],
        KeySchema=[key("PK", "HASH"), key("SK", "RANGE")],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "GSI1",
                "KeySchema": [key("GSI1PK", "HASH"), key("GSI1SK", "RANGE")],
                "Projection": {"ProjectionType": "ALL"},
            },
            {  # sparse and keys-only, like the store's unfinished index
                "IndexName": "GSI3",
                "KeySchema": [key("GSI3PK", "HASH"), key("GSI3SK", "RANGE")],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            },
            {  # a number hash key and no range key
                "IndexName": "GSIN",
                "KeySchema": [key("NPK", "HASH")],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["note"]},
            },
        ],
    )


def item(number: int) -> dict[str, Any]:
    """Items spread over partitions, with equal GSI sort keys and a few large ones."""
    attributes: dict[str, Any] = {
        "PK": {"S": f"ITEM#{number % 9}"},
        "SK": {"S": f"DOC#{number:03d}"},
        "GSI1PK": {"S": GSI_PARTITIONS[number % 3]},
        "GSI1SK": {"S": f"acc-{number % 11:02d}"},
        "note": {"S": f"note {number}"},
        "other": {"S": "not projected"},
    }
    if number % 4 == 0:
        attributes["GSI3PK"] = {"S": "UNFINISHED#live"}
        attributes["GSI3SK"] = {"S": f"2026-{1 + number % 12:02d}#{number}"}
    if number % 5 != 0:
        attributes["NPK"] = {"N": ("1", "1.0", "2", "10")[number % 4]}
    if number % 10 == 3:
        attributes["payload"] = {"S": "x" * 60_000}  # pages end on 1 MB, not only on Limit
    return attributes


def pages(**query: Any) -> list[dict[str, Any]]:
    """Every page of a query, as the client sees it."""
    seen = []
    while True:
        try:
            page = dynamodb().query(TableName=TABLE, **query)
        except ClientError as error:
            seen.append({"error": error.response["Error"]})
            return seen
        page.pop("ResponseMetadata", None)
        seen.append(page)
        if "LastEvaluatedKey" not in page:
            return seen
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def every_query() -> list[Any]:
    observed: list[Any] = []
    for partition in GSI_PARTITIONS:
        key = {":p": {"S": partition}}
        gsi1 = {"IndexName": "GSI1", "ExpressionAttributeValues": key}
        observed.append(pages(KeyConditionExpression="GSI1PK = :p", **gsi1))
        observed.append(pages(KeyConditionExpression="GSI1PK = :p", Limit=7, **gsi1))
        observed.append(
            pages(KeyConditionExpression="GSI1PK = :p", Limit=5, ScanIndexForward=False, **gsi1)
        )
        between = {**key, ":lo": {"S": "acc-02"}, ":hi": {"S": "acc-07"}}
        observed.append(
            pages(
                IndexName="GSI1",
                KeyConditionExpression="GSI1PK = :p AND GSI1SK BETWEEN :lo AND :hi",
                ExpressionAttributeValues=between,
                Limit=4,
            )
        )
        observed.append(
            pages(
                IndexName="GSI1",
                KeyConditionExpression="GSI1PK = :p AND begins_with(GSI1SK, :b)",
                FilterExpression="contains(note, :one)",
                ExpressionAttributeValues={**key, ":b": {"S": "acc-0"}, ":one": {"S": "1"}},
                Limit=3,
            )
        )
        observed.append(
            pages(KeyConditionExpression="GSI1PK = :p", Select="COUNT", Limit=6, **gsi1)
        )
    unfinished = {":u": {"S": "UNFINISHED#live"}}
    observed.append(
        pages(
            IndexName="GSI3",
            KeyConditionExpression="GSI3PK = :u",
            ExpressionAttributeValues=unfinished,
            Limit=4,
        )
    )
    for number in ("1", "1.0", "2", "10", "3"):
        observed.append(
            pages(
                IndexName="GSIN",
                KeyConditionExpression="NPK = :n",
                ExpressionAttributeValues={":n": {"N": number}},
                Limit=4,
            )
        )
    for partition in range(10):
        observed.append(
            pages(
                KeyConditionExpression="PK = :pk",
                ExpressionAttributeValues={":pk": {"S": f"ITEM#{partition}"}},
                Limit=3,
            )
        )
    observed.append(
        pages(
            KeyConditionExpression="PK = :pk AND begins_with(SK, :doc)",
            ExpressionAttributeValues={":pk": {"S": "ITEM#4"}, ":doc": {"S": "DOC#0"}},
            ScanIndexForward=False,
        )
    )
    observed.append(pages(IndexName="NOPE", KeyConditionExpression="PK = :pk",
                          ExpressionAttributeValues={":pk": {"S": "ITEM#1"}}))  # fmt: skip
    return observed


def table_contents() -> list[dict[str, Any]]:
    scanned = dynamodb().scan(TableName=TABLE)
    return sorted(scanned["Items"], key=lambda found: (found["PK"]["S"], found["SK"]["S"]))


def update(number: int, expression: str, **fields: Any) -> None:
    dynamodb().update_item(
        TableName=TABLE,
        Key={"PK": item(number)["PK"], "SK": item(number)["SK"]},
        UpdateExpression=expression,
        **fields,
    )


def writes_and_queries() -> list[Any]:
    """Puts, updates that move, add and remove GSI keys, deletes, batch writes, PartiQL,
    a failed transaction: every query after each step."""
    create_table()
    client = dynamodb()
    observed = []
    for number in range(80):
        client.put_item(TableName=TABLE, Item=item(number))
    observed.append(every_query())
    for number in range(0, 80, 6):  # move to another GSI1 partition
        update(number, "SET GSI1PK = :b", ExpressionAttributeValues={":b": {"S": "B"}})
    for number in range(0, 80, 8):  # finished: leaves the sparse index
        update(number, "REMOVE GSI3PK, GSI3SK")
    for number in range(1, 80, 7):  # enters it
        update(
            number,
            "SET GSI3PK = :u, GSI3SK = :s, NPK = :n",
            ExpressionAttributeValues={
                ":u": {"S": "UNFINISHED#live"},
                ":s": {"S": f"2025-12#{number}"},
                ":n": {"N": "2"},
            },
        )
    for number in range(5, 80, 13):
        client.delete_item(
            TableName=TABLE, Key={"PK": item(number)["PK"], "SK": item(number)["SK"]}
        )
    observed.append(every_query())
    client.batch_write_item(
        RequestItems={
            TABLE: [{"PutRequest": {"Item": item(number)}} for number in range(80, 95)]
            + [
                {"DeleteRequest": {"Key": {"PK": item(n)["PK"], "SK": item(n)["SK"]}}}
                for n in (2, 9, 11)
            ]
        }
    )
    client.execute_statement(
        Statement=f"UPDATE \"{TABLE}\" SET GSI1PK = 'C' WHERE PK = 'ITEM#1' AND SK = 'DOC#010'"
    )
    observed.append(every_query())
    observed.append(failed_transaction_moving_keys())
    observed.append(every_query())
    observed.append(table_contents())
    return observed


def failed_transaction_moving_keys() -> dict[str, Any]:
    updates = [
        {
            "Update": {
                "TableName": TABLE,
                "Key": {"PK": item(n)["PK"], "SK": item(n)["SK"]},
                "UpdateExpression": "SET GSI1PK = :z REMOVE GSI3PK",
                "ExpressionAttributeValues": {":z": {"S": "Z"}},
            }
        }
        for n in (12, 13, 14)
    ]
    puts = [{"Put": {"TableName": TABLE, "Item": item(n)}} for n in (200, 201)]
    deletes = [
        {"Delete": {"TableName": TABLE, "Key": {"PK": item(n)["PK"], "SK": item(n)["SK"]}}}
        for n in (15, 16)
    ]
    failing = {
        "ConditionCheck": {
            "TableName": TABLE,
            "Key": {"PK": item(17)["PK"], "SK": item(17)["SK"]},
            "ConditionExpression": "attribute_not_exists(PK)",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }
    try:
        dynamodb().transact_write_items(TransactItems=[*updates, *puts, *deletes, failing])
    except ClientError as error:
        return {"error": error.response["Error"], "reasons": error.response["CancellationReasons"]}
    raise AssertionError("the transaction should have been cancelled")


def test_queries_page_and_order_as_moto_does_after_every_kind_of_write() -> None:
    stock, patched = stock_and_patched(writes_and_queries)

    assert patched == stock


def item_reads() -> dict[str, Any]:
    """Every attribute type DynamoDB has, read back by each operation that returns items."""
    create_table()
    client = dynamodb()
    every_type = {
        "S": {"S": "Grüße & <ok>"},
        "N": {"N": "1234.5600"},
        "B": {"B": bytes(range(256))},
        "BOOL": {"BOOL": False},
        "NULL": {"NULL": True},
        "M": {"M": {"nested": {"L": [{"N": "1"}, {"B": b"\x00\xff"}, {"M": {}}]}}},
        "SS": {"SS": ["a", "b"]},
        "NS": {"NS": ["1", "2.5"]},
        "BS": {"BS": [b"x", b"\x01"]},
    }
    for index in range(5):
        item = {"PK": {"S": "P"}, "SK": {"S": f"{index:02d}"}, "GSI1PK": {"S": "A"}}
        client.put_item(TableName=TABLE, Item={**item, "GSI1SK": {"S": str(index)}, **every_type})
    key = {"PK": {"S": "P"}, "SK": {"S": "01"}}
    answers = {
        "get": client.get_item(TableName=TABLE, Key=key),
        "get missing": client.get_item(TableName=TABLE, Key={**key, "SK": {"S": "zz"}}),
        "batch": client.batch_get_item(
            RequestItems={
                TABLE: {"Keys": [key, {**key, "SK": {"S": "zz"}}], "ConsistentRead": True}
            }
        ),
        "batch projected": client.batch_get_item(
            RequestItems={TABLE: {"Keys": [key], "ProjectionExpression": "B, M, SK"}}
        ),
        "query page": client.query(
            TableName=TABLE,
            KeyConditionExpression="PK = :p",
            ExpressionAttributeValues={":p": {"S": "P"}},
            Limit=2,
        ),
        "gsi query": client.query(
            TableName=TABLE,
            IndexName="GSI1",
            KeyConditionExpression="GSI1PK = :a",
            ExpressionAttributeValues={":a": {"S": "A"}},
            ScanIndexForward=False,
        ),
        "scan": client.scan(TableName=TABLE, Limit=3),
    }
    for answer in answers.values():
        answer.pop("ResponseMetadata")
    return answers


def test_item_reads_answer_as_moto_does_with_every_attribute_type() -> None:
    stock, patched = stock_and_patched(item_reads)

    assert patched == stock
    assert patched["batch"]["Responses"][TABLE][0]["B"] == {"B": bytes(range(256))}


def test_a_gsi_query_reads_only_its_partition(monkeypatch: pytest.MonkeyPatch) -> None:
    narrowed: list[int] = []
    candidates = moto_scale._query_candidates

    def counting(table: Any, arguments: dict[str, Any]) -> Any:
        found = candidates(table, arguments)
        narrowed.append(-1 if found is None else len(found))
        return found

    monkeypatch.setattr(moto_scale, "_query_candidates", counting)
    with mock_aws():
        create_table()
        for number in range(300):
            dynamodb().put_item(TableName=TABLE, Item={**item(number), "GSI1PK": {"S": "BIG"}})
        dynamodb().put_item(TableName=TABLE, Item={**item(1000), "GSI1PK": {"S": "SMALL"}})
        found = pages(
            IndexName="GSI1",
            KeyConditionExpression="GSI1PK = :p",
            ExpressionAttributeValues={":p": {"S": "SMALL"}},
        )
        narrowed.clear()
        pages(
            IndexName="GSI1",
            KeyConditionExpression="GSI1PK = :p",
            ExpressionAttributeValues={":p": {"S": "BIG"}},
            Limit=100,
        )

    assert [page["Count"] for page in found] == [1]
    assert narrowed == [101, 101, 100], "each page: its Limit and one more, from where it ended"


def cancelled_transactions() -> list[Any]:
    """Failed transactions of each kind: condition failures, a key written twice, and a
    successful one between them; the reasons and the table after each."""
    create_table()
    client = dynamodb()
    for number in range(20):
        client.put_item(TableName=TABLE, Item=item(number))
    observed: list[Any] = []
    key = {"PK": item(3)["PK"], "SK": item(3)["SK"]}
    conditional_update = {
        "Update": {
            "TableName": TABLE,
            "Key": key,
            "UpdateExpression": "SET note = :new",
            "ConditionExpression": "note = :expected",
            "ExpressionAttributeValues": {":new": {"S": "changed"}, ":expected": {"S": "note 3"}},
        }
    }
    new_items = [{"Put": {"TableName": TABLE, "Item": item(n)}} for n in (100, 101, 102)]
    failing_put = {
        "Put": {
            "TableName": TABLE,
            "Item": item(4),
            "ConditionExpression": "attribute_not_exists(PK)",
        }
    }
    attempts = [
        [*new_items, conditional_update, failing_put],
        [conditional_update, {**conditional_update}],  # the same key twice
        [{"Delete": {"TableName": TABLE, "Key": key}}, *new_items],  # succeeds
        [*new_items, {"Put": {"TableName": TABLE, "Item": {"PK": {"S": "no sort key"}}}}],
        [
            {
                "Update": {
                    "TableName": TABLE,
                    "Key": {"PK": item(5)["PK"], "SK": item(5)["SK"]},
                    "UpdateExpression": "SET big = :big",
                    "ExpressionAttributeValues": {":big": {"S": "y" * 400_000}},
                }
            },
            {"Delete": {"TableName": TABLE, "Key": {"PK": item(6)["PK"], "SK": item(6)["SK"]}}},
        ],
    ]
    for attempt in attempts:
        try:
            client.transact_write_items(TransactItems=copy.deepcopy(attempt))
            observed.append("committed")
        except ClientError as error:
            observed.append(
                {
                    "error": error.response["Error"],
                    "reasons": error.response.get("CancellationReasons"),
                }
            )
        observed.append(table_contents())
        observed.append(every_query())
    return observed


def test_cancelled_transactions_leave_the_table_and_report_reasons_as_moto_does() -> None:
    stock, patched = stock_and_patched(cancelled_transactions)

    assert patched == stock
    assert patched[0]["reasons"][-1]["Code"] == "ConditionalCheckFailed"


def updates_right_and_wrong() -> list[Any]:
    """The same expressions again and again, with other values and names, on new and
    existing items, and each refusal moto makes: a key attribute updated, overlapping
    paths, two SET clauses, a missing value, a function on a missing path."""
    create_table()
    client = dynamodb()
    key = {"PK": {"S": "P#1"}, "SK": {"S": "S#1"}}
    requests: list[dict[str, Any]] = []
    for round_ in range(3):
        requests += [
            {
                "UpdateExpression": "SET #s = :s, seen = if_not_exists(seen, :n) REMOVE gone",
                "ExpressionAttributeNames": {"#s": f"status_{round_ % 2}"},
                "ExpressionAttributeValues": {":s": {"S": f"v{round_}"}, ":n": {"N": "1"}},
            },
            {
                "UpdateExpression": (
                    "SET tags = list_append(if_not_exists(tags, :e), :t) ADD n :one"
                ),
                "ExpressionAttributeValues": {
                    ":e": {"L": []},
                    ":t": {"L": [{"S": f"t{round_}"}]},
                    ":one": {"N": "1"},
                },
            },
            {
                "UpdateExpression": "SET #k = :v",
                "ExpressionAttributeNames": {"#k": "SK" if round_ else "other"},
                "ExpressionAttributeValues": {":v": {"S": "x"}},
            },
            {
                "UpdateExpression": "SET a = :v, a.b = :v",
                "ExpressionAttributeValues": {":v": {"S": "x"}},
            },
            {
                "UpdateExpression": "SET a = :v SET b = :v",
                "ExpressionAttributeValues": {":v": {"S": "x"}},
            },
            {
                "UpdateExpression": "SET a = :missing",
                "ExpressionAttributeValues": {":v": {"S": "x"}},
            },
            {
                "UpdateExpression": "SET a = nothing.here + :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            },
        ]
    observed: list[Any] = []
    for request in requests:
        for item_key in (key, {"PK": {"S": "P#2"}, "SK": {"S": f"new-{len(observed)}"}}):
            try:
                answer = client.update_item(
                    TableName=TABLE, Key=item_key, ReturnValues="ALL_NEW", **request
                )
                observed.append(answer["Attributes"])
            except ClientError as error:
                observed.append(error.response["Error"])
    observed.append(table_contents())
    return observed


def test_updates_validate_and_apply_as_moto_does_when_expressions_repeat() -> None:
    stock, patched = stock_and_patched(updates_right_and_wrong)

    assert patched == stock
    refusals = [each["Message"] for each in patched if isinstance(each, dict) and "Code" in each]
    assert any("part of the key" in message for message in refusals)
    assert any("overlap" in message.lower() for message in refusals)


def sent_raw_messages() -> list[Any]:
    sesv2 = boto3.client("sesv2", region_name=REGION)
    sesv2.create_email_identity(EmailIdentity="billing@example.com")
    raws = [
        "From: billing@example.com\r\nTo: a@example.com\r\nSubject: Rechnung März\r\n\r\n"
        "Grüße, €\r\n" + "x" * 100_000,
        "From: billing@example.com\nTo: b@example.com\nSubject: two\n\nplain\n",
        'From: "Billing" <billing@example.com>\r\nTo: "Kunde, GmbH" <k@example.com>\r\n'
        "Cc: c@example.com, e@example.com\r\nBcc: d@example.com\r\nSubject: three\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nbody\r\n--b--\r\n",
    ]
    for raw in raws:
        sesv2.send_email(
            FromEmailAddress="billing@example.com",
            Destination={"ToAddresses": ["a@example.com"]},
            Content={"Raw": {"Data": raw.encode("utf-8")}},
        )
    backend = ses_backends[DEFAULT_ACCOUNT_ID][REGION]
    return [
        (message.source, message.destinations, message.raw_data)
        for message in backend.sent_messages
    ] + [backend.sent_message_count]


def test_sent_messages_read_back_exactly_but_are_kept_on_disk() -> None:
    stock, patched = stock_and_patched(sent_raw_messages)

    assert patched == stock
    with mock_aws():
        sent_raw_messages()
        message = ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages[0]
        assert "raw_data" not in vars(message)
        assert "Grüße" in message.raw_data


def stored_objects() -> list[Any]:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    bodies = {"small.json": b'{"a": 1}', "large.pdf": bytes(range(256)) * 400, "empty": b""}
    observed: list[Any] = []
    for key, body in bodies.items():
        observed.append(s3.put_object(Bucket=BUCKET, Key=key, Body=body)["ETag"])
    s3.put_object(Bucket=BUCKET, Key="large.pdf", Body=b"%PDF" * 9000)  # overwritten
    s3.copy_object(Bucket=BUCKET, Key="copy.pdf", CopySource={"Bucket": BUCKET, "Key": "large.pdf"})
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key="parts.bin")["UploadId"]
    parts = []
    for number, part in enumerate((b"p" * 5 * 1024 * 1024, b"last"), start=1):
        etag = s3.upload_part(
            Bucket=BUCKET, Key="parts.bin", UploadId=upload, PartNumber=number, Body=part
        )["ETag"]
        parts.append({"ETag": etag, "PartNumber": number})
    s3.complete_multipart_upload(
        Bucket=BUCKET, Key="parts.bin", UploadId=upload, MultipartUpload={"Parts": parts}
    )
    s3.delete_object(Bucket=BUCKET, Key="small.json")
    for listed in s3.list_objects_v2(Bucket=BUCKET)["Contents"]:
        got = s3.get_object(Bucket=BUCKET, Key=listed["Key"])
        ranged = (
            s3.get_object(Bucket=BUCKET, Key=listed["Key"], Range="bytes=3-20")["Body"].read()
            if listed["Size"] > 20
            else None
        )
        observed.append(
            (
                listed["Key"],
                listed["Size"],
                got["ETag"],
                got["ContentLength"],
                got["Body"].read(),
                ranged,
            )
        )
    return observed


def test_objects_read_back_exactly_but_large_ones_are_kept_on_disk() -> None:
    stock, patched = stock_and_patched(stored_objects)

    assert patched == stock
    with mock_aws():
        stored_objects()
        from moto.s3.models import s3_backends

        keys = s3_backends[DEFAULT_ACCOUNT_ID]["aws"].get_bucket(BUCKET).keys
        assert keys["copy.pdf"]._value_buffer._path is not None
        assert keys["copy.pdf"].value == b"%PDF" * 9000


def test_response_classes_list_the_methods_moto_finds() -> None:
    from moto.core import responses
    from moto.dynamodb.responses import DynamoHandler
    from moto.s3.responses import S3Response

    with stock_moto():
        stock = [responses.method_names_from_class(c) for c in (DynamoHandler, S3Response)]
    patched = [responses.method_names_from_class(c) for c in (DynamoHandler, S3Response)]

    assert patched == stock
    assert "transact_write_items" in patched[0]


def items_tracked_after_busy_writes() -> int:
    """How many DynamoDB items moto remembers after 50 writes, reads and queries of 5 items."""
    from moto.dynamodb.models.dynamo_type import Item

    create_table()
    client = dynamodb()
    before = len(Item.instances_tracked)  # type: ignore[attr-defined]
    for round_ in range(10):
        for n in range(5):
            key = {"PK": {"S": f"P#{n}"}, "SK": {"S": "S"}}
            client.update_item(
                TableName=TABLE,
                Key=key,
                UpdateExpression="SET GSI1PK = :p, GSI1SK = :s, seen = :r",
                ExpressionAttributeValues={
                    ":p": {"S": "A"},
                    ":s": {"S": f"{n}"},
                    ":r": {"N": str(round_)},
                },
            )
            client.get_item(TableName=TABLE, Key=key)
        client.query(
            TableName=TABLE,
            IndexName="GSI1",
            KeyConditionExpression="GSI1PK = :p",
            ExpressionAttributeValues={":p": {"S": "A"}},
        )
    return len(Item.instances_tracked) - before  # type: ignore[attr-defined]


def test_items_moto_no_longer_holds_are_not_remembered() -> None:
    """Stock moto keeps every item it ever made, copies included, until reset: about 26
    per invoice, 7 GB half-way through a 100,000-account run."""
    stock, patched = stock_and_patched(items_tracked_after_busy_writes)

    assert stock > 100
    assert patched == 0


def test_installing_twice_changes_nothing() -> None:
    before = {key: moto_scale._own_attribute(*key) for key in moto_scale._STOCK}
    make_moto_scale()
    assert {key: moto_scale._own_attribute(*key) for key in moto_scale._STOCK} == before
