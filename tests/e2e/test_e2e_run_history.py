"""History across runs of four kinds on one kept local stack: a monthly run, a shadow run,
a collections run and a credit note. The CLI lists them from the kept state as a billing
team would after `make demo`, and the history page is read in a real headless Chromium."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from invoice_dispatch.invoice import invoice_id_for
from tests.e2e.conftest import local_stack
from tests.e2e.test_e2e_approval import CHROMIUM, CHROMIUM_ARGS
from tools.local_run.corrections import demo_credit_note
from tools.local_run.runner import ApprovalPlan
from tools.local_run.wiring import REPO_ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

PERIOD = "2026-11"
#: The sample account whose customer name is markup; the approver holds its invoice, so
#: the name reaches the history page among the run's exceptions.
HOSTILE_ACCOUNT = "ACC-1023"
HOSTILE_NAME = 'Acme <script>alert(1)</script> & "Co"'


@dataclass
class History:
    out_root: Path
    run_ids: dict[str, str]
    page: Path


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    out_root = tmp_path_factory.mktemp("out")
    run_ids: dict[str, str] = {}
    with local_stack(out_root, state_dir=out_root / ".local-stack") as local:
        env = local.env
        hold = ApprovalPlan(hold_invoice_ids=[invoice_id_for(HOSTILE_ACCOUNT, PERIOD, "live")])
        monthly = env.run({"period": PERIOD, "mode": "live"}, hold)
        assert monthly.status == "SUCCEEDED", monthly.error
        run_ids["on_demand"] = monthly.run_id
        shadow = env.run({"period": PERIOD, "mode": "shadow", "account_ids": ["ACC-1001"]})
        assert shadow.status == "SUCCEEDED", shadow.error
        run_ids["shadow"] = shadow.run_id
        credit_note = demo_credit_note(env)
        assert credit_note[0].startswith("Credit note CN-"), credit_note
        status, _, error = env.run_collections({"as_of": "2026-12-10"}, "collections-2026-12-10")
        assert status == "SUCCEEDED", error
        run_ids["collections"] = "collections-2026-12-10"
    yield History(out_root, run_ids, out_root / "history" / "index.html")


def _runs_cli(*arguments: str, out_root: Path) -> str:
    completed = subprocess.run(
        [sys.executable, "-m", "tools.runs", *arguments, "--out", str(out_root)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return completed.stdout


def test_the_cli_lists_every_run_with_its_kind_and_counts_newest_first(history: History) -> None:
    listing = _runs_cli("list", out_root=history.out_root).splitlines()
    kinds = [line.split()[3] for line in listing[1:]]
    assert kinds == ["collections", "credit_note", "shadow", "on_demand"], listing
    monthly = next(line for line in listing if history.run_ids["on_demand"] in line)
    # 28 finalized, 4 held by rule + the one the approver held, 5 quarantined.
    assert monthly.split()[6:9] == ["27", "5", "5"], monthly
    shadow = next(line for line in listing if history.run_ids["shadow"] in line)
    assert shadow.split()[6:9] == ["1", "0", "0"], shadow


def test_the_cli_shows_one_run(history: History) -> None:
    shown = _runs_cli("show", history.run_ids["on_demand"], out_root=history.out_root)
    assert f"Run {history.run_ids['on_demand']}" in shown
    assert "kind               on_demand" in shown
    assert "delivery rate      100.0 % (27 delivered of 27 SES reported on; 27 sent)" in shown
    assert "ERP latency        p50/p95" in shown
    assert HOSTILE_NAME in shown  # a terminal shows text as it is


def test_the_history_page_shows_each_kpi_over_the_runs_in_a_real_browser(history: History) -> None:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "Debian's chromium is missing: `make test` installs it with apt-get"
    screenshot = REPO_ROOT / "out" / "history" / "history.png"
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.goto(history.page.as_uri())
        kpis = page.locator("#kpis").inner_text()
        for label in ("First-pass accuracy", "Delivery rate", "ERP posting latency"):
            assert label in kpis
        assert "Approval turnaround" in kpis and "Exception backlog" in kpis and "DSO" in kpis
        points = {
            "first-pass-accuracy": 1,  # one live period
            "delivery-rate": 2,  # the monthly and the shadow run
            "erp-latency": 2,  # p50 and p95 of the monthly run (shadow books nothing)
            "approval-turnaround": 3,  # monthly, shadow and credit note were approved by a person
            "exception-backlog": 4,  # every run
        }
        for key, count in points.items():
            chart = page.locator(f"#chart-{key}")
            assert chart.locator("svg").is_visible(), key
            assert chart.locator("circle.point").count() == count, key
        assert page.locator("#chart-dso circle.point").count() >= 1
        assert page.locator("#runs tr.run").count() == 4
        assert HOSTILE_NAME in page.locator("#runs").inner_text()  # shown as text, not run
        assert page.locator("#runs script").count() == 0 and not dialogs
        page.screenshot(path=str(screenshot), full_page=True)
        browser.close()
    assert screenshot.stat().st_size > 10_000
