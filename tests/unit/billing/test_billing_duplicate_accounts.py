"""One account id, one record: duplicates are quarantined, never silently merged or dropped.

Issue 16, item 2: two records with one id (EUR STARTER and USD BUSINESS x3) ended as one
invoice; the other record vanished, counted as "already existed".
"""

from __future__ import annotations

from billing_factories import PERIOD, raw_account

from invoice_dispatch.billing import load_catalog, parse_accounts_csv, screen_account

CSV_HEADER = "account_id,company_name,email,line1,city,country,currency,plan,quantity,start\n"


def test_every_id_held_by_several_records_gets_a_sentence_naming_them() -> None:
    from invoice_dispatch.billing.account import duplicate_account_reasons

    source = [
        raw_account(account_id="ACC-A"),
        raw_account(account_id="ACC-B"),
        raw_account(account_id="ACC-A", currency="USD"),
        "not an object",
        {"account_id": ["unhashable"]},
        *[raw_account(account_id="ACC-C") for _ in range(7)],
    ]

    reasons = duplicate_account_reasons(source)

    assert reasons == {
        "ACC-A": "Account id 'ACC-A' is held by 2 records of the account source (records 1 "
        "and 3): none is billed until the source holds one record per account",
        "ACC-C": "Account id 'ACC-C' is held by 7 records of the account source (records 6, "
        "7, 8, 9, 10 and 2 more): none is billed until the source holds one record per "
        "account",
    }


def test_csv_rows_of_one_account_that_disagree_quarantine_it() -> None:
    text = (
        CSV_HEADER
        + "ACC-1,Kunde GmbH,ap@kunde.example.com,Weg 1,Berlin,DE,EUR,STARTER,1,2025-01-01\n"
        + "ACC-1,Kunde GmbH,ap@kunde.example.com,Weg 1,Berlin,DE,USD,BUSINESS,3,2025-01-01\n"
    )

    (raw,) = parse_accounts_csv(text)
    screening = screen_account(raw, PERIOD, load_catalog())

    assert (screening.outcome, screening.reason) == (
        "quarantined",
        "Rows 1 and 2 of account 'ACC-1' disagree on 'currency' ('EUR' and 'USD'): the rows "
        "of one account must repeat its account columns or leave them empty",
    )


def test_csv_rows_of_one_account_may_leave_its_columns_empty() -> None:
    text = (
        CSV_HEADER
        + "ACC-1,Kunde GmbH,ap@kunde.example.com,Weg 1,Berlin,DE,EUR,STARTER,1,2025-01-01\n"
        + "ACC-1,,,,,,,TEAM-SEAT,4,2025-01-01\n"
    )

    (raw,) = parse_accounts_csv(text)

    assert screen_account(raw, PERIOD, load_catalog()).outcome == "eligible"
    assert [sub["plan"] for sub in raw["subscriptions"]] == ["STARTER", "TEAM-SEAT"]
