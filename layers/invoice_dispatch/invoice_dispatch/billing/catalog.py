"""The price catalog: plans, usage metrics and one-off products with prices per currency.

The catalog is a versioned JSON document (bundled in ``billing/data/catalog.json``) so a
price change is a reviewed data change, and every draft can say which catalog version
priced it. Product codes are fixed: the ERP mapping books each one to a GL account.
"""

from __future__ import annotations

import json
from decimal import ROUND_CEILING, Decimal
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from invoice_dispatch.config_files import read_config_text
from invoice_dispatch.money import round_money

#: Every product code an invoice line may carry; the ERP mapping knows exactly these.
PRODUCT_CODES: frozenset[str] = frozenset(
    {
        "STARTER",
        "TEAM-SEAT",
        "BUSINESS",
        "ENTERPRISE",
        "STORAGE-PACK",
        "API-CALLS",
        "STORAGE-GB",
        "SMS",
        "ONBOARDING",
        "MILESTONE",
        "DISCOUNT",
        "MIN-COMMIT",
        "CREDIT",
    }
)

Cadence = Literal["monthly", "quarterly", "annual", "custom"]
CADENCE_MONTHS: dict[str, int] = {"monthly": 1, "quarterly": 3, "annual": 12}


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _Named(_Strict):
    """A catalog entry with a name per invoice language (``name`` is the English one)."""

    name: str
    names: dict[str, str] = Field(
        default_factory=dict, description="language -> name on invoices in that language"
    )

    def name_in(self, language: str) -> str:
        return self.names.get(language, self.name)


class Plan(_Named):
    """A recurring plan. ``package`` plans charge per started package of ``package_size``."""

    code: str
    model: Literal["flat", "per_seat", "package"]
    default_cadence: Cadence = "monthly"
    package_size: int | None = Field(default=None, gt=0)
    unit_label: str = "seat"
    prices: dict[str, Decimal]


class Tier(_Strict):
    up_to: Decimal | None = Field(description="Inclusive upper bound; null for the last tier")
    unit_price: Decimal = Decimal(0)
    flat_fee: Decimal = Decimal(0)


class UsagePricing(_Strict):
    """How one metric is priced in one currency.

    ``per_unit``: quantity x unit_price. ``graduated``: each tier prices the units that fall
    in it. ``volume``: the tier reached by the whole quantity prices every unit.
    ``package``: each started package of ``package_size`` units costs ``package_price``.
    """

    model: Literal["per_unit", "graduated", "volume", "package"]
    unit_price: Decimal | None = None
    tiers: tuple[Tier, ...] = ()
    package_size: int | None = Field(default=None, gt=0)
    package_price: Decimal | None = None


class Metric(_Named):
    code: str
    unit_label: str
    default_model: str
    models: dict[str, dict[str, UsagePricing]] = Field(
        description="model name -> currency -> pricing"
    )


class OneOffProduct(_Named):
    code: str
    prices: dict[str, Decimal] = Field(default_factory=dict)


class Catalog(_Strict):
    version: str
    plans: dict[str, Plan]
    metrics: dict[str, Metric]
    one_offs: dict[str, OneOffProduct]

    def usage_pricing(self, metric_code: str, model: str | None, currency: str) -> UsagePricing:
        metric = self.metrics[metric_code]
        return metric.models[model or metric.default_model][currency]


@lru_cache(maxsize=4)
def load_catalog(path: str | None = None) -> Catalog:
    """The catalog at ``path``, or the bundled one; cached per cold start."""
    raw_text = read_config_text(path, "invoice_dispatch.billing.data", "catalog.json")
    return Catalog.model_validate(json.loads(raw_text))


def packages_needed(quantity: Decimal, package_size: int) -> Decimal:
    """Started packages: 250 GB in packs of 100 is 3 (``Decimal //`` truncates toward zero)."""
    return (quantity / package_size).to_integral_value(rounding=ROUND_CEILING)


def price_usage(pricing: UsagePricing, quantity: Decimal, currency: str) -> Decimal:
    """The rounded charge for ``quantity`` units; tiers are summed before the one rounding."""
    if quantity <= 0:
        return round_money(Decimal(0), currency)
    if pricing.model == "per_unit":
        return round_money(quantity * (pricing.unit_price or Decimal(0)), currency)
    if pricing.model == "package":
        packages = packages_needed(quantity, pricing.package_size or 1)
        return round_money(packages * (pricing.package_price or Decimal(0)), currency)
    if pricing.model == "volume":
        for tier in pricing.tiers:
            if tier.up_to is None or quantity <= tier.up_to:
                return round_money(quantity * tier.unit_price + tier.flat_fee, currency)
        raise ValueError("Volume tiers must end with an open tier (up_to: null)")
    amount = Decimal(0)
    lower = Decimal(0)
    for tier in pricing.tiers:
        upper = quantity if tier.up_to is None else min(quantity, tier.up_to)
        if upper > lower:
            amount += (upper - lower) * tier.unit_price + tier.flat_fee
        if tier.up_to is None or quantity <= tier.up_to:
            break
        lower = tier.up_to
    return round_money(amount, currency)
