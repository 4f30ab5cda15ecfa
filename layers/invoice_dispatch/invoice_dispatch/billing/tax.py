"""Which tax applies to a customer: rate table lookup, EU reverse charge, exemptions.

Rates live in a versioned JSON table (``billing/data/tax_rates.json``) rather than in code
because they change by law on dates the product does not control; the table version is
part of what explains a draft.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache

from pydantic import BaseModel, ConfigDict
from stdnum.eu import vat as eu_vat

from invoice_dispatch.billing.quoting import quote
from invoice_dispatch.config_files import read_config_text
from invoice_dispatch.invoice import TaxCategory

REVERSE_CHARGE_NOTE = (
    "Reverse charge: VAT to be accounted for by the recipient "
    "(Article 196, Council Directive 2006/112/EC)"
)


class TaxTable(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str
    effective_from: date
    source: str = ""
    eu_members: frozenset[str]
    rates: dict[str, Decimal]

    def rate_for(self, country: str, region: str | None = None) -> Decimal | None:
        """The rate for ``country`` (``US-CA`` first when a region is given), else ``None``."""
        if region:
            regional = self.rates.get(f"{country}-{region}")
            if regional is not None:
                return regional
        return self.rates.get(country)


@lru_cache(maxsize=4)
def load_tax_table(path: str | None = None) -> TaxTable:
    """The tax table at ``path``, or the bundled one; cached per cold start."""
    raw_text = read_config_text(path, "invoice_dispatch.billing.data", "tax_rates.json")
    return TaxTable.model_validate(json.loads(raw_text))


@dataclass(frozen=True, slots=True)
class TaxTreatment:
    """The one tax treatment of a draft: every line of an invoice shares it."""

    category: TaxCategory
    rate: Decimal
    exemption_reason: str | None
    expected_rate: Decimal | None


class NoTaxRate(LookupError):
    """The table has no rate for the customer's country; the draft is quarantined."""


@lru_cache(maxsize=4096)
def is_valid_eu_vat_id(vat_id: str) -> bool:
    """Checksum and format check by python-stdnum (no VIES call: the domain stays offline)."""
    try:
        return bool(eu_vat.is_valid(vat_id))
    except Exception:  # stdnum raises on some malformed country prefixes
        return False


def resolve_tax(
    *,
    country: str,
    region: str | None,
    vat_id: str | None,
    tax_exempt: bool,
    exemption_reason: str | None,
    rate_override: Decimal | None,
    seller_country: str,
    table: TaxTable,
) -> TaxTreatment:
    """Decide the category and rate, in the order a tax adviser would.

    1. An exemption recorded on the account wins (with its legal reason, EN 16931 BT-120).
    2. EU B2B across borders with a valid VAT id: reverse charge, 0 %.
    3. Otherwise the customer's country (and region) rate from the table; a rate override
       from the account source is used as given but reported when it differs (anomaly).
    """
    expected = table.rate_for(country, region)
    if tax_exempt:
        return TaxTreatment(
            category=TaxCategory.EXEMPT,
            rate=Decimal(0),
            exemption_reason=exemption_reason or "Exempt from VAT",
            expected_rate=None,
        )
    if (
        vat_id
        and country in table.eu_members
        and seller_country in table.eu_members
        and country != seller_country
        and is_valid_eu_vat_id(vat_id)
    ):
        return TaxTreatment(
            category=TaxCategory.REVERSE_CHARGE,
            rate=Decimal(0),
            exemption_reason=REVERSE_CHARGE_NOTE,
            expected_rate=None,
        )
    if expected is None and rate_override is None:
        raise NoTaxRate(
            f"No tax rate for country {quote(country)}"
            + (f" region {quote(region)}" if region else "")
            + f" in tax table {table.version}"
        )
    rate = rate_override if rate_override is not None else expected
    assert rate is not None
    category = TaxCategory.STANDARD if rate > 0 else TaxCategory.ZERO_RATED
    return TaxTreatment(category=category, rate=rate, exemption_reason=None, expected_rate=expected)
