"""The account schema: what a valid raw account is, and how each error is worded.

These pydantic models are the reference for validation and the source of every schema
quarantine sentence (``Field 'a #1 b': message``, which names a model when a nested object
is not one, e.g. "instance of CustomerInfo"). Screening reads accounts into the records of
``account.py`` (same names, same fields) by a fast path whose checks are derived from
these models (``struct_validation``), and validates here whatever that path declines.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from invoice_dispatch.billing.catalog import Cadence
from invoice_dispatch.billing.period import is_known_timezone
from invoice_dispatch.invoice import PostalAddress
from invoice_dispatch.money import is_supported_currency

_EMAIL = re.compile(
    r"^[^@\s<>\"',;]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$"
)
_PERIOD_LABEL = r"^\d{4}-(0[1-9]|1[0-2])$"

Moment = date | datetime


class _Model(BaseModel):
    """Unknown fields are rejected: a misspelt ``discounts`` must quarantine, not under-bill."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class BillingHistory(_Model):
    """What the last period looked like, for the 'changed a lot' anomaly checks."""

    previous_gross_total: Decimal | None = None
    trailing_usage_average: dict[str, Decimal] = Field(default_factory=dict)


class CustomerInfo(_Model):
    name: str = Field(min_length=1, max_length=200)
    email: str
    address: PostalAddress
    vat_id: str | None = None
    locale: Literal["en", "de", "fr"] = "en"
    delivery_method: Literal["email_attachment", "portal_link"] = "email_attachment"
    tax_exempt: bool = False
    exemption_reason: str | None = None

    @field_validator("email")
    @classmethod
    def _email_is_deliverable_shape(cls, value: str) -> str:
        if not _EMAIL.match(value):
            raise ValueError(f"'{value}' is not a valid e-mail address")
        return value


class PlanChange(_Model):
    """From ``effective`` (first day on the new terms) the plan, seats, price or cadence change.

    A new ``cadence`` starts new terms on the change's month (annual to monthly mid-term:
    the unused annual time is credited, the new month charged from ``effective``).
    """

    effective: Moment
    plan: str | None = None
    quantity: Decimal | None = Field(default=None, ge=0)
    unit_price: Decimal | None = Field(default=None, ge=0)
    cadence: Cadence | None = None
    interval_months: int | None = Field(default=None, ge=1, le=60)


class Subscription(_Model):
    """One recurring contract. ``end`` is the last day of service, inclusive."""

    subscription_id: str = Field(min_length=1)
    plan: str
    quantity: Decimal = Field(default=Decimal(1), ge=0)
    start: Moment
    end: Moment | None = None
    cadence: Cadence | None = None
    interval_months: int | None = Field(default=None, ge=1, le=60)
    billing_timing: Literal["advance", "arrears"] = "advance"
    anchor: date | None = Field(default=None, description="Month the terms are aligned on")
    unit_price: Decimal | None = Field(default=None, ge=0, description="Negotiated price")
    trial_end: date | None = Field(default=None, description="Last free day, inclusive")
    changes: tuple[PlanChange, ...] = ()


class UsageRecord(_Model):
    metric: str
    quantity: Decimal = Field(ge=0)
    pricing: str | None = Field(default=None, description="Catalog pricing model name")
    source: str | None = Field(default=None, description="Where the reading came from")


class MinimumCommitment(_Model):
    """Usage is topped up to ``amount`` per period (a true-up line, product MIN-COMMIT)."""

    amount: Decimal = Field(gt=0)
    metrics: tuple[str, ...] = ()


class OneOffCharge(_Model):
    product: Literal["ONBOARDING"] = "ONBOARDING"
    description: str | None = None
    quantity: Decimal = Field(default=Decimal(1), gt=0)
    unit_price: Decimal | None = Field(default=None, ge=0)
    bill_in: str | None = Field(default=None, pattern=_PERIOD_LABEL)


class MilestonePart(_Model):
    share: Decimal = Field(gt=0)
    label: str | None = None
    due_period: str = Field(pattern=_PERIOD_LABEL)


class Milestone(_Model):
    """A project amount billed in parts; the parts always sum to ``contract_amount``."""

    milestone_id: str
    description: str
    contract_amount: Decimal = Field(gt=0)
    parts: tuple[MilestonePart, ...] = Field(min_length=1)


class Credit(_Model):
    """A credit owed to the customer, carried to the invoice of ``apply_in`` as a line.

    ``amount`` is before tax (the line is taxed at that invoice's rate). A period whose
    total is negative issues no invoice and reports the record to add here
    (``billing/credits.py``); ``apply_in`` defaults to the period after ``from_period``.
    """

    credit_id: str = Field(min_length=1)
    amount: Decimal = Field(gt=0)
    from_period: str = Field(pattern=_PERIOD_LABEL)
    apply_in: str | None = Field(default=None, pattern=_PERIOD_LABEL)
    description: str | None = None


class Discount(_Model):
    """A coupon: percentage or fixed, on the invoice or on one product, for N periods."""

    discount_id: str
    description: str | None = None
    kind: Literal["percentage", "fixed"]
    percent: Decimal | None = Field(default=None, gt=0, le=100)
    amount: Decimal | None = Field(default=None, gt=0)
    applies_to: str = Field(default="invoice", description="'invoice' or a product code")
    first_period: str | None = Field(default=None, pattern=_PERIOD_LABEL)
    periods: int | None = Field(default=None, ge=1, description="None: applies forever")


class Account(_Model):
    account_id: str = Field(min_length=1, max_length=100)
    status: Literal["active", "paused", "cancelled"] = "active"
    currency: str
    timezone: str | None = Field(default=None, description="Overrides the seller's zone")
    prices_include_tax: bool = False
    payment_terms_days: int | None = Field(default=None, ge=0, le=365)
    tax_rate_override: Decimal | None = Field(
        default=None, ge=0, le=100, description="Fixed rate carried over from a legacy system"
    )
    customer: CustomerInfo
    subscriptions: tuple[Subscription, ...] = ()
    usage: tuple[UsageRecord, ...] = ()
    minimum_commitment: MinimumCommitment | None = None
    one_offs: tuple[OneOffCharge, ...] = ()
    milestones: tuple[Milestone, ...] = ()
    discounts: tuple[Discount, ...] = ()
    credits: tuple[Credit, ...] = ()
    history: BillingHistory | None = None

    @field_validator("currency")
    @classmethod
    def _currency_is_billable(cls, value: str) -> str:
        if not is_supported_currency(value):
            raise ValueError(f"'{value}' is not a supported ISO 4217 currency")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone_is_iana(cls, value: str | None) -> str | None:
        if value is not None and not is_known_timezone(value):
            raise ValueError(f"'{value}' is not an IANA time zone")
        return value
