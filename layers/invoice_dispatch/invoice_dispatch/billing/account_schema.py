"""The account schema: what a valid raw account is, and how each error is worded.

These pydantic models are the reference for validation and the source of every schema
quarantine sentence (``Field 'a #1 b': message``, which names a model when a nested object
is not one, e.g. "instance of CustomerInfo"). Screening reads accounts into the records of
``account.py`` (same names, same fields) by a fast path whose checks are derived from
these models (``struct_validation``), and validates here whatever that path declines.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    TypeAdapter,
    ValidationError,
    field_validator,
)
from pydantic_core import CoreSchema, core_schema

from invoice_dispatch.billing.catalog import Cadence
from invoice_dispatch.billing.period import is_known_timezone
from invoice_dispatch.billing.quoting import quote
from invoice_dispatch.invoice import PostalAddress
from invoice_dispatch.money import is_supported_currency

_EMAIL = re.compile(
    r"^[^@\s<>\"',;]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$"
)
_PERIOD_LABEL = r"^\d{4}-(0[1-9]|1[0-2])$"

_PLAIN_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_AND_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]")
_AS_DATETIME: TypeAdapter[datetime] = TypeAdapter(datetime)


def _instant_keeps_its_offset(value: Any) -> Any:
    """A timestamp as the ``datetime`` it is; anything else as given.

    Left to itself, pydantic's ``date | datetime`` reads ``2026-11-01T00:00:00+09:00``
    (any timestamp at midnight) as the bare date 2026-11-01 and drops the offset, which
    is 31 October in Berlin (issue 16). Screening converts the datetime to the period's
    zone instead (``period.local_date``). What is no timestamp is left to the union, so
    its errors read as before.
    """
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if is_number or (isinstance(value, str) and _PLAIN_DATE.fullmatch(value) is None):
        try:
            return _AS_DATETIME.validate_python(value)
        except ValidationError:
            return value
    return value


def _day_is_no_instant(value: Any) -> Any:
    """A field that is a calendar day refuses a timestamp rather than guess its zone."""
    if isinstance(value, datetime) or (
        isinstance(value, str) and _DATE_AND_TIME.match(value) is not None
    ):
        raise ValueError(
            f"{quote(value)} is a timestamp, but this field is a calendar day (write YYYY-MM-DD)"
        )
    return value


def _checked_first(name: str, check: Callable[[Any], Any], read_as: Any, doc: str) -> type:
    """A field type that passes the raw value through ``check`` before pydantic reads it as
    ``read_as``.

    A type of its own, not ``Annotated[..., BeforeValidator(check)]``: a field's metadata
    is what ``struct_validation`` derives the fast path's checks from, and it refuses what
    it cannot derive. The values ``check`` is about (timestamps) are ones the fast path
    declines (``test_values_the_fast_path_leaves_to_the_schema``), so the schema decides them.
    """

    class CheckedFirst:
        __doc__ = doc

        @classmethod
        def __get_pydantic_core_schema__(
            cls, source: Any, handler: GetCoreSchemaHandler
        ) -> CoreSchema:
            return core_schema.no_info_before_validator_function(
                check, handler.generate_schema(read_as)
            )

    CheckedFirst.__name__ = CheckedFirst.__qualname__ = name
    return CheckedFirst


if TYPE_CHECKING:
    Moment = date | datetime
    CalendarDay = date
else:
    Moment = _checked_first(
        "Moment",
        _instant_keeps_its_offset,
        date | datetime,
        "A date, or a timestamp kept as a ``datetime`` with its offset (issue 16).",
    )
    CalendarDay = _checked_first(
        "CalendarDay",
        _day_is_no_instant,
        date,
        "A date only: ``anchor`` and ``trial_end`` name days, not instants.",
    )


#: Bounds on every number an account states (issue 16): far above any real contract, and
#: low enough that every line, total and tax of a draft stays inside ``Decimal``'s 28
#: significant digits (1e25 seats once passed screening and failed at drafting with
#: ``InvalidOperation``). Quantities: seats, GB, one-off units, milestone shares.
MAX_QUANTITY = Decimal(10**9)
#: Metered usage in one record, and trailing usage averages.
MAX_USAGE = Decimal(10**12)
#: Money, in the currency's units: prices, discounts, commitments, contract amounts.
MAX_AMOUNT = Decimal(10**12)
#: A number may have at most this many decimal places (a 10 MB run of zeros has more).
MAX_DECIMAL_PLACES = 12
#: How many periods a coupon may run for: a century.
MAX_COUPON_PERIODS = 1200


#: Written without an exponent in at most this many characters, a number cannot have more
#: than ``MAX_DECIMAL_PLACES`` decimal places ("1.000000000000"): the common case stops there.
_SURELY_FEW_PLACES = MAX_DECIMAL_PLACES + 2


def _few_decimal_places(value: Decimal | None) -> Decimal | None:
    """Decimal places are bounded like magnitudes, so every number has a bounded length.

    It runs for every number of every account: ``str`` and a length (about 0.1 us) settle
    nearly all of them, where ``as_tuple`` alone costs 0.4 us.
    """
    if value is None:
        return value
    text = str(value)
    if (len(text) > _SURELY_FEW_PLACES or "E" in text) and int(
        value.as_tuple().exponent
    ) < -MAX_DECIMAL_PLACES:
        raise ValueError(
            f"must have at most {MAX_DECIMAL_PLACES} decimal places (got {quote(text)})"
        )
    return value


class _Model(BaseModel):
    """Unknown fields are rejected: a misspelt ``discounts`` must quarantine, not under-bill."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class BillingHistory(_Model):
    """What the last period looked like, for the 'changed a lot' anomaly checks."""

    previous_gross_total: Decimal | None = Field(default=None, ge=-MAX_AMOUNT, le=MAX_AMOUNT)
    trailing_usage_average: dict[str, Decimal] = Field(default_factory=dict)

    _places = field_validator("previous_gross_total")(_few_decimal_places)

    @field_validator("trailing_usage_average")
    @classmethod
    def _averages_are_bounded(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        for metric, average in value.items():
            if not 0 <= average <= MAX_USAGE:
                raise ValueError(
                    f"{quote(metric)} must be between 0 and {MAX_USAGE:,} "
                    f"(got {quote(str(average))})"
                )
            _few_decimal_places(average)
        return value


class CustomerInfo(_Model):
    name: str = Field(min_length=1, max_length=200)
    email: str
    address: PostalAddress
    vat_id: str | None = None
    locale: Literal["en", "de", "fr"] = "en"
    #: How documents reach the customer (``invoice.Channel``): attached, in the portal, or both.
    channel: Literal["email", "portal", "both"] = "email"
    tax_exempt: bool = False
    exemption_reason: str | None = None

    @field_validator("email")
    @classmethod
    def _email_is_deliverable_shape(cls, value: str) -> str:
        if not _EMAIL.match(value):
            raise ValueError(f"{quote(value)} is not a valid e-mail address")
        return value


class PlanChange(_Model):
    """From ``effective`` (first day on the new terms) the plan, seats, price or cadence change.

    A new ``cadence`` starts new terms on the change's month (annual to monthly mid-term:
    the unused annual time is credited, the new month charged from ``effective``).
    """

    effective: Moment
    plan: str | None = None
    quantity: Decimal | None = Field(default=None, ge=0, le=MAX_QUANTITY)
    unit_price: Decimal | None = Field(default=None, ge=0, le=MAX_AMOUNT)
    cadence: Cadence | None = None
    interval_months: int | None = Field(default=None, ge=1, le=60)

    _places = field_validator("quantity", "unit_price")(_few_decimal_places)


class Subscription(_Model):
    """One recurring contract. ``end`` is the last day of service, inclusive."""

    subscription_id: str = Field(min_length=1)
    plan: str
    quantity: Decimal = Field(default=Decimal(1), ge=0, le=MAX_QUANTITY)
    start: Moment
    end: Moment | None = None
    cadence: Cadence | None = None
    interval_months: int | None = Field(default=None, ge=1, le=60)
    billing_timing: Literal["advance", "arrears"] = "advance"
    anchor: CalendarDay | None = Field(default=None, description="Month the terms are aligned on")
    unit_price: Decimal | None = Field(
        default=None, ge=0, le=MAX_AMOUNT, description="Negotiated price"
    )
    trial_end: CalendarDay | None = Field(default=None, description="Last free day, inclusive")
    changes: tuple[PlanChange, ...] = ()

    _places = field_validator("quantity", "unit_price")(_few_decimal_places)


class UsageRecord(_Model):
    metric: str
    quantity: Decimal = Field(ge=0, le=MAX_USAGE)
    pricing: str | None = Field(default=None, description="Catalog pricing model name")
    source: str | None = Field(default=None, description="Where the reading came from")

    _places = field_validator("quantity")(_few_decimal_places)


class MinimumCommitment(_Model):
    """Usage is topped up to ``amount`` per period (a true-up line, product MIN-COMMIT)."""

    amount: Decimal = Field(gt=0, le=MAX_AMOUNT)
    metrics: tuple[str, ...] = ()

    _places = field_validator("amount")(_few_decimal_places)


class OneOffCharge(_Model):
    product: Literal["ONBOARDING"] = "ONBOARDING"
    description: str | None = None
    quantity: Decimal = Field(default=Decimal(1), gt=0, le=MAX_QUANTITY)
    unit_price: Decimal | None = Field(default=None, ge=0, le=MAX_AMOUNT)
    bill_in: str | None = Field(default=None, pattern=_PERIOD_LABEL)

    _places = field_validator("quantity", "unit_price")(_few_decimal_places)


class MilestonePart(_Model):
    share: Decimal = Field(gt=0, le=MAX_QUANTITY)
    label: str | None = None
    due_period: str = Field(pattern=_PERIOD_LABEL)

    _places = field_validator("share")(_few_decimal_places)


class Milestone(_Model):
    """A project amount billed in parts; the parts always sum to ``contract_amount``."""

    milestone_id: str
    description: str
    contract_amount: Decimal = Field(gt=0, le=MAX_AMOUNT)
    parts: tuple[MilestonePart, ...] = Field(min_length=1)
    billed_on: Literal["due_period", "completion"] = Field(
        default="due_period",
        description="'completion': each part is billed when a MilestoneCompleted event "
        "names it, never by the monthly run (its due_period is then only the plan)",
    )

    _places = field_validator("contract_amount")(_few_decimal_places)


class Credit(_Model):
    """A credit owed to the customer, carried to the invoice of ``apply_in`` as a line.

    ``amount`` is before tax (the line is taxed at that invoice's rate). A period whose
    total is negative issues no invoice and reports the record to add here
    (``billing/credits.py``); ``apply_in`` defaults to the period after ``from_period``.
    """

    credit_id: str = Field(min_length=1)
    amount: Decimal = Field(gt=0, le=MAX_AMOUNT)
    from_period: str = Field(pattern=_PERIOD_LABEL)
    apply_in: str | None = Field(default=None, pattern=_PERIOD_LABEL)
    description: str | None = None

    _places = field_validator("amount")(_few_decimal_places)


class Discount(_Model):
    """A coupon: percentage or fixed, on the invoice or on one product, for N periods."""

    discount_id: str
    description: str | None = None
    kind: Literal["percentage", "fixed"]
    percent: Decimal | None = Field(default=None, gt=0, le=100)
    amount: Decimal | None = Field(default=None, gt=0, le=MAX_AMOUNT)
    applies_to: str = Field(default="invoice", description="'invoice' or a product code")
    first_period: str | None = Field(default=None, pattern=_PERIOD_LABEL)
    periods: int | None = Field(
        default=None, ge=1, le=MAX_COUPON_PERIODS, description="None: applies forever"
    )

    _places = field_validator("percent", "amount")(_few_decimal_places)


#: A payment method reference as gateways in Stripe's style issue them (``pm_...``): an id
#: the gateway resolves, never the card itself (no PAN, expiry or CVC ever enters here).
_METHOD_REF = r"^pm_[A-Za-z0-9_]{1,100}$"
#: A SEPA direct debit mandate reference (UMR): up to 35 characters of the SEPA set,
#: without spaces (issue 18, item 5).
_MANDATE_REF = r"^[A-Za-z0-9][A-Za-z0-9/?:().,'+-]{0,34}$"


class AutoPay(_Model):
    """The stored means the payment run collects this account's invoices with.

    A reference only: the gateway holds the card or the mandate. Exactly one of the two is
    set (screening says so in a sentence otherwise, ``account._check_semantics``).
    """

    method_ref: str | None = Field(default=None, pattern=_METHOD_REF)
    mandate_ref: str | None = Field(default=None, pattern=_MANDATE_REF)


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
    auto_pay: AutoPay | None = None

    _places = field_validator("tax_rate_override")(_few_decimal_places)

    @field_validator("currency")
    @classmethod
    def _currency_is_billable(cls, value: str) -> str:
        if not is_supported_currency(value):
            raise ValueError(f"{quote(value)} is not a supported ISO 4217 currency")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone_is_iana(cls, value: str | None) -> str | None:
        if value is not None and not is_known_timezone(value):
            raise ValueError(f"{quote(value)} is not an IANA time zone")
        return value
