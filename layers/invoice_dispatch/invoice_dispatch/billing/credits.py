"""Credits: what a period owes the customer is carried to their next invoice, never invoiced.

A downgrade mid-term can credit more unused time than the period charges (ENTERPRISE x10
to x4 came to -10,977.54 EUR). A negative "invoice" is not a document a customer can pay,
and EN 16931 types a document that gives money back as a credit note (381), which needs
the invoice it corrects. So, as Stripe does with a customer's credit balance, the engine
issues no invoice for such a period: ``generate_draft`` returns the amount as a
``CarriedCredit`` with a sentence for the run report, and the account's next invoice
carries it as a line "Credit carried from 2026-11" at that invoice's tax rate (the account
source lists it under ``credits``; the ledger of a later issue will record it itself).
A credit larger than the next invoice is carried again, whole, the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from invoice_dispatch.billing.period import add_months

CREDIT_PRODUCT = "CREDIT"


@dataclass(frozen=True, slots=True)
class CarriedCredit:
    """What a period owes the customer: net (before tax) and gross, both positive."""

    account_id: str
    period: str
    currency: str
    net_amount: Decimal
    gross_amount: Decimal

    @property
    def credit_id(self) -> str:
        return f"CREDIT-{self.period}"

    @property
    def apply_in(self) -> str:
        return next_period(self.period)

    def account_record(self) -> dict[str, str]:
        """The ``credits`` entry that carries it to the next invoice (account JSON)."""
        return {
            "credit_id": self.credit_id,
            "from_period": self.period,
            "amount": f"{self.net_amount:f}",
        }

    def sentence(self) -> str:
        """Why there is no invoice, and what carries the amount: for the run report."""
        return (
            f"No invoice for {self.period}: the period's charges and credits leave the "
            f"customer a credit of {self.gross_amount:,} {self.currency} "
            f"({self.net_amount:,} {self.currency} before tax). A negative total is not "
            f"an invoice; the credit is carried to the {self.apply_in} invoice by adding "
            f'{{"credit_id": "{self.credit_id}", "from_period": "{self.period}", '
            f'"amount": "{self.net_amount:f}"}} to the account\'s "credits" '
            "(or settle it with a credit note)."
        )


def next_period(label: str) -> str:
    """``2026-11`` -> ``2026-12``; ``2026-12`` -> ``2027-01``."""
    return add_months(date(int(label[:4]), int(label[5:7]), 1), 1).strftime("%Y-%m")
