"""The EPC QR code (GiroCode) on the portal: EPC069-12's payload, field by field."""

from __future__ import annotations

from decimal import Decimal

import segno

from invoice_dispatch.legal_entity import load_legal_entity
from invoice_dispatch.payments.references import InvoiceNumberFinder, creditor_reference
from invoice_dispatch.portal.epc_qr import CreditTransfer, epc_payload, epc_qr_svg

SELLER = load_legal_entity()


def _transfer(**changes: object) -> CreditTransfer:
    fields: dict[str, object] = {
        "beneficiary": SELLER.name,
        "iban": SELLER.bank.iban,
        "bic": SELLER.bank.bic,
        "currency": "EUR",
        "amount": Decimal("1234.50"),
        "invoice_number": "INV-2026-000017",
    }
    return CreditTransfer(**{**fields, **changes})  # type: ignore[arg-type]


def test_the_payload_holds_epc069_12_fields_in_order() -> None:
    payload = epc_payload(_transfer())

    assert payload is not None
    assert payload.split("\n") == [
        "BCD",  # service tag
        "002",  # version
        "1",  # character set: UTF-8
        "SCT",  # SEPA credit transfer
        SELLER.bank.bic,  # BIC
        SELLER.name,  # beneficiary
        SELLER.bank.iban.replace(" ", ""),  # IBAN, no spaces
        "EUR1234.50",  # amount
        "",  # purpose: none
        "RF50INV2026000017",  # structured reference (ISO 11649)
    ]
    assert "\r" not in payload and not payload.endswith("\n")


def test_the_structured_reference_checks_and_payments_quoting_it_find_the_invoice() -> None:
    reference = creditor_reference("INV-2026-000017")
    finder = InvoiceNumberFinder(SELLER.number_format, SELLER.code)

    assert reference == "RF50INV2026000017"
    rearranged = reference[4:] + reference[:4]
    assert int("".join(str(int(character, 36)) for character in rearranged)) % 97 == 1
    assert creditor_reference("539007547034") == "RF18539007547034"  # ISO 11649's example
    assert finder.find(f"{reference}") == ["INV-2026-000017"]
    assert finder.find("rf50 inv 2026000017") == ["INV-2026-000017"]


def test_a_number_too_long_for_iso_11649_goes_as_unstructured_text() -> None:
    payload = epc_payload(_transfer(invoice_number="INVOICE-2026-0000000000017"))

    assert payload is not None
    assert payload.split("\n")[9:] == ["", "INVOICE-2026-0000000000017"]


def test_no_code_for_other_currencies_nothing_to_pay_or_more_than_the_standard_allows() -> None:
    assert epc_payload(_transfer(currency="USD")) is None
    assert epc_payload(_transfer(amount=Decimal(0))) is None
    assert epc_payload(_transfer(amount=Decimal("-5.00"))) is None
    assert epc_payload(_transfer(amount=Decimal("1000000000.00"))) is None


def test_a_long_beneficiary_name_is_cut_to_70_characters_and_stays_under_331_bytes() -> None:
    payload = epc_payload(_transfer(beneficiary="Ä" * 120))

    assert payload is not None
    assert payload.split("\n")[5] == "Ä" * 70
    assert len(payload.encode()) <= 331


def test_the_qr_code_encodes_exactly_the_payload_at_level_m() -> None:
    """No QR decoder is installed here: the SVG must be segno's drawing of this payload at
    level M, and differ from another payload's."""
    payload = epc_payload(_transfer())
    assert payload is not None

    svg = epc_qr_svg(payload)

    expected = segno.make_qr(payload, error="m", boost_error=False, encoding="utf-8")
    assert expected.error == "M"
    assert svg == expected.svg_inline(
        scale=4, border=4, light="#fff", title="EPC QR code (GiroCode)"
    )
    assert svg != epc_qr_svg(payload.replace("1234.50", "1234.51"))
    assert svg.startswith("<svg") and "<script" not in svg
