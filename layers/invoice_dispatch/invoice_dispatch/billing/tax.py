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
from stdnum import exceptions as stdnum_errors
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
    #: Why the customer's VAT id did not earn the reverse charge an EU customer in another
    #: country would get: (anomaly code, sentence). The draft is flagged with it.
    vat_id_problem: tuple[str, str] | None = None


class NoTaxRate(LookupError):
    """The table has no rate for the customer's country; the draft is quarantined."""


#: Anomaly codes for a VAT id that did not earn the reverse charge (see ``anomalies``).
INVALID_VAT_ID = "INVALID_VAT_ID"
VAT_ID_COUNTRY_MISMATCH = "VAT_ID_COUNTRY_MISMATCH"
#: VAT id prefixes that are not the country's ISO code: Greece (EL) and Northern Ireland (XI).
_VAT_PREFIX_COUNTRIES = {"EL": "GR", "XI": "GB"}
_STDNUM_WORDS: tuple[tuple[type[Exception], str], ...] = (
    (stdnum_errors.InvalidChecksum, "fails its check digits"),
    (stdnum_errors.InvalidLength, "has the wrong length for its country"),
    (stdnum_errors.InvalidFormat, "is not in its country's format"),
    (stdnum_errors.InvalidComponent, "does not start with an EU country code"),
)


def reverse_charge_vat_id_problem(vat_id: str, country: str) -> tuple[str, str] | None:
    """Why ``vat_id`` cannot carry a reverse charge for a customer in ``country``, or None.

    Checked offline by python-stdnum (format and check digits; no VIES call). A valid id
    registered in another country than the customer's address is no ground for the reverse
    charge either: which one is wrong, the id or the address, is for a person to decide.
    """
    try:
        eu_vat.validate(vat_id)
    except Exception as error:  # stdnum raises its ValidationError subclasses, rarely others
        words = next(
            (text for kind, text in _STDNUM_WORDS if isinstance(error, kind)), "is not valid"
        )
        return INVALID_VAT_ID, f"VAT id {quote(vat_id)} {words} (python-stdnum)"
    prefix = eu_vat.compact(vat_id)[:2].upper()
    registered_in = _VAT_PREFIX_COUNTRIES.get(prefix, prefix)
    if registered_in != country:
        return VAT_ID_COUNTRY_MISMATCH, (
            f"VAT id {quote(vat_id)} is registered in {registered_in}, but the customer's "
            f"address is in {quote(country)}"
        )
    return None


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
    2. EU B2B across borders with a valid VAT id of the customer's country: reverse
       charge, 0 %. An invalid id, or one of another country, gets no reverse charge: the
       treatment carries the problem (``vat_id_problem``), and the draft is flagged.
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
    vat_id_problem = None
    if (
        vat_id
        and country in table.eu_members
        and seller_country in table.eu_members
        and country != seller_country
    ):
        vat_id_problem = reverse_charge_vat_id_problem(vat_id, country)
        if vat_id_problem is None:
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
    return TaxTreatment(
        category=category,
        rate=rate,
        exemption_reason=None,
        expected_rate=expected,
        vat_id_problem=vat_id_problem,
    )
