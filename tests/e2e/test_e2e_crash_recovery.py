"""The crash-point matrix: a Lambda dies at each boundary, and a retry, a resume or the next
monthly run finishes the work exactly once. Real ASL in moto, real handlers, a real HTTP ERP.

After every case: each approved invoice has exactly one number with no gaps, one stored
PDF, one e-mail (two only where the run counted it "possibly sent twice"), one ERP
booking, and the last run's report reconciles.
"""

from __future__ import annotations

import email
import email.policy
import re
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from invoice_dispatch.events import StepError
from invoice_dispatch.invoice import InvoiceStatus
from invoice_dispatch.platform import get_platform
from tests.e2e.conftest import SAMPLE_ACCOUNTS
from tools.erp.http_erp_server import HttpErpState, running_http_erp
from tools.local_run.faults import CrashPlan, crashing
from tools.local_run.runner import ErpTarget, LocalEnvironment, RunResult
from tools.local_run.wiring import REGION

pytestmark = pytest.mark.e2e

PERIOD = "2026-11"
ACCOUNTS = ["ACC-1001", "ACC-1002", "ACC-1003", "ACC-1004"]  # ACC-1004 is paused: 3 invoices
START = {"period": PERIOD, "account_ids": ACCOUNTS}
#: "retry": killed once with Sandbox.Timedout, which the state machine retries;
#: "resume" / "second run": killed with an error no Retry matches, then a new run finishes.
RECOVERIES = {
    "retry": ("Sandbox.Timedout", None),
    "resume": ("Runtime.ExitError", {"period": PERIOD, "resume": True}),
    "second run": ("Runtime.ExitError", START),
}
#: NumberInvoices' failure is caught: the chunks number what it left, in the same run.
RECOVERED_WITHIN_THE_RUN = {"after-number"}
MATRIX = [
    ("after-draft", "retry"),
    ("after-draft", "second run"),
    ("after-number", "retry"),
    ("after-number", "resume"),
    ("after-number", "second run"),
    ("after-pdf", "retry"),
    ("after-pdf", "resume"),
    ("after-claim", "retry"),
    ("after-claim", "resume"),
    ("after-claim", "second run"),
    ("after-ses", "retry"),
    ("after-ses", "resume"),
    ("after-erp", "retry"),
    ("after-erp", "resume"),
]


class Crashable:
    def __init__(self, env: LocalEnvironment, erp: HttpErpState) -> None:
        self.env = env
        self.erp = erp


@pytest.fixture
def crashable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Crashable]:
    # An expired claim is sent again at once here; deployed, the lease outlives the sender.
    monkeypatch.setenv("DISPATCH_CLAIM_LEASE_SECONDS", "0")
    with (
        running_http_erp() as (url, erp),
        LocalEnvironment(SAMPLE_ACCOUNTS, tmp_path, ErpTarget("http", url, {"token": "t"})) as env,
    ):
        yield Crashable(env, erp)


def _assert_everything_done_exactly_once(stack: Crashable, last: RunResult) -> None:
    store = get_platform().store
    invoices = [s for s in store.period_invoices("live", PERIOD)]
    finalized = [s for s in invoices if s.invoice.status is InvoiceStatus.FINALIZED]
    numbers = sorted(s.invoice.number or "" for s in finalized)
    assert numbers == [f"INV-2026-{n:06d}" for n in range(1, 4)], "gapless, one number each"

    listing = boto3.client("s3", region_name=REGION).list_objects_v2(
        Bucket=store_bucket(), Prefix=f"invoices/live/{PERIOD}/"
    )
    assert sorted(o["Key"].rsplit("/", 1)[-1] for o in listing["Contents"]) == [
        f"{n}.pdf" for n in numbers
    ]
    assert all(s.pdf_key for s in finalized)

    subjects = [
        str(email.message_from_string(raw, policy=email.policy.default)["Subject"])
        for raw in (getattr(m, "raw_data", "") for m in stack.env.sent_messages())
    ]
    for stored in finalized:
        # By subject: a portal customer's e-mail carries a link, not the PDF.
        sent = sum(str(stored.invoice.number) in subject for subject in subjects)
        # A claim that outlived its sender is sent again: once or twice, and counted.
        assert 1 <= sent <= (2 if stored.possibly_sent_twice else 1), stored.invoice.number
    assert sorted(stack.erp.bookings) == numbers

    assert last.status == "SUCCEEDED", last.error
    assert last.report is not None and last.report["status"] == "completed"
    assert last.report["reconciliation"]["complete"] is True
    assert list(store.unfinished_invoice_ids("live")) == []
    assert list(store.unsettled_runs("live")) == []


def store_bucket() -> str:
    return get_platform().documents.bucket


