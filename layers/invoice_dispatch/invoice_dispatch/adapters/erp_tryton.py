"""Tryton (open-source ERP) over JSON-RPC: customer invoices, posted, one per invoice number.

Tryton 8.2 serves JSON-RPC at ``<server>/<database>/rpc/``; a session comes from
``common.db.login`` and travels in an ``Authorization: Session <base64>`` header. Every
call is its own database transaction on the server, so "create" and "post" are two steps:
if we crash between them, the draft stays behind. ``find_by_external_id`` therefore
finishes posting a draft it finds, instead of treating it as booked or creating another.

Booking choices, stated for finance:
- the customer is a Tryton party whose ``code`` is our account id (the upsert key);
- ``reference`` on the Tryton invoice is our invoice number (the external id);
- each line goes to the mapped revenue account, with the mapped cost center as an
  analytic account (module ``analytic_invoice``); the tax is the Tryton tax named by the
  mapping's tax code, which carries the mapped tax account;
- Tryton computes taxes itself (per document, per rate, like EN 16931); if its totals
  differ from ours by even one cent the draft is deleted and the post fails permanently,
  so the ERP never holds an amount the customer did not see.
"""

from __future__ import annotations

import base64
import json
from datetime import date
from decimal import Decimal
from typing import Any

import requests

from invoice_dispatch.erp import (
    ErpBookedTotals,
    ErpBooking,
    ErpBookingLine,
    ErpPayment,
    ErpPermanentError,
    ErpReceipt,
    ErpTransientError,
)
from invoice_dispatch.money import quantum

#: Tryton keeps unit prices to 4 decimals and refuses a value written with more.
_TRYTON_PRICE_QUANTUM = Decimal("0.0001")
_TRANSIENT_STATUS = {408, 429, 500, 502, 503, 504}


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"__class__": "Decimal", "decimal": str(value)}
    if isinstance(value, date):
        return {"__class__": "date", "year": value.year, "month": value.month, "day": value.day}
    raise TypeError(f"{type(value).__name__} is not JSON-RPC serialisable")


def _decode(mapping: dict[str, Any]) -> Any:
    kind = mapping.get("__class__")
    if kind == "Decimal":
        return Decimal(mapping["decimal"])
    if kind == "date":
        return date(mapping["year"], mapping["month"], mapping["day"])
    return mapping


def _field_values(defaults: dict[str, Any]) -> dict[str, Any]:
    """A wizard form's defaults without the display helpers (``party.``, ``rec_name``)."""
    return {name: value for name, value in defaults.items() if "." not in name}


def _readable_tryton_error(error: Any) -> str:
    """Tryton's UserError arrives as ["UserError", [message, description, ...]]; keep the
    human part, drop tracebacks."""
    if (
        isinstance(error, list | tuple)
        and len(error) >= 2
        and isinstance(error[1], list | tuple)
        and error[1]
    ):
        # A UserWarning's first argument is its technical key; the sentence follows it.
        error = error[1][1:] if error[0] == "UserWarning" else error[1]
    if isinstance(error, list | tuple) and error:
        parts = [str(part) for part in error[:2] if isinstance(part, str) and part.strip()]
        if parts and "Traceback" not in parts[-1]:
            return " ".join(parts)
        return str(error[0])
    return str(error)


