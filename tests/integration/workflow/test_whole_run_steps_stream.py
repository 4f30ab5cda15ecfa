"""Whole-run steps stream the run: their memory grows with its exceptions, not its size.

A run of 100,000 accounts must fit a 1,024 MB Lambda, and a loaded invoice costs about
10 KiB of Python objects: a step that keeps every invoice of the run needs about 1 GB.
Each whole-run step is measured with tracemalloc on two runs that hold the same
exceptions (flags, rule holds, bounces, ERP refusals, unnumbered approvals) and differ
only in how many ordinary invoices they carry; the growth of the step's peak per added
invoice must stay a small fraction of what keeping one loaded invoice costs.

Peak growth per added invoice, in bytes (one loaded invoice kept costs about 10,050 B),
with lists of the run (before) and with one streaming pass (after):

    step                  150 -> 600 invoices       300 -> 1,200 invoices
                          before      after         before      after
    overview               9,408        326          9,464        276
    request_approval      11,214      1,037 *       11,349      1,412 *
    auto_approve           9,344        275          9,363        187
    plan_delivery            272        286            193        209  (ids only, before too)
    summarize_run          9,563        327          9,710        274

    * of which about 1,040 B are moto's copies of the row each draft has in the approval
      page's rows document (see ROWS_DOCUMENT_COPIES_IN_MOTO).
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from itertools import islice
from typing import Any

import pytest
from moto.dynamodb.models import table as moto_table

from invoice_dispatch.billing import AnomalyThresholds
from invoice_dispatch.billing.anomalies import NON_POSITIVE_TOTAL, TOTAL_CHANGE
from invoice_dispatch.invoice import (
    AnomalyFlag,
    DeliveryStatus,
    ErpStatus,
    Invoice,
    InvoiceStatus,
    invoice_id_for,
)
from invoice_dispatch.platform import Platform
from invoice_dispatch.run import RunContext
from invoice_dispatch.tracking import StoredInvoice
from invoice_dispatch.workflow import keys
from invoice_dispatch.workflow.approval import auto_approve, overview, request_approval
from invoice_dispatch.workflow.delivery import plan_delivery
from invoice_dispatch.workflow.summary import summarize_run
from tests.conftest import draft_invoice, moto_platform

RUN = RunContext(run_id="run-big", period="2026-11", mode="live", approval_timeout_seconds=3600)
#: A few drafts of another period, through every step before anything is measured: the
#: first calls compile the e-mail templates and build the account's clients (their
#: service models alone are about 1 MB), which is not the run's.
WARM_UP = RunContext(run_id="run-warm", period="2026-10", mode="live", approval_timeout_seconds=60)
WARM_UP_SIZE = 3
#: Tracing every allocation makes moto cost about 5 ms per invoice and step: these sizes
#: keep the module near 30 s on two cores; the growth they show is the same as at 300 and
#: 1,200 (see the table above).
SMALL_RUN, LARGE_RUN = 150, 600
ADDED = LARGE_RUN - SMALL_RUN
#: Positions of the exceptions: the same ones in both runs (all below SMALL_RUN).
FLAGGED = frozenset({7, 60, 131})
RULE_HELD = frozenset({3, 99})
BOUNCED = frozenset({11, 12})
ERP_REFUSED = frozenset({21, 22})
UNNUMBERED = frozenset({31, 32})
#: DynamoDB answers a query in pages of up to 1 MB, about 700 of these invoices, and the
#: store holds the page it is reading while it fetches the next. With such pages the
#: smaller run would be one partial page and the larger several full ones, and the pages
#: in flight (held several times over by moto, botocore and boto3 in this one process)
#: would be most of the growth measured. With 32 KB pages both runs span many pages, so
#: what grows between them is what the step itself keeps.
QUERY_PAGE_BYTES = 32 * 1024
#: Growth allowed per added invoice, as a fraction of what keeping one loaded invoice
#: costs (holding the run cost 90-105 % of it). What is left is moto's and SummarizeRun's
#: set of planned ids: the store reads a keys-only index 100 keys a page, and moto builds
#: and sorts the rest of the index partition for every page it answers (about 1.5 KB per
#: invoice at its peak, held only during the call; DynamoDB reads one page).
BUDGET_FRACTION = 0.2
#: The approval page's rows are one document with a row per draft, by design. Its text
#: streams to S3, but moto, serving S3 in this process, holds the request body five
#: times (botocore's checksummed stream, moto's request, werkzeug's data, the decoded
#: body, the stored object): RequestApproval may grow by that much more per draft.
ROWS_DOCUMENT_COPIES_IN_MOTO = 5

STEPS = ("overview", "request_approval", "auto_approve", "plan_delivery", "summarize_run")


@dataclass(frozen=True)
class Measured:
    peaks: dict[str, int]
    results: dict[str, Any]
    bytes_kept_per_invoice: int
    row_bytes_per_draft: int


Measure = Callable[[Callable[[], Any]], tuple[int, Any]]


def _position(stored: StoredInvoice) -> int:
    return int(stored.invoice.account_id.removeprefix("ACC-"))


def _run_invoice(template: Invoice, run: RunContext, position: int) -> Invoice:
    account_id = f"ACC-{position:06d}"
    anomalies: tuple[AnomalyFlag, ...] = ()
    if position in FLAGGED:
        anomalies = (AnomalyThresholds().flag(TOTAL_CHANGE, "The total changed by 80 %"),)
    if position in RULE_HELD:
        anomalies = (AnomalyThresholds().flag(NON_POSITIVE_TOTAL, "The total is 0.00 EUR"),)
    return template.model_copy(
        update={
            "invoice_id": invoice_id_for(account_id, run.period, run.mode),
            "account_id": account_id,
            "period": run.period,
            "run_id": run.run_id,
            "customer": template.customer.model_copy(
                update={"account_id": account_id, "name": f"Kunde {position} GmbH"}
            ),
            "anomalies": anomalies,
        }
    )


def _finish_delivery(platform: Platform, stored: StoredInvoice) -> None:
    """Finalize, e-mail and book one approved draft in a single write.

    The store's own path (numbering transaction, ``record_sent`` transaction) is tested
    elsewhere; moto copies the whole table on each transaction (design.md), which would
    make seeding a large run quadratic.
    """
    position = _position(stored)
    finalized = stored.invoice.model_copy(
        update={
            "status": InvoiceStatus.FINALIZED,
            "number": f"INV-2026-{position:06d}",
            "issue_date": date(2026, 12, 1),
            "due_date": date(2026, 12, 31),
        }
    )
    delivery = DeliveryStatus.BOUNCED if position in BOUNCED else DeliveryStatus.DELIVERED
    erp = ErpStatus.FAILED if position in ERP_REFUSED else ErpStatus.POSTED
    platform.store._table.update_item(  # the single table the store writes
        Key={"PK": f"INVOICE#{stored.invoice_id}", "SK": "DOC"},
        UpdateExpression="SET #status = :finalized, document = :document, pdf_key = :pdf, "
        "delivery_status = :delivery, ses_message_id = :message, erp_status = :erp",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={
            ":finalized": InvoiceStatus.FINALIZED.value,
            ":document": finalized.model_dump_json(),
            ":pdf": f"invoices/live/{finalized.period}/{finalized.number}.pdf",
            ":delivery": delivery.value,
            ":message": f"msg-{stored.invoice_id}",
            ":erp": erp.value,
        },
    )


def _traced(step: Callable[[], Any]) -> tuple[int, Any]:
    """The peak of what the step allocates on top of what already existed, and its result."""
    gc.collect()
    tracemalloc.start()
    try:
        result = step()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, result


def _untraced(step: Callable[[], Any]) -> tuple[int, Any]:
    return 0, step()


def _bytes_kept_per_invoice(platform: Platform, sample: int = 100) -> int:
    """What a list of loaded invoices costs per invoice (what the steps used to keep)."""
    gc.collect()
    tracemalloc.start()
    try:
        invoices = platform.store.run_invoices(RUN.run_id)
        kept = list(islice(invoices, sample))
        invoices.close()
        gc.collect()
        kept_bytes, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return kept_bytes // len(kept)


def _through_the_steps(
    platform: Platform, run: RunContext, size: int, measure: Measure
) -> tuple[dict[str, int], dict[str, Any]]:
    """A run of ``size`` drafts through each whole-run step, in the order a run takes them;
    the delivery Map between PlanDelivery and SummarizeRun is written straight to the
    table."""
    platform.store.create_run(run, "2026-12-01T06:00:00+00:00")
    template = draft_invoice("ACC-TEMPLATE", run_id=run.run_id)
    for position in range(size):
        platform.store.create_draft(_run_invoice(template, run, position))
    peaks: dict[str, int] = {}
    results: dict[str, Any] = {}
    steps: dict[str, Callable[[], Any]] = {
        "overview": lambda: overview(run, platform),
        "request_approval": lambda: request_approval(run, "task-token", platform),
        "auto_approve": lambda: auto_approve(run, platform),
        "plan_delivery": lambda: plan_delivery(run, platform),
    }
    for name, step in steps.items():
        peaks[name], results[name] = measure(step)
    for stored in platform.store.run_invoices(run.run_id):
        if stored.invoice.status is InvoiceStatus.DRAFT and _position(stored) not in UNNUMBERED:
            _finish_delivery(platform, stored)
    peaks["summarize_run"], results["summarize_run"] = measure(
        lambda: summarize_run(run, "completed", platform)
    )
    return peaks, results


def measure_runs(*sizes: int) -> dict[int, Measured]:
    """Each step's peak on runs of each size, every run in a fresh moto account."""
    runs: dict[int, Measured] = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(moto_table, "RESULT_SIZE_LIMIT", QUERY_PAGE_BYTES)
        for size in sizes:
            with moto_platform() as platform:
                _through_the_steps(platform, WARM_UP, WARM_UP_SIZE, _untraced)
                peaks, results = _through_the_steps(platform, RUN, size, _traced)
                rows = platform.documents.get_bytes(keys.approval_rows(RUN.run_id))
                runs[size] = Measured(
                    peaks, results, _bytes_kept_per_invoice(platform), len(rows) // size
                )
    return runs


