"""The daily collections run over the REAL collections ASL in moto, with a simulated clock.

A module fixture bills four sample accounts, then runs the collections state machine once
a day (``{"as_of": day}``) from 8 days before the earliest stage to 20 days after the
latest due date, with payments arriving in between through the real webhook and statement
handlers. Along the way the schedule fires twice on one day and is skipped for three
days. Each test then checks one thing a collections team sees.

  INV-1 (ACC-1001, de, Net 30)  paid in full by card (webhook) 3 days before due
  INV-2 (ACC-1002, fr, Net 10)  never paid: every stage, then an escalation
  INV-3 (ACC-1003, en, Net 30)  50.00 paid by transfer 1 day after due: all stages on
                                what is still open, then an escalation
  INV-4 (ACC-1009, USD, Net 30) paid in full by transfer 8 days after due
"""

from __future__ import annotations

import email
import email.policy
import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from invoice_dispatch.invoice import DeliveryStatus
from invoice_dispatch.platform import get_platform
from invoice_dispatch.receivables import ReceivableStatus
from tests.e2e.conftest import Stack
from tools.local_run.collections_demo import import_statement, post_webhook

pytestmark = pytest.mark.e2e

ACCOUNTS = ["ACC-1001", "ACC-1002", "ACC-1003", "ACC-1009"]
SKIPPED_DAYS = (-1, 0, 1)  # around the Net 30 due date D: the schedule did not fire
TWICE_ON = -7  # D - 7: the schedule fired twice


@dataclass
class Walk:
    numbers: dict[str, str]  # account id -> invoice number
    due: dict[str, date]  # invoice number -> due date
    d: date  # the Net 30 due date
    sent_per_day: dict[date, list[tuple[str, str]]] = field(default_factory=dict)
    second_run_sent: int = -1
    statuses: dict[date, str] = field(default_factory=dict)


def _sent_since(stack: Stack, first: int) -> list[Any]:
    return [
        email.message_from_string(getattr(m, "raw_data", ""), policy=email.policy.default)
        for m in stack.env.sent_messages()[first:]
    ]


def _run_day(stack: Stack, day: date, run_id: str) -> list[Any]:
    first = len(stack.env.sent_messages())
    status, _output, error = stack.env.run_collections({"as_of": day.isoformat()}, run_id)
    assert status == "SUCCEEDED", error
    return _sent_since(stack, first)


def _statement(lines: list[str]) -> str:
    return "entry_reference,account,booking_date,amount,currency,payer,remittance\n" + "\n".join(
        lines
    )


@pytest.fixture(scope="module")
def walk(stack: Stack) -> Walk:
    run = stack.env.run({"period": "2026-11", "mode": "live", "account_ids": ACCOUNTS})
    assert run.status == "SUCCEEDED", run.error
    store = get_platform().store
    invoices = {s.invoice.account_id: s.invoice for s in store.run_invoices(run.run_id)}
    numbers = {account: str(invoices[account].number) for account in ACCOUNTS}
    due = {str(i.number): i.due_date for i in invoices.values() if i.due_date}
    d = due[numbers["ACC-1001"]]
    result = Walk(numbers, due, d)
    payments = {
        d - timedelta(days=3): lambda: post_webhook(
            stack.env,
            json.dumps(
                {
                    "id": "evt_e2e_card_1",
                    "type": "payment.succeeded",
                    "created": 1796464800,
                    "data": {
                        "invoice_number": numbers["ACC-1001"],
                        "amount_minor": int(invoices["ACC-1001"].gross_total * 100),
                        "currency": "EUR",
                        "paid_on": str(d - timedelta(days=3)),
                        "payer": "Hoffmann Logistik GmbH",
                    },
                }
            ).encode(),
        ),
        d + timedelta(days=2): lambda: import_statement(
            stack.env,
            "eur.csv",
            _statement(
                [
                    f"E2E-1,DE89370400440532013000,{d + timedelta(days=1)},50.00,EUR,Van der Berg,"
                    f"{numbers['ACC-1003']}"
                ]
            ),
        ),
        d + timedelta(days=9): lambda: import_statement(
            stack.env,
            "usd.csv",
            _statement(
                [
                    f"E2E-2,US64SVBKUS6S3300958879,{d + timedelta(days=8)},"
                    f"{invoices['ACC-1009'].gross_total},USD,Northpeak,{numbers['ACC-1009']}"
                ]
            ),
        ),
    }
    first_day = min(due.values()) - timedelta(days=8)
    day = first_day
    while day <= d + timedelta(days=20):
        if day in payments:
            payments[day]()
        if (day - d).days in SKIPPED_DAYS:
            day += timedelta(days=1)
            continue
        sent = _run_day(stack, day, f"collections-{day}")
        result.sent_per_day[day] = [(str(m["To"]), str(m["Subject"])) for m in sent]
        if (day - d).days == TWICE_ON:
            result.second_run_sent = len(_run_day(stack, day, f"collections-{day}-again"))
        day += timedelta(days=1)
    return result