class TrytonErpClient:
    """``ErpClient`` for Tryton; one instance per warm Lambda (it keeps the session)."""

    def __init__(
        self,
        server_url: str,
        database: str,
        user: str,
        password: str,
        timeout_seconds: float = 15.0,
        http: requests.Session | None = None,
    ) -> None:
        self._rpc_url = f"{server_url.rstrip('/')}/{database}/rpc/"
        self._user = user
        self._password = password
        self._timeout = timeout_seconds
        self._http = http or requests.Session()
        self._authorization: str | None = None
        self._context: dict[str, Any] = {}
        self._ids: dict[tuple[str, str], int] = {}
        self._request_id = 0

    # -- the port ----------------------------------------------------------------------

    def find_by_external_id(self, external_id: str) -> ErpReceipt | None:
        found = self._call(
            "model.account.invoice.search_read",
            [("reference", "=", external_id), ("type", "=", "out"), ("state", "!=", "cancelled")],
            0,
            None,
            [("id", "ASC")],
            ["id", "number", "state"],
        )
        if not found:
            return None
        invoice = found[0]
        if invoice["state"] in ("draft", "validated"):
            invoice = self._post(invoice["id"])
        return ErpReceipt(external_id=external_id, erp_id=invoice["number"], created=False)

    def booked_totals(self, external_id: str) -> ErpBookedTotals | None:
        """Tryton's own untaxed, tax and total amounts of the posted entry."""
        found = self._call(
            "model.account.invoice.search_read",
            [("reference", "=", external_id), ("type", "=", "out"), ("state", "!=", "cancelled")],
            0,
            1,
            [("id", "ASC")],
            ["currency", "untaxed_amount", "tax_amount", "total_amount"],
        )
        if not found:
            return None
        invoice = found[0]
        currency = self._call("model.currency.currency.read", [invoice["currency"]], ["code"])
        return ErpBookedTotals(
            external_id=external_id,
            currency=currency[0]["code"],
            net_total=invoice["untaxed_amount"],
            tax_total=invoice["tax_amount"],
            gross_total=invoice["total_amount"],
        )

    def create_invoice(self, booking: ErpBooking) -> ErpReceipt:
        party_id = self._upsert_party(booking)
        currency_id = self._id("currency.currency", "code", booking.currency)
        invoice_values: dict[str, Any] = {
            "type": "out",
            "journal": self._id("account.journal", "type", "revenue"),
            "party": party_id,
            "invoice_address": self._party_address(party_id),
            "currency": currency_id,
            "invoice_date": booking.accounting_date,
            "accounting_date": booking.accounting_date,
            "payment_term_date": booking.due_date,
            "reference": booking.external_id,
            "description": (
                f"{booking.external_id} · billing period {booking.billing_period}"
                f" ({booking.period_start.isoformat()} to {booking.period_end.isoformat()})"
            ),
            "comment": f"Posted by invoice dispatch, ERP mapping v{booking.mapping_version}",
            "account": self._id("account.account", "code", booking.receivable_account),
            "lines": [("create", [self._line_values(line, currency_id) for line in booking.lines])],
        }
        (invoice_id,) = self._call("model.account.invoice.create", [invoice_values])
        self._check_totals(invoice_id, booking)
        posted = self._post(invoice_id)
        return ErpReceipt(external_id=booking.external_id, erp_id=posted["number"], created=True)

    def find_payment(self, external_id: str) -> ErpReceipt | None:
        """The posted payment move whose description is our external id."""
        found = self._call(
            "model.account.move.search_read",
            [("description", "=", external_id), ("state", "=", "posted")],
            0,
            1,
            [("id", "ASC")],
            ["id", "number"],
        )
        if not found:
            return None
        return ErpReceipt(external_id=external_id, erp_id=str(found[0]["number"]), created=False)

    def record_payment(self, payment: ErpPayment) -> ErpReceipt:
        """Pay the invoice with Tryton's own "pay invoice" wizard, in one server transaction.

        The wizard books the payment move (the mapped bank or write-off account against
        the receivable, in the invoice's currency), adds it to the invoice's payment lines
        and reconciles them once the invoice is fully paid, which turns it ``paid``. A part
        payment stays an open payment line (``partial``); more than is open is booked as
        an overpayment that stays on the customer's account.
        """
        invoice = self._invoice(payment.invoice_number)
        method = self._id(
            "account.invoice.payment.method", "debit_account.code", payment.offset_account
        )
        context = {
            "active_model": "account.invoice",
            "active_id": invoice["id"],
            "active_ids": [invoice["id"]],
        }
        wizard = "wizard.account.invoice.pay"
        session, _start, _end = self._call(f"{wizard}.create")
        try:
            shown = self._call_in(context, f"{wizard}.execute", session, {}, "start")
            start = {
                **_field_values(shown["view"]["defaults"]),
                "amount": payment.amount,
                "payment_method": method,
                "date": payment.booked_on,
                "description": payment.external_id,
            }
            asked = self._call_in(context, f"{wizard}.execute", session, {"start": start}, "choice")
            if "view" in asked:  # the amount is not exactly what is open
                ask = {
                    **_field_values(asked["view"]["defaults"]),
                    "type": "overpayment"
                    if payment.amount > invoice["amount_to_pay"]
                    else "partial",
                }
                self._call_in(
                    context, f"{wizard}.execute", session, {"start": start, "ask": ask}, "pay"
                )
        finally:
            self._call(f"{wizard}.delete", session)
        booked = self.find_payment(payment.external_id)
        if booked is None:
            raise ErpPermanentError(
                f"Tryton did not book the {payment.kind.replace('_', '-')} {payment.external_id} "
                f"on {payment.invoice_number}"
            )
        return booked.model_copy(update={"created": True})

    def find_credit_note(self, external_id: str, credited_invoice: str) -> ErpReceipt | None:
        """Found, it is settled against its invoice too (a crash may have come in between)."""
        found = self.find_by_external_id(external_id)
        if found is not None:
            self._settle_with_credit_note(external_id, credited_invoice)
        return found

    def create_credit_note(self, booking: ErpBooking, credited_invoice: str) -> ErpReceipt:
        """An out invoice with negative lines is Tryton's credit note; then it settles the
        invoice it credits."""
        receipt = self.create_invoice(booking)
        self._settle_with_credit_note(booking.external_id, credited_invoice)
        return receipt

    def _settle_with_credit_note(self, credit_note_reference: str, invoice_number: str) -> None:
        """Pay the invoice with the credit note's receivable line, as Tryton's own payment
        wizard pays it with a bank line; reconcile both once nothing is left open.

        An invoice already paid keeps its payment: the credit note then stays open on the
        customer's account, which is Tryton's customer credit.
        """
        invoice = self._invoice(invoice_number)
        if invoice["state"] != "posted":
            return
        (note,) = self._call(
            "model.account.invoice.search_read",
            [("reference", "=", credit_note_reference), ("type", "=", "out")],
            0,
            1,
            None,
            ["id", "lines_to_pay"],
        )
        (current,) = self._call(
            "model.account.invoice.read", [invoice["id"]], ["lines_to_pay", "payment_lines"]
        )
        missing = [line for line in note["lines_to_pay"] if line not in current["payment_lines"]]
        if missing:
            self._call(
                "model.account.invoice.write",
                [invoice["id"]],
                {"payment_lines": [("add", missing)]},
            )
        (after,) = self._call(
            "model.account.invoice.read",
            [invoice["id"]],
            ["amount_to_pay", "lines_to_pay", "payment_lines"],
        )
        if after["amount_to_pay"] != 0:
            return
        lines = [*after["lines_to_pay"], *after["payment_lines"]]
        context = {"active_model": "account.move.line", "active_id": lines[0], "active_ids": lines}
        wizard = "wizard.account.move.reconcile_lines"
        session, _start, _end = self._call(f"{wizard}.create")
        try:
            self._call_in(context, f"{wizard}.execute", session, {}, "start")
        finally:
            self._call(f"{wizard}.delete", session)

    def _invoice(self, number: str) -> dict[str, Any]:
        found = self._call(
            "model.account.invoice.search_read",
            [("reference", "=", number), ("type", "=", "out"), ("state", "in", ["posted", "paid"])],
            0,
            1,
            None,
            ["id", "state", "amount_to_pay"],
        )
        if not found:
            raise ErpPermanentError(
                f"Tryton has no posted invoice {number}: the invoice must be booked before a "
                "payment against it"
            )
        return dict(found[0])

    def rpc(self, method: str, *params: Any) -> Any:
        """Any Tryton model call with our session: for reconciliation scripts and tests."""
        return self._call(method, *params)

    # -- Tryton specifics --------------------------------------------------------------

    def _line_values(self, line: ErpBookingLine, currency_id: int) -> dict[str, Any]:
        quantity, unit_price = line.quantity, line.unit_price
        description = f"{line.description} [{line.product_code}, {line.cost_center}]"
        exact = line.base_quantity == 1 and quantity * unit_price == line.net_amount
        if exact and unit_price == unit_price.quantize(_TRYTON_PRICE_QUANTUM):
            # Same value, but Tryton counts the digits of the text ('837.000000' is refused).
            unit_price = unit_price.quantize(_TRYTON_PRICE_QUANTUM)
        else:
            # Tryton stores unit prices with 4 decimals and has no base quantity; a per-call
            # price such as 0.00012 or 15 of 30 days at 29.00 would drift, so book the
            # rounded line amount and keep the detail in the text.
            stated = (
                f"{quantity:f}"
                if line.base_quantity == 1
                else (f"{quantity:f}/{line.base_quantity:f}")
            )
            description = f"{description} ({stated} x {unit_price:f})"
            quantity, unit_price = Decimal(1), line.net_amount
        return {
            "type": "line",
            "currency": currency_id,
            "description": description,
            "quantity": float(quantity),
            "unit_price": unit_price,
            "account": self._id("account.account", "code", line.revenue_account),
            "taxes": [("add", [self._id("account.tax", "name", line.tax_code)])],
            "analytic_accounts": [
                (
                    "create",
                    [
                        {
                            "root": self._id("analytic_account.account", "code", "CC"),
                            "account": self._id(
                                "analytic_account.account", "code", line.cost_center
                            ),
                        }
                    ],
                )
            ],
        }

    def _align_tax_rounding(self, invoice_id: int, booking: ErpBooking) -> None:
        """Make Tryton's tax per rate equal the tax the customer saw.

        Our rule (money.py, EN 16931) rounds the tax of each rate once, half-up. Tryton
        rounds half-even and splits a rate into one tax line per sign of the base (a
        discount line gets its own), rounding each. The two can differ by a minor unit per
        Tryton tax line; the difference goes on the largest one. Tryton keeps a tax line
        whose base is unchanged when it re-checks taxes at posting, so this survives.
        """
        unit = quantum(booking.currency)
        by_code: dict[str, list[dict[str, Any]]] = {}
        for tax in self._call(
            "model.account.invoice.tax.search_read",
            [("invoice", "=", invoice_id)],
            0,
            None,
            None,
            ["amount", "tax.name"],
        ):
            if tax.get("tax."):
                by_code.setdefault(tax["tax."]["name"], []).append(tax)
        for tax_line in booking.tax_lines:
            tryton_lines = by_code.get(tax_line.tax_code, [])
            if not tryton_lines:
                continue
            difference = tax_line.tax_amount - sum(line["amount"] for line in tryton_lines)
            if 0 < abs(difference) <= unit * len(tryton_lines):
                largest = max(tryton_lines, key=lambda line: abs(line["amount"]))
                self._call(
                    "model.account.invoice.tax.write",
                    [largest["id"]],
                    {"amount": largest["amount"] + difference},
                )

    def _check_totals(self, invoice_id: int, booking: ErpBooking) -> None:
        self._align_tax_rounding(invoice_id, booking)
        (computed,) = self._call(
            "model.account.invoice.read",
            [invoice_id],
            ["untaxed_amount", "tax_amount", "total_amount"],
        )
        ours = (booking.net_total, booking.tax_total, booking.gross_total)
        theirs = (computed["untaxed_amount"], computed["tax_amount"], computed["total_amount"])
        if ours != theirs:
            self._call("model.account.invoice.delete", [invoice_id])
            raise ErpPermanentError(
                f"Invoice {booking.external_id}: Tryton computes net/tax/gross"
                f" {theirs[0]}/{theirs[1]}/{theirs[2]} {booking.currency} but the invoice says"
                f" {ours[0]}/{ours[1]}/{ours[2]}; it was not booked. Check the tax mapping."
            )

    def _post(self, invoice_id: int) -> dict[str, Any]:
        self._call("model.account.invoice.post", [invoice_id])
        (invoice,) = self._call("model.account.invoice.read", [invoice_id], ["number", "state"])
        return dict(invoice)

    def _upsert_party(self, booking: ErpBooking) -> int:
        """Party keyed by our account id: created once, name and VAT id kept current."""
        customer = booking.customer
        found = self._call(
            "model.party.party.search", [("code", "=", customer.account_id)], 0, 1, None
        )
        address = customer.address
        address_values = {
            "street": "\n".join(part for part in (address.line1, address.line2) if part),
            "postal_code": address.postal_code or "",
            "city": address.city,
            "country": self._country(address.country),
        }
        if found:
            party_id = int(found[0])
            self._call("model.party.party.write", [party_id], {"name": customer.name})
            return party_id
        values: dict[str, Any] = {
            "code": customer.account_id,
            "name": customer.name,
            "addresses": [("create", [address_values])],
            "contact_mechanisms": [("create", [{"type": "email", "value": customer.email}])],
        }
        if customer.vat_id:
            values["identifiers"] = [("create", [{"type": None, "code": customer.vat_id}])]
        (party_id,) = self._call("model.party.party.create", [values])
        return int(party_id)

    def _party_address(self, party_id: int) -> int:
        (address_id,) = self._call(
            "model.party.address.search", [("party", "=", party_id)], 0, 1, None
        )
        return int(address_id)

    def _country(self, code: str) -> int:
        key = ("country.country", code)
        if key not in self._ids:
            found = self._call("model.country.country.search", [("code", "=", code)], 0, 1, None)
            if found:
                self._ids[key] = int(found[0])
            else:
                (created,) = self._call(
                    "model.country.country.create", [{"code": code, "name": code}]
                )
                self._ids[key] = int(created)
        return self._ids[key]

    def _id(self, model: str, field: str, value: str) -> int:
        """Resolve a mapping code to a Tryton id once per warm container."""
        key = (model, value)
        if key not in self._ids:
            found = self._call(f"model.{model}.search", [(field, "=", value)], 0, 2, None)
            if len(found) != 1:
                raise ErpPermanentError(
                    f"Tryton has {'no' if not found else 'more than one'} {model} with"
                    f" {field} '{value}'; create it in Tryton or fix the ERP mapping."
                )
            self._ids[key] = int(found[0])
        return self._ids[key]

    # -- JSON-RPC ----------------------------------------------------------------------

    def _login(self) -> None:
        user_id, session, *_ = self._rpc(
            "common.db.login", [self._user, {"password": self._password}, "en"]
        )
        token = base64.b64encode(f"{self._user}:{user_id}:{session}".encode()).decode()
        self._authorization = f"Session {token}"
        self._context = self._rpc("model.res.user.get_preferences", [True, {}])

    def _call(self, method: str, *params: Any) -> Any:
        """Call a model method with the user's context, logging in (again) when needed."""
        return self._call_in({}, method, *params)

    def _call_in(self, extra_context: dict[str, Any], method: str, *params: Any) -> Any:
        """``_call`` with more context (a wizard's active record)."""
        if self._authorization is None:
            self._login()
        try:
            return self._rpc(method, [*params, {**self._context, **extra_context}])
        except _SessionExpired:
            self._login()
            return self._rpc(method, [*params, {**self._context, **extra_context}])

    def _rpc(self, method: str, params: list[Any]) -> Any:
        self._request_id += 1
        body = json.dumps(
            {"id": self._request_id, "method": method, "params": params}, default=_encode
        )
        headers = {"Content-Type": "application/json"}
        if self._authorization:
            headers["Authorization"] = self._authorization
        try:
            response = self._http.post(
                self._rpc_url, data=body, headers=headers, timeout=self._timeout
            )
        except requests.Timeout as error:
            raise ErpTransientError(
                f"Tryton did not answer {method} within {self._timeout:.0f} s"
            ) from error
        except requests.ConnectionError as error:
            raise ErpTransientError(
                f"Tryton at {self._rpc_url} is unreachable (connection refused or reset)"
            ) from error
        if response.status_code in (401, 403) and method != "common.db.login":
            raise _SessionExpired()
        if response.status_code in _TRANSIENT_STATUS:
            raise ErpTransientError(f"Tryton answered HTTP {response.status_code} to {method}")
        if response.status_code >= 400:
            raise ErpPermanentError(
                f"Tryton refused {method} (HTTP {response.status_code}): {response.text[:300]}"
            )
        payload = json.loads(response.text, object_hook=_decode)
        if payload.get("error") is not None:
            rpc_error = payload["error"]
            name = rpc_error[0] if isinstance(rpc_error, list) and rpc_error else ""
            if isinstance(name, str) and "ConcurrencyException" in name:
                raise ErpTransientError(f"Tryton reported a concurrent update during {method}")
            raise ErpPermanentError(
                f"Tryton rejected {method}: {_readable_tryton_error(rpc_error)}"
            )
        return payload["result"]


class _SessionExpired(Exception):
    """Tryton dropped our session (timeout or restart); log in once more and retry."""
