"""Corrections on the billing table (the same single table as ``dynamodb_store``).

Item shapes (PK / SK):
  ``CORRECTION#<request id>`` / ``REQUEST``     one correction (credit note, write-off,
                                                dispute): the request, its status, the task
                                                token while it waits for approval, the
                                                decision, and for a credit note its plan,
                                                number, PDF, e-mail, ERP and ledger receipts
  ``CREDITS#<invoice number>`` / ``CREDITS``    what the invoice's credit notes credited so
                                                far (``corrections/credit_plan.py``) and its
                                                version
  ``CUSTOMER#<account id>``   / ``CREDIT_BALANCE``  credits the customer is owed beyond
                                                what their invoices had open (a paid invoice
                                                credited), carried to their next invoice
  ``SERIES#<series>``         / ``COUNTER``     the credit notes' own gapless number series

An issued credit note's request enters the keys-only GSI2 under ``CREDIT_NOTES#<series>``
(``GSI2SK`` = its number), in its numbering transaction: the audit reads a series' credit
notes from there without scanning the table (``credit_notes_of_series``).

A credit note is numbered in one transaction that moves the series counter, moves the
invoice's ``CREDITS`` item from the version its remainder was judged on, and turns the
approved correction into an issued one: all or nothing. A failed attempt burns no number,
and two credit notes for one invoice approved at the same moment cannot both take the
same remainder (the second one's condition fails, it is judged again on fresh totals).
Every later step writes its receipt with a condition, so a retried Lambda finds it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from invoice_dispatch.adapters.dynamodb_store import DynamoStore
from invoice_dispatch.corrections import CreditedSoFar
from invoice_dispatch.invoice import Invoice

_REQUEST = "REQUEST"
_CREDITS = "CREDITS"
_BALANCE = "CREDIT_BALANCE"


class CorrectionStatus(StrEnum):
    REQUESTED = "requested"
    AWAITING_APPROVAL = "awaiting_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    REFUSED = "refused"
    ISSUED = "issued"
    DONE = "done"


#: A request that ended without effect may be asked again under the same id.
ENDED_WITHOUT_EFFECT = (
    CorrectionStatus.REJECTED,
    CorrectionStatus.EXPIRED,
    CorrectionStatus.REFUSED,
)


def _correction_key(request_id: str) -> dict[str, str]:
    return {"PK": f"CORRECTION#{request_id}", "SK": _REQUEST}


def _credits_key(number: str) -> dict[str, str]:
    return {"PK": f"CREDITS#{number}", "SK": _CREDITS}


def _series_pk(series: str) -> str:
    return f"CREDIT_NOTES#{series}"


def _balance_key(account_id: str) -> dict[str, str]:
    return {"PK": f"CUSTOMER#{account_id}", "SK": _BALANCE}


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _cancelled(error: ClientError) -> bool:
    return error.response["Error"]["Code"] in (
        "ConditionalCheckFailedException",
        "TransactionCanceledException",
        "TransactionConflictException",
    )


class CorrectionsStore:
    """The one adapter that knows how corrections and credit-note totals are stored."""

    def __init__(self, invoices: DynamoStore) -> None:
        # The invoice store's table, and its series counter: credit notes count the same way.
        self._invoices = invoices
        self._table = invoices._table
        self._client = self._table.meta.client

    # ---------------------------------------------------------------- requests
    def open(self, request_id: str, fields: dict[str, Any]) -> dict[str, Any] | None:
        """Write a new request; None if written, else the request already stored.

        A request that ended without effect (rejected, expired, refused) is replaced:
        asking again is how an operator retries it.
        """
        names = {"#status": "status"}
        values = {f":ended{i}": status.value for i, status in enumerate(ENDED_WITHOUT_EFFECT)}
        try:
            self._table.put_item(
                Item={
                    **_correction_key(request_id),
                    **fields,
                    "request_id": request_id,
                    "status": CorrectionStatus.REQUESTED.value,
                    "requested_at": now_iso(),
                },
                ConditionExpression=f"attribute_not_exists(PK) OR #status IN ({', '.join(values)})",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if not _cancelled(error):
                raise
            return self.get(request_id)
        return None

    def get(self, request_id: str) -> dict[str, Any] | None:
        item = self._table.get_item(Key=_correction_key(request_id), ConsistentRead=True)
        return item.get("Item")

    def update(
        self,
        request_id: str,
        fields: dict[str, Any],
        *,
        expected: tuple[CorrectionStatus, ...] = (),
        unset: str | None = None,
    ) -> bool:
        """Set ``fields``; with ``expected``, only from one of those statuses; with ``unset``,
        only if that attribute is not set yet (a receipt written once). False: not written."""
        names = {f"#f{i}": name for i, name in enumerate(fields)}
        values: dict[str, Any] = {f":v{i}": value for i, value in enumerate(fields.values())}
        conditions = ["attribute_exists(PK)"]
        if expected:
            names["#status"] = "status"
            values.update({f":s{i}": status.value for i, status in enumerate(expected)})
            statuses = ", ".join(f":s{i}" for i in range(len(expected)))
            conditions.append(f"#status IN ({statuses})")
        if unset:
            names["#unset"] = unset
            conditions.append("attribute_not_exists(#unset)")
        try:
            self._table.update_item(
                Key=_correction_key(request_id),
                UpdateExpression="SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(fields))),
                ConditionExpression=" AND ".join(conditions),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def release_email_claim(self, request_id: str) -> None:
        """SES did not take the message: the next attempt may claim and send it."""
        self._table.update_item(
            Key=_correction_key(request_id),
            UpdateExpression="REMOVE email_claimed_at",
            ConditionExpression="attribute_not_exists(message_id)",
        )

    # ------------------------------------------------------------ credit notes
    def credited_so_far(self, number: str) -> CreditedSoFar | None:
        item = self._table.get_item(Key=_credits_key(number), ConsistentRead=True).get("Item")
        return CreditedSoFar.model_validate_json(item["state"]) if item else None

    def last_number(self, series: str) -> int:
        return self._invoices.last_number(series)

    def credited_so_far_of(self, numbers: list[str]) -> dict[str, CreditedSoFar]:
        """Per invoice number, its credit notes so far (one batch read per 100 numbers)."""
        keys = [_credits_key(number) for number in dict.fromkeys(numbers)]
        found = self._invoices.batch_get(keys, consistent=False)
        return {
            pk.removeprefix("CREDITS#"): CreditedSoFar.model_validate_json(item["state"])
            for (pk, _sk), item in found.items()
        }

    def credit_notes_of_series(self, series: str) -> Iterator[dict[str, Any]]:
        """Every issued credit note of a series, in number order (the requests' items)."""
        query: dict[str, Any] = {
            "IndexName": "GSI2",
            "KeyConditionExpression": Key("GSI2PK").eq(_series_pk(series)),
        }
        while True:
            response = self._table.query(**query)
            keys = [{"PK": item["PK"], "SK": item["SK"]} for item in response["Items"]]
            found = self._invoices.batch_get(keys, consistent=False)
            yield from sorted(found.values(), key=lambda item: str(item["number"]))
            if "LastEvaluatedKey" not in response:
                return
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def commit_credit_note(
        self,
        request_id: str,
        credit_note: Invoice,
        before: CreditedSoFar,
        after: CreditedSoFar,
        series: str,
        last_number: int,
    ) -> bool:
        """Number, lock and count the credit note in one transaction; False: someone moved
        the counter or the invoice's credits first (read again and judge again)."""
        credits_update: dict[str, Any] = {
            "TableName": self._table.name,
            "Key": _credits_key(after.invoice_number),
            "UpdateExpression": "SET #state = :state, version = :after",
            "ExpressionAttributeNames": {"#state": "state"},
            "ExpressionAttributeValues": {
                ":state": after.model_dump_json(),
                ":after": after.version,
            },
        }
        if before.version == 0:
            credits_update["ConditionExpression"] = "attribute_not_exists(PK)"
        else:
            credits_update["ConditionExpression"] = "version = :before"
            credits_update["ExpressionAttributeValues"][":before"] = before.version
        issue = {
            "TableName": self._table.name,
            "Key": _correction_key(request_id),
            "UpdateExpression": "SET #status = :issued, #number = :number, document = :document, "
            "issued_at = :now, GSI2PK = :series, GSI2SK = :number",
            "ConditionExpression": "#status = :approved AND attribute_not_exists(#number)",
            "ExpressionAttributeNames": {"#status": "status", "#number": "number"},
            "ExpressionAttributeValues": {
                ":issued": CorrectionStatus.ISSUED.value,
                ":approved": CorrectionStatus.APPROVED.value,
                ":number": credit_note.number,
                ":document": credit_note.model_dump_json(),
                ":now": now_iso(),
                ":series": _series_pk(series),
            },
        }
        items = [
            {"Update": self._invoices.counter_update(series, last_number, 1)},
            {"Update": credits_update},
            {"Update": issue},
        ]
        try:
            self._client.transact_write_items(TransactItems=items)
        except ClientError as error:
            if not _cancelled(error):
                raise
            return False
        return True

    # ---------------------------------------------------------- customer credit
    def add_customer_credit(self, account_id: str, record: dict[str, str]) -> bool:
        """Owe the customer ``record`` (an account ``credits`` entry) once per credit id."""
        self._table.update_item(
            Key=_balance_key(account_id),
            UpdateExpression="SET credits = if_not_exists(credits, :empty)",
            ExpressionAttributeValues={":empty": {}},
        )
        try:
            self._table.update_item(
                Key=_balance_key(account_id),
                UpdateExpression="SET credits.#id = :record",
                ConditionExpression="attribute_not_exists(credits.#id)",
                ExpressionAttributeNames={"#id": record["credit_id"]},
                ExpressionAttributeValues={":record": json.dumps(record)},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def customer_credits(self, account_ids: list[str]) -> dict[str, list[dict[str, str]]]:
        """Per account, the credits it is owed (one batch read per 100 accounts)."""
        keys = [_balance_key(account_id) for account_id in dict.fromkeys(account_ids)]
        found = self._invoices.batch_get(keys, consistent=False)
        return {
            pk.removeprefix("CUSTOMER#"): [json.loads(r) for r in item.get("credits", {}).values()]
            for (pk, _sk), item in found.items()
        }
