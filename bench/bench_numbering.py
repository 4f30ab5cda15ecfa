"""Numbering contention: cancelled numbering transactions with concurrent delivery chunks.

The naive baseline is the design issue 15 measured (37.5 % of numbering transactions
cancelled with four chunks): each chunk, as its own Lambda with its own store, numbers its
invoices in the Map, racing the others on the series counter's condition. The product
numbers the whole plan in one sequential step (NumberInvoices) before the Map, so the
chunks find nothing left to number. Both run in this process against the local stack's
moto, where requests are atomic as DynamoDB's are and the chunks are threads.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from invoice_dispatch.adapters.dynamodb_store import DynamoStore
from invoice_dispatch.platform import Platform
from invoice_dispatch.run import RunContext
from invoice_dispatch.workflow import keys
from invoice_dispatch.workflow.finalize import (
    finalized_copy,
    number_planned_invoices,
    number_series,
)
from tests.conftest import draft_invoice, moto_platform

CHUNKS = 10
CHUNK_SIZE = 100
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class _Transactions:
    def __init__(self, client: Any) -> None:
        self.calls = self.cancelled = 0
        self._real = client.transact_write_items
        client.transact_write_items = self._count

    def _count(self, **request: Any) -> Any:
        self.calls += 1
        try:
            return self._real(**request)
        except ClientError:
            self.cancelled += 1
            raise


def _plan(
    platform: Platform, run: RunContext, chunk_count: int, chunk_size: int
) -> list[dict[str, Any]]:
    chunks = []
    for index in range(chunk_count):
        drafts = [
            draft_invoice(f"ACC-{index:02d}-{n:03d}", run_id=run.run_id) for n in range(chunk_size)
        ]
        for draft in drafts:
            platform.store.create_draft(draft)
        chunks.append({"chunk_index": index, "invoice_ids": [d.invoice_id for d in drafts]})
    return chunks


def _measure(
    concurrency: int, number_first: bool, chunk_count: int, chunk_size: int
) -> dict[str, float]:
    with moto_platform() as platform:
        run = RunContext(
            run_id=f"bench-{concurrency}-{number_first}",
            period="2026-11",
            mode="live",
            approval_timeout_seconds=60,
        )
        chunks = _plan(platform, run, chunk_count, chunk_size)
        plan_key = platform.documents.put_json(keys.invoice_chunks_manifest(run.run_id), chunks)
        series = number_series(platform.legal_entity, "live", 2026)
        transactions = _Transactions(platform.store._client)
        started = time.perf_counter()
        if number_first:
            number_planned_invoices(run, plan_key, platform, NOW, lambda: 900.0)

        def chunk_as_its_own_lambda(chunk: dict[str, Any]) -> None:
            DynamoStore(platform.store._table).finalize(
                chunk["invoice_ids"],
                run.run_id,
                series,
                lambda draft, n: finalized_copy(draft, platform.legal_entity, n, NOW),
            )

        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            list(pool.map(chunk_as_its_own_lambda, chunks))
        seconds = time.perf_counter() - started
        assert platform.store.last_number(series) == chunk_count * chunk_size
    return {
        "transactions": transactions.calls,
        "cancelled_percent": round(100 * transactions.cancelled / transactions.calls, 1),
        "seconds": round(seconds, 2),
    }


def run_benchmark(
    chunk_count: int = CHUNKS, chunk_size: int = CHUNK_SIZE
) -> dict[str, float | str]:
    figures: dict[str, float | str] = {"invoices": chunk_count * chunk_size}
    for concurrency in (4, 10):
        for label, number_first in (("naive_per_chunk", False), ("numbering_step", True)):
            for name, value in _measure(concurrency, number_first, chunk_count, chunk_size).items():
                figures[f"{label}_{concurrency}_chunks_{name}"] = value
    return figures
