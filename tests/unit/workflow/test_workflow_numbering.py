"""Gapless numbering and one draft per (account, period): the rules that stop double billing."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from invoice_dispatch.adapters.dynamodb_store import DynamoStore
from invoice_dispatch.invoice import InvoiceStatus
from invoice_dispatch.platform import Platform
from invoice_dispatch.run import RunContext
from invoice_dispatch.workflow import keys
from invoice_dispatch.workflow.approval import hold_invoices
from invoice_dispatch.workflow.finalize import (
    NumberingProgress,
    finalize_chunk,
    finalized_copy,
    number_planned_invoices,
    number_series,
)
from tests.conftest import draft_invoice

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _run(run_id: str = "run-1") -> RunContext:
    return RunContext(run_id=run_id, period="2026-11", mode="live", approval_timeout_seconds=3600)


def _finalize_one(platform: Platform, invoice_id: str, run_id: str = "run-1") -> str:
    series = number_series(platform.legal_entity, "live", 2026)
    stored = platform.store.finalize(
        [invoice_id],
        run_id,
        series,
        lambda draft, n: finalized_copy(draft, platform.legal_entity, n, NOW),
    )[invoice_id]
    assert not isinstance(stored, Exception) and stored.invoice.number is not None
    return stored.invoice.number


def test_second_draft_for_same_account_and_period_is_not_written(platform: Platform) -> None:
    first = draft_invoice("ACC-1", run_id="run-1")
    again = draft_invoice("ACC-1", run_id="run-2")

    assert platform.store.create_draft(first) is True
    assert platform.store.create_draft(again) is False
    stored = platform.store.get_invoice(first.invoice_id)
    assert stored is not None and stored.invoice.run_id == "run-1"


def test_void_draft_of_a_rejected_run_may_be_drafted_again(platform: Platform) -> None:
    first = draft_invoice("ACC-1", run_id="run-1")
    platform.store.create_draft(first)
    platform.store.set_status(first.invoice_id, "run-1", InvoiceStatus.VOID, (InvoiceStatus.DRAFT,))

    assert platform.store.create_draft(draft_invoice("ACC-1", run_id="run-2")) is True


def test_twenty_concurrent_finalizations_get_twenty_consecutive_numbers(platform: Platform) -> None:
    drafts = [draft_invoice(f"ACC-{i:03d}") for i in range(20)]
    for draft in drafts:
        platform.store.create_draft(draft)

    with ThreadPoolExecutor(max_workers=8) as pool:
        numbers = list(pool.map(lambda d: _finalize_one(platform, d.invoice_id), drafts))

    assert sorted(numbers) == [f"INV-2026-{n:06d}" for n in range(1, 21)]


def test_retried_finalize_keeps_the_first_number(platform: Platform) -> None:
    draft = draft_invoice("ACC-1")
    platform.store.create_draft(draft)

    first = _finalize_one(platform, draft.invoice_id)
    second = _finalize_one(platform, draft.invoice_id)

    assert first == second == "INV-2026-000001"
    assert platform.store.last_number(number_series(platform.legal_entity, "live", 2026)) == 1


def test_held_invoice_consumes_no_number_and_stays_a_draft(platform: Platform) -> None:
    held, approved = draft_invoice("ACC-1"), draft_invoice("ACC-2")
    for draft in (held, approved):
        platform.store.create_draft(draft)
    hold_invoices(_run(), [held.invoice_id], "controller@example.com", platform)

    outcome = finalize_chunk(_run(), [held.invoice_id, approved.invoice_id], platform, NOW)

    assert outcome.done == [approved.invoice_id]
    assert "cannot be finalized" in outcome.failed[held.invoice_id]
    stored_held = platform.store.get_invoice(held.invoice_id)
    assert stored_held is not None
    assert stored_held.invoice.status is InvoiceStatus.HELD and stored_held.invoice.number is None
    stored_approved = platform.store.get_invoice(approved.invoice_id)
    assert stored_approved is not None and stored_approved.invoice.number == "INV-2026-000001"


def test_finalize_twice_renders_once_and_records_the_pdf_hash(platform: Platform) -> None:
    draft = draft_invoice("ACC-1")
    platform.store.create_draft(draft)

    first = finalize_chunk(_run(), [draft.invoice_id], platform, NOW)
    second = finalize_chunk(_run(), [draft.invoice_id], platform, NOW)

    assert first.done == [draft.invoice_id] and second.skipped == [draft.invoice_id]
    stored = platform.store.get_invoice(draft.invoice_id)
    assert stored is not None and stored.pdf_key == "invoices/live/2026-11/INV-2026-000001.pdf"
    events = [entry["event"] for entry in platform.store.audit_trail(draft.invoice_id)]
    assert events.count("numbered") == 1 and events.count("rendered") == 1
    assert any(
        stored.pdf_sha256 in entry["detail"]
        for entry in platform.store.audit_trail(draft.invoice_id)
    )


def test_shadow_runs_number_from_their_own_series(platform: Platform) -> None:
    live = draft_invoice("ACC-1")
    shadow = draft_invoice("ACC-1", mode="shadow")
    for draft in (live, shadow):
        platform.store.create_draft(draft)

    finalize_chunk(_run(), [live.invoice_id], platform, NOW)
    shadow_run = RunContext(
        run_id="run-1", period="2026-11", mode="shadow", approval_timeout_seconds=60
    )
    finalize_chunk(shadow_run, [shadow.invoice_id], platform, NOW)

    numbers = {
        platform.store.get_invoice(i.invoice_id).invoice.number  # type: ignore[union-attr]
        for i in (live, shadow)
    }
    assert numbers == {"INV-2026-000001", "SHADOW-2026-000001"}


def test_a_chunk_of_120_is_numbered_consecutively_in_account_order(platform: Platform) -> None:
    drafts = [draft_invoice(f"ACC-{i:03d}") for i in range(120)]
    for draft in drafts:
        platform.store.create_draft(draft)
    series = number_series(platform.legal_entity, "live", 2026)

    numbered = platform.store.finalize(
        [d.invoice_id for d in drafts],
        "run-1",
        series,
        lambda draft, n: finalized_copy(draft, platform.legal_entity, n, NOW),
    )

    numbers = [numbered[d.invoice_id].invoice.number for d in drafts]  # type: ignore[union-attr]
    assert numbers == [f"INV-2026-{n:06d}" for n in range(1, 121)]
    assert platform.store.last_number(series) == 120
    trail = platform.store.audit_trail(drafts[60].invoice_id)
    assert [entry["detail"] for entry in trail if entry["event"] == "numbered"] == [
        "Finalized as INV-2026-000061"
    ]


def _planned_chunks(platform: Platform, chunk_count: int, chunk_size: int) -> str:
    """Draft ``chunk_count`` x ``chunk_size`` invoices and write them as a delivery plan."""
    chunks = []
    for index in range(chunk_count):
        drafts = [draft_invoice(f"ACC-{index:02d}-{n:03d}") for n in range(chunk_size)]
        for draft in drafts:
            platform.store.create_draft(draft)
        chunks.append({"chunk_index": index, "invoice_ids": [d.invoice_id for d in drafts]})
    return platform.documents.put_json(keys.invoice_chunks_manifest("run-1", "deliver"), chunks)


class _TransactionCounter:
    """Counts numbering transactions and the ones DynamoDB cancelled, as a chunk sees them."""

    def __init__(self, client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = self.cancelled = 0
        real = client.transact_write_items

        def counting(**request: Any) -> Any:
            self.calls += 1
            try:
                return real(**request)
            except ClientError:
                self.cancelled += 1
                raise

        monkeypatch.setattr(client, "transact_write_items", counting)


@pytest.mark.parametrize("concurrent_chunks", [4, 10])
def test_numbering_before_the_map_leaves_concurrent_chunks_nothing_to_contend(
    platform: Platform, monkeypatch: pytest.MonkeyPatch, concurrent_chunks: int
) -> None:
    plan_key = _planned_chunks(platform, chunk_count=10, chunk_size=12)
    counter = _TransactionCounter(platform.store._client, monkeypatch)

    progress = number_planned_invoices(_run(), plan_key, platform, NOW, lambda: 900.0)
    numbering_transactions = counter.calls
    chunks = platform.documents.get_json(plan_key)
    series = number_series(platform.legal_entity, "live", 2026)

    def finalize_as_its_own_lambda(chunk: dict[str, Any]) -> None:
        DynamoStore(platform.store._table).finalize(  # each Lambda has its own store
            chunk["invoice_ids"],
            "run-1",
            series,
            lambda draft, n: finalized_copy(draft, platform.legal_entity, n, NOW),
        )

    with ThreadPoolExecutor(max_workers=concurrent_chunks) as pool:
        list(pool.map(finalize_as_its_own_lambda, chunks))

    assert progress == NumberingProgress(finalized=120, complete=True)
    assert numbering_transactions == 10 and counter.cancelled == 0
    assert counter.calls == numbering_transactions, "the chunks found nothing left to number"
    planned = [invoice_id for chunk in chunks for invoice_id in chunk["invoice_ids"]]
    numbers = [platform.store.get_invoice(i).invoice.number for i in planned]  # type: ignore[union-attr]
    assert numbers == [f"INV-2026-{n:06d}" for n in range(1, 121)], "gapless, in plan order"


def test_numbering_that_runs_short_of_time_goes_on_where_it_stopped(platform: Platform) -> None:
    plan_key = _planned_chunks(platform, chunk_count=5, chunk_size=3)
    budget = iter([900.0, 900.0, 10.0])  # the third chunk would start too close to the timeout

    first = number_planned_invoices(_run(), plan_key, platform, NOW, lambda: next(budget))
    second = number_planned_invoices(_run(), plan_key, platform, NOW, lambda: 900.0)

    assert first == NumberingProgress(finalized=6, complete=False)
    assert second == NumberingProgress(finalized=15, complete=True)  # 6 found done, 9 new
    series = number_series(platform.legal_entity, "live", 2026)
    assert platform.store.last_number(series) == 15
