"""Keep the local stack's data between two local runs, as a deployed stack keeps its own.

A deployed stack's table, bucket, queue and secrets outlive any one execution; that is
what lets a crashed run be resumed and a second run for a period create nothing. moto
forgets everything when the process ends, so the local run saves what the product
stored at its end and puts it back at the start of the next run:

    <state dir>/dynamodb.jsonl     every item of the billing table, in DynamoDB JSON
    <state dir>/s3.jsonl           every object's key and headers (content type, metadata)
    <state dir>/s3/<key>           every object's bytes (a PDF opens from here as is)
    <state dir>/erp-errors.jsonl   the ERP error queue's messages, in flight or not
    <state dir>/secrets.json       the approval key (old links stay valid), ERP credentials
    <state dir>/ses.json           how many messages SES has sent (its quota counts them)
    <state dir>/http-erp.json      what the local HTTP ERP booked (``running_http_erp``
                                   reads and writes it: an ERP outlives a run too)

The messages SES sent are not kept: with the invoice PDF attached they weigh about 90 KB
each (90 MB per 1,000 invoices, growing with every run), and each run already writes its
own outbox to ``out/<run>/outbox/``. A lost approval link is re-sent by ApprovalReminder.

Only data is kept: resources come from the template on every start, so a template change
applies at once. Executions are not kept; a new run reads what the last one left.
"""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from moto.dynamodb.models import DynamoType, dynamodb_backends
from moto.s3.models import s3_backends
from moto.ses.models import ses_backends
from moto.sqs.models import sqs_backends

from tools.local_run.wiring import ACCOUNT_ID, REGION, LocalNames

DYNAMODB_FILE = "dynamodb.jsonl"
S3_INDEX_FILE = "s3.jsonl"
S3_OBJECTS_DIR = "s3"
QUEUE_FILE = "erp-errors.jsonl"
SECRETS_FILE = "secrets.json"
SES_FILE = "ses.json"
HTTP_ERP_FILE = "http-erp.json"


@dataclass(frozen=True)
class SavedCounts:
    items: int
    objects: int
    queued_messages: int
    sent_messages: int


