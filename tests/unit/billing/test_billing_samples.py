"""The bundled sample accounts: each one lands where the demo says it does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from billing_factories import context

from invoice_dispatch.billing import (
    ANOMALY_CODES,
    billing_period,
    generate_draft,
    load_catalog,
    parse_accounts_csv,
    screen_account,
)
from invoice_dispatch.invoice import TaxCategory

SAMPLES = Path(__file__).resolve().parents[3] / "events" / "accounts"
PERIOD = billing_period("2026-11", timezone="Europe/Berlin")

EXPECTED_OUTCOMES = {
    "ACC-1001": "eligible",
    "ACC-1002": "eligible",
    "ACC-1003": "eligible",
    "ACC-1004": "excluded",
    "ACC-1005": "excluded",
    "ACC-1006": "excluded",
    "ACC-1007": "eligible",
    "ACC-1008": "excluded",
    "ACC-1009": "eligible",
    "ACC-1010": "eligible",
    "ACC-1011": "eligible",
    "ACC-1012": "eligible",
    "ACC-1013": "eligible",
    "ACC-1014": "eligible",
    "ACC-1015": "eligible",
    "ACC-1016": "eligible",
    "ACC-1017": "eligible",
    "ACC-1018": "eligible",
    "ACC-1019": "eligible",
    "ACC-1020": "eligible",
    "ACC-1021": "eligible",
    "ACC-1022": "eligible",
    "ACC-1023": "eligible",
    "ACC-1024": "eligible",
    "ACC-1025": "eligible",
    "ACC-1026": "eligible",
    "ACC-1027": "eligible",
    "ACC-1028": "eligible",
    "ACC-1029": "eligible",
    "ACC-1030": "eligible",
    "ACC-1031": "quarantined",
    "ACC-1032": "quarantined",
    "ACC-1033": "quarantined",
    "ACC-1034": "quarantined",
    "ACC-1035": "quarantined",
    "ACC-1036": "eligible",
    "ACC-1037": "eligible",
    "ACC-1038": "eligible",
    "ACC-1039": "eligible",
    "ACC-1040": "eligible",
    "ACC-1041": "eligible",
}

EXPECTED_REASONS = {
    "ACC-1004": "Account is paused",
    "ACC-1006": (
        "Account was cancelled: its last subscription ended on 2026-10-15, before this period"
    ),
    "ACC-1008": "Subscription starts on 2026-12-01, after this period",
    "ACC-1031": "Field 'currency': 'XYZ' is not a supported ISO 4217 currency",
    "ACC-1033": "Subscription 'SUB-1033-A' ends on 2026-08-15, before it starts on 2026-09-01",
    "ACC-1034": "Subscription 'SUB-1034-A': plan 'PLATINUM' is not in catalog 2026-10-01",
}


def _sample_accounts() -> list[dict[str, object]]:
    return json.loads((SAMPLES / "sample-accounts.json").read_text(encoding="utf-8"))


def test_every_sample_account_screens_to_its_expected_outcome() -> None:
    outcomes = {}
    for raw in _sample_accounts():
        screening = screen_account(raw, PERIOD, load_catalog())
        outcomes[screening.account_id] = screening.outcome
        if screening.account_id in EXPECTED_REASONS:
            assert screening.reason == EXPECTED_REASONS[screening.account_id]
        if screening.outcome != "eligible":
            assert screening.reason
    assert outcomes == EXPECTED_OUTCOMES


def test_sample_data_covers_the_demo_mix() -> None:
    accounts = _sample_accounts()
    assert len(accounts) >= 30
    assert {a["currency"] for a in accounts} >= {"EUR", "USD", "JPY"}
    assert {a["customer"]["address"]["country"] for a in accounts} >= {
        "DE",
        "FR",
        "NL",
        "IE",
        "US",
        "JP",
        "GB",
    }
    assert any("<script>alert(1)</script>" in a["customer"]["name"] for a in accounts)
    domains = {
        a["customer"]["email"].rsplit(".", 1)[-1] for a in accounts if "@" in a["customer"]["email"]
    }
    assert domains <= {"com", "org"}
    names = [a["customer"]["name"] for a in accounts]
    assert len(set(names)) == len(names)


def test_eligible_samples_trip_every_anomaly_and_every_tax_treatment() -> None:
    ctx = context()
    codes: set[str] = set()
    categories: set[TaxCategory] = set()
    for raw in _sample_accounts():
        screening = screen_account(raw, PERIOD, load_catalog())
        if screening.account is None:
            continue
        result = generate_draft(screening.account, ctx, screening.account.history)
        assert result.invoice is not None, (screening.account_id, result)
        codes |= {flag.code for flag in result.invoice.anomalies}
        categories |= {row.tax_category for row in result.invoice.tax_breakdown}
    assert codes == set(ANOMALY_CODES)
    assert categories >= {TaxCategory.STANDARD, TaxCategory.REVERSE_CHARGE, TaxCategory.EXEMPT}


@pytest.mark.parametrize(
    ("account_id", "expected_outcome"),
    [
        ("CSV-2001", "eligible"),
        ("CSV-2002", "eligible"),
        ("CSV-2003", "eligible"),
        ("CSV-2004", "excluded"),
        ("<row 6>", "quarantined"),
    ],
)
def test_csv_sample_reads_into_accounts(account_id: str, expected_outcome: str) -> None:
    raws = parse_accounts_csv((SAMPLES / "sample-accounts.csv").read_text(encoding="utf-8"))
    screenings = [screen_account(raw, PERIOD, load_catalog()) for raw in raws]
    by_id = {screening.account_id: screening for screening in screenings}
    assert by_id[account_id].outcome == expected_outcome


def test_csv_rows_of_one_account_become_its_subscriptions() -> None:
    raws = parse_accounts_csv((SAMPLES / "sample-accounts.csv").read_text(encoding="utf-8"))
    first = raws[0]
    assert first["account_id"] == "CSV-2001"
    assert [s["plan"] for s in first["subscriptions"]] == ["TEAM-SEAT", "STORAGE-PACK"]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("not an object", "Record is not a JSON object"),
        ({"_label": "<row 9>"}, "Field 'account_id': is missing (and 2 more problems)"),
    ],
)
def test_broken_records_are_quarantined_not_raised(raw: object, reason: str) -> None:
    screening = screen_account(raw, PERIOD, load_catalog())  # type: ignore[arg-type]
    assert (screening.outcome, screening.reason) == ("quarantined", reason)


def test_quarantine_reason_names_the_subscription_and_says_what_is_wrong_plainly() -> None:
    from invoice_dispatch.billing import load_catalog, screen_account
    from tests.unit.billing.billing_factories import PERIOD, raw_account

    raw = raw_account(
        subscriptions=[
            {"subscription_id": "SUB-1", "plan": "TEAM-SEAT", "quantity": -3, "start": "2025-01-01"}
        ]
    )

    screening = screen_account(raw, PERIOD, load_catalog())

    assert screening.outcome == "quarantined"
    assert screening.reason == "Field 'subscriptions #1 quantity': must be 0 or more (got -3)"


#: German bank codes (Bankleitzahl, IBAN digits 5-12) the sample seller may bank with: the
#: BIC's institution code and the bank's name (Deutsche Bundesbank's bank code register).
GERMAN_BANKS = {"37040044": ("COBA", "Commerzbank")}


def test_sample_seller_bank_name_iban_and_bic_name_the_same_bank() -> None:
    from stdnum import bic as bic_number
    from stdnum import iban as iban_number

    from invoice_dispatch.legal_entity import load_legal_entity

    bank = load_legal_entity().bank
    iban = iban_number.validate(bank.iban)
    bic = bic_number.validate(bank.bic)

    institution, name = GERMAN_BANKS[iban[4:12]]
    assert (bic[:4], bic[4:6]) == (institution, iban[:2])
    assert bank.bank_name == name
