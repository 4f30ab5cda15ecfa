"""The payment run over the REAL collections ASL in moto, against the local gateway server.

A module fixture bills five sample accounts, four of them with a stored payment means,
then runs the collections state machine on chosen days after the issue date I (the
schedule may skip days: auto-pay and reminders both catch up). The gateway is scripted
per payment means:

  ACC-1022 pm_card_visa            I: gateway down; I+1: the same request declined;
                                   I+4: the retry times out (the gateway charged);
                                   I+5: asked again with the same key: collected, once
  ACC-1020 pm_card_visa_low_funds  I: declined; I+3: collected on the first retry
  ACC-1024 mandate (SEPA)          I: collected
  ACC-1029 pm_card_expired         I, I+3, I+5, I+7: declined; then handed to reminders,
                                   which send its -7 reminder on its day
  ACC-1001 (no auto-pay)           reminded as before

Each test checks one thing a collections team sees.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

from invoice_dispatch.autopay import AutoPayStatus
from invoice_dispatch.platform import get_platform
from invoice_dispatch.receivables import EntryKind, ReceivableStatus
from tests.e2e.conftest import SAMPLE_ACCOUNTS
from tools.erp.http_erp_server import HttpErpState, running_http_erp
from tools.local_run.runner import ErpTarget, LocalEnvironment
from tools.payment_gateway_server import PaymentGatewayState, running_payment_gateway

pytestmark = pytest.mark.e2e

ACCOUNTS = ["ACC-1001", "ACC-1022", "ACC-1020", "ACC-1024", "ACC-1029"]
SCRIPTS = {
    "pm_card_visa": ["down", "declined:insufficient_funds", "timeout", "succeeded"],
    "pm_card_visa_low_funds": ["declined:insufficient_funds", "succeeded"],
    "pm_card_expired": ["declined:expired_card"],
}
#: Days after the issue date with a collections run (5 twice: a second fire that day).
RUN_DAYS = (0, 1, 3, 4, 5, 5, 7, 8)


@dataclass
class Walk:
    env: LocalEnvironment
    gateway: PaymentGatewayState
    erp: HttpErpState
    numbers: dict[str, str]
    issued: date
    due_minus_7: date
    subjects_on_due_minus_7: list[tuple[str, str]]


def _run(env: LocalEnvironment, day: date, run_id: str) -> None:
    status, _output, error = env.run_collections({"as_of": day.isoformat()}, run_id)
    assert status == "SUCCEEDED", error


@pytest.fixture(scope="module")
def walk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Walk]:
    out_root: Path = tmp_path_factory.mktemp("out")
    with (
        running_payment_gateway(slow_seconds=1.5) as (gateway_url, gateway),
        running_http_erp() as (erp_url, erp),
        LocalEnvironment(
            SAMPLE_ACCOUNTS,
            out_root,
            ErpTarget("http", erp_url, {"token": "e2e"}, erp.dump),
            parameters={"PaymentGatewayUrl": gateway_url, "PaymentGatewayTimeoutSeconds": 1},
        ) as env,
    ):
        for reference, outcomes in SCRIPTS.items():
            gateway.script(reference, outcomes)
        run = env.run({"period": "2026-11", "mode": "live", "account_ids": ACCOUNTS})
        assert run.status == "SUCCEEDED", run.error
        invoices = {
            s.invoice.account_id: s.invoice for s in get_platform().store.run_invoices(run.run_id)
        }
        issued = invoices["ACC-1022"].issue_date
        due = invoices["ACC-1029"].due_date
        assert issued is not None and due is not None
        for index, offset in enumerate(RUN_DAYS):
            _run(env, issued + timedelta(days=offset), f"autopay-{offset}-{index}")
        first = len(env.sent_messages())
        _run(env, due - timedelta(days=7), "autopay-due-minus-7")
        sent = [
            email.message_from_string(getattr(m, "raw_data", ""), policy=email.policy.default)
            for m in env.sent_messages()[first:]
        ]
        yield Walk(
            env,
            gateway,
            erp,
            {account: str(invoice.number) for account, invoice in invoices.items()},
            issued,
            due - timedelta(days=7),
            sorted((str(m["To"]), str(m["Subject"])) for m in sent),
        )


def _state(walk: Walk, account: str):  # type: ignore[no-untyped-def]
    number = walk.numbers[account]
    return get_platform().autopay.fresh([number])[number]


def test_each_collected_invoice_was_charged_exactly_once_and_the_declined_one_never(
    walk: Walk,
) -> None:
    charged = {
        account: len(walk.gateway.charges_for(walk.numbers[account]))
        for account in ("ACC-1022", "ACC-1020", "ACC-1024", "ACC-1029")
    }
    assert charged == {"ACC-1022": 1, "ACC-1020": 1, "ACC-1024": 1, "ACC-1029": 0}
    assert walk.gateway.charges_for(walk.numbers["ACC-1001"]) == []


def test_down_and_timeout_were_resolved_by_asking_again_with_the_same_key(walk: Walk) -> None:
    number = walk.numbers["ACC-1022"]
    asked = [key for key in walk.gateway.requests_seen if key.startswith(f"autopay-{number}-")]
    assert asked == [f"autopay-{number}-1"] * 2 + [f"autopay-{number}-2"] * 2
    _receivable, state = _state(walk, "ACC-1022")
    assert [(h.day - walk.issued).days for h in state.history] == [0, 1, 4, 5]
    assert [h.outcome for h in state.history] == ["unavailable", "declined", "unknown", "succeeded"]
    assert (state.status, state.attempts) == (AutoPayStatus.COLLECTED, 2)


def test_the_ledger_holds_one_auto_pay_payment_per_collected_invoice(walk: Walk) -> None:
    ledger = get_platform().ledger
    for account in ("ACC-1022", "ACC-1020", "ACC-1024"):
        number = walk.numbers[account]
        receivable = ledger.receivable(number)
        assert receivable is not None
        assert receivable.status(walk.due_minus_7) is ReceivableStatus.PAID
        payments = [e for e in ledger.entries(number) if e.kind is EntryKind.PAYMENT]
        assert [(p.entry_key.split("-")[-1], p.amount) for p in payments] == [
            (str(_state(walk, account)[1].attempts), receivable.gross)
        ]


def test_collected_payments_are_booked_in_the_erp_once_each(walk: Walk) -> None:
    booked = sorted(key for key in walk.erp.payments if key.startswith("autopay:"))
    assert len(booked) == 3
    assert {key.rpartition("#")[2] for key in booked} == {
        walk.numbers[a] for a in ("ACC-1022", "ACC-1020", "ACC-1024")
    }


def test_a_card_declined_four_times_is_handed_to_reminders_which_then_chase_it(
    walk: Walk,
) -> None:
    receivable, state = _state(walk, "ACC-1029")
    assert state.status is AutoPayStatus.HANDED_OVER
    assert [(h.day - walk.issued).days for h in state.history] == [0, 3, 5, 7]
    assert state.history[-1].reason == "Your card has expired. (expired_card)"
    assert receivable.open_amount == receivable.gross
    subjects = [subject for _to, subject in walk.subjects_on_due_minus_7]
    assert f"Reminder: invoice {walk.numbers['ACC-1029']} is due on" in " ".join(subjects)
    assert any(walk.numbers["ACC-1001"] in subject for subject in subjects)
    assert len(subjects) == 2  # the collected invoices get no reminder


def test_the_report_shows_the_automated_collection_success_rate_per_currency(
    walk: Walk,
) -> None:
    day = walk.issued + timedelta(days=8)
    report = get_platform().documents.get_json(f"collections/reports/{day}.json")
    rates = {
        currency: (row["attempted"], row["collected"], row["handed_over"])
        for currency, row in report["auto_pay"].items()
    }
    assert rates == {"EUR": (2, 2, 0), "USD": (2, 1, 1)}
    text = get_platform().documents.get_bytes(f"collections/reports/{day}.txt").decode()
    assert "EUR  2 of 2 collected (" in text and "success rate 100.0 %" in text
    assert "USD  1 of 2 collected (" in text and "success rate 50.0 %" in text


def test_reminders_are_held_while_auto_pay_is_still_collecting(walk: Walk) -> None:
    day = walk.issued + timedelta(days=3)  # ACC-1022 waits for its retry, ACC-1029 retried
    report = get_platform().documents.get_json(f"collections/reports/{day}.json")
    assert report["planned_skips"]["collected by auto-pay"] == 2


def test_the_days_report_says_what_the_payment_run_did_including_an_outage(walk: Walk) -> None:
    report = get_platform().documents.get_json(f"collections/reports/{walk.issued}.json")
    assert report["auto_pay_today"] == {"declined": 2, "succeeded": 1, "unavailable": 1}
    text = get_platform().documents.get_bytes(f"collections/reports/{walk.issued}.txt").decode()
    assert "Auto-pay today: declined 2, succeeded 1, unavailable 1" in text
