"""A small real HTTP payment gateway (stdlib only) in the style of Stripe's PaymentIntents.

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

CLI: ``python -m tools.payment_gateway_server --port 8766 --api-key sk_test_local``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

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

        def do_POST(self) -> None:
            if self.path.rstrip("/") != "/v1/payment_intents":
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
