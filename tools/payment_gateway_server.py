"""A small real HTTP payment gateway (stdlib HTTP) in the style of Stripe's PaymentIntents.

It implements the contract of ``invoice_dispatch.adapters.payment_gateway_http``, as
``tools/erp/http_erp_server.py`` does for the HTTP ERP: ``POST /v1/payment_intents`` with
a bearer API key and an ``Idempotency-Key`` creates and confirms a charge. Each key is
decided once: asking again with the same key answers the first decision again (header
``Idempotent-Replayed: true``) and takes no money; the same key with another amount or
payment means is refused (400), as Stripe refuses it.

What each charge does is scripted per payment method (or mandate) reference, one outcome
per *new* key, the last one repeating (``script``); unscripted references succeed:

* ``succeeded``, ``declined:<decline code>`` (402 with Stripe's error shape);
* ``down``: 503, nothing decided, so the same key later is decided afresh;
* ``timeout``: the charge is made, but the answer comes only after ``slow_seconds`` (the
  client has given up by then): the case a retried request must never charge twice.

``charges`` lists the money actually taken; tests count it.

The portal's checkout, in the style of Stripe's Checkout Sessions: ``POST
/v1/checkout_sessions`` (same key rules: one session per key, ``checkouts`` holds them)
answers the session with ``url``, a hosted page this server serves (``GET
/checkout/<id>``: the amount, a "Pay" button and a way back). Paying there (``POST
/checkout/<id>/pay``, or ``complete_checkout`` from a test) takes the money once and
emits the ``payment.succeeded`` event the product's payments webhook expects, signed
with ``webhook_secret`` as ``payments/webhook.py`` checks it; with ``webhook_url`` set it
is POSTed there, then the customer is sent back to the session's ``success_url``. Its
id is the session's (``evt_<session id>``), so a redelivery is one payment on the ledger.
``checkouts_down`` makes the checkout endpoint answer 503.

CLI: ``python -m tools.payment_gateway_server --port 8766 --api-key sk_test_local``.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import json
import re
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler
from typing import Any

from invoice_dispatch.money import MINOR_UNITS
from invoice_dispatch.payments.webhook import SIGNATURE_HEADER, sign
from tools.local_http import serve_until_interrupted, serving

DECLINE_MESSAGES = {
    "insufficient_funds": "Your card has insufficient funds.",
    "expired_card": "Your card has expired.",
    "do_not_honor": "Your card was declined by the issuing bank.",
    "mandate_revoked": "The direct debit mandate was revoked by the customer.",
}

_SAME_PARAMETERS = "Keys for idempotent requests can only be used with the same parameters"


class PaymentGatewayState:
    """Decisions by idempotency key; guarded by one lock because the server is threaded."""

    def __init__(self, api_key: str, slow_seconds: float) -> None:
        self.api_key = api_key
        self.slow_seconds = slow_seconds
        self.lock = threading.Lock()
        self.scripts: dict[str, list[str]] = {}
        self.decided: dict[str, Answer] = {}
        self.charges: list[dict[str, Any]] = []
        self.requests_seen: list[str] = []
        #: The server's own address, for the hosted pages' URLs (set once it listens).
        self.base_url = ""
        self.checkouts: dict[str, dict[str, Any]] = {}
        self.checkout_keys: dict[str, str] = {}
        self.checkouts_down = False
        #: Where a completed checkout's event goes, and the secret it is signed with.
        self.webhook_url: str | None = None
        self.webhook_secret: bytes | None = None
        self.webhooks_sent: list[SignedEvent] = []

    def script(self, reference: str, outcomes: list[str]) -> None:
        with self.lock:
            self.scripts[reference] = list(outcomes)

    def charges_for(self, invoice_number: str) -> list[dict[str, Any]]:
        with self.lock:
            return [c for c in self.charges if c["metadata"]["invoice_number"] == invoice_number]

    def _next_outcome(self, reference: str) -> str:
        outcomes = self.scripts.get(reference) or ["succeeded"]
        return outcomes.pop(0) if len(outcomes) > 1 else outcomes[0]

    def decide(self, key: str, request: dict[str, Any]) -> Answer:
        """The answer to one request: the key's first decision, or a new one."""
        with self.lock:
            self.requests_seen.append(key)
            if key in self.decided:
                first = self.decided[key]
                if _charge_terms(first.request) != _charge_terms(request):
                    return Answer(400, _error("idempotency_error", _SAME_PARAMETERS))
                return Answer(first.status, first.body, replayed=True)
            reference = str(request.get("payment_method") or request.get("mandate") or "")
            outcome = self._next_outcome(reference)
            if outcome == "down":
                return Answer(503, _error("api_error", "The gateway is temporarily unavailable"))
            intent = {
                "id": f"pi_{len(self.decided) + 1:06d}",
                "object": "payment_intent",
                "amount": request.get("amount"),
                "currency": request.get("currency"),
                "metadata": request.get("metadata", {}),
            }
            if outcome.startswith("declined"):
                answer = Answer(402, _decline(outcome.partition(":")[2], intent), request=request)
            else:
                answer = Answer(200, {**intent, "status": "succeeded"}, request=request)
                self.charges.append({**intent, "idempotency_key": key})
            self.decided[key] = answer
            wait = self.slow_seconds if outcome == "timeout" else 0.0
            return Answer(answer.status, answer.body, wait_seconds=wait)

    def create_checkout(self, key: str, request: dict[str, Any]) -> Answer:
        """One hosted checkout per key: the same key answers the same session again."""
        with self.lock:
            if self.checkouts_down:
                return Answer(503, _error("api_error", "The gateway is temporarily unavailable"))
            if key in self.checkout_keys:
                session = self.checkouts[self.checkout_keys[key]]
                if _checkout_terms(session["request"]) != _checkout_terms(request):
                    return Answer(400, _error("idempotency_error", _SAME_PARAMETERS))
                return Answer(200, _public(session), replayed=True)
            session_id = f"cs_{len(self.checkouts) + 1:06d}"
            self.checkouts[session_id] = {
                "id": session_id,
                "object": "checkout.session",
                "status": "open",
                "url": f"{self.base_url}/checkout/{session_id}",
                "amount": request.get("amount"),
                "currency": request.get("currency"),
                "metadata": request.get("metadata", {}),
                "success_url": request.get("success_url"),
                "cancel_url": request.get("cancel_url"),
                "request": request,
            }
            self.checkout_keys[key] = session_id
            return Answer(200, _public(self.checkouts[session_id]))

    def complete_checkout(self, session_id: str, now: datetime | None = None) -> SignedEvent:
        """The customer pays on the hosted page: the money is taken the first time only;
        every call (a redelivery) emits the same event, signed at ``now``."""
        now = now or datetime.now(UTC)
        with self.lock:
            session = self.checkouts[session_id]
            if session["status"] == "open":
                intent_id = f"pi_{len(self.decided) + len(self.charges) + 1:06d}"
                session.update(status="complete", payment_intent=intent_id, paid_on=now.date())
                self.charges.append(
                    {
                        "id": intent_id,
                        "amount": session["amount"],
                        "currency": session["currency"],
                        "metadata": session["metadata"],
                        "checkout_session": session_id,
                    }
                )
            event = _payment_event(session, now)
        if self.webhook_secret is None:
            raise RuntimeError("The gateway has no webhook secret to sign events with")
        sent_at = int(now.timestamp())
        signed = SignedEvent(
            body=event,
            signature=f"t={sent_at},v1={sign(self.webhook_secret, sent_at, event)}",
        )
        if self.webhook_url:
            _deliver(self.webhook_url, signed)
        self.webhooks_sent.append(signed)
        return signed


