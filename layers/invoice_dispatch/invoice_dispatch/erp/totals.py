"""Reading back what the ERP booked: the audit's proof that the ledger and the invoices agree.

Posting is looked up by external id before it creates (``posting.py``), so the ERP holds
at most one entry per invoice number; the verifier asks for that entry's totals and
compares them with the invoice, to the minor unit.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from pydantic import BaseModel, ConfigDict


class ErpBookedTotals(BaseModel):
    """The totals of the entry the ERP holds under our invoice number."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    external_id: str
    currency: str
    net_total: Decimal
    tax_total: Decimal
    gross_total: Decimal


class ErpTotalsReader(Protocol):
    """The read side of the ERP port, implemented by the HTTP and the Tryton adapter."""

    def booked_totals(self, external_id: str) -> ErpBookedTotals | None:
        """The totals booked under ``external_id``, or None if the ERP has no such entry."""
        ...
