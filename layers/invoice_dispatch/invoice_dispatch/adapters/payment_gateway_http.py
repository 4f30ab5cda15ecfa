"""A generic HTTP payment gateway in the style of Stripe's PaymentIntents.

Contract: ``POST <url>/v1/payment_intents`` with a JSON body (``amount`` in the currency's
minor units, ``currency`` in lower case, ``payment_method`` or ``mandate``, ``confirm`` and
``off_session`` true, the invoice in ``metadata``), ``Authorization: Bearer <api key>``
and ``Idempotency-Key``. It answers 200 with the intent (``{"id": "pi_...", "status":
"succeeded"}``) or 402 with Stripe's error shape for a decline (``{"error": {"type":
"card_error", "code": "card_declined", "decline_code": ..., "message": ...}}``). The same
key asked again gets the first answer again and charges nothing more; 409 means a request
with that key is still in progress.

Mapping to the port's outcomes (``autopay/gateway.py``): 200 succeeded; 402 declined with
the gateway's message; 5xx, 429 and a refused or reset connection unavailable; no answer
within ``timeout_seconds`` and 409 unknown. Any other 4xx is our configuration's fault (a
wrong key, a malformed request) and raises ``PermanentError`` with the gateway's sentence:
retrying cannot help and a person must look. The API key is passed in by the caller
(read from Secrets Manager), never read here; ``tools/payment_gateway_server.py`` is the
local stand-in.

The portal's checkout: ``POST <url>/v1/checkout_sessions`` (Stripe's Checkout Sessions,
``mode: payment``) with the amount, currency, the invoice and its creditor reference in
``metadata``, and ``success_url`` / ``cancel_url`` back to the portal, under the same
bearer key and an ``Idempotency-Key``; 200 answers ``{"id": "cs_...", "url": ...}``, the
hosted page. Anything else (down, slow, refused) is ``CheckoutUnavailable``: the
customer is waiting at a button, so there is no "ask again later", only "not now".
"""

from __future__ import annotations

from typing import Any

import requests
from pydantic import ValidationError

from invoice_dispatch.autopay import (
    ChargeOutcome,
    ChargeRequest,
    ChargeResult,
    CheckoutRequest,
    CheckoutSession,
    CheckoutUnavailable,
)
from invoice_dispatch.autopay.gateway import InvoiceAmountRequest
from invoice_dispatch.errors import PermanentError
from invoice_dispatch.money import quantum


def minor_units(request: InvoiceAmountRequest) -> int:
    """The amount as an integer of the currency's minor units (cents; yen as they are)."""
    return int(request.amount / quantum(request.currency))


class HttpPaymentGateway:
    """``PaymentGateway`` over HTTP; one instance per warm Lambda."""

    def __init__(
        self,
        url: str,
        api_key: str,
        timeout_seconds: float = 10.0,
        http: requests.Session | None = None,
    ) -> None:
        self._intents_url = f"{url.rstrip('/')}/v1/payment_intents"
        self._checkouts_url = f"{url.rstrip('/')}/v1/checkout_sessions"
        self._timeout = timeout_seconds
        self._http = http or requests.Session()
        self._headers = {"Accept": "application/json", "Authorization": f"Bearer {api_key}"}

    def _post(
        self, url: str, body: dict[str, Any], request: InvoiceAmountRequest
    ) -> requests.Response:
        """Every request under its key: the gateway answers a repeated key as the first."""
        return self._http.post(
            url,
            json=body,
            headers={**self._headers, "Idempotency-Key": request.idempotency_key},
            timeout=self._timeout,
        )

    def charge(self, request: ChargeRequest) -> ChargeResult:
        body: dict[str, Any] = {
            "amount": minor_units(request),
            "currency": request.currency.lower(),
            "confirm": True,
            "off_session": True,
            "description": f"Invoice {request.invoice_number}",
            "metadata": {
                "invoice_number": request.invoice_number,
                "account_id": request.account_id,
            },
        }
        if request.method_ref:
            body["payment_method"] = request.method_ref
        if request.mandate_ref:
            body["mandate"] = request.mandate_ref
        try:
            response = self._post(self._intents_url, body, request)
        except requests.Timeout:
            return ChargeResult(
                outcome=ChargeOutcome.UNKNOWN,
                reason=f"no answer within {self._timeout:g} s; asked again with the same key",
            )
        except requests.ConnectionError:
            return ChargeResult(
                outcome=ChargeOutcome.UNAVAILABLE,
                reason="the gateway is unreachable (connection refused or reset)",
            )
        return _result(response)

    def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        body: dict[str, Any] = {
            "mode": "payment",
            "amount": minor_units(request),
            "currency": request.currency.lower(),
            "description": f"Invoice {request.invoice_number}",
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
            "metadata": {
                "invoice_number": request.invoice_number,
                "account_id": request.account_id,
                "reference": request.reference,
            },
        }
        try:
            response = self._post(self._checkouts_url, body, request)
        except requests.Timeout:
            raise CheckoutUnavailable(f"no answer within {self._timeout:g} s") from None
        except requests.ConnectionError:
            raise CheckoutUnavailable(
                "the gateway is unreachable (connection refused or reset)"
            ) from None
        answer = _json(response)
        if response.status_code != 200:
            raw_error = answer.get("error")
            message = raw_error.get("message", "") if isinstance(raw_error, dict) else ""
            raise CheckoutUnavailable(
                f"the gateway answered HTTP {response.status_code} {message}".rstrip()
            )
        try:
            return CheckoutSession(session_id=str(answer.get("id", "")), url=answer.get("url"))
        except ValidationError:
            raise CheckoutUnavailable("the gateway answered without a hosted page's URL") from None


def _result(response: requests.Response) -> ChargeResult:
    status = response.status_code
    body = _json(response)
    if status == 200 and body.get("status") == "succeeded":
        return ChargeResult(outcome=ChargeOutcome.SUCCEEDED, charge_id=str(body.get("id", "")))
    raw_error = body.get("error")
    error: dict[str, Any] = raw_error if isinstance(raw_error, dict) else {}
    message = str(error.get("message") or response.reason or "")
    if status == 402:
        code = error.get("decline_code") or error.get("code") or "declined"
        return ChargeResult(
            outcome=ChargeOutcome.DECLINED,
            charge_id=str((error.get("payment_intent") or {}).get("id", "")),
            reason=f"{message} ({code})" if message else str(code),
        )
    if status >= 500 or status == 429:
        return ChargeResult(
            outcome=ChargeOutcome.UNAVAILABLE, reason=f"the gateway answered HTTP {status}"
        )
    if status == 409 or status == 200:
        return ChargeResult(
            outcome=ChargeOutcome.UNKNOWN,
            reason=f"the charge is still in progress at the gateway (HTTP {status} "
            f"{body.get('status', '')})".replace(" )", ")"),
        )
    raise PermanentError(f"The payment gateway refused the charge (HTTP {status}): {message}")


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