@dataclass(frozen=True)
class SignedEvent:
    """A webhook delivery: the raw body and its ``Webhook-Signature`` header value."""

    body: bytes
    signature: str

    @property
    def headers(self) -> dict[str, str]:
        return {"content-type": "application/json", SIGNATURE_HEADER: self.signature}


def _payment_event(session: dict[str, Any], now: datetime) -> bytes:
    """The product's ``payment.succeeded`` event (``payments/webhook.py``) for a session."""
    metadata = session["metadata"]
    event = {
        "id": f"evt_{session['id']}",
        "type": "payment.succeeded",
        "created": int(now.timestamp()),
        "data": {
            "invoice_number": metadata.get("invoice_number", ""),
            "amount_minor": session["amount"],
            "currency": str(session["currency"]).upper(),
            "paid_on": session["paid_on"].isoformat(),
            "payer": "",
            "reference": f"card payment {session['payment_intent']} (checkout {session['id']})",
        },
    }
    return json.dumps(event).encode()


def _deliver(url: str, signed: SignedEvent) -> None:
    """POST the event as a provider does; its answer is the product's business."""
    request = urllib.request.Request(url, data=signed.body, headers=signed.headers, method="POST")
    with contextlib.suppress(OSError), urllib.request.urlopen(request, timeout=30):
        pass


def _public(session: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in session.items() if name not in ("request", "paid_on")}


def _checkout_terms(request: dict[str, Any]) -> tuple[Any, ...]:
    invoice = (request.get("metadata") or {}).get("invoice_number")
    return (request.get("amount"), request.get("currency"), invoice)