def _stages(number: str) -> list[tuple[str, date]]:
    return [(r.stage, r.sent_on) for r in get_platform().collections.reminders(number)]


def test_each_invoice_gets_exactly_the_reminders_of_its_stages(walk: Walk) -> None:
    d, n = walk.d, walk.numbers
    d2 = walk.due[n["ACC-1002"]]
    late = d + timedelta(days=2)  # stage 0 fell on a skipped day: sent with the next run
    assert _stages(n["ACC-1001"]) == [("-7", d - timedelta(days=7))]
    assert _stages(n["ACC-1002"]) == [
        ("-7", d2 - timedelta(days=7)),
        ("+0", d2),
        ("+7", d2 + timedelta(days=7)),
        ("+14", d2 + timedelta(days=14)),
    ]
    assert _stages(n["ACC-1003"]) == [
        ("-7", d - timedelta(days=7)),
        ("+0", late),
        ("+7", d + timedelta(days=7)),
        ("+14", d + timedelta(days=14)),
    ]
    assert _stages(n["ACC-1009"]) == [
        ("-7", d - timedelta(days=7)),
        ("+0", late),
        ("+7", d + timedelta(days=7)),
    ]
    total = sum(len(sent) for sent in walk.sent_per_day.values())
    assert total == 1 + 4 + 4 + 3 + 2  # the reminders, and the two escalation e-mails


def test_a_second_fire_the_same_day_sends_nothing(walk: Walk) -> None:
    assert len(walk.sent_per_day[walk.d - timedelta(days=7)]) == 3
    assert walk.second_run_sent == 0
    report = get_platform().documents.get_json(
        f"collections/reports/{walk.d - timedelta(days=7)}.json"
    )
    assert report["reminders_sent"] == {"-7": 3, "+0": 0, "+7": 0, "+14": 0}


def test_after_three_skipped_days_only_the_latest_due_stage_goes_out_once(walk: Walk) -> None:
    late = walk.sent_per_day[walk.d + timedelta(days=2)]
    subjects = sorted(subject for _to, subject in late)
    assert subjects == [
        f"Invoice {walk.numbers['ACC-1003']} is due today",
        f"Invoice {walk.numbers['ACC-1009']} is due today",
    ]
    assert walk.sent_per_day[walk.d + timedelta(days=3)] == []


def test_the_reminder_states_what_is_still_open_after_a_partial_payment(walk: Walk) -> None:
    number = walk.numbers["ACC-1003"]
    stored = get_platform().store.get_invoice("2026-11:ACC-1003")
    assert stored is not None
    final = [s for s in walk.sent_per_day[walk.d + timedelta(days=14)] if number in s[1]]
    assert final == [
        (
            "finance@vanderberg-data.example.com",
            f"Final reminder: invoice {number} is 14 days overdue",
        )
    ]
    receivable = get_platform().ledger.receivable(number)
    assert receivable is not None
    assert receivable.open_amount == stored.invoice.gross_total - Decimal("50.00")


