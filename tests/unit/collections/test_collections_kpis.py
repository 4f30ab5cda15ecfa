"""The collections report's figures on a known ledger: DSO, aging per currency, matching."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from invoice_dispatch.events import CollectionsRun
from invoice_dispatch.platform import Platform
from invoice_dispatch.workflow.collections_report import build_report, write_report
from invoice_dispatch.workflow.payments_in import receive_payment
from tests.unit.payments.payment_factories import bank_payment
from tests.unit.receivables.receivable_factories import receivable

AS_OF = date(2026, 12, 30)  # the 90-day window is 2026-10-02 to 2026-12-30


def _known_ledger(platform: Platform) -> None:
    platform.ledger.open_receivables(
        [
            receivable(
                "INV-2026-000001",
                "1000.00",
                issue_date=date(2026, 10, 15),
                due_date=date(2026, 11, 14),
            ),
            receivable(
                "INV-2026-000002",
                "500.00",
                issue_date=date(2026, 12, 1),
                due_date=date(2026, 12, 31),
            ),
            receivable(
                "INV-2026-000003",
                "100.00",
                "USD",
                issue_date=date(2026, 11, 1),
                due_date=date(2026, 12, 1),
            ),
        ]
    )
    platform.collections.record_run_sales(
        "run-1",
        {
            (date(2026, 6, 1), "EUR"): Decimal("999.00"),  # before the window: not a sale of it
            (date(2026, 10, 15), "EUR"): Decimal("1000.00"),
            (date(2026, 12, 1), "EUR"): Decimal("500.00"),
            (date(2026, 11, 1), "USD"): Decimal("100.00"),
        },
    )
    receive_payment(bank_payment("200.00", "INV-2026-000002", key="bank:DE89:K1"), platform)
    receive_payment(bank_payment("75.00", "thanks", key="bank:DE89:K2"), platform)
    receive_payment(bank_payment("75.00", "thanks", key="bank:DE89:K2"), platform)  # replayed


def test_dso_is_what_is_owed_over_the_windows_credit_sales_times_its_days(
    platform: Platform,
) -> None:
    _known_ledger(platform)
    report = build_report(CollectionsRun(run_id="r", as_of=AS_OF), platform)
    assert (report.period_start, report.period_end) == (date(2026, 10, 2), AS_OF)
    # EUR: (1000 + 300) / 1500 x 90 days; USD: 100 / 100 x 90 days.
    assert report.dso_days == {"EUR": Decimal("78.0"), "USD": Decimal("90.0")}


def test_aging_buckets_are_per_currency(platform: Platform) -> None:
    _known_ledger(platform)
    aging = build_report(CollectionsRun(run_id="r", as_of=AS_OF), platform).aging
    eur, usd = aging.currencies["EUR"].buckets, aging.currencies["USD"].buckets
    assert {label: bucket.amount for label, bucket in eur.items()} == {
        "current": Decimal("300.00"),
        "0-30": Decimal("0.00"),
        "31-60": Decimal("1000.00"),
        "61-90": Decimal("0.00"),
        "90+": Decimal("0.00"),
    }
    assert usd["0-30"].amount == Decimal("100.00") and usd["0-30"].count == 1


def test_the_success_rate_counts_each_payment_once_matched_or_for_a_person(
    platform: Platform,
) -> None:
    _known_ledger(platform)
    payments = build_report(CollectionsRun(run_id="r", as_of=AS_OF), platform).payments
    assert (payments.automatic, payments.needs_person) == (1, 1)
    assert payments.success_rate_percent == Decimal("50.0")


def test_the_report_is_written_as_json_text_and_html(platform: Platform) -> None:
    _known_ledger(platform)
    write_report(CollectionsRun(run_id="r", as_of=AS_OF), platform)
    text = platform.documents.get_bytes("collections/reports/2026-12-30.txt").decode()
    assert "DSO (2026-10-02 to 2026-12-30): EUR 78.0 days, USD 90.0 days" in text
    assert "automatic matching rate 50.0 %" in text
    html = platform.documents.get_bytes("collections/reports/2026-12-30.html").decode()
    assert "<td>31-60</td>" not in html and "<th>31-60</th>" in html
    stored = platform.documents.get_json("collections/reports/2026-12-30.json")
    assert stored["payments"] == {"automatic": 1, "needs_person": 1}
