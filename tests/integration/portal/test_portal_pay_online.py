"""The portal's "Pay online" against the local payment gateway: a GET never asks it for
anything, a click (POST) makes one checkout however often it comes, every refusal is a
sentence with nothing at the gateway, and the paid checkout's webhook pays the invoice once."""

from __future__ import annotations

import html
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
import requests

from invoice_dispatch.platform import Platform, get_platform, reset_platform
from invoice_dispatch.receivables import EntryKind, Receivable, ReceivableStatus
from invoice_dispatch.workflow.payments_in import receive_payment
from invoice_dispatch.workflow.portal_web import PAY
from tests.conftest import moto_platform
from tests.unit.payments.payment_factories import bank_payment
from tests.unit.portal.portal_factories import OURS, THEIRS, PortalApi, finalize_for
from tools.approval_server import LocalLambdaContext, build_http_api_event, serve_lambda
from tools.local_run.lambda_router import load_handler
from tools.local_run.stack import LOCAL_GATEWAY_API_KEY
from tools.local_run.wiring import Template
from tools.payment_gateway_server import PaymentGatewayState, SignedEvent, running_payment_gateway

pytestmark = pytest.mark.integration

PAID = "ACC-PAID"
AUTO_PAY = "ACC-AUTO"
PAYER = "ACC-PAYS"
#: Sent today: collections admits it tomorrow, and a card payment now would find no invoice.
NEW = "ACC-NEW"


@dataclass
class Shop:
    platform: Platform
    api: PortalApi
    gateway: PaymentGatewayState
    gateway_url: str
    #: account -> (invoice id, invoice number)
    invoices: dict[str, tuple[str, str]]

    def pay_url(
        self,
        account_id: str,
        invoice_of: str | None = None,
        expires_in: timedelta = timedelta(days=7),
    ) -> str:
        """The button's address for ``invoice_of``'s invoice under ``account_id``'s link."""
        path, _, query = self.api.link(account_id, expires_in).partition("?")
        invoice_id = quote(self.invoices[invoice_of or account_id][0], safe="")
        return f"{path}/{PAY}/{invoice_id}?{query}"


@pytest.fixture(scope="module")
def shop() -> Iterator[Shop]:
    """Five customers' invoices, admitted; one paid, one auto-pay's; a gateway configured."""
    with (
        moto_platform(),
        running_payment_gateway(LOCAL_GATEWAY_API_KEY) as (url, gateway),
    ):
        os.environ["PAYMENT_GATEWAY_URL"] = url
        reset_platform()
        platform = get_platform()
        gateway.webhook_secret = platform.payments_webhook_secret()
        ids = finalize_for(platform, OURS, THEIRS, PAID, PAYER)
        ids |= finalize_for(platform, AUTO_PAY, auto_pay={"mandate_ref": "MANDATE-0042"})
        ids |= finalize_for(platform, NEW)
        stored = platform.store.get_invoices(list(ids.values()))
        platform.ledger.open_receivables(
            Receivable.opened_for(stored[ids[account]].invoice)
            for account in (OURS, THEIRS, PAID, PAYER)
        )
        paid = stored[ids[PAID]].invoice
        receive_payment(bank_payment(str(paid.gross_total), str(paid.number)), platform)
        invoices = {account: (i, str(stored[i].invoice.number)) for account, i in ids.items()}
        yield Shop(platform, PortalApi(platform), gateway, url, invoices)


def _table_items(platform: Platform) -> list[dict[str, Any]]:
    table = platform.clients.dynamodb_table(platform.settings.table_name)
    return sorted(table.scan(ConsistentRead=True)["Items"], key=lambda i: (i["PK"], i["SK"]))


def _pay_forms(body: str) -> list[str]:
    return [
        html.unescape(action)
        for action in re.findall(r'<form method="post" action="([^"]+)"', body)
    ]


def _edited(url: str) -> str:
    """The signature's last digit changed, as a curious customer might."""
    return url[:-1] + "01"[url.endswith("0")]


def _webhook_handler() -> Any:
    return load_handler(Template().functions()["PaymentsWebhookFunction"])


def _deliver(event: SignedEvent) -> dict[str, Any]:
    """A redelivery of the gateway's event, to the real payments webhook handler."""
    request = build_http_api_event(
        "POST", "/payments/webhook", event.headers, event.body, "198.51.100.9", "api.example.com"
    )
    return _webhook_handler()(request, LocalLambdaContext(function_name="PaymentsWebhookFunction"))


def test_the_page_offers_pay_online_for_an_open_invoice_and_its_gets_ask_the_gateway_nothing(
    shop: Shop,
) -> None:
    before = _table_items(shop.platform)

    pages = [shop.api.get(shop.api.link(account)) for account in (OURS, OURS, PAID, AUTO_PAY, NEW)]

    ours, _, paid, auto_pay, new = pages
    (form,) = _pay_forms(ours["body"])
    assert urlsplit(form).path == urlsplit(shop.pay_url(OURS)).path
    assert "Pay online" in ours["body"]
    assert _pay_forms(paid["body"]) == _pay_forms(auto_pay["body"]) == _pay_forms(new["body"]) == []
    assert "How to pay" in new["body"]  # by transfer, from the minute the e-mail arrives
    csp = {name.lower(): value for name, value in ours["headers"].items()}[
        "content-security-policy"
    ]
    assert f"form-action 'self' {shop.gateway_url}" in csp and "frame-ancestors 'none'" in csp
    assert shop.gateway.checkouts == {} and shop.gateway.requests_seen == []
    assert _table_items(shop.platform) == before