class StackState:
    """The data of one local stack, saved to and restored from ``directory``."""

    def __init__(self, directory: Path, names: LocalNames) -> None:
        self.directory = directory
        self.names = names

    def exists(self) -> bool:
        return (self.directory / DYNAMODB_FILE).exists()

    def forget(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)

    # ----------------------------------------------------------------- save
    def save(self) -> SavedCounts:
        """Write the stack's data next to the old state, then swap, so a crash keeps one."""
        scratch = self.directory.with_name(self.directory.name + ".saving")
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        counts = SavedCounts(
            items=_write_lines(scratch / DYNAMODB_FILE, self._table_items()),
            objects=self._save_objects(scratch),
            queued_messages=_write_lines(scratch / QUEUE_FILE, self._queued_bodies()),
            sent_messages=_ses().sent_message_count,
        )
        (scratch / SECRETS_FILE).write_text(json.dumps(self._secrets(), indent=2))
        (scratch / SES_FILE).write_text(json.dumps({"sent_message_count": counts.sent_messages}))
        if (self.directory / HTTP_ERP_FILE).exists():  # the ERP saves its own when it stops
            shutil.copy2(self.directory / HTTP_ERP_FILE, scratch / HTTP_ERP_FILE)
        self.forget()
        scratch.rename(self.directory)
        return counts

    def _table_items(self) -> Iterator[dict[str, Any]]:
        """Read from moto's table itself: its Scan re-reads the table for every 1 MB page
        (2.7 s for 1,000 invoices, and quadratic beyond)."""
        table = dynamodb_backends[ACCOUNT_ID][REGION].get_table(self.names.table)
        for item in table.all_items():
            yield {name: _wire(value) for name, value in item.attrs.items()}

    def _save_objects(self, directory: Path) -> int:
        """Read from moto's bucket itself: a GetObject per object costs 2 ms, the copy 0.1 ms.

        An object's headers (``Content-Type``, ``x-amz-meta-*``, ...) are kept as moto holds
        them, so a restored PDF answers exactly as before.
        """
        index = []
        for stored in _bucket(self.names.bucket).keys.values():
            path = _object_path(directory, stored.name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(stored.value)
            index.append({"key": stored.name, "headers": dict(stored.metadata)})
        return _write_lines(directory / S3_INDEX_FILE, index)

    def _queued_bodies(self) -> Iterator[dict[str, Any]]:
        """Read from moto's queue itself: a receive would miss messages already in flight."""
        queue = sqs_backends[ACCOUNT_ID][REGION].queues[self.names.erp_error_queue]
        for message in queue._messages:
            yield {"body": message.body}

    def _secrets(self) -> dict[str, str]:
        secrets = boto3.client("secretsmanager", region_name=REGION)
        return {
            name: secrets.get_secret_value(SecretId=name)["SecretString"]
            for name in (
                self.names.approval_secret,
                self.names.erp_secret,
                self.names.payments_webhook_secret,
            )
        }

    # -------------------------------------------------------------- restore
    def restore(self) -> SavedCounts:
        """Put the saved data into the freshly provisioned stack."""
        counts = SavedCounts(
            items=self.restore_table(),
            objects=self._restore_objects(),
            queued_messages=self._restore_queue(),
            sent_messages=json.loads((self.directory / SES_FILE).read_text())["sent_message_count"],
        )
        _ses().sent_message_count = counts.sent_messages
        secrets = boto3.client("secretsmanager", region_name=REGION)
        for name, value in json.loads((self.directory / SECRETS_FILE).read_text()).items():
            secrets.put_secret_value(SecretId=name, SecretString=value)
        return counts

    def restore_table(self) -> int:
        """The billing table's items alone (all ``tools.runs`` reads)."""
        items = list(_read_lines(self.directory / DYNAMODB_FILE))
        dynamodb = dynamodb_backends[ACCOUNT_ID][REGION]
        for item in items:
            dynamodb.put_item(self.names.table, item)
        return len(items)

    def _restore_objects(self) -> int:
        objects = list(_read_lines(self.directory / S3_INDEX_FILE))
        for stored in objects:
            body = _object_path(self.directory, stored["key"]).read_bytes()
            restored = _s3_backend().put_object(self.names.bucket, stored["key"], body)
            restored.set_metadata(stored["headers"])
        return len(objects)

    def _restore_queue(self) -> int:
        sqs = boto3.client("sqs", region_name=REGION)
        queue_url = sqs.get_queue_url(QueueName=self.names.erp_error_queue)["QueueUrl"]
        messages = list(_read_lines(self.directory / QUEUE_FILE))
        for message in messages:
            sqs.send_message(QueueUrl=queue_url, MessageBody=message["body"])
        return len(messages)


def _ses() -> Any:
    return ses_backends[ACCOUNT_ID][REGION]


def _s3_backend() -> Any:
    return s3_backends[ACCOUNT_ID]["aws"]


def _bucket(name: str) -> Any:
    return _s3_backend().get_bucket(name)


def _object_path(directory: Path, key: str) -> Path:
    root = (directory / S3_OBJECTS_DIR).resolve()
    path = (root / key).resolve()
    if root not in path.parents:
        raise ValueError(f"S3 key {key!r} cannot be kept as a file under {root}")
    return path


def _write_lines(path: Path, records: Iterable[dict[str, Any]]) -> int:
    count = 0
    with path.open("w", encoding="utf-8") as lines:
        for record in records:
            lines.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count


def _read_lines(path: Path) -> Iterator[dict[str, Any]]:
    if not path.exists():
        return
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            yield json.loads(line)


def _wire(value: DynamoType) -> dict[str, Any]:
    """One attribute in DynamoDB JSON, as the wire carries it (binary in base64)."""
    if value.type == "M":
        return {"M": {name: _wire(inner) for name, inner in value.value.items()}}
    if value.type == "L":
        return {"L": [_wire(inner) for inner in value.value]}
    if value.type == "B" and isinstance(value.value, bytes):
        return {"B": base64.b64encode(value.value).decode("ascii")}
    return {value.type: value.value}
