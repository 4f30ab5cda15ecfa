"""Finding invoice numbers in what payers write: spaces, case, separators, a missing prefix.

People copy the number from the PDF into their bank's free-text field, and banks pass on
what they get: ``INV-2026-000017``, ``inv 2026 000017``, ``Rechnung 2026-000017``,
``INV2026000017`` and ``invoice 2026/000 017`` all mean the same invoice. The pattern is
built from the legal entity's own ``number_format`` (``legal_entity.py``), so a changed
format is found without code: its letters match in any case and may be left out before
the first number, its separators match any of space, ``-``, ``_``, ``/``, ``.`` or none,
and a fixed-width number may be broken by single spaces. Each find is rewritten into the
canonical number, the invoice's key in the ledger: a candidate that is not an invoice
(a customer number that happens to look like one) is simply not found there.

The portal's EPC QR code asks the bank for a structured reference (ISO 11649, ``RF`` and
two check digits before the number's letters and digits: ``RF18INV2026000017``); banks
hand it on in camt.053's ``CdtrRefInf``, and the finder reads the number behind the
``RF`` prefix like any other.
"""

from __future__ import annotations

import re
import string

_SEPARATORS = r"[\s\-_/.]*"
_WIDTH = re.compile(r"0?(\d+)d")


def _number_pattern(format_spec: str) -> str:
    """Digits of a ``{sequence:06d}``-style field; fixed widths may hold single spaces."""
    width = _WIDTH.fullmatch(format_spec or "")
    if width is None or int(width.group(1)) < 2:
        return r"\d+"
    return rf"\d(?: ?\d){{{int(width.group(1)) - 1}}}"


class InvoiceNumberFinder:
    """Compiled once per format: ``find`` runs for every payment of a statement."""

    def __init__(self, number_format: str, entity_code: str) -> None:
        self._format = number_format
        self._entity = entity_code
        parts: list[str] = []
        seen_field = False
        for literal, field_name, format_spec, _conversion in string.Formatter().parse(
            number_format
        ):
            for chunk in re.findall(r"[A-Za-z0-9]+|[^A-Za-z0-9]+", literal):
                if not chunk.isalnum():
                    parts.append(_SEPARATORS)
                elif seen_field:
                    parts.append(re.escape(chunk))
                else:  # the prefix before the first number may be left out
                    parts.append(f"(?:{re.escape(chunk)})?")
            if field_name is None:
                continue
            if field_name == "entity":
                parts.append(re.escape(entity_code))
            elif field_name in ("year", "sequence"):
                digits = r"\d{4}" if field_name == "year" else _number_pattern(format_spec or "")
                parts.append(f"(?P<{field_name}>{digits})")
                seen_field = True
            else:
                raise ValueError(f"The number format names an unknown field {{{field_name}}}")
            parts.append(_SEPARATORS)
        body = "".join(parts)
        self._pattern = re.compile(rf"(?<![A-Za-z0-9])(?:RF\d\d)?(?:{body})(?! ?\d)", re.IGNORECASE)

    def find(self, text: str) -> list[str]:
        """The canonical numbers ``text`` names, in the order it names them, once each."""
        found: dict[str, None] = {}
        for match in self._pattern.finditer(text):
            fields = {
                name: int(value.replace(" ", "")) for name, value in match.groupdict().items()
            }
            found[self._format.format(entity=self._entity, **fields)] = None
        return list(found)


#: ISO 11649 allows 21 characters after "RF" and the check digits.
_CREDITOR_REFERENCE_BODY = 21


def creditor_reference(invoice_number: str) -> str | None:
    """The ISO 11649 creditor reference for ``invoice_number`` (``RF`` + check digits +
    its letters and digits), or None when they are more than the standard allows.

    Check digits as ISO 7064 MOD 97-10, the IBAN's: letters count as 10..35, "RF00" is
    moved behind the body, and 98 minus the remainder makes the whole reference check.
    """
    body = "".join(character for character in invoice_number.upper() if character.isalnum())
    if not body or len(body) > _CREDITOR_REFERENCE_BODY or not body.isascii():
        return None
    digits = "".join(str(int(character, 36)) for character in body + "RF00")
    return f"RF{98 - int(digits) % 97:02d}{body}"
