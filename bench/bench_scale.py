"""Scale: whole local runs of 1,000 and 10,000 accounts, per invoice, priced at AWS list prices.

``make bench ARGS=scale`` (not part of ``make bench``: the two runs take minutes) runs
the real state machine on synthetic accounts (``tools/synthetic_accounts.py``), each run
in a fresh stack in its own process (``python -m tools.local_run --metering``), so that
its peak RSS is its own (``os.wait4``). Issue 15 asks that an invoice cost as much local
time at 10,000 accounts as at 1,000 (within 1.3x), under 2 GB. For each run it reports:

* wall time per invoice and the 10k/1k ratio; peak RSS; CPU time;
* AWS calls per invoice by service, made by the Lambda handlers (the state machine's own
  Lambda invokes and S3 ItemReader reads are shown apart; the local runner's are not
  counted); DynamoDB write and read units per invoice (``tools/local_run/metering.py``
  says how they are computed and what is approximate);
* Lambda GB-seconds per invoice per function: the handler thread's CPU time times the
  function's MemorySize in ``infra/template.yaml``. moto answers in-process, so this
  CPU time includes moto's work where AWS would spend network time: an estimate;
* DynamoDB write units by item kind (INVOICE, RUN, SERIES, RATE, ...). The local run's
  unpaced senders reserve send slots far more often than paced ones: the cost replaces
  its RATE writes with one write per ``BLOCK_SECONDS`` of paced sending (below);
* SES pacing: locally SES is unpaced (``--ses-max-send-rate 0``; moto never throttles).
  On AWS the DispatchInvoices Lambdas share the template's ``SesMaxSendRate`` in
  ``SesSendLanes`` lanes: modelled as lanes/rate seconds of DispatchInvoices duration per
  e-mail (one Lambda alive per lane), added to its GB-seconds and shown on its own;
* Step Functions: states entered by the execution and by the Standard delivery children
  (one transition each); the Express drafting children, one request each, billed for
  their Lambda's time at 64 MB;
* cost per 1,000 invoices, itemized, at the list prices in ``PRICES``;
* each whole-run step's CPU time scaled to 100,000 invoices, against its timeout at its
  share of a vCPU (``WHOLE_RUN_STEPS``);
* the largest payloads (Lambda input and output, state input and output, Map items, the
  results a Distributed Map collects into its parent) at 1k and 10k, and extrapolated
  linearly to 100k against their limits (a state's 256 KB; 6 MB for the approval API);
* a naive baseline measured in the same bench run: the same per-invoice work (screen,
  draft, number, render the PDF, build the e-mail) in a plain loop, no moto and no
  Step Functions, and the stack's time per invoice as a multiple of it.

``python -m bench scale --accounts-count 100000`` runs one size only.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import LAYER_PATH, REPO_ROOT
from invoice_dispatch.adapters.send_rate import BLOCK_SECONDS
from invoice_dispatch.billing import (
    AnomalyThresholds,
    BillingContext,
    billing_period,
    generate_draft,
    load_catalog,
    load_tax_table,
    screen_account,
)
from invoice_dispatch.legal_entity import load_legal_entity
from invoice_dispatch.rendering import InvoiceRenderer, render_invoice_email
from invoice_dispatch.workflow.finalize import finalized_copy
from invoice_dispatch.workflow.mime import build_message
from tools.local_run.metering import HTTP_API, SNS, STATE_MACHINE
from tools.local_run.runner import LOCAL_RUNNER
from tools.local_run.wiring import Template
from tools.synthetic_accounts import synthetic_accounts

COUNTS = (1_000, 10_000)
PERIOD = "2026-11"
TARGET_RATIO = 1.3
TARGET_RSS_MB = 2048
BASELINE_SAMPLE = 200
STATE_PAYLOAD_LIMIT = 256 * 1024
LAMBDA_PAYLOAD_LIMIT = 6 * 1024 * 1024
EXTRAPOLATE_TO = 100_000

#: us-east-1 list prices, USD (design.md, "Facts found by outside checks").
PRICES = {
    "sfn_standard_transition": 0.025 / 1_000,
    "sfn_express_request": 1.00 / 1_000_000,
    "sfn_express_gb_second": 0.00001667,
    "lambda_gb_second_arm64": 0.0000133334,
    "lambda_request": 0.20 / 1_000_000,
    "dynamodb_wru": 0.625 / 1_000_000,
    "dynamodb_rru": 0.125 / 1_000_000,
    "s3_put": 0.005 / 1_000,
    "s3_get": 0.0004 / 1_000,
    "sns_publish": 0.50 / 1_000_000,
    "ses_message": 0.10 / 1_000,
    "ses_attachment_gb": 0.12,
}
#: Express bills a child's memory in 64 MB steps; a Map child's state is a few KB.
EXPRESS_MEMORY_GB = 64 / 1024
#: The one Map whose children are Express (the template's DraftingChildExecutionType).
EXPRESS_CHILD_FUNCTION = "GenerateDraftsFunction"
#: Steps that go through the whole run in one invocation (NumberInvoices stops in time
#: and is called again, so it has no such limit).
WHOLE_RUN_STEPS = (
    "GatherAccountsFunction",
    "ReviewDraftsFunction",
    "RequestApprovalFunction",
    "AutoApproveFunction",
    "PlanDeliveryFunction",
    "SummarizeRunFunction",
)
#: Lambda gives one full vCPU at 1,769 MB, and a share of one below it.
FULL_VCPU_MB = 1769
S3_PUT_CLASS = {"PutObject", "CopyObject", "ListObjectsV2", "ListObjects", "PostObject"}
S3_GET_CLASS = {"GetObject", "HeadObject"}


def run_benchmark(counts: tuple[int, ...] = COUNTS) -> dict[str, Any]:
    template = Template()
    ses_rate = float(template.parameter_default("SesMaxSendRate"))
    baselines = [_baseline_seconds_per_invoice()]
    runs: dict[int, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as scratch:
        for count in counts:
            print(f"   running {count:,} accounts through the local stack ...", flush=True)
            runs[count] = _run_local_stack(count, Path(scratch))
    baselines.append(_baseline_seconds_per_invoice())
    baseline = min(baselines)
    figures: dict[str, Any] = {"baseline_ms_per_invoice": round(baseline * 1000, 2)}
    per_run = {_label(c): _run_figures(runs[c], template, ses_rate, baseline) for c in counts}
    figures.update(per_run)
    if len(counts) >= 2:
        small, large = _label(counts[0]), _label(counts[-1])
        ratio = per_run[large]["ms_per_invoice"] / per_run[small]["ms_per_invoice"]
        figures[f"ms_per_invoice_ratio_{large}_to_{small}"] = round(ratio, 3)
        figures["meets_ratio_target"] = "yes" if ratio <= TARGET_RATIO else "no"
        cpu_ratio = per_run[large]["cpu_ms_per_invoice"] / per_run[small]["cpu_ms_per_invoice"]
        figures[f"cpu_ms_per_invoice_ratio_{large}_to_{small}"] = round(cpu_ratio, 3)
        figures[f"payloads_extrapolated_to_{_label(EXTRAPOLATE_TO)}"] = _extrapolated(
            runs[counts[0]], runs[counts[-1]]
        )
    figures["meets_rss_target"] = (
        "yes" if all(run["peak_rss_mb"] < TARGET_RSS_MB for run in runs.values()) else "no"
    )
    figures["prices_usd"] = PRICES
    return figures


def _label(count: int) -> str:
    return f"{count // 1000}k" if count % 1000 == 0 else str(count)


# ------------------------------------------------------------------ the runs
def _run_local_stack(count: int, scratch: Path) -> dict[str, Any]:
    """One fresh local stack in its own process; its figures, wall time and peak RSS."""
    out = scratch / f"run-{count}"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    metering = out / "metering.json"
    command = [
        sys.executable, "-m", "tools.local_run", "--accounts-count", str(count), "--fresh",
        "--ses-max-send-rate", "0", "--erp", "http", "--out", str(out),
        "--metering", str(metering),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": f"{LAYER_PATH}{os.pathsep}{REPO_ROOT}"}
    started = time.perf_counter()
    with (out / "run.log").open("w") as log:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT, env=env
        )
        _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if not metering.exists():  # the run never reached its end: nothing was measured
        tail = (out / "run.log").read_text(errors="replace")[-3000:]
        raise RuntimeError(f"The {count}-account run failed ({process.returncode}):\n{tail}")
    # A run that ended with work left over (its summary names each invoice, and the run
    # fails so that a person sees it) was still measured end to end: keep its figures.
    figures: dict[str, Any] = json.loads(metering.read_text())
    figures.update(
        exit_code=process.returncode,
        accounts=count,
        end_to_end_seconds=round(wall, 1),
        peak_rss_mb=round(usage.ru_maxrss / 1024, 1),
        process_cpu_seconds=round(usage.ru_utime + usage.ru_stime, 1),
    )
    for run_dir in out.iterdir():  # PDFs and e-mails: a gigabyte at 10,000 invoices
        if run_dir.is_dir():
            shutil.rmtree(run_dir, ignore_errors=True)
    return figures


def _run_figures(
    run: dict[str, Any], template: Template, ses_rate: float, baseline: float
) -> dict[str, Any]:
    counts = (run.get("report") or {}).get("counts", {})
    invoices = int(counts.get("finalized", 0))
    if invoices == 0:
        raise RuntimeError(f"The {run['accounts']}-account run did not finish: {run.get('status')}")
    functions = set(template.function_memory_mb())
    per_invoice = run["run_seconds"] / invoices
    calls = _handler_calls(run, functions)
    capacity = _capacity(run, functions)
    lambda_usage = _lambda_usage(run, template, ses_rate, invoices)
    costs = _costs(run, template, calls, capacity, lambda_usage, invoices)
    return {
        "accounts": run["accounts"],
        "invoices": invoices,
        # SUCCEEDED, or FAILED with ``counts`` saying what was left (a run that could not
        # finish everything fails on purpose, and the next one does the rest).
        "execution_status": run.get("status"),
        "counts": counts,
        "run_seconds": run["run_seconds"],
        "end_to_end_seconds": run["end_to_end_seconds"],
        "ms_per_invoice": round(per_invoice * 1000, 2),
        "stack_to_baseline_ratio": round(per_invoice / baseline, 2),
        "cpu_ms_per_invoice": round(run["process_cpu_seconds"] / invoices * 1000, 2),
        "peak_rss_mb": run["peak_rss_mb"],
        "calls_per_invoice_by_service": _per(calls["handlers"], invoices),
        "calls_per_invoice_by_operation": _per(calls["operations"], invoices, 3),
        "state_machine_calls_per_invoice": _per(calls["state machine"], invoices, 4),
        "dynamodb_wru_per_invoice": round(capacity["wru"] / invoices, 2),
        "dynamodb_wru_of_which_gsi_per_invoice": round(capacity["gsi_wru"] / invoices, 2),
        "dynamodb_wru_per_invoice_by_item": _per(capacity["by_item"], invoices),
        "send_slot_wru_per_invoice_at_template_rate": round(
            _send_slot_writes(lambda_usage) / invoices, 3
        ),
        "dynamodb_rru_per_invoice": round(capacity["rru"] / invoices, 2),
        "lambda_gb_seconds_per_invoice": {
            name: round(gb_seconds / invoices, 5)
            for name, gb_seconds in lambda_usage["gb_seconds"].items()
        },
        "ses_pacing_seconds_per_invoice": round(lambda_usage["pacing_seconds"] / invoices, 4),
        "ses_pacing_wall_minutes_at_template_rate": round(lambda_usage["pacing_seconds"] / 60, 1),
        "parent_transitions": run["parent_states_entered"],
        "map_children": run["map_children"],
        "map_child_transitions_per_invoice": round(run["child_states_entered"] / invoices, 3),
        "cost_usd_per_1000_invoices": costs,
        f"whole_run_steps_at_{_label(EXTRAPOLATE_TO)}": _whole_run_steps(run, template, invoices),
        "largest_payload_bytes": {kind: seen[0] for kind, seen in run["largest"].items()},
        "largest_lambda_payload_bytes": _lambda_payloads(run),
    }


def _per(counted: Counter[str], invoices: int, digits: int = 2) -> dict[str, float]:
    return {name: round(count / invoices, digits) for name, count in sorted(counted.items())}


def _handler_calls(run: dict[str, Any], functions: set[str]) -> dict[str, Counter[str]]:
    handlers: Counter[str] = Counter()
    operations: Counter[str] = Counter()
    machine: Counter[str] = Counter()
    for actor, service, operation, count in run["calls"]:
        if actor in functions:
            handlers[service] += count
            operations[f"{service} {operation}"] += count
        elif actor == STATE_MACHINE:
            machine[f"{service} {operation}"] += count
        elif actor != LOCAL_RUNNER:
            raise RuntimeError(f"Calls counted for an unknown actor {actor!r}")
    return {"handlers": handlers, "operations": operations, "state machine": machine}


def _capacity(run: dict[str, Any], functions: set[str]) -> dict[str, Any]:
    totals: dict[str, Any] = {"wru": 0.0, "gsi_wru": 0.0, "rru": 0.0, "by_item": Counter()}
    for actor, used in run["capacity"].items():
        if actor in functions:
            totals["wru"] += used["write_units"] + used["index_write_units"]
            totals["gsi_wru"] += used["index_write_units"]
            totals["rru"] += used["read_units"]
            totals["by_item"].update(used["write_units_by_item"])
    return totals


def _lambda_usage(
    run: dict[str, Any], template: Template, ses_rate: float, invoices: int
) -> dict[str, Any]:
    memory = template.function_memory_mb()
    invoice_emails = sum(
        count
        for actor, service, operation, count in run["calls"]
        if actor == "DispatchInvoicesFunction" and (service, operation) == ("sesv2", "SendEmail")
    )
    # The senders share the account's rate in lanes (adapters/send_rate.py): with one
    # DispatchInvoices Lambda per lane alive, each waits lanes/rate seconds per e-mail.
    lanes = int(template.parameter_default("SesSendLanes"))
    pacing = invoice_emails * lanes / ses_rate if ses_rate > 0 else 0.0
    gb_seconds: dict[str, float] = {}
    requests = 0
    for name, used in run["functions"].items():
        seconds = used["cpu_seconds"] + (pacing if name == "DispatchInvoicesFunction" else 0.0)
        gb_seconds[name] = seconds * memory[name] / 1024
        # SNS invokes DeliveryEvents once per message; the local router batches them.
        requests += run["ses_messages"] if name == "DeliveryEventsFunction" else used["invocations"]
    # Drafting children are Express (one Lambda each, billed for its duration); delivery
    # children are Standard: every state they enter is a transition.
    drafting = run["functions"].get(EXPRESS_CHILD_FUNCTION, {})
    express_children = int(drafting.get("invocations", 0))
    return {
        "gb_seconds": gb_seconds,
        "requests": requests,
        "pacing_seconds": pacing,
        "express_children": express_children,
        "express_gb_seconds": float(drafting.get("cpu_seconds", 0.0)) * EXPRESS_MEMORY_GB,
        "standard_child_transitions": run["child_states_entered"] - express_children,
    }


def _costs(
    run: dict[str, Any],
    template: Template,
    calls: dict[str, Counter[str]],
    capacity: dict[str, float],
    lambda_usage: dict[str, Any],
    invoices: int,
) -> dict[str, float]:
    s3_puts = s3_gets = 0
    for operations in (calls["operations"], calls["state machine"]):
        for name, count in operations.items():
            service, _, operation = name.partition(" ")
            if service == "s3" and operation in S3_PUT_CLASS:
                s3_puts += count
            elif service == "s3" and operation in S3_GET_CLASS:
                s3_gets += count
    pacing_gb_seconds = (
        lambda_usage["pacing_seconds"]
        * template.function_memory_mb()["DispatchInvoicesFunction"]
        / 1024
    )
    itemized = {
        "step_functions_standard": (
            run["parent_states_entered"] + lambda_usage["standard_child_transitions"]
        )
        * PRICES["sfn_standard_transition"],
        "step_functions_express": lambda_usage["express_children"] * PRICES["sfn_express_request"]
        + lambda_usage["express_gb_seconds"] * PRICES["sfn_express_gb_second"],
        "lambda_compute": (sum(lambda_usage["gb_seconds"].values()) - pacing_gb_seconds)
        * PRICES["lambda_gb_second_arm64"],
        "lambda_ses_pacing_wait": pacing_gb_seconds * PRICES["lambda_gb_second_arm64"],
        "lambda_requests": lambda_usage["requests"] * PRICES["lambda_request"],
        # The local run is unpaced, so its senders reserve slots far more often than on
        # AWS: its RATE writes are replaced by the template rate's (send_rate.py).
        "dynamodb_writes": (capacity["wru"] - capacity["by_item"].get("RATE", 0))
        * PRICES["dynamodb_wru"],
        "dynamodb_send_slot_writes": _send_slot_writes(lambda_usage) * PRICES["dynamodb_wru"],
        "dynamodb_reads": capacity["rru"] * PRICES["dynamodb_rru"],
        "s3_requests": s3_puts * PRICES["s3_put"] + s3_gets * PRICES["s3_get"],
        # The configuration set publishes one event per e-mail (its outcome) to SNS; the
        # handlers' own alerts and notifications are publishes too.
        "sns_publishes": (run["ses_messages"] + calls["handlers"].get("sns", 0))
        * PRICES["sns_publish"],
        "ses_messages": run["ses_messages"] * PRICES["ses_message"],
        "ses_attachments": run["ses_raw_bytes"] / 1024**3 * PRICES["ses_attachment_gb"],
    }
    per_thousand = {name: round(cost / invoices * 1000, 5) for name, cost in itemized.items()}
    per_thousand["total"] = round(sum(itemized.values()) / invoices * 1000, 4)
    return per_thousand


def _whole_run_steps(run: dict[str, Any], template: Template, invoices: int) -> dict[str, str]:
    """Each whole-run step's CPU time, scaled to 100,000 invoices, against what its timeout
    allows at its share of a vCPU. The local CPU time includes moto's answers, which AWS
    spends elsewhere: an upper bound."""
    memory = template.function_memory_mb()
    timeout = template.function_timeout_seconds()
    figures = {}
    for name in WHOLE_RUN_STEPS:
        if name not in run["functions"]:
            continue
        seconds = run["functions"][name]["cpu_seconds"] / invoices * EXTRAPOLATE_TO
        vcpu = min(1.0, memory[name] / FULL_VCPU_MB)
        allowed = timeout[name] * vcpu
        verdict = "fits" if seconds <= allowed else "TOO SLOW"
        figures[name] = f"{seconds:.0f} s of a vCPU; {allowed:.0f} s allowed ({verdict})"
    return figures


def _send_slot_writes(lambda_usage: dict[str, Any]) -> float:
    """On AWS a paced sender reserves about ``BLOCK_SECONDS`` of its lane's slots per
    write (one write unit: the RATE item is small), for as long as it is alive."""
    return float(lambda_usage["pacing_seconds"]) / BLOCK_SECONDS


def _lambda_payloads(run: dict[str, Any]) -> dict[str, list[int]]:
    """Per function: [largest input, largest output] in bytes."""
    return {
        name: [used["largest_input_bytes"], used["largest_output_bytes"]]
        for name, used in run["functions"].items()
    }


def _extrapolated(small: dict[str, Any], large: dict[str, Any]) -> dict[str, Any]:
    """Each largest payload, on the straight line through the two runs, at 100,000 accounts."""

    def line(size_small: float, size_large: float) -> int:
        slope = (size_large - size_small) / (large["accounts"] - small["accounts"])
        return math.ceil(size_large + slope * (EXTRAPOLATE_TO - large["accounts"]))

    projected: dict[str, Any] = {}
    limits: dict[str, int | None] = {}
    for kind, (size_large, _where) in large["largest"].items():
        size_small = small["largest"].get(kind, [size_large])[0]
        projected[kind] = line(size_small, size_large)
        limits[kind] = _limit(kind.rpartition("(")[2].rstrip(")"))
    for name, used in large["functions"].items():
        before = small["functions"].get(name, used)
        for direction in ("input", "output"):
            key = f"largest_{direction}_bytes"
            projected[f"{name} {direction}"] = line(before[key], used[key])
            limits[f"{name} {direction}"] = _limit(used["invoked_by"])
    projected["over_their_limit"] = sorted(
        f"{kind} ({projected[kind]:,} > {limit:,})"
        for kind, limit in limits.items()
        if limit is not None and projected[kind] > limit
    )
    return projected


def _limit(invoked_by: str) -> int | None:
    """The AWS limit a payload meets: a state's 256 KB, or a Lambda's own 6 MB when an
    HTTP API calls it. SNS deliveries are batched by the local router only (on AWS each
    message is its own invocation), so their local size has no AWS limit to meet."""
    if invoked_by == HTTP_API:
        return LAMBDA_PAYLOAD_LIMIT
    if invoked_by == SNS:
        return None
    return STATE_PAYLOAD_LIMIT


# ------------------------------------------------------------------ baseline
def _baseline_seconds_per_invoice(sample: int = BASELINE_SAMPLE) -> float:
    """The per-invoice work in a plain loop: screen, draft, number, render, build the e-mail."""
    legal_entity = load_legal_entity()
    catalog = load_catalog()
    context = BillingContext(
        period=billing_period(PERIOD),
        run_id="baseline",
        mode="live",
        legal_entity=legal_entity,
        catalog=catalog,
        tax_table=load_tax_table(),
        thresholds=AnomalyThresholds(),
    )
    renderer = InvoiceRenderer(legal_entity)
    issued_at = datetime(2026, 12, 1, 8, tzinfo=UTC)
    accounts = synthetic_accounts(sample)

    def one(raw: dict[str, Any], sequence: int) -> bool:
        screening = screen_account(raw, context.period, catalog)
        if screening.account is None:
            return False
        result = generate_draft(screening.account, context, screening.account.history)
        if result.invoice is None:
            return False
        invoice = finalized_copy(result.invoice, legal_entity, sequence, issued_at)
        pdf = renderer.render_pdf(invoice)
        email = render_invoice_email(invoice, legal_entity)
        build_message(
            sender="billing@northwind.example",
            recipient=invoice.customer.email,
            subject=email.subject,
            text_body=email.text_body,
            html_body=email.html_body,
            attachment_name=f"{invoice.number}.pdf",
            attachment=pdf,
        )
        return True

    for raw in accounts[:10]:  # warm: fonts, templates, caches
        one(raw, 1)
    started = time.perf_counter()
    done = sum(one(raw, sequence) for sequence, raw in enumerate(accounts, start=1))
    return (time.perf_counter() - started) / done


if __name__ == "__main__":
    print(json.dumps(run_benchmark(), indent=1))
