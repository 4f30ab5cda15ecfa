"""``make demo``: a complete monthly run on the bundled sample accounts, no AWS account.

python -m tools.local_run [--accounts FILE | --accounts-count N] [--period YYYY-MM]
                          [--mode live|shadow] [--wait-for-approval] [--erp http|tryton|none]
                          [--out DIR] [--fresh] [--fail-at POINT] [--resume]
                          [--ses-max-send-rate R] [--timeout-seconds S] [--metering FILE]
                          [--collections [--as-of YYYY-MM-DD]] [--milestone EVENT]

The stack's data (table, bucket, queue, secrets) is kept in DIR/.local-stack/ between
runs, as a deployed stack keeps it; --fresh starts from an empty stack. --fail-at kills
the Lambda at a named moment (tools/local_run/faults.py) with an error no Retry matches;
a following --resume run finishes what it left, and both print their reconciliation.

--accounts-count runs N synthetic accounts (tools/synthetic_accounts.py) instead of a
file. --ses-max-send-rate replaces the template's SES rate (0: unpaced; moto never
throttles, so a big local run need not wait for the rate an AWS account has). The run
is given time in proportion to its accounts unless --timeout-seconds says otherwise.
--metering writes what the run would use on AWS (tools/local_run/metering.py) as JSON.

--collections bills the sample accounts on a fresh stack and then runs the daily
collections state machine once per simulated day up to --as-of, with the bundled
payments arriving on their days (tools/local_run/collections_demo.py).

--milestone puts a MilestoneCompleted event (events/milestones/*.json) through the same
state machine, as the template's EventBridge rule does: one invoice for the part it
names, approved and delivered like the monthly batch. The same event again bills nothing
and says why.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import ctypes
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

from invoice_dispatch.platform import get_platform
from tools.audit.commands import export_register
from tools.local_run.collections_demo import connect_webhook, demo_gateway, run_collections_days
from tools.local_run.corrections import demo_credit_note
from tools.local_run.faults import CRASH_POINTS, CrashPlan, crashing
from tools.local_run.metering import Meter
from tools.local_run.persistence import HTTP_ERP_FILE, StackState
from tools.local_run.portal import demo_portal
from tools.local_run.runner import ApprovalPlan, ErpTarget, LocalEnvironment, RunResult
from tools.local_run.wiring import REPO_ROOT, LocalNames, Template
from tools.synthetic_accounts import write_accounts

DEFAULT_ACCOUNTS = REPO_ROOT / "events" / "accounts" / "sample-accounts.json"
DEFAULT_PERIOD = "2026-11"  # the period the bundled sample accounts describe
STATE_FOLDER = ".local-stack"
#: What "--ses-max-send-rate 0" sets (the rate must be > 0): a thousand a second, far above
#: the tens a second the local stack sends, so it never waits on a slot, while its senders
#: still reserve slots in blocks of many, as paced ones do on AWS. (At a million a second
#: each block's slots were microseconds apart and gone before the next e-mail: one
#: reservation per e-mail.)
UNPACED_SEND_RATE = 1_000.0
SYNTHETIC_FOLDER = ".synthetic"
#: A run may take this long whatever its size (the bundled demo takes seconds) ...
BASE_TIMEOUT_SECONDS = 900.0
#: ... plus, per account, time for its work (about 0.1 s here) twice over, and its SES pacing.
WORK_SECONDS_PER_ACCOUNT = 0.2
M_ARENA_MAX = -8  # mallopt's parameter number, from glibc's malloc.h


def use_two_malloc_arenas() -> None:
    """glibc gives each new thread a heap arena of its own, up to eight per core; a run's
    large short-lived strings (every e-mail's MIME and its base64, every request body)
    then leave freed holes in many arenas and RSS grows with the run (1.3 GB at 10,000
    invoices, 500 MB of it Python objects). The GIL lets one thread allocate at a time
    anyway, so two arenas cost no speed. Elsewhere than glibc this does nothing."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").mallopt(M_ARENA_MAX, 2)


