"""``make bench`` keeps working: each benchmark runs on a small input and reports its figures.

Speed itself is never asserted here (the guide: a benchmark, not a timed unit test); the
figures are read from ``make bench``. What is asserted is what would make its figures
meaningless: the engine must draft every account, the renderer must produce the pages it
says, and every figure an issue names must be present and positive.
"""

from __future__ import annotations

from bench import bench_engine, bench_numbering, bench_rendering, bench_scale


def test_engine_benchmark_drafts_every_account_and_reports_each_figure() -> None:
    results = bench_engine.run_benchmark(count=200, repeats=1)

    assert results["accounts"] == 200.0
    for figure in (
        "drafts_per_second",
        "chunked_drafts_per_second",
        "baseline_drafts_per_second",
        "drafts_per_second_at_reference",
    ):
        assert float(results[figure]) > 0, figure
    assert results["meets_target"] in ("yes", "no")
    assert results["meets_target_at_reference"] in ("yes", "no")


def test_rendering_benchmark_renders_one_page_and_a_long_invoice() -> None:
    results = bench_rendering.run_benchmark(rounds=1, warmup=1)

    assert results["pages"] == 1.0
    assert float(results["long_invoice_pages"]) > 1
    for figure in ("naive_ms_per_page", "project_ms_per_page", "ratio"):
        assert float(results[figure]) > 0, figure
    assert float(results["cold_start_import_to_first_pdf_s"]) > 0


def test_numbering_benchmark_measures_both_designs_at_four_and_ten_chunks() -> None:
    results = bench_numbering.run_benchmark(chunk_count=10, chunk_size=5)

    assert results["invoices"] == 50
    for design in ("naive_per_chunk", "numbering_step"):
        for chunks in (4, 10):
            assert float(results[f"{design}_{chunks}_chunks_transactions"]) >= 1
            assert 0 <= float(results[f"{design}_{chunks}_chunks_cancelled_percent"]) < 100
    assert results["numbering_step_10_chunks_cancelled_percent"] == 0


def test_scale_benchmark_runs_two_small_stacks_and_reports_each_figure() -> None:
    results = bench_scale.run_benchmark(counts=(20, 40))

    assert float(results["baseline_ms_per_invoice"]) > 0
    for label in ("20", "40"):
        run = results[label]
        assert run["invoices"] > 0
        for figure in ("ms_per_invoice", "cpu_ms_per_invoice", "peak_rss_mb"):
            assert float(run[figure]) > 0, (label, figure)
        assert run["calls_per_invoice_by_service"]["dynamodb"] > 0
        assert run["dynamodb_wru_per_invoice"] > 0 and run["dynamodb_rru_per_invoice"] > 0
        assert run["lambda_gb_seconds_per_invoice"]["FinalizeInvoicesFunction"] > 0
        assert run["cost_usd_per_1000_invoices"]["total"] > 0
        assert run["largest_payload_bytes"]["Map item"] > 0
    assert float(results["ms_per_invoice_ratio_40_to_20"]) > 0
    assert isinstance(results["payloads_extrapolated_to_100k"]["over_their_limit"], list)