def test_repeated_clicks_make_one_checkout_for_the_amount_open_and_send_the_customer_there(
    shop: Shop,
) -> None:
    before = _table_items(shop.platform)
    _, number = shop.invoices[OURS]

    answers = [shop.api.post(shop.pay_url(OURS)) for _ in range(3)]

    locations = {answer["headers"]["Location"] for answer in answers}
    assert [answer["statusCode"] for answer in answers] == [303, 303, 303]
    (session,) = [
        s for s in shop.gateway.checkouts.values() if s["metadata"]["invoice_number"] == number
    ]
    assert locations == {f"{shop.gateway_url}/checkout/{session['id']}"}
    gross = shop.platform.ledger.receivables([number])[number].open_amount
    assert (session["amount"], session["currency"]) == (int(gross * 100), "eur")
    assert session["metadata"]["reference"].startswith("RF")
    assert session["success_url"].startswith(shop.api.link(OURS).split("?")[0])
    assert requests.get(session["url"], timeout=5).status_code == 200  # the hosted page
    assert _table_items(shop.platform) == before


@pytest.mark.parametrize(
    ("case", "status", "sentence"),
    [
        ("another account's invoice", 404, "no such invoice"),
        ("a paid invoice", 409, "nothing left to pay"),
        ("an auto-pay invoice", 409, "collected automatically"),
        ("an invoice not booked yet", 409, "from tomorrow"),
        ("an edited link", 403, "altered"),
        ("an expired link", 410, "expired"),
    ],
)
def test_a_click_that_cannot_pay_is_refused_with_a_sentence_and_asks_the_gateway_nothing(
    shop: Shop, case: str, status: int, sentence: str
) -> None:
    url = {
        "another account's invoice": shop.pay_url(OURS, invoice_of=THEIRS),
        "a paid invoice": shop.pay_url(PAID),
        "an auto-pay invoice": shop.pay_url(AUTO_PAY),
        "an invoice not booked yet": shop.pay_url(NEW),
        "an edited link": _edited(shop.pay_url(OURS)),
        "an expired link": shop.pay_url(OURS, expires_in=timedelta(seconds=-1)),
    }[case]
    asked_before = list(shop.gateway.requests_seen), dict(shop.gateway.checkout_keys)
    before = _table_items(shop.platform)

    answer = shop.api.post(url)

    assert answer["statusCode"] == status
    assert sentence in answer["body"].lower() and "Traceback" not in answer["body"]
    assert (shop.gateway.requests_seen, shop.gateway.checkout_keys) == asked_before
    assert _table_items(shop.platform) == before


def test_a_gateway_that_is_down_is_a_503_with_a_sentence_and_nothing_recorded(
    shop: Shop,
) -> None:
    before = _table_items(shop.platform)
    shop.gateway.checkouts_down = True
    try:
        answer = shop.api.post(shop.pay_url(THEIRS))
    finally:
        shop.gateway.checkouts_down = False

    assert answer["statusCode"] == 503 and answer["headers"]["Retry-After"] == "60"
    assert "nothing was charged" in answer["body"] and "Traceback" not in answer["body"]
    assert shop.invoices[THEIRS][1] not in str(shop.gateway.checkouts)
    assert _table_items(shop.platform) == before


def test_a_paid_checkouts_webhook_pays_the_invoice_once_and_the_button_goes(shop: Shop) -> None:
    """The customer pays on the gateway's page; the gateway posts its signed event to our
    webhook over HTTP, sends the customer back to the portal, and later delivers again."""
    _, number = shop.invoices[PAYER]
    hosted = shop.api.post(shop.pay_url(PAYER))["headers"]["Location"]

    with serve_lambda(_webhook_handler()) as webhook:
        shop.gateway.webhook_url = f"{webhook.url}/payments/webhook"
        try:
            paid = requests.post(f"{hosted}/pay", allow_redirects=False, timeout=10)
        finally:
            shop.gateway.webhook_url = None
    again = _deliver(shop.gateway.complete_checkout(hosted.rsplit("/", 1)[1]))

    receivable = shop.platform.ledger.receivables([number])[number]
    payments = [e for e in shop.platform.ledger.entries(number) if e.kind is EntryKind.PAYMENT]
    assert paid.status_code == 303
    assert paid.headers["Location"].startswith(shop.api.link(PAYER).split("?")[0])
    assert again["statusCode"] == 200 and "already" in again["body"].lower()
    assert len(payments) == 1 and len(shop.gateway.charges_for(number)) == 1
    assert receivable.status(receivable.due_date) is ReceivableStatus.PAID
    assert _pay_forms(shop.api.get(shop.api.link(PAYER))["body"]) == []
    assert "nothing left to pay" in shop.api.post(shop.pay_url(PAYER))["body"]