@pytest.mark.parametrize(("point", "recovery"), MATRIX, ids=[f"{p}-{r}" for p, r in MATRIX])
def test_a_crash_is_finished_exactly_once(crashable: Crashable, point: str, recovery: str) -> None:
    error_type, next_input = RECOVERIES[recovery]

    with crashing(CrashPlan(point, error_type)) as plan:
        crashed = crashable.env.run(START)
    assert plan is not None and plan.fired == 1, f"{point} never happened"

    if (next_input is None and point != "after-claim") or point in RECOVERED_WITHIN_THE_RUN:
        _assert_everything_done_exactly_once(crashable, crashed)
        return
    if next_input is None:
        # A retry finds the claim held and cannot know whether SES has the e-mail: the run
        # says so, and the next run sends it once the claim's lease has run out.
        next_input = {"period": PERIOD, "resume": True}
    assert crashed.report is not None
    assert crashed.status == "FAILED"
    if point == "after-draft":  # drafting failed: the run says why and frees its drafts
        assert crashed.report["status"] == "failed" and crashed.report["error"]
    else:  # delivery went on around the crash and the run lists what is left
        assert crashed.report["status"] == "incomplete"
        assert crashed.report["reconciliation"]["unreconciled"]
    finished = crashable.env.run(next_input)
    _assert_everything_done_exactly_once(crashable, finished)


def test_a_run_that_dies_before_its_summary_is_finished_by_the_next_run(
    crashable: Crashable,
) -> None:
    """No summary entered the unfinished invoices in the index: the run's own entry,
    written with its record, is what the next run finds and opens."""
    store = get_platform().store
    with (
        crashing(CrashPlan("after-claim")),
        crashing(CrashPlan("before-summary")) as summary_crash,
    ):
        dead = crashable.env.run(START)
    assert summary_crash is not None and summary_crash.fired == 1
    assert dead.status == "FAILED" and dead.report is None
    assert list(store.unsettled_runs("live")) == [(PERIOD, dead.run_id)]
    assert list(store.unfinished_invoice_ids("live")) == []

    finished = crashable.env.run({**START, "break_lock": dead.run_id})

    _assert_everything_done_exactly_once(crashable, finished)
    assert list(store.unsettled_runs("live")) == []


def test_a_claim_whose_ses_answer_never_came_is_sent_again_and_counted(
    crashable: Crashable,
) -> None:
    with crashing(CrashPlan("after-claim", "Runtime.ExitError")):
        crashed = crashable.env.run(START)
    resumed = crashable.env.run({"period": PERIOD, "resume": True})

    assert crashed.report is not None
    stages = [u["stage"] for u in crashed.report["reconciliation"]["unreconciled"]]
    assert "claimed" in stages
    assert resumed.report is not None
    assert resumed.report["counts"]["possibly_sent_twice"] == 1
    assert resumed.report["reconciliation"]["possibly_sent_twice"] == 1


def test_two_starts_for_one_period_at_once_leave_one_run_and_one_approval_email(
    crashable: Crashable,
) -> None:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    machine = crashable.env.state_machine_arn
    emails_before = len(crashable.env.sent_messages())
    for name in ("first", "second"):  # both started before either has done anything
        sfn.start_execution(stateMachineArn=machine, name=name, input='{"period": "2026-11"}')

    outcomes = _settle(sfn, machine)

    blocked = [o for o in outcomes.values() if o["status"] == "FAILED"]
    assert len(blocked) == 1 and blocked[0]["error"] == "RunAlreadyActive"
    winner = next(name for name, o in outcomes.items() if o["status"] == "RUNNING")
    loser = next(name for name, o in outcomes.items() if o["status"] == "FAILED")
    sentence = StepError(Error="RunAlreadyActive", Cause=blocked[0]["cause"]).message
    assert re.match(rf"Run {winner} for 2026-11 is (drafting|awaiting approval) since ", sentence)
    assert "; nothing was done." in sentence
    store = get_platform().store
    assert store.get_run(loser) is None, "the blocked start wrote no run record"
    assert {s.invoice.run_id for s in store.period_invoices("live", PERIOD)} == {winner}
    approval_emails = [
        m for m in crashable.env.sent_messages()[emails_before:] if "/approvals/" in m.raw_data
    ]
    assert len(approval_emails) == 1


def _settle(sfn: object, machine: str) -> dict[str, dict[str, str]]:
    """Wait until one start has failed and the other waits for its approver."""
    outcomes: dict[str, dict[str, str]] = {}
    for _ in range(600):
        outcomes = {
            e["name"]: sfn.describe_execution(executionArn=e["executionArn"])  # type: ignore[attr-defined]
            for e in sfn.list_executions(stateMachineArn=machine)["executions"]  # type: ignore[attr-defined]
        }
        runs = [get_platform().store.get_run(name) for name in outcomes]
        waiting = any(run and run["status"] == "awaiting_approval" for run in runs)
        if waiting and any(o["status"] == "FAILED" for o in outcomes.values()):
            time.sleep(0.5)  # the approval e-mail leaves just after the token is stored
            return outcomes
        time.sleep(0.05)
    raise AssertionError(f"The two starts did not settle: {outcomes}")
