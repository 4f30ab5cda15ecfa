"""ERP benchmark: Tryton set-up time and posting rate, with the HTTP ERP as the peer.

``run_benchmark()`` starts a real Tryton on SQLite in a temporary directory (once from
scratch with a private template cache, once from the cached template, as tests and the
demo do), books ``invoice_count`` finalized invoices through ``post_invoice_once`` into it
and into the local HTTP JSON ERP, and reports seconds and invoices per second. The ratio
says how much slower booking into a real ERP is than the thinnest possible peer.

Run: ``.venv/bin/python bench/bench_erp.py``
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

import bench  # noqa: F401  (puts the repository and the layer on the path)
from invoice_dispatch.adapters.erp_http import HttpErpClient
from invoice_dispatch.adapters.erp_tryton import TrytonErpClient
from invoice_dispatch.erp import ErpClient, load_erp_mapping, post_invoice_once
from tests.unit.erp.invoice_factory import make_finalized_invoice
from tools.erp.http_erp_server import running_http_erp
from tools.erp.tryton_server import prepare_database, running_tryton


def _posting_rate(client: ErpClient, invoice_count: int) -> float:
    mapping = load_erp_mapping()
    invoices = [make_finalized_invoice(sequence) for sequence in range(1, invoice_count + 1)]
    started = time.perf_counter()
    for invoice in invoices:
        post_invoice_once(invoice, mapping, client)
    return invoice_count / (time.perf_counter() - started)


def run_benchmark(invoice_count: int = 20, fresh: bool = True) -> dict[str, float | str]:
    """Seconds and rates; ``fresh=False`` skips the ~25 s from-scratch database creation."""
    results: dict[str, float | str] = {"invoices": float(invoice_count)}
    with tempfile.TemporaryDirectory(prefix="bench-erp-") as scratch:
        if fresh:
            previous = os.environ.get("INVOICE_DISPATCH_CACHE")
            os.environ["INVOICE_DISPATCH_CACHE"] = str(Path(scratch) / "cache")
            try:
                results["tryton_setup_fresh_seconds"] = prepare_database(Path(scratch) / "fresh")
            finally:
                if previous is None:
                    os.environ.pop("INVOICE_DISPATCH_CACHE")
                else:
                    os.environ["INVOICE_DISPATCH_CACHE"] = previous
        prepare_database(Path(scratch) / "warm-cache")  # fill the shared cache if empty
        with running_tryton(Path(scratch) / "tryton") as (endpoint, _server):
            results["tryton_setup_cached_seconds"] = endpoint.setup_seconds
            tryton = TrytonErpClient(
                endpoint.url,
                endpoint.database,
                endpoint.user,
                endpoint.password,
                timeout_seconds=60,
            )
            results["tryton_invoices_per_second"] = _posting_rate(tryton, invoice_count)
        with running_http_erp() as (url, _state):
            results["http_invoices_per_second"] = _posting_rate(HttpErpClient(url), invoice_count)
    results["tryton_vs_http_rate_ratio"] = float(results["tryton_invoices_per_second"]) / float(
        results["http_invoices_per_second"]
    )
    results["tryton_modules"] = "account_invoice, analytic_invoice (SQLite)"
    return results


if __name__ == "__main__":
    print(json.dumps(run_benchmark(), indent=2))
