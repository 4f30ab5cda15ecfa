"""Bank statements (camt.053 and CSV): parsed to payments, imported once, however often sent."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from invoice_dispatch.payments.camt053 import parse_camt053
from invoice_dispatch.payments.statement import StatementError
from invoice_dispatch.payments.statement_csv import parse_statement_csv
from invoice_dispatch.platform import Platform
from invoice_dispatch.receivables import ReceivableStatus
from invoice_dispatch.workflow.payments_in import import_statement
from tests.unit.receivables.receivable_factories import DUE, receivable
from tools.approval_server import LocalLambdaContext
from tools.local_run.lambda_router import load_handler
from tools.local_run.wiring import REPO_ROOT, Template

SAMPLES = REPO_ROOT / "events" / "payments"
CAMT = (SAMPLES / "statement-2026-12-eur.camt053.xml").read_bytes()
CSV = (SAMPLES / "statement-2026-12-usd.csv").read_bytes()
IBAN = "DE89370400440532013000"
#: Loaded at collection, as Lambda loads it at cold start (Powertools' tracer opens its socket).
IMPORT_HANDLER = load_handler(Template().functions()["ImportStatementFunction"])
#: The demo's invoices the samples pay (number, gross, currency), as `make demo` issues them.
DEMO_INVOICES = [
    ("INV-2026-000001", "203.49", "EUR"),
    ("INV-2026-000002", "249.95", "EUR"),
    ("INV-2026-000003", "149.00", "EUR"),
    ("INV-2026-000004", "17.84", "EUR"),
    ("INV-2026-000005", "69.89", "USD"),
    ("INV-2026-000008", "167.38", "EUR"),
    ("INV-2026-000011", "193.38", "USD"),
    ("INV-2026-000013", "241.95", "EUR"),
    ("INV-2026-000014", "300.00", "EUR"),
    ("INV-2026-000021", "700.77", "USD"),
    ("INV-2026-000023", "457.60", "USD"),
]


def test_camt053_credits_become_payments_keyed_by_the_banks_reference() -> None:
    parsed = parse_camt053(CAMT)
    assert [(p.key, p.amount, p.payer) for p in parsed.payments] == [
        (f"bank:{IBAN}:COBA20261203-000117", Decimal("203.49"), "Hoffmann Logistik GmbH"),
        (f"bank:{IBAN}:COBA20261204-000042", Decimal("100.00"), "Atelier Lumiere SARL"),
        (f"bank:{IBAN}:COBA20261207-000311", Decimal("166.84"), "Van der Berg Data B.V."),
        (f"bank:{IBAN}:COBA20261208-000019", Decimal("170.00"), "Greenleaf Organics Ltd"),
        (
            f"bank:{IBAN}:COBA20261210-000777/COBA20261210-000777-1",
            Decimal("241.95"),
            "Lindqvist Design Studio B.V.",
        ),
        (
            f"bank:{IBAN}:COBA20261210-000777/COBA20261210-000777-2",
            Decimal("300.00"),
            "Stiftung Kinderhilfe Berlin",
        ),
        (f"bank:{IBAN}:COBA20261211-000005", Decimal("75.00"), "Unbekannt & Sohn KG"),
    ]
    assert parsed.payments[3].reference == "INV2026000008"  # the structured reference
    assert parsed.skipped == [
        "Entry 7 of statement STMT-2026-12-15 (COBA20261214-FEES, 12.90 EUR) is a debit, not a "
        "customer payment"
    ]


def test_camt053_version_02_with_plain_status_and_no_namespace_prefix_is_read() -> None:
    version_02 = (
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>'
        b"<Stmt><Id>S1</Id><Acct><Id><IBAN>DE02</IBAN></Id></Acct><Ntry>"
        b'<Amt Ccy="EUR">10.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>'
        b"<BookgDt><DtTm>2026-12-03T10:00:00</DtTm></BookgDt><AcctSvcrRef>R1</AcctSvcrRef>"
        b"<NtryDtls><TxDtls><RltdPties><Dbtr><Nm>Old Bank Customer</Nm></Dbtr></RltdPties>"
        b"<RmtInf><Ustrd>INV-2026-000001</Ustrd></RmtInf></TxDtls></NtryDtls>"
        b"</Ntry></Stmt></BkToCstmrStmt></Document>"
    )
    (payment,) = parse_camt053(version_02).payments
    assert (payment.key, payment.payer, str(payment.received_on)) == (
        "bank:DE02:R1",
        "Old Bank Customer",
        "2026-12-03",
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]><Document/>", "DOCTYPE"),
        (b"<Document><BkToCstmrStmt>", "not well-formed XML"),
        (b"<Invoice/>", "not a camt.053 statement"),
    ],
)
def test_files_that_are_no_camt053_statement_are_refused_with_a_reason(
    content: bytes, message: str
) -> None:
    with pytest.raises(StatementError, match=message):
        parse_camt053(content)


def test_csv_statements_skip_debits_and_read_decimal_commas() -> None:
    parsed = parse_statement_csv(CSV.decode())
    assert [(p.key, p.amount) for p in parsed.payments] == [
        ("bank:US64SVBKUS6S3300958879:US-20261205-0001", Decimal("69.89")),
        ("bank:US64SVBKUS6S3300958879:US-20261206-0002", Decimal("100.00")),
        ("bank:US64SVBKUS6S3300958879:US-20261209-0003", Decimal("1000.00")),
    ]
    assert parsed.skipped == ["Row 5 (US-20261212-0004, -25.00) is a debit, not a payment"]
    semicolons = "entry_reference;booking_date;amount;currency\nR1;03.12.2026;1.234,50;EUR\n"
    (payment,) = parse_statement_csv(semicolons).payments
    assert (payment.amount, str(payment.received_on)) == (Decimal("1234.50"), "2026-12-03")


def test_a_csv_statement_with_a_bad_row_is_refused_whole() -> None:
    text = "entry_reference,booking_date,amount,currency\nR1,2026-12-03,10.00,EUR\nR2,soon,1,EUR\n"
    with pytest.raises(StatementError, match="row 3: booking_date 'soon' is not YYYY-MM-DD"):
        parse_statement_csv(text)


def test_a_statement_imported_twice_changes_nothing_the_second_time(platform: Platform) -> None:
    ledger = platform.ledger
    ledger.open_receivables(receivable(n, gross, currency) for n, gross, currency in DEMO_INVOICES)

    first = import_statement("statement-2026-12-eur.camt053.xml", CAMT, platform)
    numbers = [number for number, _, _ in DEMO_INVOICES]
    after_first = ledger.receivables(numbers)
    entries_after_first = {number: ledger.entries(number) for number in numbers}
    second = import_statement("statement-2026-12-eur.camt053.xml", CAMT, platform)

    assert (first.applied, first.exceptions, first.duplicates) == (6, 1, 0)
    assert (second.applied, second.exceptions, second.duplicates) == (0, 0, 7)
    assert ledger.receivables(numbers) == after_first
    assert {number: ledger.entries(number) for number in numbers} == entries_after_first
    statuses = {number: r.status(DUE) for number, r in after_first.items() if r.currency == "EUR"}
    assert statuses == {
        "INV-2026-000001": ReceivableStatus.PAID,
        "INV-2026-000002": ReceivableStatus.PARTIALLY_PAID,
        "INV-2026-000003": ReceivableStatus.PAID,
        "INV-2026-000004": ReceivableStatus.PAID,
        "INV-2026-000008": ReceivableStatus.OVERPAID,
        "INV-2026-000013": ReceivableStatus.PAID,
        "INV-2026-000014": ReceivableStatus.PAID,
    }
    (unmatched,) = ledger.payment_exceptions()
    assert unmatched.explanation == (
        "75.00 EUR from Unbekannt & Sohn KG received on 2026-12-11 (bank statement) names no "
        "invoice number in 'Danke fuer die Lieferung'; find the invoice and apply it by hand."
    )


def test_a_csv_statement_ends_each_payment_in_a_defined_state(platform: Platform) -> None:
    platform.ledger.open_receivables(
        receivable(n, gross, currency) for n, gross, currency in DEMO_INVOICES
    )
    report = import_statement("statement-2026-12-usd.csv", CSV, platform)
    assert [(p.outcome, p.numbers) for p in report.payments] == [
        ("applied", ["INV-2026-000005"]),
        ("applied", ["INV-2026-000011"]),
        ("ambiguous", []),
    ]
    assert report.skipped == ["Row 5 (US-20261212-0004, -25.00) is a debit, not a payment"]


def test_a_statement_dropped_into_s3_or_named_on_demand_is_imported_by_the_handler(
    platform: Platform,
) -> None:
    platform.ledger.open_receivables(
        receivable(n, gross, currency) for n, gross, currency in DEMO_INVOICES
    )
    for sample in ("statement-2026-12-eur.camt053.xml", "statement-2026-12-usd.csv"):
        platform.documents.put_bytes(
            f"statements/inbox/{sample}", (SAMPLES / sample).read_bytes(), "text/plain", {}
        )

    for event_file in ("statement-dropped.json", "import-statement-on-demand.json"):
        event = json.loads((SAMPLES / event_file).read_text())
        (report,) = IMPORT_HANDLER(event, LocalLambdaContext())
        assert report["name"] == event.get(
            "key", event.get("detail", {}).get("object", {}).get("key")
        )
    assert len(list(platform.ledger.payment_exceptions())) == 2  # unmatched EUR, ambiguous USD
