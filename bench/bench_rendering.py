"""Benchmark of the invoice renderer against a naive WeasyPrint call (issue 7, Speed (b), (c)).

Issue 7 asks that the branded PDF/A-3b with embedded Factur-X cost at most 1.3x a plain
``weasyprint.HTML(string=html).write_pdf()`` of the same invoice HTML, and that the cold
start (fresh interpreter, import to first PDF) be reported. Both are measured in one run,
naive and project calls interleaved round by round so that a noisy neighbour on the
machine slows both sides alike; medians are reported. The project renderer draws the
invoice's fixed design directly (``rendering/pdf_layout.py``); the naive peer lays out the
same invoice's HTML view (``render_html``) with WeasyPrint, as the issue asks.

Run: ``.venv/bin/python bench/bench_rendering.py``.
"""

from __future__ import annotations

import io
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

from pypdf import PdfReader
from weasyprint import HTML

from bench import LAYER_PATH, REPO_ROOT
from invoice_dispatch.legal_entity import load_legal_entity
from invoice_dispatch.rendering import InvoiceRenderer
from invoice_dispatch.rendering.preview import sample_invoice

#: Runs in a fresh interpreter: the clock starts before the first import of the domain,
#: as it would in a Lambda init phase, and stops when the first PDF exists.
_COLD_START_SCRIPT = """
import json, time
started = time.perf_counter()
from invoice_dispatch.legal_entity import load_legal_entity
from invoice_dispatch.rendering import InvoiceRenderer
from invoice_dispatch.rendering.preview import sample_invoice
imported = time.perf_counter()
renderer = InvoiceRenderer(load_legal_entity())
pdf = renderer.render_pdf(sample_invoice())
finished = time.perf_counter()
print(json.dumps({"import_s": imported - started, "import_to_pdf_s": finished - started,
                  "bytes": len(pdf)}))
"""


def run_benchmark(rounds: int = 20, warmup: int = 3) -> dict[str, float | str]:
    """Naive vs project ms/page for a one-page invoice, Factur-X cost, and the cold start."""
    legal_entity = load_legal_entity()
    renderer = InvoiceRenderer(legal_entity)
    invoice = sample_invoice()
    html = renderer.render_html(invoice)
    pages = _page_count(renderer.render_pdf(invoice))

    def naive() -> bytes:
        return HTML(string=html).write_pdf()

    def project() -> bytes:
        return renderer.render_pdf(invoice)

    (naive_s, naive_cpu_s), (project_s, project_cpu_s) = _interleaved(
        (naive, project), rounds, warmup
    )
    long_invoice = sample_invoice(line_count=60)
    long_pages = _page_count(renderer.render_pdf(long_invoice))
    long_s = _median_seconds(lambda: renderer.render_pdf(long_invoice), max(3, rounds // 4), 1)
    cold = _cold_start()

    naive_ms = naive_s * 1000 / pages
    project_ms = project_s * 1000 / pages
    return {
        "invoice": "sample_invoice(): 5 lines, de/EUR, one A4 page",
        "pages": float(pages),
        "naive_ms_per_page": round(naive_ms, 1),
        "project_ms_per_page": round(project_ms, 1),
        "ratio": round(project_ms / naive_ms, 3),
        "naive_cpu_ms_per_page": round(naive_cpu_s * 1000 / pages, 1),
        "project_cpu_ms_per_page": round(project_cpu_s * 1000 / pages, 1),
        "cpu_ratio": round(project_cpu_s / naive_cpu_s, 3),
        "target_ratio": 1.3,
        "long_invoice_pages": float(long_pages),
        "long_invoice_ms_per_page": round(long_s * 1000 / long_pages, 1),
        "cold_start_import_s": round(cold["import_s"], 3),
        "cold_start_import_to_first_pdf_s": round(cold["import_to_pdf_s"], 3),
        "cold_start_process_s": round(cold["process_s"], 3),
    }


def _page_count(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def _interleaved(
    calls: tuple[Callable[[], bytes], ...], rounds: int, warmup: int
) -> tuple[tuple[float, float], ...]:
    """Median (wall, CPU) seconds per call; CPU time is what a Lambda core is billed for and
    is less disturbed than wall time by other processes sharing the machine."""
    for _ in range(warmup):
        for call in calls:
            call()
    wall: list[list[float]] = [[] for _ in calls]
    cpu: list[list[float]] = [[] for _ in calls]
    for _ in range(rounds):
        for index, call in enumerate(calls):
            wall_started, cpu_started = time.perf_counter(), time.process_time()
            call()
            cpu[index].append(time.process_time() - cpu_started)
            wall[index].append(time.perf_counter() - wall_started)
    return tuple(
        (statistics.median(wall_samples), statistics.median(cpu_samples))
        for wall_samples, cpu_samples in zip(wall, cpu, strict=True)
    )


def _median_seconds(call: Callable[[], bytes], rounds: int, warmup: int) -> float:
    return _interleaved((call,), rounds, warmup)[0][0]


def _cold_start() -> dict[str, float]:
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(LAYER_PATH), environment.get("PYTHONPATH")])
    )
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-c", _COLD_START_SCRIPT],
        capture_output=True,
        text=True,
        check=True,
        env=environment,
        cwd=REPO_ROOT,
    )
    process_s = time.perf_counter() - started
    measured = json.loads(completed.stdout.strip().splitlines()[-1])
    return {**measured, "process_s": process_s}


if __name__ == "__main__":
    for name, value in run_benchmark().items():
        print(f"{name:36} {value}")