def test_unpaid_invoices_escalate_once_after_the_last_stage(walk: Walk) -> None:
    d2 = walk.due[walk.numbers["ACC-1002"]]
    escalations = {e.escalation_id: e for e in get_platform().collections.open_escalations()}
    assert sorted(escalations) == [
        f"ACC-1002:{d2 + timedelta(days=17)}",
        f"ACC-1003:{walk.d + timedelta(days=17)}",
    ]
    atelier = escalations[f"ACC-1002:{d2 + timedelta(days=17)}"]
    assert atelier.owner == "claire.martin@northwind.example"
    assert [i.number for i in atelier.invoices] == [walk.numbers["ACC-1002"]]
    assert atelier.days_overdue == 17
    assert [r.stage for r in atelier.invoices[0].reminders] == ["-7", "+0", "+7", "+14"]
    e_mails = [
        sent for sent in walk.sent_per_day[d2 + timedelta(days=17)] if "Collections:" in sent[1]
    ]
    assert e_mails == [
        (
            "claire.martin@northwind.example",
            "Collections: Atelier Lumière SARL owes 249.95 EUR, 17 days overdue",
        )
    ]
    after = [
        s
        for day, sent in walk.sent_per_day.items()
        if day > d2 + timedelta(days=17)
        for s in sent
        if walk.numbers["ACC-1002"] in s[1]
    ]
    assert after == []  # no more automatic e-mails


def test_the_ledger_after_the_walk(walk: Walk) -> None:
    ledger = get_platform().ledger
    end = walk.d + timedelta(days=20)
    statuses = {
        account: ledger.receivable(number).status(end)  # type: ignore[union-attr]
        for account, number in walk.numbers.items()
    }
    assert statuses == {
        "ACC-1001": ReceivableStatus.PAID,
        "ACC-1002": ReceivableStatus.OVERDUE,
        "ACC-1003": ReceivableStatus.OVERDUE,
        "ACC-1009": ReceivableStatus.PAID,
    }
    assert [e.entry_key for e in ledger.entries(walk.numbers["ACC-1003"])] == [
        "bank:DE89370400440532013000:E2E-1"
    ]


def test_reminder_delivery_events_land_on_the_reminder_not_on_the_invoice(walk: Walk) -> None:
    reminders = get_platform().collections.reminders(walk.numbers["ACC-1002"])
    assert {r.status for r in reminders} == {DeliveryStatus.DELIVERED.value}
    stored = get_platform().store.get_invoice("2026-11:ACC-1002")
    assert stored is not None and stored.delivery_status is DeliveryStatus.DELIVERED


def test_the_report_of_the_last_day_shows_the_kpis(walk: Walk) -> None:
    end = walk.d + timedelta(days=20)
    report = get_platform().documents.get_json(f"collections/reports/{end}.json")
    assert [e["escalation_id"] for e in report["open_escalations"]] == [
        f"ACC-1002:{walk.due[walk.numbers['ACC-1002']] + timedelta(days=17)}",
        f"ACC-1003:{walk.d + timedelta(days=17)}",
    ]
    assert (report["payments"]["automatic"], report["payments"]["needs_person"]) == (3, 0)
    assert set(report["aging"]["currencies"]) == {"EUR"}
    assert report["dso_days"]["USD"] == "0.0"


def test_a_decision_given_as_the_state_machines_input_closes_the_escalation_once(
    stack: Stack, walk: Walk
) -> None:
    escalation_id = f"ACC-1003:{walk.d + timedelta(days=17)}"
    decision = {
        "escalation_decision": {
            "escalation_id": escalation_id,
            "decision": "dispute",
            "decided_by": "claire.martin@northwind.example",
            "note": "Service outage in December",
        }
    }
    first = stack.env.run_collections(decision, "decision-1")
    again = stack.env.run_collections(decision, "decision-2")
    other = {"escalation_decision": {**decision["escalation_decision"], "decision": "x"}}
    refused = stack.env.run_collections(other, "decision-3")

    assert first[0] == "SUCCEEDED" and first[1]["decision"]["Payload"]["recorded"] is True
    assert again[0] == "SUCCEEDED" and again[1]["decision"]["Payload"]["recorded"] is False
    assert refused[0] == "FAILED"
    assert refused[2] is not None and refused[2].startswith(
        "DecisionRefused: The escalation decision is not valid: decision: Input should be"
    )
    receivable = get_platform().ledger.receivable(walk.numbers["ACC-1003"])
    assert receivable is not None and receivable.dispute_open
    open_ids = [e.escalation_id for e in get_platform().collections.open_escalations()]
    assert escalation_id not in open_ids
