"""The verifier's verdicts: one line per check, and a sentence per break.

The reader is a billing person or an auditor, so a break names the document and says
what it means ("... it was altered after finalization"), not which comparison failed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from invoice_dispatch.erp import ErpBookedTotals


@dataclass
class CheckResult:
    """One check over the period: what was looked at, and every break found."""

    title: str
    looked_at: str = ""
    breaks: list[str] = field(default_factory=list)
    #: False when there was nothing to check against (no ERP): said, never shown as ok.
    checked: bool = True

    @property
    def clean(self) -> bool:
        return not self.breaks

    def line(self) -> str:
        verdict = f"{len(self.breaks)} break(s)" if self.breaks else "ok"
        if not self.checked:
            verdict = "not checked"
        return f"{self.title:<34} {verdict:<12} {self.looked_at}"


def report_lines(results: list[CheckResult]) -> list[str]:
    """One line per check, then each break's sentence, indented under its check."""
    lines = [result.line() for result in results]
    for result in results:
        lines += [f"  {result.title}: {sentence}" for sentence in result.breaks]
    return lines


def pdf_hash_break(number: str, recorded: str | None, current: str | None) -> str | None:
    """Why a stored PDF does not prove itself, or None when it hashes to its record."""
    if not recorded:
        return f"{number} has no SHA-256 recorded for its PDF, so its PDF cannot be proven."
    if current is None:
        return f"{number}'s PDF is gone from the document store (recorded SHA-256 {recorded})."
    if current != recorded:
        return (
            f"{number}'s PDF no longer matches the SHA-256 recorded when it was locked "
            f"({recorded}; it now hashes to {current}); it was altered after finalization."
        )
    return None


def erp_totals_break(
    number: str,
    currency: str,
    ours: tuple[Decimal, Decimal, Decimal],
    booked: ErpBookedTotals | None,
) -> str | None:
    """Why the ERP's booking of ``number`` disagrees with the invoice, or None."""
    if booked is None:
        return f"{number} is not booked in the ERP."
    net, tax, gross = ours
    theirs = (booked.net_total, booked.tax_total, booked.gross_total)
    if booked.currency != currency or theirs != ours:
        return (
            f"{number} is booked in the ERP at {booked.net_total} net, {booked.tax_total} tax, "
            f"{booked.gross_total} gross {booked.currency}, but the invoice says {net} net, "
            f"{tax} tax, {gross} gross {currency}."
        )
    return None
