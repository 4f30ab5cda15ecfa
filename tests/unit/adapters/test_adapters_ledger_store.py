"""The ledger on DynamoDB (moto, table from the template): once per key, all or nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from invoice_dispatch.adapters.ledger_store import Recorded
from invoice_dispatch.platform import Platform
from invoice_dispatch.receivables import (
    Allocation,
    EntryKind,
    Posting,
    PostingOutcome,
    ReceivableStatus,
)
from tests.unit.receivables.receivable_factories import entry, receivable

RECEIVED = date(2026, 12, 10)


def payment_posting(key: str, *amounts: tuple[str, str]) -> Posting:
    """A bank entry paying (number, amount) pairs."""
    total = sum(Decimal(amount) for _, amount in amounts)
    return Posting(
        key=key,
        source="bank statement",
        received_on=RECEIVED,
        currency="EUR",
        amount=total,
        reference=" ".join(number for number, _ in amounts),
        outcome=PostingOutcome.APPLIED,
        allocations=tuple(
            Allocation(number=number, entry=entry(EntryKind.PAYMENT, amount, key=key))
            for number, amount in amounts
        ),
    )


def test_a_receivable_is_opened_once(platform: Platform) -> None:
    ledger = platform.ledger
    first = receivable("INV-2026-000001")
    assert ledger.open_receivables([first, receivable("INV-2026-000002")]) == [
        "INV-2026-000001",
        "INV-2026-000002",
    ]
    assert ledger.open_receivables([first]) == []
    assert ledger.receivable("INV-2026-000001") == first


def test_a_posting_writes_entries_and_totals_together_and_a_replay_changes_nothing(
    platform: Platform,
) -> None:
    ledger = platform.ledger
    ledger.open_receivables([receivable("INV-2026-000001"), receivable("INV-2026-000002", "50.00")])
    posting = payment_posting("bank:1", ("INV-2026-000001", "100.00"), ("INV-2026-000002", "50.00"))

    opened = ledger.receivables(["INV-2026-000001", "INV-2026-000002"])
    assert ledger.record_posting(posting, opened) is Recorded.WRITTEN
    fresh = ledger.receivables(["INV-2026-000001", "INV-2026-000002"])
    assert ledger.record_posting(posting, fresh) is Recorded.DUPLICATE

    after = ledger.receivables(["INV-2026-000001", "INV-2026-000002"])
    assert after == fresh
    assert after["INV-2026-000001"].open_amount == Decimal("19.00")
    assert after["INV-2026-000001"].status(RECEIVED) is ReceivableStatus.PARTIALLY_PAID
    assert after["INV-2026-000002"].status(RECEIVED) is ReceivableStatus.PAID
    assert [e.amount for e in ledger.entries("INV-2026-000001")] == [Decimal("100.00")]
    assert [r.number for r in ledger.unsettled_receivables()] == ["INV-2026-000001"]
    assert ledger.posting("bank:1") == posting
    pending = [(number, sequence) for number, sequence, _ in ledger.entries_awaiting_erp()]
    assert sorted(pending) == [("INV-2026-000001", 1), ("INV-2026-000002", 1)]


def test_a_posting_matched_on_a_stale_receivable_is_refused_whole(platform: Platform) -> None:
    ledger = platform.ledger
    ledger.open_receivables([receivable("INV-2026-000001"), receivable("INV-2026-000002")])
    stale = ledger.receivables(["INV-2026-000001", "INV-2026-000002"])
    first = payment_posting("bank:1", ("INV-2026-000001", "19.00"))
    assert ledger.record_posting(first, stale) is Recorded.WRITTEN

    second = payment_posting("bank:2", ("INV-2026-000002", "9.00"), ("INV-2026-000001", "1.00"))
    assert ledger.record_posting(second, stale) is Recorded.CONFLICT

    assert ledger.posting("bank:2") is None
    assert ledger.entries("INV-2026-000002") == []
    assert ledger.receivable("INV-2026-000001").open_amount == Decimal("100.00")  # type: ignore[union-attr]


def test_an_overpaid_receivable_stays_on_the_unsettled_list_until_refunded(
    platform: Platform,
) -> None:
    ledger = platform.ledger
    ledger.open_receivables([receivable("INV-2026-000001")])
    overpay = payment_posting("bank:1", ("INV-2026-000001", "120.00"))
    ledger.record_posting(overpay, ledger.receivables(["INV-2026-000001"]))
    assert [r.open_amount for r in ledger.unsettled_receivables()] == [Decimal("-1.00")]

    refund = Posting(
        key="webhook:evt_refund",
        source="payments webhook",
        received_on=RECEIVED,
        currency="EUR",
        amount=Decimal("1.00"),
        outcome=PostingOutcome.APPLIED,
        allocations=(
            Allocation(
                number="INV-2026-000001", entry=entry(EntryKind.REFUND, "1.00", key="webhook:r")
            ),
        ),
    )
    ledger.record_posting(refund, ledger.receivables(["INV-2026-000001"]))
    assert list(ledger.unsettled_receivables()) == []
    assert [n for n, _, _ in ledger.entries_awaiting_erp()] == ["INV-2026-000001"]


def test_unsettled_receivables_are_listed_by_due_date(platform: Platform) -> None:
    ledger = platform.ledger
    ledger.open_receivables(
        [
            receivable("INV-2026-000003", due_date=date(2027, 1, 20)),
            receivable("INV-2026-000001", due_date=date(2027, 1, 5)),
            receivable("INV-2026-000002", due_date=date(2027, 1, 10)),
        ]
    )
    assert [r.number for r in ledger.unsettled_receivables()] == [
        "INV-2026-000001",
        "INV-2026-000002",
        "INV-2026-000003",
    ]
    assert [r.number for r in ledger.unsettled_receivables(due_until=date(2027, 1, 10))] == [
        "INV-2026-000001",
        "INV-2026-000002",
    ]


def test_exceptions_are_listed_with_their_sentence_and_recorded_once(platform: Platform) -> None:
    ledger = platform.ledger
    unmatched = Posting(
        key="bank:DE89:77",
        source="bank statement",
        received_on=RECEIVED,
        currency="EUR",
        amount=Decimal("42.00"),
        payer="Unknown GmbH",
        reference="Rechnung vom 3.12.",
        outcome=PostingOutcome.UNMATCHED,
        explanation="No invoice number in the reference.",
    )
    assert ledger.record_posting(unmatched, {}) is Recorded.WRITTEN
    assert ledger.record_posting(unmatched, {}) is Recorded.DUPLICATE
    assert list(ledger.payment_exceptions()) == [unmatched]


def test_an_erp_receipt_takes_the_entry_off_the_pending_list(platform: Platform) -> None:
    ledger = platform.ledger
    ledger.open_receivables([receivable("INV-2026-000001")])
    ledger.record_posting(
        payment_posting("bank:1", ("INV-2026-000001", "119.00")),
        ledger.receivables(["INV-2026-000001"]),
    )
    ledger.record_erp_booked("INV-2026-000001", 1, "PAY-1")
    assert list(ledger.entries_awaiting_erp()) == []


def test_the_admission_cursor_round_trips(platform: Platform) -> None:
    assert platform.ledger.admission_cursor() is None
    moment = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
    platform.ledger.set_admission_cursor(moment)
    assert platform.ledger.admission_cursor() == moment
