"""The local stack keeps its data between runs, as a deployed stack does; --fresh forgets it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from invoice_dispatch.invoice import InvoiceStatus
from invoice_dispatch.platform import get_platform
from tests.e2e.conftest import SAMPLE_ACCOUNTS
from tools.local_run.__main__ import STATE_FOLDER, main
from tools.local_run.runner import LocalEnvironment, RunResult
from tools.local_run.wiring import REGION

pytestmark = pytest.mark.e2e


@dataclass
class FirstRun:
    result: RunResult
    numbers: list[str]
    statuses: dict[str, InvoiceStatus]
    pdfs: dict[str, bytes]
    out_root: Path

    @property
    def state_dir(self) -> Path:
        return self.out_root / STATE_FOLDER


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> FirstRun:
    out_root = tmp_path_factory.mktemp("out")
    with LocalEnvironment(SAMPLE_ACCOUNTS, out_root, state_dir=out_root / STATE_FOLDER) as env:
        result = env.run({"period": "2026-11", "mode": "live"})
        s3 = boto3.client("s3", region_name=REGION)
        invoices = list(get_platform().store.run_invoices(result.run_id))
        pdfs = {
            stored.pdf_key: s3.get_object(Bucket=env.stack.names.bucket, Key=stored.pdf_key)[
                "Body"
            ].read()
            for stored in invoices
            if stored.pdf_key
        }
        numbers = sorted(s.invoice.number for s in invoices if s.invoice.number)
        statuses = {s.invoice.invoice_id: s.invoice.status for s in invoices}
    assert result.status == "SUCCEEDED" and numbers
    return FirstRun(result, numbers, statuses, pdfs, out_root)


def test_a_new_environment_on_the_kept_state_sees_the_first_runs_invoices_and_pdfs(
    first_run: FirstRun,
) -> None:
    with LocalEnvironment(
        SAMPLE_ACCOUNTS, first_run.out_root, state_dir=first_run.state_dir
    ) as env:
        store = get_platform().store
        run = store.get_run(first_run.result.run_id)
        kept = list(store.run_invoices(first_run.result.run_id))
        s3 = boto3.client("s3", region_name=REGION)
        kept_pdfs = {
            key: s3.get_object(Bucket=env.stack.names.bucket, Key=key)["Body"].read()
            for key in first_run.pdfs
        }

    assert run is not None and run["status"] == "completed"
    assert sorted(s.invoice.number for s in kept if s.invoice.number) == first_run.numbers
    assert {s.invoice.invoice_id: s.invoice.status for s in kept} == first_run.statuses
    assert kept_pdfs == first_run.pdfs


def test_a_second_run_for_the_same_period_on_the_kept_state_creates_nothing(
    first_run: FirstRun,
) -> None:
    with LocalEnvironment(
        SAMPLE_ACCOUNTS, first_run.out_root, state_dir=first_run.state_dir
    ) as env:
        again = env.run({"period": "2026-11", "mode": "live"})
        next_month = env.run({"period": "2026-12", "mode": "live"})
        next_numbers = sorted(
            s.invoice.number
            for s in get_platform().store.run_invoices(next_month.run_id)
            if s.invoice.number
        )

    assert again.report is not None and again.report["counts"].get("finalized", 0) == 0
    assert next_numbers, "December bills the same active accounts"
    assert next_numbers[0] > first_run.numbers[-1], "the numbering continues, no restart"


def test_fresh_forgets_the_kept_state(
    first_run: FirstRun, capsys: pytest.CaptureFixture[str]
) -> None:
    assert first_run.state_dir.exists()

    assert main(["--out", str(first_run.out_root), "--erp", "none", "--fresh"]) == 0

    printed = capsys.readouterr().out
    assert f"Stack data in {first_run.state_dir}/ (new; --fresh starts over)" in printed
    finalized = re.search(r"finalized\s+(\d+)", printed)
    assert finalized and int(finalized.group(1)) > 0, "a fresh stack bills the period again"
