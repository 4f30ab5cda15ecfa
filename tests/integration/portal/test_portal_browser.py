"""The portal in a real headless Chromium, at desktop and phone sizes, served by the real
handler through the local API Gateway stand-in; screenshots land in ``out/portal/``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from invoice_dispatch.platform import Platform, get_platform, reset_platform
from invoice_dispatch.portal.links import sign_portal_link
from invoice_dispatch.receivables import Receivable
from invoice_dispatch.rendering.formatting import format_money
from invoice_dispatch.workflow.payments_in import receive_payment
from tests.conftest import moto_platform
from tests.e2e.test_e2e_approval import CHROMIUM, CHROMIUM_ARGS
from tests.unit.payments.payment_factories import bank_payment
from tests.unit.portal.portal_factories import OURS, THEIRS, PortalApi, finalize_for
from tools.approval_server import serve_lambda
from tools.local_run.stack import LOCAL_GATEWAY_API_KEY
from tools.local_run.wiring import REPO_ROOT
from tools.payment_gateway_server import running_payment_gateway

pytestmark = pytest.mark.integration

SCREENSHOTS = REPO_ROOT / "out" / "portal"


@dataclass
class Portal:
    link: str
    platform: Platform
    numbers: dict[str, str]
    gateway_url: str


@pytest.fixture(scope="module")
def portal() -> Iterator[Portal]:
    """Our customer's invoice, open; two other customers' beside it (one of them paid). The
    pages' own links point at the local server, as the deployed ones point at the API; the
    local payment gateway is configured, so the open invoice offers "Pay online"."""
    with (
        moto_platform() as platform,
        running_payment_gateway(LOCAL_GATEWAY_API_KEY) as (gateway_url, _gateway),
    ):
        api = PortalApi(platform)
        with serve_lambda(api.handler) as server:
            os.environ["APPROVAL_BASE_URL"] = server.url
            os.environ["PAYMENT_GATEWAY_URL"] = gateway_url
            reset_platform()
            platform = get_platform()
            ours = finalize_for(platform, OURS, "ACC-P3", THEIRS)
            invoices = platform.store.get_invoices(list(ours.values()))
            platform.ledger.open_receivables(
                Receivable.opened_for(stored.invoice) for stored in invoices.values()
            )
            paid = invoices[ours["ACC-P3"]].invoice
            receive_payment(bank_payment(str(paid.gross_total), str(paid.number)), platform)
            link = sign_portal_link(
                server.url, OURS, datetime.now(UTC) + timedelta(days=7), platform.portal_key()
            )
            numbers = {account: str(invoices[i].invoice.number) for account, i in ours.items()}
            yield Portal(link, platform, numbers, gateway_url)


def _open(
    portal: Portal, viewport: dict[str, int], screenshot: Path, pay: bool = False, **options: object
) -> dict:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "Debian's chromium is missing: `make test` installs it with apt-get"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=viewport, **options)  # type: ignore[arg-type]
        response = page.goto(portal.link)
        qr = page.locator("figure.qr svg").first
        seen = {
            "status": response.status if response else 0,
            "text": page.locator("main").inner_text(),
            "qr_box": qr.bounding_box() if qr.is_visible() else None,
            "scroll_width": page.evaluate("document.scrollingElement.scrollWidth"),
            "header_visible": page.locator("table.cards thead").is_visible(),
            "card_labels": page.locator("td[data-label]").evaluate_all(
                "cells => cells.map(c => getComputedStyle(c, '::before').content)"
            ),
        }
        with page.expect_download() as download_info:
            page.get_by_text(f"Download {portal.numbers[OURS]}.pdf").click()
        download = download_info.value
        seen["download_name"] = download.suggested_filename
        seen["download_head"] = Path(download.path()).read_bytes()[:5]
        seen["pay_buttons"] = page.get_by_role("button", name="Pay online").count()
        page.screenshot(path=str(screenshot), full_page=True)
        if pay:  # the CSP's form-action must let the POST's 303 lead to the gateway's page
            page.get_by_role("button", name="Pay online").click()
            page.wait_for_url(f"{portal.gateway_url}/checkout/*", timeout=5_000)
            seen["checkout_text"] = page.locator("body").inner_text()
        browser.close()
    return seen


def test_desktop_shows_the_invoice_amount_open_pdf_and_qr_code(portal: Portal) -> None:
    screenshot = SCREENSHOTS / "portal-desktop.png"
    seen = _open(portal, {"width": 1280, "height": 900}, screenshot, pay=True)

    stored = next(
        s
        for s in portal.platform.store.period_invoices("live", "2026-11")
        if s.invoice.account_id == OURS
    )
    gross = format_money(stored.invoice.gross_total, "EUR", "en")
    assert seen["status"] == 200
    assert portal.numbers[OURS] in seen["text"] and gross in seen["text"]
    assert portal.numbers["ACC-P3"] not in seen["text"]  # another customer's paid invoice
    assert portal.numbers[THEIRS] not in seen["text"]
    assert "How to pay" in seen["text"] and "RF" in seen["text"] and "IBAN" in seen["text"]
    assert seen["qr_box"] and seen["qr_box"]["width"] >= 120
    assert seen["header_visible"] is True
    assert seen["pay_buttons"] == 1  # the open EUR invoice's; the gateway's page follows it
    assert f"Invoice {portal.numbers[OURS]}" in seen["checkout_text"]
    assert f"{stored.invoice.gross_total} EUR" in seen["checkout_text"]
    assert (seen["download_name"], seen["download_head"]) == (
        f"{portal.numbers[OURS]}.pdf",
        b"%PDF-",
    )
    assert screenshot.stat().st_size > 20_000


def test_phone_shows_cards_without_sideways_scrolling_and_the_qr_code(portal: Portal) -> None:
    screenshot = SCREENSHOTS / "portal-phone.png"
    seen = _open(
        portal,
        {"width": 390, "height": 844},
        screenshot,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )

    assert seen["status"] == 200 and portal.numbers[OURS] in seen["text"]
    assert seen["header_visible"] is False  # each document is a card with its own labels
    assert {'"Amount open"', '"Due date"', '"PDF"'} <= set(seen["card_labels"])
    assert seen["scroll_width"] <= 390
    assert seen["qr_box"] and seen["qr_box"]["width"] >= 120
    assert screenshot.stat().st_size > 20_000
