"""Usage of one metric is priced on its period total, however many records carry it.

Issue 16, item 1: STARTER plus API-CALLS 10,000 (account) + 9,999 (usage file) billed 29.00
because each record got its own free first tier; one record of 19,999 bills 39.00.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from billing_factories import PERIOD, invoice_for, raw_account
from hypothesis import given, settings
from hypothesis import strategies as st

from invoice_dispatch.billing import load_catalog, screen_account
from invoice_dispatch.billing.anomalies import DUPLICATE_LINE
from invoice_dispatch.workflow.gather import merge_usage_file

D = Decimal


def _usage(*quantities: str, metric: str = "API-CALLS", **fields: str) -> list[dict[str, Any]]:
    return [{"metric": metric, "quantity": quantity, **fields} for quantity in quantities]


def test_api_calls_split_over_two_records_bill_what_their_total_bills() -> None:
    split = invoice_for(raw_account(usage=_usage("10000", "9999")))
    whole = invoice_for(raw_account(usage=_usage("19999")))

    assert whole.net_total == D("39.00")  # 29.00 Starter + 9,999 calls above 10,000 at 0.0010
    assert split.net_total == whole.net_total
    assert [line.description for line in split.lines] == [line.description for line in whole.lines]
    assert split.lines[1].description.startswith("API calls: 19,999 calls (graduated tiers)")


def test_storage_split_over_two_records_is_priced_at_the_volume_tier_of_the_total() -> None:
    split = invoice_for(raw_account(usage=_usage("600", "600", metric="STORAGE-GB")))
    whole = invoice_for(raw_account(usage=_usage("1200", metric="STORAGE-GB")))

    assert whole.net_total == D("89.00")  # 29.00 + 1,200 GB-months at 0.05
    assert split.net_total == whole.net_total


def test_usage_file_readings_are_added_to_the_account_s_own_before_pricing() -> None:
    accounts = [raw_account(usage=_usage("10000"))]
    body = b"account_id,metric,quantity\nACC-TEST,API-CALLS,9999\n"

    assert merge_usage_file(accounts, "s3://bucket/usage.csv", body) == []
    invoice = invoice_for(accounts[0])

    assert invoice.net_total == D("39.00")
    assert [line.kind for line in invoice.lines] == ["recurring", "usage"]


def test_readings_without_a_pricing_take_the_one_the_account_names() -> None:
    split = invoice_for(raw_account(usage=[*_usage("60000", pricing="volume"), *_usage("60000")]))
    whole = invoice_for(raw_account(usage=_usage("120000", pricing="volume")))

    assert split.lines[1].net_amount == whole.lines[1].net_amount == D("96.00")


def test_two_pricings_for_one_metric_are_quarantined_with_a_sentence() -> None:
    raw = raw_account(usage=[*_usage("1", pricing="volume"), *_usage("2", pricing="graduated")])

    screening = screen_account(raw, PERIOD, load_catalog())

    assert (screening.outcome, screening.reason) == (
        "quarantined",
        "Usage metric 'API-CALLS' is priced 'volume' by one record and 'graduated' by "
        "another: a metric's usage is billed as one total, with one pricing",
    )


def test_a_reading_sent_twice_is_counted_and_flagged() -> None:
    invoice = invoice_for(raw_account(usage=_usage("400", "400", "400", metric="SMS")))

    assert invoice.lines[1].quantity == D("1200")
    assert [(flag.code, flag.message) for flag in invoice.anomalies] == [
        (
            DUPLICATE_LINE,
            "SMS messages usage of 400 appears 3 times and each is counted in the total: "
            "check the account source for a reading sent twice",
        )
    ]


METRIC_MODELS = [
    ("API-CALLS", None),
    ("API-CALLS", "volume"),
    ("STORAGE-GB", None),
    ("SMS", None),
    ("SMS", "package"),
]


@settings(max_examples=150, deadline=None)
@given(
    metric_model=st.sampled_from(METRIC_MODELS),
    currency=st.sampled_from(["EUR", "USD", "JPY"]),
    parts=st.lists(
        st.decimals(min_value=0, max_value=300_000, places=2, allow_nan=False),
        min_size=2,
        max_size=5,
    ),
)
def test_splitting_usage_over_records_never_changes_the_invoice(
    metric_model: tuple[str, str | None], currency: str, parts: list[Decimal]
) -> None:
    metric, model = metric_model
    pricing = {} if model is None else {"pricing": model}
    split = invoice_for(
        raw_account(
            usage=_usage(*(str(p) for p in parts), metric=metric, **pricing), currency=currency
        )
    )
    whole = invoice_for(
        raw_account(
            usage=_usage(str(sum(parts, D(0))), metric=metric, **pricing), currency=currency
        )
    )

    assert split.lines == whole.lines
    assert (split.net_total, split.gross_total) == (whole.net_total, whole.gross_total)