def _hosted_page(session: dict[str, Any]) -> str:
    """The stand-in's payment page: what a customer sees at the gateway, minus the card."""
    currency = str(session["currency"]).upper()
    amount = Decimal(int(session["amount"])).scaleb(-MINOR_UNITS.get(currency, 2))
    invoice = html.escape(str(session["metadata"].get("invoice_number", "")))
    back = html.escape(str(session["success_url" if session["status"] != "open" else "cancel_url"]))
    if session["status"] == "open":
        action = (
            f'<form method="post" action="/checkout/{session["id"]}/pay">'
            f'<button type="submit">Pay {amount} {currency}</button></form>'
            f'<p><a href="{back}">Cancel and return</a></p>'
        )
    else:
        action = f'<p>This checkout is paid.</p><p><a href="{back}">Return</a></p>'
    return (
        '<!doctype html><html lang="en"><meta charset="utf-8"><title>Local checkout</title>'
        f"<h1>Invoice {invoice}</h1><p>{amount} {currency}</p>{action}</html>"
    )


_CHECKOUT_PAGE = re.compile(r"^/checkout/(cs_\d{6})(/pay)?$")


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    replayed: bool = False
    #: How long the answer is held back (a "timeout": decided, but answered too late).
    wait_seconds: float = 0.0
    #: The request that was decided, to refuse its key with other terms.
    request: dict[str, Any] = field(default_factory=dict)


def _decline(code: str, intent: dict[str, Any]) -> dict[str, Any]:
    """Stripe's error shape for a declined charge."""
    code = code or "do_not_honor"
    return {
        "error": {
            "type": "card_error",
            "code": "card_declined",
            "decline_code": code,
            "message": DECLINE_MESSAGES.get(code, "The charge was declined."),
            "payment_intent": {**intent, "status": "requires_payment_method"},
        }
    }


def _charge_terms(request: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(request.get(name) for name in ("amount", "currency", "payment_method", "mandate"))


def _error(kind: str, message: str) -> dict[str, Any]:
    return {"error": {"type": kind, "message": message}}


def _handler_for(state: PaymentGatewayState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: tests read the state, not the access log."""

        def _answer(self, status: int, body: dict[str, Any], replayed: bool = False) -> None:
            payload = json.dumps(body).encode()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                if replayed:
                    self.send_header("Idempotent-Replayed", "true")
                self.end_headers()
                self.wfile.write(payload)

        def _redirect(self, location: str) -> None:
            self.send_response(303)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:
            page = _CHECKOUT_PAGE.match(self.path)
            session = state.checkouts.get(page[1]) if page and not page[2] else None
            if session is None:
                self._answer(404, _error("invalid_request_error", f"No such page {self.path}"))
                return
            payload = _hosted_page(session).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_POST(self) -> None:
            page = _CHECKOUT_PAGE.match(self.path)
            if page and page[2] and page[1] in state.checkouts:
                state.complete_checkout(page[1])
                self._redirect(str(state.checkouts[page[1]]["success_url"]))
                return
            route = self.path.rstrip("/")
            if route not in ("/v1/payment_intents", "/v1/checkout_sessions"):
                self._answer(404, _error("invalid_request_error", f"No such route {self.path}"))
                return
            if self.headers.get("Authorization") != f"Bearer {state.api_key}":
                self._answer(401, _error("authentication_error", "Invalid API key provided"))
                return
            key = self.headers.get("Idempotency-Key")
            try:
                request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            except (ValueError, TypeError, KeyError):
                self._answer(400, _error("invalid_request_error", "Body is not JSON"))
                return
            if not key or not isinstance(request, dict):
                self._answer(400, _error("invalid_request_error", "An Idempotency-Key is required"))
                return
            if route == "/v1/checkout_sessions":
                answer = state.create_checkout(key, request)
                self._answer(answer.status, answer.body, answer.replayed)
                return
            answer = state.decide(key, request)
            time.sleep(answer.wait_seconds)  # a "timeout" charge is made before the answer
            self._answer(answer.status, answer.body, answer.replayed)

    return Handler


@contextlib.contextmanager
def running_payment_gateway(
    api_key: str = "sk_test_local", port: int = 0, slow_seconds: float = 1.0
) -> Iterator[tuple[str, PaymentGatewayState]]:
    """Serve on localhost (``port=0``: a free one); yields the base URL and the state."""
    state = PaymentGatewayState(api_key, slow_seconds)
    with serving(_handler_for(state), port) as url:
        state.base_url = url
        yield url, state


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--api-key", default="sk_test_local")
    arguments = parser.parse_args(argv)
    with running_payment_gateway(arguments.api_key, arguments.port) as (url, _state):
        serve_until_interrupted(url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