@pytest.fixture(scope="module")
def measured() -> dict[int, Measured]:
    return measure_runs(SMALL_RUN, LARGE_RUN)


def test_steps_still_count_every_invoice_of_a_large_run(measured: dict[int, Measured]) -> None:
    for size, run in measured.items():
        results = run.results
        assert results["overview"].draft_count == size
        assert results["overview"].flagged_count == len(FLAGGED | RULE_HELD)
        assert results["overview"].held_by_rule_count == len(RULE_HELD)
        assert results["request_approval"] == 1  # the one approver was e-mailed
        assert results["auto_approve"] == len(RULE_HELD)
        assert results["plan_delivery"].invoice_count == size - len(RULE_HELD)
        counts = results["summarize_run"]["counts"]
        finalized = size - len(RULE_HELD) - len(UNNUMBERED)
        assert counts["drafts_in_run"] == size
        assert counts["finalized"] == finalized
        assert counts["held"] == len(RULE_HELD)
        assert counts["emails_sent"] == finalized
        assert counts["failed_deliveries"] == len(BOUNCED)
        assert counts["erp_posted"] == finalized - len(ERP_REFUSED)
        assert counts["erp_failed"] == len(ERP_REFUSED)
        assert counts["unreconciled"] == len(UNNUMBERED)
        assert results["summarize_run"]["reconciliation"]["problems"] == []


@pytest.mark.parametrize("step", STEPS)
def test_step_memory_grows_with_exceptions_not_with_the_run(
    measured: dict[int, Measured], step: str
) -> None:
    small, large = measured[SMALL_RUN], measured[LARGE_RUN]
    growth_per_invoice = (large.peaks[step] - small.peaks[step]) / ADDED
    kept = small.bytes_kept_per_invoice
    budget = kept * BUDGET_FRACTION
    why = f"{BUDGET_FRACTION:.0%} of the {kept:,} B one loaded invoice costs"
    if step == "request_approval":
        budget += ROWS_DOCUMENT_COPIES_IN_MOTO * small.row_bytes_per_draft
        why += f", plus moto's copies of the {small.row_bytes_per_draft} B row of each draft"
    assert growth_per_invoice < budget, (
        f"{step}: peak {small.peaks[step]:,} B at {SMALL_RUN} invoices, "
        f"{large.peaks[step]:,} B at {LARGE_RUN}: {growth_per_invoice:,.0f} B per added "
        f"invoice, budget {budget:,.0f} B ({why})"
    )
