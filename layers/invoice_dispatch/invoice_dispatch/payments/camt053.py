"""ISO 20022 camt.053 (bank-to-customer statement), read with the standard library.

The PyPI parsers were evaluated first (2026-11, installable here with pip):
* ``pycamt`` 1.1.1 (one maintainer, active): returns dicts of strings, leaves out the
  entry reference (``NtryRef``) we key on when ``AcctSvcrRef`` is missing, and turns
  balances into ``float``; it also adds lxml (about 8 MB) to the Lambda layer.
* ``camt053`` 0.0.23 (pre-1.0, released weekly): 23 runtime dependencies, FastAPI,
  httpx and cryptography among them, and exact pins (``jinja2==3.1.6``) that fight the
  layer's own; far too much for reading one XML format.
* ``bankstatementparser`` 0.0.29 (pre-1.0): needs pandas (tens of MB in the layer).
* ``fintech``: commercial licence.
What we need is small and fixed by the standard: statements, their entries and each
entry's transaction details. ``xml.etree`` reads it in about a hundred lines, with no new
dependency, and the amounts go straight from the XML text into ``Decimal``.

Read by local element names, so every published version (camt.053.001.02 to .13) and
the banks' own namespace prefixes are read alike; where versions differ (``Sts`` as text
in .02, as ``Sts/Cd`` later; the debtor's name in ``Dbtr/Nm`` or ``Dbtr/Pty/Nm``; a
transaction's amount in ``TxDtls/Amt`` or ``AmtDtls/TxAmt/Amt``) both are read.

A statement never carries a DOCTYPE, so one is refused before parsing: no entity is ever
expanded (billion laughs) or fetched (XXE).

Which entries are payments: booked (``BOOK``) credits (``CRDT``) that are not reversals.
An entry that batches several transfers (``NtryDtls`` with several ``TxDtls``, each with
its amount) is several payments. Each payment's key is the bank's own reference, scoped
by the account: ``bank:<IBAN>:<AcctSvcrRef or NtryRef>`` (and ``/<the transfer's
reference>`` inside a batch), which is what makes a statement imported twice, or two
overlapping statements, apply each transfer once. An entry with neither reference is
keyed by a digest of its date, amount, payer and remittance, and the skipped list says so.
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ElementTree
from datetime import date
from decimal import Decimal, InvalidOperation

from pydantic import ValidationError

from invoice_dispatch.billing.quoting import quote
from invoice_dispatch.payments.incoming import IncomingPayment
from invoice_dispatch.payments.statement import ParsedStatement, StatementError

Element = ElementTree.Element


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _children(element: Element, name: str) -> list[Element]:
    return [child for child in element if _local(child.tag) == name]


def _find(element: Element | None, path: str) -> Element | None:
    """The first element at a slash-separated path of local names."""
    for name in path.split("/"):
        if element is None:
            return None
        element = next(iter(_children(element, name)), None)
    return element


def _text(element: Element | None, *paths: str) -> str:
    """The text at the first of ``paths`` that exists, stripped ('' if none does)."""
    for path in paths:
        found = _find(element, path)
        if found is not None and (found.text or "").strip():
            return (found.text or "").strip()
    return ""


def _all_text(element: Element | None, path: str) -> list[str]:
    """Texts of every element at ``path`` (the last step may repeat, like ``Ustrd``)."""
    *parents, last = path.split("/")
    holder = _find(element, "/".join(parents)) if parents else element
    if holder is None:
        return []
    return [(child.text or "").strip() for child in _children(holder, last) if child.text]


def _date(element: Element, where: str) -> date:
    text = _text(element, f"{where}/Dt", f"{where}/DtTm")
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise StatementError(f"{where} {quote(text)} is not a date") from None


def _amount(element: Element | None, what: str) -> tuple[Decimal, str]:
    if element is None:
        raise StatementError(f"{what} has no amount (Amt)")
    try:
        return Decimal((element.text or "").strip()), element.get("Ccy", "")
    except InvalidOperation:
        raise StatementError(f"{what} has the amount {quote(element.text or '')}") from None


def _remittance(details: Element | None) -> str:
    """Structured creditor references first (where a number is typed), then free text."""
    info = _find(details, "RmtInf")
    if info is None:
        return ""
    parts: list[str] = []
    for structured in _children(info, "Strd"):
        parts += _all_text(structured, "CdtrRefInf/Ref") + _all_text(structured, "AddtlRmtInf")
    parts += _all_text(info, "Ustrd")
    return " ".join(part for part in parts if part)


def _payer(details: Element | None) -> str:
    return _text(details, "RltdPties/Dbtr/Nm", "RltdPties/Dbtr/Pty/Nm", "RltdPties/UltmtDbtr/Nm")


def _parse_document(content: bytes) -> Element:
    if b"<!DOCTYPE" in content[:4096].upper():
        raise StatementError("The file declares a DOCTYPE; a camt.053 statement never does")
    try:
        root = ElementTree.fromstring(content)
    except ElementTree.ParseError as error:
        raise StatementError(f"The file is not well-formed XML ({error})") from None
    statement = _find(root, "BkToCstmrStmt")
    if _local(root.tag) != "Document" or statement is None:
        raise StatementError(
            f"The file is XML but not a camt.053 statement (its root is {quote(_local(root.tag))}"
            ", expected Document/BkToCstmrStmt)"
        )
    return statement


def _first(element: Element | None, *paths: str) -> Element | None:
    for path in paths:
        found = _find(element, path)
        if found is not None:
            return found
    return None


def _entry_payments(
    entry: Element, account: str, reference: str, amount: Decimal, currency: str, what: str
) -> list[IncomingPayment]:
    """One payment per transfer of a batch whose transfers state amounts; else one."""
    booked_on = _date(entry, "BookgDt")
    transfers = [
        details
        for entry_details in _children(entry, "NtryDtls")
        for details in _children(entry_details, "TxDtls")
    ]
    amounts = [_first(details, "Amt", "AmtDtls/TxAmt/Amt") for details in transfers]
    parts: list[tuple[Element | None, Decimal, str, str]]
    if len(transfers) > 1 and all(found is not None for found in amounts):
        parts = [
            (details, *_amount(found, what), _remittance(details))
            for details, found in zip(transfers, amounts, strict=True)
        ]
    else:
        remittance = " ".join(_remittance(details) for details in transfers)
        first = transfers[0] if transfers else None
        parts = [(first, amount, currency, remittance or _text(entry, "AddtlNtryInf"))]
    payments = []
    for number, (details, part_amount, part_currency, remittance) in enumerate(parts, start=1):
        payer = _payer(details)
        key = (
            reference
            or hashlib.sha256(
                f"{booked_on}|{part_amount}|{part_currency}|{payer}|{remittance}".encode()
            ).hexdigest()[:24]
        )
        if len(parts) > 1:
            key += "/" + (_text(details, "Refs/AcctSvcrRef", "Refs/EndToEndId") or f"#{number}")
        payments.append(
            IncomingPayment(
                key=f"bank:{account}:{key}",
                source="bank statement",
                received_on=booked_on,
                currency=part_currency,
                amount=part_amount,
                payer=payer,
                reference=remittance,
            )
        )
    return payments


def parse_camt053(content: bytes) -> ParsedStatement:
    """Every customer payment in a camt.053 file; raises ``StatementError`` if unreadable."""
    payments: list[IncomingPayment] = []
    skipped: list[str] = []
    for statement in _children(_parse_document(content), "Stmt"):
        account = _text(statement, "Acct/Id/IBAN", "Acct/Id/Othr/Id") or "unknown-account"
        for index, entry in enumerate(_children(statement, "Ntry"), start=1):
            what = f"Entry {index} of statement {_text(statement, 'Id') or '?'}"
            amount, currency = _amount(_find(entry, "Amt"), what)
            status = _text(entry, "Sts/Cd", "Sts")
            direction = _text(entry, "CdtDbtInd")
            reference = _text(entry, "AcctSvcrRef", "NtryRef")
            described = f"{what} ({reference or 'no reference'}, {amount} {currency})"
            if direction != "CRDT":
                skipped.append(f"{described} is a debit, not a customer payment")
                continue
            if status != "BOOK":
                skipped.append(
                    f"{described} is {status or 'not booked'} yet; import it once booked"
                )
                continue
            if _text(entry, "RvslInd").lower() == "true":
                skipped.append(f"{described} reverses an earlier debit, not a customer payment")
                continue
            if not reference:
                skipped.append(
                    f"{described} has no bank reference (AcctSvcrRef or NtryRef): it is keyed "
                    "by its date, amount, payer and text, so an identical transfer on the same "
                    "day would be taken for the same one"
                )
            try:
                payments += _entry_payments(entry, account, reference, amount, currency, what)
            except ValidationError as error:
                problem = error.errors(include_url=False)[0]["msg"]
                raise StatementError(f"{described}: {problem}") from None
    return ParsedStatement(payments=payments, skipped=skipped)
