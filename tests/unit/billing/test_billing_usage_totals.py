"""Usage of one metric is priced on its period total, however many records carry it.

Issue 16, item 1: STARTER plus API-CALLS 10,000 (account) + 9,999 (usage file) billed 29.00
because each record got its own free first tier; one record of 19,999 bills 39.00.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from billing_factories import PERIOD, customer, invoice_for, raw_account
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
    assert split.lines == whole.lines
    # The total is priced as one line per graduated tier it reaches (EN 16931, Peppol R120).
    assert [(line.description, line.net_amount) for line in split.lines[1:]] == [
        ("API calls 1 to 10,000 (graduated tier 1 of 3), 2026-11-01 to 2026-11-30", D("0.00")),
        (
            "API calls 10,001 to 19,999 (graduated tier 2 of 3), 2026-11-01 to 2026-11-30",
            D("10.00"),
        ),
    ]


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
    assert [line.kind for line in invoice.lines] == ["recurring", "usage", "usage"]  # two tiers


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


def test_a_reading_sent_twice_is_flagged_once_when_its_total_spans_graduated_tiers() -> None:
    """The total (120,000 calls) is priced as one line per tier; the tier lines differ, so
    the reading sent twice is the one DUPLICATE_LINE flag, as for a one-line total."""
    invoice = invoice_for(raw_account(usage=_usage("60000", "60000")))

    assert [(line.quantity, line.unit_price, line.net_amount) for line in invoice.lines[1:]] == [
        (D(10000), D(0), D("0.00")),
        (D(90000), D("0.0010"), D("90.00")),
        (D(20000), D("0.0005"), D("10.00")),
    ]
    assert [(flag.code, flag.message) for flag in invoice.anomalies] == [
        (
            DUPLICATE_LINE,
            "API calls usage of 60,000 appears 2 times and each is counted in the total: "
            "check the account source for a reading sent twice",
        )
    ]


def test_commitment_and_spike_check_read_the_tier_lines_of_the_total() -> None:
    fields: dict[str, Any] = {
        "minimum_commitment": {"amount": "50"},
        "history": {"trailing_usage_average": {"API-CALLS": "5000"}},
    }
    split = invoice_for(raw_account(usage=_usage("10000", "9999"), **fields))
    whole = invoice_for(raw_account(usage=_usage("19999"), **fields))

    assert split.lines == whole.lines
    assert [(line.kind, line.net_amount) for line in split.lines] == [
        ("recurring", D("29.00")),
        ("usage", D("0.00")),
        ("usage", D("10.00")),
        ("minimum_commitment", D("40.00")),  # 50.00 less the tiers' 10.00
    ]
    assert split.anomalies == whole.anomalies
    assert [flag.message for flag in split.anomalies] == [
        "API calls (API-CALLS) usage of 19,999 is 4.0 times the trailing average of 5,000 "
        "(threshold 3 times)"
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
    locale=st.sampled_from(["en", "de", "fr"]),
)
def test_splitting_usage_over_records_never_changes_the_invoice(
    metric_model: tuple[str, str | None], currency: str, parts: list[Decimal], locale: str
) -> None:
    """In every language too: a graduated total is one line per tier, and the tiers it fills
    are lines shared across the run (``RunMemo.full_tier_lines``)."""
    metric, model = metric_model
    pricing = {} if model is None else {"pricing": model}
    buyer = customer("DE", locale=locale)
    split = invoice_for(
        raw_account(
            usage=_usage(*(str(p) for p in parts), metric=metric, **pricing),
            currency=currency,
            customer=buyer,
        )
    )
    whole = invoice_for(
        raw_account(
            usage=_usage(str(sum(parts, D(0))), metric=metric, **pricing),
            currency=currency,
            customer=buyer,
        )
    )

    assert split.lines == whole.lines
    assert (split.net_total, split.gross_total) == (whole.net_total, whole.gross_total)
