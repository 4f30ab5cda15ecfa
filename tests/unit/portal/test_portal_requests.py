"""Portal requests through the real handler: the customer's own page and PDFs, and every
other request (edited, expired, another customer's, a scanner's) changes nothing."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest

from invoice_dispatch.platform import Platform
from invoice_dispatch.portal.labels import LANGUAGES, STATUS_KEYS, portal_labels
from invoice_dispatch.rendering.formatting import format_money
from tests.conftest import moto_platform
from tests.unit.portal.portal_factories import OURS, THEIRS, PortalApi, finalize_for

GERMAN = "ACC-DE1"
AUTO_PAY = "ACC-AP1"


@pytest.fixture(scope="module")
def stack() -> Iterator[tuple[Platform, PortalApi]]:
    """One stack for the module: no request here may write, which each test checks."""
    with moto_platform() as platform:
        finalize_for(platform, OURS, THEIRS)
        finalize_for(platform, GERMAN, locale="de")
        finalize_for(platform, AUTO_PAY, auto_pay={"mandate_ref": "MANDATE-0042"})
        yield platform, PortalApi(platform)


@pytest.fixture
def api(stack: tuple[Platform, PortalApi]) -> PortalApi:
    return stack[1]


@pytest.fixture
def platform(stack: tuple[Platform, PortalApi]) -> Platform:
    return stack[0]


def _table_items(platform: Platform) -> list[dict[str, Any]]:
    """Every item of the billing table (a scan is fine in a test of a few items)."""
    table = platform.clients.dynamodb_table(platform.settings.table_name)
    return sorted(table.scan(ConsistentRead=True)["Items"], key=lambda i: (i["PK"], i["SK"]))


def _headers(response: dict[str, Any]) -> dict[str, str]:
    return {name.lower(): value for name, value in response["headers"].items()}


def _pdf_links(body: str) -> list[str]:
    return [
        link.replace("&amp;", "&") for link in re.findall(r'href="([^"]+/invoices/[^"]+)"', body)
    ]


def test_the_customers_page_lists_their_invoice_with_amount_open_and_a_qr_code(
    api: PortalApi,
) -> None:
    response = api.get(api.link(OURS))

    body = response["body"]
    assert response["statusCode"] == 200
    assert "INV-2026-00000" in body and "Open" in body
    assert "Kunde ACC-P1 &lt;b&gt;GmbH&lt;/b&gt;" in body and "<b>GmbH" not in body
    assert "ACC-P2" not in body
    assert body.count("<svg") == 1 and "EPC QR code" in body
    assert "DE89 3704 0044 0532 0130 00" in body or "IBAN" in body
    assert "frame-ancestors 'none'" in _headers(response)["content-security-policy"]


def test_a_german_customers_page_is_in_german_with_german_amounts_and_dates(
    api: PortalApi, platform: Platform
) -> None:
    stored = next(
        s
        for s in platform.store.period_invoices("live", "2026-11")
        if s.invoice.account_id == GERMAN
    )

    body = api.get(api.link(GERMAN))["body"]

    assert '<html lang="de">' in body and "Ihre Rechnungen und Gutschriften" in body
    assert "So zahlen Sie" in body
    assert "Offen" in body and "Verwendungszweck" in body
    assert format_money(stored.invoice.gross_total, "EUR", "de") in body  # "34,51 €"
    assert "31.12.2026" in body  # the due date as Germans write it


def test_an_invoice_auto_pay_will_collect_asks_for_no_transfer(api: PortalApi) -> None:
    body = api.get(api.link(AUTO_PAY))["body"]

    assert "Collected automatically" in body
    assert "How to pay" not in body and "<svg" not in body


def test_every_language_has_every_word_and_every_status() -> None:
    words = {language: set(portal_labels(language)) for language in LANGUAGES}

    assert words["de"] == words["fr"] == words["en"]
    assert set(STATUS_KEYS) | {"issued"} <= words["en"]


def test_the_page_downloads_only_the_customers_own_pdf(api: PortalApi, platform: Platform) -> None:
    (own_pdf,) = _pdf_links(api.get(api.link(OURS))["body"])
    theirs = _pdf_links(api.get(api.link(THEIRS))["body"])[0]
    their_path = urlsplit(theirs).path.replace(f"/portal/{THEIRS}/", f"/portal/{OURS}/")
    borrowed = f"{their_path}?{urlsplit(own_pdf).query}"

    downloaded = api.get(own_pdf)
    refused = api.get(borrowed)

    assert downloaded["statusCode"] == 200
    assert _headers(downloaded)["content-type"] == "application/pdf"
    assert base64.b64decode(downloaded["body"]).startswith(b"%PDF")
    assert refused["statusCode"] == 404 and "%PDF" not in refused["body"]


@pytest.mark.parametrize(
    ("edit", "status", "sentence"),
    [
        ("signature", 403, "altered"),
        ("expiry", 403, "altered"),
        ("other customer", 403, "another customer account"),
        ("expired", 410, "expired"),
        ("incomplete", 400, "incomplete"),
    ],
)
def test_edited_expired_and_borrowed_links_are_refused_with_a_sentence_and_change_nothing(
    api: PortalApi, platform: Platform, edit: str, status: int, sentence: str
) -> None:
    link = api.link(OURS)
    edited = {
        "signature": link[:-1] + "01"[link.endswith("0")],
        "expiry": re.sub(r"exp=(\d+)", lambda m: f"exp={int(m[1]) + 86400}", link),
        "other customer": link.replace(f"/portal/{OURS}?", f"/portal/{THEIRS}?"),
        "expired": api.link(OURS, expires_in=timedelta(seconds=-1)),
        "incomplete": link.split("&sig=")[0],
    }[edit]
    before = _table_items(platform)

    response = api.get(edited)

    assert response["statusCode"] == status
    assert sentence in response["body"] and "Traceback" not in response["body"]
    assert "INV-2026" not in response["body"]
    assert "frame-ancestors 'none'" in _headers(response)["content-security-policy"]
    assert _table_items(platform) == before


def test_a_scanners_repeated_gets_show_the_page_and_change_nothing(
    api: PortalApi, platform: Platform
) -> None:
    link = api.link(OURS)
    before = _table_items(platform)
    pdf = _pdf_links(api.get(link)["body"])[0]

    pages = [api.get(link) for _ in range(3)] + [api.get(pdf)]

    assert [page["statusCode"] for page in pages] == [200, 200, 200, 200]
    assert _table_items(platform) == before
