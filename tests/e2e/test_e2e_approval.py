"""The approver's side of a real run: forged and replayed requests change nothing, and a
person in a real headless Chromium holds two invoices and approves the rest."""

from __future__ import annotations

import io
import re
import threading
import time
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests
from pypdf import PdfReader

from invoice_dispatch.approval import sign_approval_link
from invoice_dispatch.invoice import InvoiceStatus
from invoice_dispatch.platform import get_platform
from tests.e2e.conftest import Stack
from tools.local_run.runner import ApprovalPlan, RunResult
from tools.local_run.wiring import REGION

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class WaitingRun:
    """A run started in the background that waits for a person's decision."""

    def __init__(self, stack: Stack) -> None:
        self.link_ready = threading.Event()
        self.link = ""
        self.result: RunResult | None = None

        def on_link(link: str) -> None:
            self.link = link
            self.link_ready.set()

        plan = ApprovalPlan(wait_for_person=True, on_link=on_link)
        self.thread = threading.Thread(
            target=lambda: setattr(
                self, "result", stack.env.run({"period": "2026-11", "mode": "live"}, plan)
            ),
            daemon=True,
        )
        self.thread.start()
        assert self.link_ready.wait(120), "the run never asked for approval"

    @property
    def run_id(self) -> str:
        return urlsplit(self.link).path.rsplit("/", 1)[-1]

    def query(self) -> dict[str, str]:
        return {name: values[0] for name, values in parse_qs(urlsplit(self.link).query).items()}

    def with_query(self, **changes: str) -> str:
        query = {**self.query(), **changes}
        base = self.link.split("?", 1)[0]
        return (
            base
            + "?"
            + "&".join(f"{k}={requests.utils.quote(v, safe='')}" for k, v in query.items())
        )

    def finish(self) -> RunResult:
        self.thread.join(300)
        assert self.result is not None
        return self.result


@pytest.fixture(scope="module")
def waiting(stack: Stack) -> WaitingRun:
    return WaitingRun(stack)


def _run_status(run_id: str) -> str:
    run = get_platform().store.get_run(run_id)
    assert run is not None
    return str(run["status"])


def _approval_key() -> bytes:
    secret = boto3.client("secretsmanager", region_name=REGION).get_secret_value(
        SecretId=get_platform().settings.approval_key_secret_id
    )
    return str(secret["SecretString"]).encode()


def test_scanner_prefetch_of_the_link_changes_nothing(waiting: WaitingRun) -> None:
    for _ in range(3):
        page = requests.get(waiting.link, timeout=30)
        assert page.status_code == 200 and "form_token" in page.text
    assert _run_status(waiting.run_id) == "awaiting_approval"


@pytest.mark.parametrize(
    ("tamper", "status", "phrase"),
    [
        ({"sig": "0" * 80}, 403, "cannot be trusted|different invoice run"),
        ({"sig": ""}, 400, "incomplete"),
        ({"approver": "mallory@example.com"}, 403, "altered"),
    ],
)
def test_tampered_links_are_refused(
    waiting: WaitingRun, tamper: dict[str, str], status: int, phrase: str
) -> None:
    response = requests.get(waiting.with_query(**tamper), timeout=30)
    assert response.status_code == status
    assert re.search(phrase, response.text)
    assert "Traceback" not in response.text


def test_expired_link_is_refused(waiting: WaitingRun) -> None:
    expired = sign_approval_link(
        waiting.link.split("/approvals/")[0],
        waiting.run_id,
        "controller@northwind.example",
        datetime.now(UTC) - timedelta(minutes=1),
        _approval_key(),
    )
    response = requests.get(expired, timeout=30)
    assert response.status_code == 410 and "expired" in response.text.lower()


def test_link_for_another_run_is_refused(waiting: WaitingRun) -> None:
    other_run = waiting.link.replace(
        f"/approvals/{waiting.run_id}", "/approvals/2026-11-live-someone-else"
    )
    response = requests.get(other_run, timeout=30)
    assert response.status_code in (403, 404)
    assert _run_status(waiting.run_id) == "awaiting_approval"


