"""Finalize throughput: the whole step for a chunk of 200 one-page invoices, against moto.

Number (DynamoDB transaction), render PDF/A-3 with Factur-X, hash, store in S3, audit:
exactly what the FinalizeInvoices Lambda does, measured per core. The peer in the same
run is a naive render alone (``weasyprint.HTML(string=...).write_pdf()`` of the same
invoice's HTML view): the whole step against what drawing the page alone would cost.

moto runs with the local stack's adjustments (``tools/local_run/stack.py`` and
``moto_scale.py``): requests are serialized as DynamoDB's are atomic, and a transaction
keeps an undo record per item instead of a copy of the table (stock moto 5.2.5 copies
the whole table per item, which makes this step's cost grow with the table, a cost
DynamoDB does not have).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime

from invoice_dispatch.run import RunContext
from invoice_dispatch.workflow.finalize import finalize_chunk
from tests.conftest import draft_invoice, moto_platform
from tools.local_run.wiring import REPO_ROOT

CHUNK_SIZE = 200

#: A fresh interpreter loads the FinalizeInvoices handler module (Powertools, boto3, the
#: domain) and renders its first PDF: what a cold Lambda pays before its first invoice.
_COLD_START_SCRIPT = """
import json, time
from tools.local_run.lambda_router import load_handler
from tools.local_run.wiring import REPO_ROOT, Template
spec = Template().functions()["FinalizeInvoicesFunction"]
started = time.perf_counter()
load_handler(spec)
imported = time.perf_counter()
from invoice_dispatch.legal_entity import load_legal_entity
from invoice_dispatch.rendering import InvoiceRenderer
from invoice_dispatch.rendering.preview import sample_invoice
InvoiceRenderer(load_legal_entity()).render_pdf(sample_invoice())
print(json.dumps({"cold_handler_import_s": round(imported - started, 3),
                  "cold_handler_import_to_first_pdf_s": round(time.perf_counter() - started, 3)}))
"""
TARGET_PER_SECOND = 25.0


def _naive_render_seconds(htmls: list[str]) -> float:
    import weasyprint

    started = time.perf_counter()
    for html in htmls:
        weasyprint.HTML(string=html).write_pdf()
    return time.perf_counter() - started


def _cold_start() -> dict[str, float]:
    completed = subprocess.run(
        [sys.executable, "-c", _COLD_START_SCRIPT],
        capture_output=True,
        text=True,
        check=True,
        env=dict(os.environ),
        cwd=REPO_ROOT,
    )
    return dict(json.loads(completed.stdout.strip().splitlines()[-1]))


def run_benchmark(chunk_size: int = CHUNK_SIZE) -> dict[str, float | str]:
    with moto_platform() as platform:
        run = RunContext(run_id="bench", period="2026-11", mode="live", approval_timeout_seconds=60)
        warm_up = draft_invoice("ACC-WARM", run_id="bench")
        platform.store.create_draft(warm_up)
        finalize_chunk(run, [warm_up.invoice_id], platform, datetime.now(UTC))
        drafts = [draft_invoice(f"ACC-{index:05d}", run_id="bench") for index in range(chunk_size)]
        for draft in drafts:
            platform.store.create_draft(draft)
        started = time.perf_counter()
        outcome = finalize_chunk(run, [d.invoice_id for d in drafts], platform, datetime.now(UTC))
        step_seconds = time.perf_counter() - started
        assert len(outcome.done) == chunk_size, outcome.failed
        htmls = [
            platform.renderer.render_html(platform.store.get_invoice(d.invoice_id).invoice)  # type: ignore[union-attr]
            for d in drafts
        ]
    naive_seconds = _naive_render_seconds(htmls)
    per_second = chunk_size / step_seconds
    return {
        "finalize_invoices_per_second": round(per_second, 1),
        "finalize_ms_per_invoice": round(step_seconds / chunk_size * 1000, 1),
        "naive_render_ms_per_invoice": round(naive_seconds / chunk_size * 1000, 1),
        "finalize_to_naive_render_ratio": round(step_seconds / naive_seconds, 2),
        "target_invoices_per_second": TARGET_PER_SECOND,
        "meets_target": "yes" if per_second >= TARGET_PER_SECOND else "no",
        **_cold_start(),
    }
