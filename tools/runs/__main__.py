"""The run history from the command line: every run of any kind, newest first.

    python -m tools.runs list [--limit N] [--stack NAME | --out DIR]
    python -m tools.runs show RUN [--stack NAME | --out DIR]

Without ``--stack`` it reads the local stack's kept data (``out/.local-stack/``, what
``make demo`` leaves): the billing table is put back into moto and read through the same
adapter a Lambda uses. With ``--stack`` it reads the deployed stack's table, named by its
``BillingTableName`` output, with the caller's AWS credentials. Both read by key (the
``HISTORY`` partition, newest first; a run by its id through GSI1), never by a scan.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3

from invoice_dispatch.adapters.history_store import HistoryStore
from invoice_dispatch.history import RunHistoryRecord
from tools.local_run.wiring import REGION, REPO_ROOT

#: Where ``make demo`` keeps the local stack's data, under its ``--out``.
STATE_FOLDER = ".local-stack"


@contextmanager
def deployed_history(stack_name: str) -> Iterator[HistoryStore]:
    outputs = boto3.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]
    table = {o["OutputKey"]: o["OutputValue"] for o in outputs.get("Outputs", [])}
    if "BillingTableName" not in table:
        raise SystemExit(f"Stack {stack_name} has no BillingTableName output")
    yield HistoryStore(boto3.resource("dynamodb").Table(table["BillingTableName"]))


@contextmanager
def local_history(out: Path) -> Iterator[HistoryStore]:
    from moto import mock_aws

    from tools.local_run.persistence import StackState
    from tools.local_run.stack import LocalStack
    from tools.local_run.wiring import Template

    stack = LocalStack(Template())
    state = StackState(out / STATE_FOLDER, stack.names)
    if not state.exists():
        raise SystemExit(f"No local stack data in {state.directory}/: run `make demo` first")
    with mock_aws():
        stack.create_table()
        state.restore_table()
        yield HistoryStore(boto3.resource("dynamodb", region_name=REGION).Table(stack.names.table))


def _latency(record: RunHistoryRecord) -> str:
    if not record.erp_latency.count:
        return "-"
    return f"{record.erp_latency.percentile(50)}/{record.erp_latency.percentile(95)}s"


def list_line(record: RunHistoryRecord) -> str:
    counts = record.counts
    rate = record.delivery_rate_percent
    return (
        f"{record.started_at:%Y-%m-%d %H:%M}  {record.run_id:<44} {record.kind.value:<12} "
        f"{record.period or '-':<10} {record.status:<16} "
        f"{counts.get('finalized', 0):>6} {record.exceptions.held:>5} "
        f"{record.exceptions.quarantined:>5} {f'{rate}%' if rate is not None else '-':>7} "
        f"{_latency(record):>13} {record.duration_seconds:>8.1f}s"
    )


LIST_HEADER = (
    f"{'started':<16}  {'run':<44} {'kind':<12} {'period':<10} {'status':<16} "
    f"{'final':>6} {'held':>5} {'quar':>5} {'deliv':>7} {'ERP p50/p95':>13} {'duration':>9}"
)


def show_lines(record: RunHistoryRecord) -> list[str]:
    lines = [
        f"Run {record.run_id}",
        f"  kind               {record.kind.value}",
        f"  period, mode       {record.period or '-'}, {record.mode}",
        f"  status             {record.status}",
        f"  started, finished  {record.started_at.isoformat()}, {record.finished_at.isoformat()}",
        f"  duration           {record.duration_seconds:.1f} s",
    ]
    lines += [f"  {name:<18} {value}" for name, value in record.counts.items()]
    for currency, totals in record.totals_by_currency.items():
        amounts = "  ".join(f"{name} {value}" for name, value in totals.items())
        lines.append(f"  total {currency:<12} {amounts}")
    if record.emails_sent:
        rate = record.delivery_rate_percent
        lines.append(
            f"  delivery rate      {rate if rate is not None else '-'} % "
            f"({record.emails_delivered} delivered of {record.emails_reported} SES reported on; "
            f"{record.emails_sent} sent)"
        )
    if record.erp_latency.count:
        lines.append(f"  ERP latency        p50/p95 {_latency(record)}")
    if record.approval_turnaround_seconds is not None:
        lines.append(f"  approval turnaround {record.approval_turnaround_seconds:.0f} s")
    for currency, days in record.dso_days.items():
        lines.append(f"  DSO {currency:<14} {days if days is not None else '-'} days")
    exceptions = record.exceptions.model_dump(exclude={"examples"}, exclude_none=True)
    lines.append(f"  exceptions         {json.dumps(exceptions)}")
    lines += [f"    {example}" for example in record.exceptions.examples]
    if record.report_key:
        lines.append(f"  report             {record.report_key}")
    return lines


def main(argv: list[str] | None = None) -> int:
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument("--stack", help="a deployed stack's name (reads its BillingTableName)")
    where.add_argument("--out", type=Path, default=REPO_ROOT / "out", help="the local output")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", parents=[where], help="the newest runs, newest first")
    listing.add_argument("--limit", type=int, default=50)
    show = commands.add_parser("show", parents=[where], help="one run's record")
    show.add_argument("run_id")
    arguments = parser.parse_args(argv)
    source = deployed_history(arguments.stack) if arguments.stack else local_history(arguments.out)
    with source as history:
        if arguments.command == "list":
            print(LIST_HEADER)
            for record in history.recent(arguments.limit):
                print(list_line(record))
            return 0
        record = history.get(arguments.run_id)
        if record is None:
            print(f"No run {arguments.run_id} in the history", file=sys.stderr)
            return 1
        print("\n".join(show_lines(record)))
        return 0


if __name__ == "__main__":
    sys.exit(main())
