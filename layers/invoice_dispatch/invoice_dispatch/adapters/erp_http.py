"""A generic HTTP JSON ERP: for ERPs (or middleware) that accept a booking as JSON.

Contract: ``POST <url>`` with the booking and ``Idempotency-Key: <invoice number>``
answers ``{"erp_id": ..., "created": bool}``; ``GET <url>?external_id=<number>`` answers
200 with the same shape (and the entry's ``currency``, ``net_total``, ``tax_total`` and
``gross_total``, which the audit verifier compares with the invoice) or 404. Payments and
write-offs go the same way to the sibling ``payments`` resource (``<url>`` =
``…/bookings`` -> ``…/payments``, or ``payments_url``): the payment document as JSON,
``Idempotency-Key: <ledger entry key>#<invoice number>``;
credit notes to ``…/credit-notes``: the booking plus ``credited_invoice``,
``Idempotency-Key: <credit note number>``.
The bearer token is passed in by the caller (read from Secrets Manager by the handler),
never read here. A timeout or 5xx is transient (the state machine retries; the lookup
and the idempotency key make the retry harmless); any other 4xx is permanent and carries
the ERP's own message.
"""

from __future__ import annotations

from typing import Any

import requests

from invoice_dispatch.erp import (
    ErpBookedTotals,
    ErpBooking,
    ErpPayment,
    ErpPermanentError,
    ErpReceipt,
    ErpTransientError,
)


class HttpErpClient:
    """``ErpClient`` for a JSON endpoint; one instance per warm Lambda."""

    def __init__(
        self,
        url: str,
        bearer_token: str | None = None,
        timeout_seconds: float = 10.0,
        http: requests.Session | None = None,
        payments_url: str | None = None,
    ) -> None:
        self._url = url
        base = url.rstrip("/").rpartition("/")[0]
        self._payments_url = payments_url or f"{base}/payments"
        self._credit_notes_url = f"{base}/credit-notes"
        self._timeout = timeout_seconds
        self._http = http or requests.Session()
        self._headers = {"Accept": "application/json"}
        if bearer_token:
            self._headers["Authorization"] = f"Bearer {bearer_token}"

    def find_by_external_id(self, external_id: str) -> ErpReceipt | None:
        return self._find(self._url, external_id)

    def booked_totals(self, external_id: str) -> ErpBookedTotals | None:
        response = self._lookup(self._url, external_id)
        if response is None:
            return None
        answer = response.json()
        try:
            return ErpBookedTotals.model_validate(
                {name: answer[name] for name in ErpBookedTotals.model_fields}
            )
        except KeyError as missing:
            raise ErpPermanentError(
                f"The ERP's entry for {external_id} carries no {missing} to compare"
            ) from None

    def create_invoice(self, booking: ErpBooking) -> ErpReceipt:
        return self._create(self._url, booking.external_id, booking.model_dump(mode="json"))

    def find_payment(self, external_id: str) -> ErpReceipt | None:
        return self._find(self._payments_url, external_id)

    def record_payment(self, payment: ErpPayment) -> ErpReceipt:
        return self._create(
            self._payments_url, payment.external_id, payment.model_dump(mode="json")
        )

    def find_credit_note(self, external_id: str, credited_invoice: str) -> ErpReceipt | None:
        return self._find(self._credit_notes_url, external_id)

    def create_credit_note(self, booking: ErpBooking, credited_invoice: str) -> ErpReceipt:
        document = {**booking.model_dump(mode="json"), "credited_invoice": credited_invoice}
        return self._create(self._credit_notes_url, booking.external_id, document)

    def _find(self, url: str, external_id: str) -> ErpReceipt | None:
        response = self._lookup(url, external_id)
        if response is None:
            return None
        return ErpReceipt(
            external_id=external_id, erp_id=str(response.json()["erp_id"]), created=False
        )

    def _lookup(self, url: str, external_id: str) -> requests.Response | None:
        response = self._send("GET", url, params={"external_id": external_id})
        if response.status_code == 404:
            return None
        self._raise_for_status(response, f"looking up {external_id}")
        return response

    def _create(self, url: str, external_id: str, document: dict[str, Any]) -> ErpReceipt:
        response = self._send("POST", url, json=document, headers={"Idempotency-Key": external_id})
        self._raise_for_status(response, f"booking {external_id}")
        answer = response.json()
        return ErpReceipt(
            external_id=external_id,
            erp_id=str(answer["erp_id"]),
            created=bool(answer.get("created", True)),
        )

    def _send(
        self, method: str, url: str, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> requests.Response:
        try:
            return self._http.request(
                method,
                url,
                headers={**self._headers, **(headers or {})},
                timeout=self._timeout,
                **kwargs,
            )
        except requests.Timeout as error:
            raise ErpTransientError(
                f"The ERP at {url} did not answer within {self._timeout:.0f} s"
            ) from error
        except requests.ConnectionError as error:
            raise ErpTransientError(
                f"The ERP at {url} is unreachable (connection refused or reset)"
            ) from error

    @staticmethod
    def _raise_for_status(response: requests.Response, doing: str) -> None:
        if response.status_code < 400:
            return
        message = _readable_body(response)
        if response.status_code >= 500 or response.status_code in (408, 429):
            raise ErpTransientError(
                f"The ERP answered HTTP {response.status_code} while {doing}: {message}"
            )
        raise ErpPermanentError(f"The ERP refused {doing} (HTTP {response.status_code}): {message}")


def _readable_body(response: requests.Response) -> str:
    """Most JSON APIs put the sentence in ``message``, ``error`` or ``detail``."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or response.reason
    if isinstance(body, dict):
        for key in ("message", "error", "detail"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value
            if isinstance(value, dict) and isinstance(value.get("message"), str):
                return str(value["message"])
    return str(body)[:300]
