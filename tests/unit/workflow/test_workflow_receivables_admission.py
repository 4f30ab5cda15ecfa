"""AdmitInvoices: receivables come from finished runs' sent invoices, once, outside the run."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import boto3

from invoice_dispatch.billing import create_credit_note
from invoice_dispatch.platform import Platform
from invoice_dispatch.receivables import EntryKind, ReceivableStatus
from invoice_dispatch.run import RunContext
from invoice_dispatch.workflow.finalize import finalized_copy, number_series
from invoice_dispatch.workflow.receivables_admission import admit_invoices
from tests.conftest import draft_invoice
from tools.local_run.wiring import ACCOUNT_ID, REGION

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
PASS_MACHINE = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}


def _finished_run(platform: Platform, run_id: str, accounts: dict[str, bool]) -> list[str]:
    """A live run whose execution has stopped; ``accounts``: account id -> e-mail sent."""
    context = RunContext(run_id=run_id, period="2026-11", mode="live", approval_timeout_seconds=60)
    platform.store.create_run(context, NOW.isoformat())
    drafts = [draft_invoice(account, run_id=run_id) for account in accounts]
    for draft in drafts:
        platform.store.create_draft(draft)
    numbered = platform.store.finalize(
        [draft.invoice_id for draft in drafts],
        run_id,
        number_series(platform.legal_entity, "live", 2026),
        lambda draft, n: finalized_copy(draft, platform.legal_entity, n, NOW),
    )
    for draft, sent in zip(drafts, accounts.values(), strict=True):
        if sent:
            platform.store.claim_dispatch(draft.invoice_id)
            platform.store.record_sent(draft.invoice_id, f"msg-{draft.invoice_id}", finished=False)
    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn = f"arn:aws:states:{REGION}:{ACCOUNT_ID}:stateMachine:MonthlyRun"
    if not sfn.list_state_machines()["stateMachines"]:
        sfn.create_state_machine(
            name="MonthlyRun",
            definition=json.dumps(PASS_MACHINE),
            roleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/local",
        )
    execution = sfn.start_execution(stateMachineArn=arn, name=run_id)
    sfn.stop_execution(executionArn=execution["executionArn"])
    return [numbered[draft.invoice_id].invoice.number for draft in drafts]  # type: ignore[union-attr]


def test_sent_invoices_of_finished_runs_are_admitted_once(platform: Platform) -> None:
    numbers = _finished_run(platform, "run-1", {"ACC-A1": True, "ACC-A2": True, "ACC-A3": False})

    first = admit_invoices(platform, datetime.now(UTC))
    again = admit_invoices(platform, datetime.now(UTC) + timedelta(minutes=5))

    assert (first.runs, first.admitted) == (["run-1"], 2)
    assert (again.runs, again.admitted) == (["run-1"], 0)  # within the overlap: read, not written
    admitted = platform.ledger.receivables(numbers)
    assert sorted(admitted) == sorted(numbers[:2])
    stored = platform.store.get_invoice(admitted[numbers[0]].invoice_id)
    assert stored is not None
    assert admitted[numbers[0]].gross == stored.invoice.gross_total
    assert stored.invoice.due_date is not None
    assert admitted[numbers[0]].status(stored.invoice.due_date) is ReceivableStatus.OPEN
    assert [r.number for r in platform.ledger.unsettled_receivables()] == sorted(numbers[:2])


def test_the_monthly_run_itself_writes_nothing_to_the_ledger(platform: Platform) -> None:
    _finished_run(platform, "run-1", {"ACC-B1": True})
    assert list(platform.ledger.unsettled_receivables()) == []
    assert platform.ledger.admission_cursor() is None


def test_a_credit_note_of_a_later_run_is_applied_to_the_invoice_it_credits(
    platform: Platform,
) -> None:
    (number,) = _finished_run(platform, "run-1", {"ACC-C1": True})
    admit_invoices(platform, datetime.now(UTC))
    original = platform.ledger.receivable(number)
    assert original is not None
    stored = platform.store.get_invoice(original.invoice_id)
    assert stored is not None
    credit = create_credit_note(stored.invoice, "Service outage", run_id="run-2")
    credit = credit.model_copy(update={"invoice_id": f"credit:{credit.invoice_id}"})
    platform.store.create_run(
        RunContext(run_id="run-2", period="2026-11", mode="live", approval_timeout_seconds=60),
        NOW.isoformat(),
    )
    platform.store.create_draft(credit)
    platform.store.finalize(
        [credit.invoice_id],
        "run-2",
        number_series(platform.legal_entity, "live", 2026),
        lambda draft, n: finalized_copy(draft, platform.legal_entity, n, NOW),
    )
    platform.store.claim_dispatch(credit.invoice_id)
    platform.store.record_sent(credit.invoice_id, "msg-credit", finished=False)
    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn = f"arn:aws:states:{REGION}:{ACCOUNT_ID}:stateMachine:MonthlyRun"
    sfn.stop_execution(
        executionArn=sfn.start_execution(stateMachineArn=arn, name="run-2")["executionArn"]
    )

    result = admit_invoices(platform, datetime.now(UTC))

    assert result.credit_notes == 1
    credited = platform.ledger.receivable(number)
    assert credited is not None
    assert credited.total(EntryKind.CREDIT) == original.gross
    assert credited.open_amount == Decimal("0.00")
    assert credited.status(NOW.date()) is ReceivableStatus.CREDITED