def count_accounts(path: Path) -> int:
    """How many accounts a JSON list or CSV file holds."""
    if path.suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as rows:
            return sum(1 for _ in csv.DictReader(rows))
    accounts = json.loads(path.read_text(encoding="utf-8"))
    return len(accounts) if isinstance(accounts, list) else 1


def default_timeout(accounts: int, ses_rate: float, waits_for_person: bool) -> float:
    """Enough time for a run of ``accounts``: a fixed 900 s used to stop big runs midway."""
    pacing = accounts / ses_rate if ses_rate > 0 else 0.0
    person = 2700.0 if waits_for_person else 0.0
    return BASE_TIMEOUT_SECONDS + person + accounts * WORK_SECONDS_PER_ACCOUNT + pacing


class Progress:
    """One line per business step, with the elapsed time: readable in a terminal and in CI logs."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.last_step = ""
        self.step_counts: dict[str, int] = {}

    def __call__(self, step: str) -> None:
        self.step_counts[step] = self.step_counts.get(step, 0) + 1
        if step == self.last_step:
            self._bar(step)
            return
        if self.last_step:
            sys.stdout.write("\n")
        self.last_step = step
        self._bar(step)

    def _bar(self, step: str) -> None:
        count = self.step_counts[step]
        elapsed = time.monotonic() - self.started
        bar = "#" * min(count, 30)
        suffix = (
            f" [{bar:<30}] chunk {count}" if step.endswith(("drafts", "invoices", "ERP")) else ""
        )
        sys.stdout.write(f"\r  {elapsed:6.1f}s  {step:<28}{suffix}")
        sys.stdout.flush()


@contextlib.contextmanager
def erp_for(kind: str, work_dir: Path, state_dir: Path | None = None) -> Iterator[ErpTarget]:
    """Start the ERP the run books into: a local HTTP ERP (kept with the stack's data, so
    ``python -m tools.audit verify`` can compare its bookings later), a real Tryton, or none."""
    if kind == "none":
        yield ErpTarget("none")
        return
    if kind == "tryton":
        from tools.erp.tryton_server import dump_tryton_bookings, running_tryton

        with running_tryton(work_dir / "tryton") as (endpoint, _process):
            print(f"  Tryton ready on {endpoint.url} (set-up {endpoint.setup_seconds:.1f} s)")
            yield ErpTarget(
                "tryton",
                endpoint.url,
                {
                    "database": endpoint.database,
                    "user": endpoint.user,
                    "password": endpoint.password,
                },
                lambda directory: dump_tryton_bookings(endpoint, directory),
            )
        return
    from tools.erp.http_erp_server import running_http_erp

    kept_in = state_dir / HTTP_ERP_FILE if state_dir else None
    with running_http_erp(kept_in=kept_in) as (url, erp_state):
        yield ErpTarget("http", url, {"token": "local-demo-token"}, erp_state.dump)


COUNT_LABELS = (
    ("accounts in source", "source_accounts"),
    ("eligible", "eligible"),
    ("excluded", "excluded"),
    ("quarantined", "quarantined"),
    ("held", "held"),
    ("finalized", "finalized"),
    ("e-mails sent", "emails_sent"),
    ("booked in ERP", "erp_posted"),
    ("ERP problems", "erp_failed"),
)
SHOWN = 10  # invoice lines per list; run.json has them all
OUTPUT_FOLDERS = (
    ("invoices", "*.pdf", "PDF(s)"),
    ("outbox", "*.eml", "e-mail(s) as SES was asked to send them"),
    ("erp", "*.json", "booking(s) as the ERP received them"),
)


def print_summary(result: RunResult, seconds: float) -> None:
    report = result.report or {}
    reconciliation = report.get("reconciliation") or {}
    counts = report.get("counts", {})
    outcome = report.get("status", "no report")
    if result.ignored:
        print(f"\n\nExecution {result.run_id}: {result.status}, nothing started: {result.ignored}")
        return
    print(f"\n\nRun {result.run_id}: {result.status} ({outcome}) in {seconds:.1f} s")
    if result.error:
        print(f"  error: {result.error}")
    if report.get("error"):
        print(f"  reason: {report['error']}")
    for label, key in COUNT_LABELS:
        print(f"  {label:<20} {counts.get(key, 0)}")
    for currency, totals in report.get("totals_by_currency", {}).items():
        amounts = f"net {totals['net']:>14}  tax {totals['tax']:>12}  gross {totals['gross']:>14}"
        print(f"  total {currency:<14} {amounts}")
    for entry in report.get("quarantined", []):
        print(f"  quarantined {entry['account_id']}: {entry['reason']}")
    if report.get("milestone"):
        for entry in report.get("excluded", []):
            print(f"  excluded {entry['account_id']}: {entry['reason']}")
    for equation in reconciliation.get("equations", []):
        print(f"  {equation}")
    for problem in reconciliation.get("problems", []):
        print(f"  NOT RECONCILED {problem}")
    unfinished = reconciliation.get("unreconciled", [])
    for entry in unfinished[:SHOWN]:
        print(f"  UNFINISHED {entry['detail']}")
    if len(unfinished) > SHOWN:
        print(f"  ... and {len(unfinished) - SHOWN} more unfinished (run.json lists each)")
    if reconciliation.get("possibly_sent_twice"):
        print(f"  possibly sent twice: {reconciliation['possibly_sent_twice']}")
    listed = {entry["invoice_id"] for entry in reconciliation.get("unreconciled", [])}
    for entry in [f for f in report.get("failures", []) if f["invoice_id"] not in listed][:SHOWN]:
        print(f"  FAILED {entry['invoice_id']}: {entry['reason']}")
    print(f"\nOutput in {result.out_dir}/")
    for folder, pattern, what in OUTPUT_FOLDERS:
        if (result.out_dir / folder).exists():
            found = len(list((result.out_dir / folder).glob(pattern)))
            print(f"  {folder + '/':<10} {found} {what}")
    print("  run.json   counts, totals per currency, quarantined accounts with reasons")


def print_history_page(env: LocalEnvironment) -> None:
    if env.history_page.exists():
        print(f"\nRun history and KPIs: {env.history_page}")
        print("  every run this stack kept, and `python -m tools.runs list` lists them")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    sources = parser.add_mutually_exclusive_group()
    sources.add_argument(
        "--accounts", type=Path, default=DEFAULT_ACCOUNTS, help="JSON or CSV account file"
    )
    sources.add_argument(
        "--accounts-count",
        type=int,
        metavar="N",
        help="run N synthetic accounts (deterministic) instead of a file",
    )
    parser.add_argument("--period", default=DEFAULT_PERIOD, help="billing period, YYYY-MM")
    parser.add_argument("--mode", choices=("live", "shadow"), default="live")
    parser.add_argument(
        "--wait-for-approval",
        action="store_true",
        help="serve the approval page on localhost and wait for a real click",
    )
    parser.add_argument("--erp", choices=("http", "tryton", "none"), default="http")
    parser.add_argument(
        "--fail-at",
        choices=sorted(CRASH_POINTS),
        help="kill the Lambda at this moment, as a timeout or out-of-memory would",
    )
    parser.add_argument(
        "--resume", action="store_true", help="only finish what earlier runs left half-done"
    )
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "out")
    parser.add_argument(
        "--fresh", action="store_true", help="forget the stack's data kept from earlier runs"
    )
    parser.add_argument(
        "--ses-max-send-rate",
        type=float,
        metavar="R",
        help="messages per second SES allows (default: the template's; 0: unpaced)",
    )
    parser.add_argument(
        "--timeout-seconds",
        type=float,
        metavar="S",
        help="stop waiting for the run after S seconds (default: in proportion to accounts)",
    )
    parser.add_argument(
        "--metering", type=Path, metavar="FILE", help="write what the run would use on AWS"
    )
    parser.add_argument(
        "--collections",
        action="store_true",
        help="then run the daily collections run day by day (simulated clock) up to --as-of",
    )
    parser.add_argument(
        "--as-of",
        type=date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="the collections demo's last day (default: the first escalation's day)",
    )
    parser.add_argument(
        "--milestone",
        type=Path,
        metavar="EVENT",
        help="bill the milestone a MilestoneCompleted event (JSON file) names",
    )
    arguments = parser.parse_args(argv)
    use_two_malloc_arenas()
    if arguments.as_of and not arguments.collections:
        parser.error("--as-of is the collections demo's clock: use it with --collections")
    if arguments.collections:
        return collections_main(arguments)
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", arguments.period):
        parser.error(f"--period must look like 2026-11, not '{arguments.period}'")
    if arguments.accounts_count is not None:
        if arguments.accounts_count < 1:
            parser.error("--accounts-count must be 1 or more")
        arguments.accounts = write_accounts(
            arguments.out / SYNTHETIC_FOLDER / f"accounts-{arguments.accounts_count}.json",
            arguments.accounts_count,
        )
    if not arguments.accounts.exists():
        parser.error(f"--accounts: no such file {arguments.accounts}")
    if arguments.milestone and not arguments.milestone.exists():
        parser.error(f"--milestone: no such file {arguments.milestone}")
    parameters: dict[str, object] = {}
    ses_rate = float(Template().parameter_default("SesMaxSendRate"))
    if arguments.ses_max_send_rate is not None:
        if arguments.ses_max_send_rate < 0:
            parser.error("--ses-max-send-rate must be 0 (unpaced) or more")
        ses_rate = arguments.ses_max_send_rate
        parameters["SesMaxSendRate"] = ses_rate or UNPACED_SEND_RATE
    timeout = arguments.timeout_seconds or default_timeout(
        count_accounts(arguments.accounts), ses_rate, arguments.wait_for_approval
    )
    meter = Meter() if arguments.metering else None

    started = time.monotonic()
    progress = Progress()
    source = arguments.accounts.name
    if arguments.milestone:
        print(f"Milestone invoice run for {arguments.milestone.name} on {source}")
    else:
        print(f"Monthly invoice run for {arguments.period} ({arguments.mode}) on {source}")
    state = StackState(arguments.out / STATE_FOLDER, LocalNames())
    if arguments.fresh:
        state.forget()
    kept = "kept from earlier runs" if state.exists() else "new"
    print(f"  Stack data in {state.directory}/ ({kept}; --fresh starts over)")

    def announce(link: str) -> None:
        if arguments.wait_for_approval:
            print(
                f"\n\n  Open this link to review and approve the batch:\n\n    {link}\n", flush=True
            )

    approval = ApprovalPlan(wait_for_person=arguments.wait_for_approval, on_link=announce)
    start_input: dict[str, object] = {"period": arguments.period, "mode": arguments.mode}
    if arguments.resume:
        start_input["resume"] = True
    if arguments.milestone:
        start_input = json.loads(arguments.milestone.read_text(encoding="utf-8"))
    # Deployed, an e-mail claim outlives its sender by 20 minutes; here a few seconds, so
    # a --resume right after --fail-at after-claim shows the claim given up and re-sent.
    os.environ.setdefault("DISPATCH_CLAIM_LEASE_SECONDS", "5")
    crash = CrashPlan(arguments.fail_at) if arguments.fail_at else None
    with (
        tempfile.TemporaryDirectory() as work_dir,
        erp_for(arguments.erp, Path(work_dir), state.directory) as erp,
        # The portal's "Pay online" leads to it: a thread, up as long as the stack.
        demo_gateway() as (gateway_parameters, gateway),
        LocalEnvironment(
            arguments.accounts,
            arguments.out,
            erp,
            parameters={**parameters, **gateway_parameters},
            progress=progress,
            state_dir=state.directory,
            meter=meter,
        ) as env,
        crashing(crash),
    ):
        connect_webhook(gateway, env)
        run_started = time.monotonic()
        result = env.run(start_input, approval, timeout_seconds=timeout)
        run_seconds = time.monotonic() - run_started
        live = (
            result.status == "SUCCEEDED"
            and arguments.mode == "live"
            and not (crash or arguments.milestone)
        )
        # The add-ons show features on the bundled sample. On N synthetic accounts each
        # would add a pass over the whole period (every invoice admitted to the ledger for
        # the credit note, the register written again, the period read for the portal) to
        # what is a measurement of the monthly run.
        add_ons = live and arguments.accounts_count is None
        credit_note = demo_credit_note(env) if add_ons and not approval.wait_for_person else []
        # Again after the credit note (the run's summary wrote it before): a few ms here.
        register = (
            export_register(arguments.period, get_platform(), arguments.out) if add_ons else []
        )
        portal = demo_portal(env, arguments.period) if add_ons else []
    print_summary(result, time.monotonic() - started)
    for line in [*credit_note, *register, *portal]:
        print(line)
    if live and not add_ons:
        print(
            "Credit note, register copy and portal: shown on the bundled sample accounts only;"
            f" this run's register is in the bucket under registers/{arguments.period}/"
        )
    print_history_page(env)
    if meter and arguments.metering:
        figures = {
            "run_seconds": round(run_seconds, 3),
            "main_seconds": round(time.monotonic() - started, 3),
            "status": result.status,
            "report": result.report,
            **meter.figures(),
        }
        arguments.metering.parent.mkdir(parents=True, exist_ok=True)
        arguments.metering.write_text(json.dumps(figures, indent=1), encoding="utf-8")
        print(f"  metering   {arguments.metering}")
    return 0 if result.status == "SUCCEEDED" else 1


def collections_main(arguments: argparse.Namespace) -> int:
    """Bill the sample accounts on a fresh stack, then walk the collections days."""
    started = time.monotonic()
    print(
        f"Collections demo: the monthly run for {arguments.period}, then one collections run a day"
    )
    os.environ.setdefault("DISPATCH_CLAIM_LEASE_SECONDS", "5")
    with (
        erp_for(arguments.erp, Path(tempfile.mkdtemp())) as erp,
        demo_gateway() as (gateway_parameters, _gateway),
        LocalEnvironment(arguments.accounts, arguments.out, erp, gateway_parameters) as env,
    ):
        monthly = env.run({"period": arguments.period, "mode": "live"}, ApprovalPlan())
        print_summary(monthly, time.monotonic() - started)
        if monthly.status != "SUCCEEDED":
            return 1
        schedule = get_platform().reminder_schedule
        invoices = [stored.invoice for stored in get_platform().store.run_invoices(monthly.run_id)]
        due_dates = [invoice.due_date for invoice in invoices if invoice.due_date]
        charge_days = [i.issue_date for i in invoices if i.auto_pay and i.issue_date]
        first_day = min([min(due_dates) + timedelta(days=schedule.stages[0].offset), *charge_days])
        as_of = arguments.as_of or schedule.escalation_day(min(due_dates), None)
        if as_of < first_day:
            print(f"\n--as-of {as_of} is before the first collections day ({first_day})")
            return 1
        print(f"\nCollections from {first_day} to {as_of} (simulated clock)\n")
        out_dir = arguments.out / "collections"
        report = run_collections_days(env, first_day, as_of, out_dir)
        text = (out_dir / "report.txt").read_text()
    print(f"\n{text}")
    print(f"Collections done in {time.monotonic() - started:.1f} s; output in {out_dir}/")
    print("  report.json, report.txt, report.html   the KPIs of the last day")
    print_history_page(env)
    sent = len(list((out_dir / "outbox").glob("*.eml")))
    print(f"  outbox/   {sent} reminder and escalation e-mail(s)")
    return 0 if report else 1


if __name__ == "__main__":
    raise SystemExit(main())
