"""Payment instructions a phone's banking app can scan: the EPC QR code (GiroCode).

EPC069-12 ("Quick Response Code: Guidelines to Enable Data Capture for the Initiation of
a SEPA Credit Transfer", version 002) fixes the payload: one element per line, in this
order, separated by a line feed, trailing empty elements left out:

 1. service tag ``BCD``           5. BIC (optional in version 002)   9. purpose (4 letters)
 2. version ``002``               6. beneficiary name (max 70)       10. structured remittance
 3. character set ``1`` (UTF-8)   7. IBAN                                (ISO 11649, max 35)
 4. identification ``SCT``        8. ``EUR`` + amount, 0.01 to        11. unstructured remittance
                                     999999999.99, "." decimal           (max 140; only if 10
                                                                          is empty)
                                                                      12. note to the payer

The whole payload may not pass 331 bytes, and the code uses error correction level M.
SEPA credit transfers are in euro only: other currencies get the IBAN and reference as
text. The reference is the invoice's ISO 11649 creditor reference when its number fits
one (``payments.references``), so the payment matches the invoice on arrival; otherwise
the number itself as unstructured text, which matching reads just as well.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import segno

from invoice_dispatch.payments.references import creditor_reference

_MAX_PAYLOAD_BYTES = 331
_MAX_NAME = 70
_MAX_EUR = Decimal("999999999.99")
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class CreditTransfer:
    """What the customer's bank needs to pay one invoice."""

    beneficiary: str
    iban: str
    bic: str
    currency: str
    amount: Decimal
    invoice_number: str

    @property
    def reference(self) -> str:
        """What the payer quotes: the structured reference, else the invoice number."""
        return creditor_reference(self.invoice_number) or self.invoice_number


def epc_payload(transfer: CreditTransfer) -> str | None:
    """The EPC069-12 payload for ``transfer``; None when no EPC code can carry it (not
    euro, nothing to pay, or more than the standard's amount)."""
    if transfer.currency != "EUR" or not _CENT <= transfer.amount <= _MAX_EUR:
        return None
    structured = creditor_reference(transfer.invoice_number)
    elements = [
        "BCD",
        "002",
        "1",
        "SCT",
        transfer.bic.replace(" ", ""),
        transfer.beneficiary[:_MAX_NAME],
        transfer.iban.replace(" ", "").upper(),
        f"EUR{transfer.amount.quantize(_CENT)}",
        "",
        structured or "",
        "" if structured else transfer.invoice_number,
    ]
    payload = "\n".join(elements).rstrip("\n")
    if len(payload.encode("utf-8")) > _MAX_PAYLOAD_BYTES:
        return None
    return payload


def epc_qr_svg(payload: str) -> str:
    """The QR code as an inline SVG element (no image request, so the page's CSP holds).

    Level M as the standard asks (segno would otherwise raise it when the data leaves
    room); a 4-module quiet zone; UTF-8, the character set the payload declares.
    """
    code = segno.make_qr(payload, error="m", boost_error=False, encoding="utf-8")
    return str(code.svg_inline(scale=4, border=4, light="#fff", title="EPC QR code (GiroCode)"))
