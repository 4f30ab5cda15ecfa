"""Anomaly checks run on every draft before approval.

Each flag is a sentence the approver reads on the batch summary; the codes are stable so
dashboards and the auto-hold configuration can refer to them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from invoice_dispatch.billing.quoting import quote, shorten
from invoice_dispatch.billing.tax import INVALID_VAT_ID, VAT_ID_COUNTRY_MISMATCH
from invoice_dispatch.invoice import AnomalyFlag, InvoiceLine

TOTAL_CHANGE = "TOTAL_CHANGE"
USAGE_SPIKE = "USAGE_SPIKE"
NON_POSITIVE_TOTAL = "NON_POSITIVE_TOTAL"
DUPLICATE_LINE = "DUPLICATE_LINE"
TAX_RATE_MISMATCH = "TAX_RATE_MISMATCH"
PRICE_OFF_CATALOG = "PRICE_OFF_CATALOG"

ANOMALY_CODES: tuple[str, ...] = (
    TOTAL_CHANGE,
    USAGE_SPIKE,
    NON_POSITIVE_TOTAL,
    DUPLICATE_LINE,
    TAX_RATE_MISMATCH,
    PRICE_OFF_CATALOG,
    INVALID_VAT_ID,
    VAT_ID_COUNTRY_MISMATCH,
)
#: What holds an invoice unless configured otherwise: the customer would be billed the
#: wrong amount of tax, or be owed money (``ANOMALY_HOLD_CODES`` in the template).
DEFAULT_HOLD_CODES: frozenset[str] = frozenset(
    {NON_POSITIVE_TOTAL, TAX_RATE_MISMATCH, INVALID_VAT_ID, VAT_ID_COUNTRY_MISMATCH}
)


@dataclass(frozen=True, slots=True)
class AnomalyThresholds:
    """Configurable limits; a code in ``hold_codes`` holds the invoice at approval by itself."""

    total_change_percent: Decimal = Decimal(50)
    usage_spike_factor: Decimal = Decimal(3)
    hold_codes: frozenset[str] = DEFAULT_HOLD_CODES

    def flag(self, code: str, message: str) -> AnomalyFlag:
        return AnomalyFlag(code=code, message=message, holds_invoice=code in self.hold_codes)


def _fmt(amount: Decimal, currency: str) -> str:
    return f"{amount:,} {currency}"


def total_change_flag(
    gross_total: Decimal,
    previous_gross_total: Decimal | None,
    currency: str,
    thresholds: AnomalyThresholds,
) -> AnomalyFlag | None:
    if previous_gross_total is None or previous_gross_total <= 0:
        return None
    change = (gross_total - previous_gross_total) * 100 / previous_gross_total
    if abs(change) <= thresholds.total_change_percent:
        return None
    direction = "higher" if change > 0 else "lower"
    return thresholds.flag(
        TOTAL_CHANGE,
        f"Total {_fmt(gross_total, currency)} is {abs(change):.0f} % {direction} than last "
        f"period's {_fmt(previous_gross_total, currency)} (threshold "
        f"{thresholds.total_change_percent} %)",
    )


def usage_spike_flag(
    metric_name: str,
    metric_code: str,
    quantity: Decimal,
    trailing_average: Decimal | None,
    thresholds: AnomalyThresholds,
) -> AnomalyFlag | None:
    if trailing_average is None or trailing_average <= 0:
        return None
    if quantity <= trailing_average * thresholds.usage_spike_factor:
        return None
    factor = quantity / trailing_average
    return thresholds.flag(
        USAGE_SPIKE,
        f"{metric_name} ({metric_code}) usage of {quantity:,} is {factor:.1f} times the trailing "
        f"average of {trailing_average:,} (threshold {thresholds.usage_spike_factor} times)",
    )


def non_positive_total_flag(
    gross_total: Decimal, currency: str, thresholds: AnomalyThresholds
) -> AnomalyFlag | None:
    if gross_total > 0:
        return None
    if gross_total == 0:
        message = "Total is zero: check whether this account should be invoiced at all"
    else:
        message = (
            f"Total is negative ({_fmt(gross_total, currency)}): the customer would be owed "
            "money; settle it with a credit note instead of an invoice"
        )
    return thresholds.flag(NON_POSITIVE_TOTAL, message)


def duplicate_line_flags(
    lines: Iterable[InvoiceLine], currency: str, thresholds: AnomalyThresholds
) -> list[AnomalyFlag]:
    """Identical lines usually mean a usage record or one-off was sent twice by the source.

    Identical lines share their description, so when every description differs (nearly
    every draft) there is nothing to count and the costlier full comparison is skipped.
    """
    lines = tuple(lines)
    if len({line.description for line in lines}) == len(lines):
        return []
    counts = Counter(
        (
            line.kind,
            line.product_code,
            line.quantity,
            line.unit_price,
            line.net_amount,
            line.service_start,
            line.service_end,
            line.description,
        )
        for line in lines
    )
    flags = []
    for key, count in counts.items():
        if count > 1:
            flags.append(
                thresholds.flag(
                    DUPLICATE_LINE,
                    f"Line {quote(key[7])} of {_fmt(key[4], currency)} appears {count} times: "
                    "check the account source for a record sent twice",
                )
            )
    return flags


def duplicate_usage_flag(
    metric_name: str,
    quantity: Decimal,
    source: str | None,
    count: int,
    thresholds: AnomalyThresholds,
) -> AnomalyFlag:
    """Records of one metric are billed as one total, so a reading sent twice no longer
    shows as two equal lines: equal records (quantity and source) are flagged instead."""
    where = f" from {quote(source)}" if source else ""
    return thresholds.flag(
        DUPLICATE_LINE,
        f"{metric_name} usage of {quantity:,}{where} appears {count} times and each is "
        "counted in the total: check the account source for a reading sent twice",
    )


def vat_id_flag(
    problem: tuple[str, str], rate: Decimal, country: str, thresholds: AnomalyThresholds
) -> AnomalyFlag:
    """A customer in another EU country whose VAT id did not earn the reverse charge."""
    code, sentence = problem
    return thresholds.flag(
        code,
        f"{sentence}: no reverse charge, {rate} % VAT of {quote(country)} charged instead. "
        "Correct the VAT id or the address before releasing this invoice",
    )


def tax_rate_flag(
    applied_rate: Decimal,
    expected_rate: Decimal | None,
    country: str,
    region: str | None,
    table_version: str,
    thresholds: AnomalyThresholds,
) -> AnomalyFlag | None:
    where = shorten(f"{country}-{region}" if region else country)
    if expected_rate is None:
        return thresholds.flag(
            TAX_RATE_MISMATCH,
            f"Tax rate {applied_rate} % comes from the account source, but tax table "
            f"{table_version} has no rate for the customer's country {where}",
        )
    if applied_rate == expected_rate:
        return None
    return thresholds.flag(
        TAX_RATE_MISMATCH,
        f"Tax rate {applied_rate} % does not match the {expected_rate} % of the customer's "
        f"country {where} (tax table {table_version})",
    )


def price_off_catalog_flag(
    plan_name: str,
    contract_price: Decimal,
    catalog_price: Decimal | None,
    currency: str,
    catalog_version: str,
    thresholds: AnomalyThresholds,
) -> AnomalyFlag | None:
    if catalog_price is not None and contract_price == catalog_price:
        return None
    catalog_text = (
        f"catalog {catalog_version} says {_fmt(catalog_price, currency)}"
        if catalog_price is not None
        else f"catalog {catalog_version} has no {currency} price"
    )
    return thresholds.flag(
        PRICE_OFF_CATALOG,
        f"{plan_name} is priced at {_fmt(contract_price, currency)} on the contract; "
        f"{catalog_text}",
    )