@pytest.mark.parametrize("form_token", [None, "forged.token.value"])
def test_decision_without_a_genuine_form_token_is_refused(
    waiting: WaitingRun, form_token: str | None
) -> None:
    form: dict[str, Any] = {"decision": "approve"}
    if form_token:
        form["form_token"] = form_token
    response = requests.post(waiting.link, data=form, timeout=30)
    assert response.status_code == 403
    assert _run_status(waiting.run_id) == "awaiting_approval"


def test_reject_without_a_reason_is_a_readable_400(waiting: WaitingRun) -> None:
    page = requests.get(waiting.link, timeout=30)
    token = page.text.split('name="form_token" value="', 1)[1].split('"', 1)[0]
    response = requests.post(
        waiting.link, data={"decision": "reject", "form_token": token}, timeout=30
    )
    assert response.status_code == 400 and "reason" in response.text.lower()
    assert _run_status(waiting.run_id) == "awaiting_approval"


def test_customer_names_with_markup_are_shown_escaped(waiting: WaitingRun) -> None:
    page = requests.get(waiting.with_query(sort="customer", size="100"), timeout=30).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)</script>" not in page


def test_each_draft_has_a_pdf_preview_marked_draft_and_unnumbered(waiting: WaitingRun) -> None:
    page = requests.get(waiting.link, timeout=30).text
    preview = unescape(re.search(r'href="([^"]*/drafts/[^"]+)"', page).group(1))  # type: ignore[union-attr]

    response = requests.get(preview, timeout=60)

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/pdf")
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "DRAFT" in text and "INV-" not in text
    assert _run_status(waiting.run_id) == "awaiting_approval"


def test_approver_holds_two_invoices_in_a_real_browser_and_the_rest_are_finalized(
    waiting: WaitingRun, stack: Stack
) -> None:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "Debian's chromium is missing: `make test` installs it with apt-get"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 390, "height": 844})
        page.goto(waiting.link)
        assert "EUR" in page.content() and "JPY" in page.content() and "USD" in page.content()
        holdable = page.locator('input[type="checkbox"][name="hold"]')
        held_ids = [holdable.nth(i).get_attribute("value") for i in range(2)]
        for i in range(2):
            holdable.nth(i).check()
        screenshot = stack.out_root / f"{waiting.run_id}-approval-page.png"
        page.screenshot(path=str(screenshot), full_page=True)
        page.locator('button[value="approve_with_holds"]').click()
        page.wait_for_load_state()
        assert "your decision was recorded" in page.content().lower()
        assert "approved" in page.content().lower()
        browser.close()

    result = waiting.finish()
    assert result.status == "SUCCEEDED", result.error
    store = get_platform().store
    held_by = {entry["invoice_id"]: entry["held_by"] for entry in result.report["held"]}  # type: ignore[index]
    for invoice_id in held_ids:
        stored = store.get_invoice(str(invoice_id))
        assert stored is not None
        assert stored.invoice.status is InvoiceStatus.HELD and stored.invoice.number is None
        assert held_by[invoice_id] == waiting.query()["approver"]
    finalized = [
        s for s in store.run_invoices(result.run_id) if s.invoice.status is InvoiceStatus.FINALIZED
    ]
    assert len(finalized) == result.report["counts"]["finalized"] > 0  # type: ignore[index]
    screenshot.rename(result.out_dir / "approval-page.png")
    assert (result.out_dir / "approval-page.png").stat().st_size > 10_000


def test_replay_after_the_decision_shows_what_was_decided(waiting: WaitingRun) -> None:
    deadline = time.monotonic() + 60
    while _run_status(waiting.run_id) == "awaiting_approval" and time.monotonic() < deadline:
        time.sleep(0.1)
    response = requests.post(
        waiting.link, data={"decision": "approve", "form_token": "x"}, timeout=30
    )
    assert response.status_code == 409
    assert "controller@northwind.example" in response.text
    again = requests.get(waiting.link, timeout=30)
    assert again.status_code == 409 and "decided" in again.text.lower()


def test_forged_post_to_a_decided_run_learns_nothing_about_the_decision(
    waiting: WaitingRun,
) -> None:
    forged = waiting.with_query(sig="0" * 80)
    response = requests.post(forged, data={"decision": "approve", "form_token": "x"}, timeout=30)
    assert response.status_code == 403
    assert "controller@northwind.example" not in response.text
