"""Issue 7, Speed (b): the branded PDF/A-3 with Factur-X costs at most 1.3x a naive render."""

from __future__ import annotations

from bench.bench_rendering import run_benchmark


def test_project_renderer_costs_at_most_1_3x_a_naive_weasyprint_call() -> None:
    results = run_benchmark(rounds=5, warmup=1)

    assert isinstance(results["ratio"], float)
    assert results["ratio"] <= 1.3, results
    assert results["naive_ms_per_page"] > 0
    assert results["pages"] == 1.0
    assert results["long_invoice_pages"] > 1
    assert 0 < float(results["cold_start_import_to_first_pdf_s"]) < 30
