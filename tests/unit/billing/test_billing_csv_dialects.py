"""CSV sources in the dialects people export: comma, semicolon (Excel in most of Europe), tab.

Issue 16, item 7: a ``;``-separated file turned 3 valid accounts into 4 "<row N>"
quarantines reading "account_id is missing (and 4 more problems)".
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from billing_factories import PERIOD

from invoice_dispatch.billing import load_catalog, parse_accounts_csv, screen_account
from invoice_dispatch.errors import PermanentError
from invoice_dispatch.workflow.gather import merge_usage_file, parse_account_source

SAMPLE_CSV = Path(__file__).resolve().parents[3] / "events" / "accounts" / "sample-accounts.csv"
HEADER = (
    "account_id;status;company_name;email;line1;city;country;currency;plan;quantity;start;"
    "unit_price"
)


def _rewritten(delimiter: str) -> str:
    """The sample CSV as Excel would save it with another delimiter."""
    rows = list(csv.reader(io.StringIO(SAMPLE_CSV.read_text(encoding="utf-8"))))
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def _outcomes(text: str) -> dict[str, str]:
    screenings = [screen_account(raw, PERIOD, load_catalog()) for raw in parse_accounts_csv(text)]
    return {screening.account_id: screening.outcome for screening in screenings}


@pytest.mark.parametrize("delimiter", [";", "\t"], ids=["semicolon", "tab"])
def test_a_semicolon_or_tab_file_reads_the_accounts_a_comma_file_reads(delimiter: str) -> None:
    comma = SAMPLE_CSV.read_text(encoding="utf-8")

    assert parse_accounts_csv(_rewritten(delimiter)) == parse_accounts_csv(comma)
    assert _outcomes(_rewritten(delimiter)) == {
        "CSV-2001": "eligible",
        "CSV-2002": "eligible",
        "CSV-2003": "eligible",
        "CSV-2004": "excluded",
        "<row 6>": "quarantined",
    }


def test_an_excel_file_with_a_bom_and_a_sep_line_is_read() -> None:
    text = "\ufeffsep=;\r\n" + _rewritten(";")

    assert _outcomes(text) == _outcomes(SAMPLE_CSV.read_text(encoding="utf-8"))


def _one_account(quantity: str, unit_price: str = "") -> str:
    return (
        f"{HEADER}\r\nACC-1;active;Kunde GmbH;ap@kunde.example.com;Weg 1;Berlin;DE;EUR;"
        f"TEAM-SEAT;{quantity};2025-01-01;{unit_price}\r\n"
    )


@pytest.mark.parametrize(
    ("quantity", "unit_price", "expected_quantity", "expected_price"),
    [
        ("3", "12,50", "3", "12.50"),
        ("2,5", "", "2.5", None),
        ("1.234,5", "1.000,00", "1234.5", "1000.00"),
        ("12.5", "0.75", "12.5", "0.75"),
    ],
)
def test_a_semicolon_file_may_write_decimal_commas(
    quantity: str, unit_price: str, expected_quantity: str, expected_price: str | None
) -> None:
    (raw,) = parse_accounts_csv(_one_account(quantity, unit_price))

    subscription = raw["subscriptions"][0]
    assert subscription["quantity"] == expected_quantity
    assert subscription.get("unit_price") == expected_price
    screening = screen_account(raw, PERIOD, load_catalog())
    assert screening.account is not None, screening.reason
    assert screening.account.subscriptions[0].quantity == Decimal(expected_quantity)


def test_a_number_with_points_only_in_a_semicolon_file_is_quarantined_not_guessed() -> None:
    (raw,) = parse_accounts_csv(_one_account("1.000"))

    screening = screen_account(raw, PERIOD, load_catalog())

    assert (screening.account_id, screening.outcome, screening.reason) == (
        "ACC-1",
        "quarantined",
        "Row 1, column 'quantity': '1.000' is ambiguous in a semicolon-separated file (a "
        "thousands point or a decimal point?): write it without thousands points, with a "
        "decimal comma if it has decimals",
    )


def test_a_decimal_comma_in_a_comma_file_is_quarantined_with_a_hint() -> None:
    text = (
        "account_id,company_name,email,line1,city,country,currency,plan,quantity,start\n"
        'ACC-1,Kunde GmbH,ap@kunde.example.com,Weg 1,Berlin,DE,EUR,TEAM-SEAT,"2,5",2025-01-01\n'
    )

    (raw,) = parse_accounts_csv(text)
    screening = screen_account(raw, PERIOD, load_catalog())

    assert screening.reason == (
        "Field 'subscriptions #1 quantity': is not a number: write a decimal point (a decimal "
        "comma only in a semicolon-separated CSV) (got '2,5')"
    )


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        (
            "account_id|currency|plan\nACC-1|EUR|STARTER\n",
            "The account source s3://bucket/accounts.csv has no 'account_id' column: its header "
            "'account_id|currency|plan' seems to be separated by '|'; separate the columns with "
            "a comma, a semicolon or a tab",
        ),
        (
            "id;currency;plan\nACC-1;EUR;STARTER\n",
            "The account source s3://bucket/accounts.csv has no 'account_id' column in its "
            "header 'id;currency;plan': separate the columns with a comma, a semicolon or a "
            "tab, and name one 'account_id'",
        ),
        (
            "sep=|\naccount_id|currency\n",
            "The account source s3://bucket/accounts.csv names '|' as its separator: separate "
            "the columns with a comma, a semicolon or a tab",
        ),
    ],
    ids=["pipe", "no account_id", "excel sep line"],
)
def test_a_file_in_no_known_dialect_is_refused_with_a_sentence(text: str, sentence: str) -> None:
    with pytest.raises(PermanentError) as refused:
        parse_account_source("s3://bucket/accounts.csv", text.encode())

    assert str(refused.value) == sentence


def test_a_semicolon_usage_file_with_decimal_commas_is_merged() -> None:
    accounts = parse_accounts_csv(_one_account("3"))
    body = b"account_id;metric;quantity\nACC-1;STORAGE-GB;1.250,5\nACC-1;SMS;1.000\n"

    assert merge_usage_file(accounts, "s3://bucket/usage.csv", body) == []

    assert [record["quantity"] for record in accounts[0]["usage"]] == ["1250.5", "1.000"]
    screening = screen_account(accounts[0], PERIOD, load_catalog())
    assert screening.outcome == "quarantined"
    assert screening.reason is not None
    assert screening.reason.startswith(
        "Usage file s3://bucket/usage.csv row 2, column 'quantity': '1.000' is ambiguous"
    )
