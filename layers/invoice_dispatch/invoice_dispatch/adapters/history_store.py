"""The run history on the billing table (the same single table as ``dynamodb_store``).

Item shape (PK / SK):
  ``HISTORY`` / ``<started_at>#<run id>``   one run's history record (JSON), any kind

One partition sorted by start time answers "the last N runs" with one query read
backwards, whatever the number of runs; a few hundred small items a year are far from a
partition's limits. ``show RUN`` finds a run by its id through GSI1 (``GSI1PK`` =
``HISTORY#<run id>``), the index that lists a run's invoices under ``RUN#<run id>``, so
no new index is needed and nothing is ever scanned. The write is a plain put of a key
made of the run's own start time and id: a retried summary writes the same item again.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from boto3.dynamodb.conditions import Key

from invoice_dispatch.history import RunHistoryRecord

_PARTITION = "HISTORY"


def _lookup_pk(run_id: str) -> str:
    return f"HISTORY#{run_id}"


def history_key(record: RunHistoryRecord) -> dict[str, str]:
    return {"PK": _PARTITION, "SK": f"{record.started_at.isoformat()}#{record.run_id}"}


class HistoryStore:
    def __init__(self, table: Any) -> None:
        self._table = table

    def put(self, record: RunHistoryRecord) -> None:
        self._table.put_item(
            Item={
                **history_key(record),
                "GSI1PK": _lookup_pk(record.run_id),
                "GSI1SK": _PARTITION,
                "kind": record.kind.value,
                "record": record.model_dump_json(),
            }
        )

    def recent(self, limit: int) -> Iterator[RunHistoryRecord]:
        """The newest ``limit`` runs, newest first, read a page at a time."""
        query: dict[str, Any] = {
            "KeyConditionExpression": Key("PK").eq(_PARTITION),
            "ScanIndexForward": False,
            "Limit": min(limit, 100),
        }
        left = limit
        while left > 0:
            response = self._table.query(**query)
            for item in response["Items"][:left]:
                yield RunHistoryRecord.model_validate_json(item["record"])
            left -= len(response["Items"])
            if "LastEvaluatedKey" not in response:
                return
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def get(self, run_id: str) -> RunHistoryRecord | None:
        keys = self._table.query(
            IndexName="GSI1", KeyConditionExpression=Key("GSI1PK").eq(_lookup_pk(run_id))
        )["Items"]
        if not keys:
            return None
        item = self._table.get_item(Key={"PK": keys[0]["PK"], "SK": keys[0]["SK"]}).get("Item")
        return RunHistoryRecord.model_validate_json(item["record"]) if item else None
