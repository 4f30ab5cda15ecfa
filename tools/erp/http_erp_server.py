"""A small real HTTP JSON ERP (stdlib only): the local demo's default ERP and a test peer.

It implements the contract of ``invoice_dispatch.adapters.erp_http``: ``POST /bookings``
with ``Idempotency-Key`` stores a booking once (a repeated key returns the first answer
with ``created: false``), ``GET /bookings?external_id=`` looks one up (with its totals);
``/payments`` does the same for payments and write-offs, refusing one (422) for an invoice
it never booked;
``/credit-notes`` keeps credit notes beside the bookings, each naming the booked invoice it
credits (``credited_invoice``).
It can be told to fail the next N requests with 503 (``fail_next``) to exercise retries,
rejects bookings whose totals do not add up with 422 and a readable message, and can dump
what it holds to a directory (``out/<run>/erp/``), one JSON file per booking with the ERP's own id.

CLI: ``python -m tools.erp.http_erp_server --port 8765 --dump-dir out/demo/erp``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import threading
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tools.local_http import serve_until_interrupted, serving

#: What a lookup answers besides the ERP's id: the entry's totals, as booked.
BOOKED_TOTALS = ("currency", "net_total", "tax_total", "gross_total")
#: What ``HttpErpState.save`` keeps: the bookings, payments and the ERP's ids for them.
_KEPT = ("bookings", "erp_ids", "payments", "payment_ids")


class HttpErpState:
    """Bookings by external id; guarded by one lock because the server is threaded."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.bookings: dict[str, dict[str, Any]] = {}
        self.erp_ids: dict[str, str] = {}
        self.payments: dict[str, dict[str, Any]] = {}
        self.payment_ids: dict[str, str] = {}
        self.failures_left = 0
        self.requests_seen = 0
        #: Customers whose bookings the ERP refuses (422), as finance blocks an account.
        self.blocked_customers: set[str] = set()

    def fail_next(self, count: int) -> None:
        with self.lock:
            self.failures_left = count

    def save(self, path: Path) -> None:
        """Keep what the ERP holds, as a real ERP outlives the process that talks to it."""
        with self.lock:
            kept = {name: getattr(self, name) for name in _KEPT}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(kept, sort_keys=True), encoding="utf-8")

    def load(self, path: Path) -> None:
        if path.exists():
            kept = json.loads(path.read_text(encoding="utf-8"))
            with self.lock:
                for name in _KEPT:
                    getattr(self, name).update(kept.get(name, {}))

    def dump(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        with self.lock:
            for external_id, booking in self.bookings.items():
                record = {"erp_id": self.erp_ids[external_id], "booking": booking}
                (directory / f"{external_id}.json").write_text(
                    json.dumps(record, indent=2, sort_keys=True), encoding="utf-8"
                )


def _validation_error(booking: dict[str, Any]) -> str | None:
    try:
        net = sum(Decimal(line["net_amount"]) for line in booking["lines"])
        tax = sum(Decimal(tax_line["tax_amount"]) for tax_line in booking["tax_lines"])
        gross = Decimal(booking["gross_total"])
        external_id = booking["external_id"]
    except (KeyError, TypeError, ArithmeticError) as error:
        return f"Booking is incomplete: missing or malformed field {error}"
    if net != Decimal(booking["net_total"]) or net + tax != gross:
        return (
            f"Booking {external_id} does not balance: lines sum to {net} net + {tax} tax"
            f" but the totals say {booking['net_total']} net, {gross} gross"
        )
    return None


def _payment_error(payment: dict[str, Any], state: HttpErpState) -> str | None:
    try:
        amount = Decimal(str(payment["amount"]))
        number = str(payment["invoice_number"])
    except (KeyError, ArithmeticError) as error:
        return f"Payment is incomplete: missing or malformed field {error}"
    if amount <= 0:
        return f"Payment {payment.get('external_id')} has a non-positive amount {amount}"
    with state.lock:
        if number not in state.erp_ids:
            return f"There is no booked invoice {number} to pay"
    return None


def _credited_invoice_error(credit_note: dict[str, Any], state: HttpErpState) -> str | None:
    """A credit note settles an invoice this ERP holds, as an ERP's credit memo does."""
    credited = str(credit_note.get("credited_invoice", ""))
    with state.lock:
        if credited not in state.erp_ids:
            return f"There is no booked invoice {credited!r} for this credit note to credit"
    return None


def _handler_for(state: HttpErpState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: tests and the demo read the dump, not the access log."""

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _should_fail(self) -> bool:
            with state.lock:
                state.requests_seen += 1
                if state.failures_left > 0:
                    state.failures_left -= 1
                    return True
            return False

        def do_GET(self) -> None:
            if self._should_fail():
                self._answer(503, {"message": "ERP is under maintenance, try again later"})
                return
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            external_id = (query.get("external_id") or [""])[0]
            payments = url.path.endswith("/payments")
            ids = state.payment_ids if payments else state.erp_ids
            with state.lock:
                erp_id = ids.get(external_id)
                document = (state.payments if payments else state.bookings).get(external_id, {})
            if erp_id is None:
                self._answer(404, {"message": f"No booking with external id {external_id}"})
            else:
                totals = {name: document[name] for name in BOOKED_TOTALS if name in document}
                self._answer(200, {"erp_id": erp_id, "external_id": external_id, **totals})

        def do_POST(self) -> None:
            if self._should_fail():
                self._answer(503, {"message": "ERP is under maintenance, try again later"})
                return
            key = self.headers.get("Idempotency-Key")
            if not key:
                self._answer(400, {"message": "Idempotency-Key header is required"})
                return
            try:
                booking = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            except (ValueError, TypeError, KeyError):
                self._answer(400, {"message": "Body is not JSON"})
                return
            path = urlsplit(self.path).path
            if path.endswith("/payments"):
                self._store(key, booking, _payment_error(booking, state), "PAY", state.payments)
                return
            problem = _validation_error(booking)
            if path.endswith("/credit-notes") and problem is None:
                problem = _credited_invoice_error(booking, state)
            customer = str(booking.get("customer", {}).get("account_id", ""))
            if problem is None and customer in state.blocked_customers:
                problem = f"Customer {customer} is blocked for posting in this ERP"
            self._store(key, booking, problem, "CN" if "/credit-" in path else "JE", state.bookings)

        def _store(
            self,
            key: str,
            document: dict[str, Any],
            problem: str | None,
            prefix: str,
            documents: dict[str, dict[str, Any]],
        ) -> None:
            """Once per idempotency key: a repeated key gets the first answer back."""
            if problem:
                self._answer(422, {"message": problem})
                return
            ids = state.payment_ids if documents is state.payments else state.erp_ids
            with state.lock:
                if key in ids:
                    self._answer(200, {"erp_id": ids[key], "created": False})
                    return
                erp_id = f"{prefix}-{len(ids) + 1:06d}"
                ids[key] = erp_id
                documents[key] = document
            self._answer(201, {"erp_id": erp_id, "created": True})

    return Handler


@contextlib.contextmanager
def running_http_erp(
    port: int = 0, dump_dir: Path | None = None, kept_in: Path | None = None
) -> Iterator[tuple[str, HttpErpState]]:
    """Serve on localhost (``port=0``: a free one); yields the bookings URL and the state.

    ``kept_in``: the file the ERP's bookings are read from at the start and saved to at
    the end (the local stack keeps its ERP beside its table and bucket).
    """
    state = HttpErpState()
    if kept_in is not None:
        state.load(kept_in)
    try:
        with serving(_handler_for(state), port) as url:
            yield f"{url}/bookings", state
    finally:
        if kept_in is not None:
            state.save(kept_in)
        if dump_dir is not None:
            state.dump(dump_dir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--dump-dir", type=Path)
    arguments = parser.parse_args(argv)
    with running_http_erp(arguments.port, arguments.dump_dir) as (url, _state):
        serve_until_interrupted(url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
