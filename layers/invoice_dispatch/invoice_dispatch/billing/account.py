"""The account as the billing engine sees it, and the screening that decides its fate.

Screening turns one raw record from any account source (S3 JSON/CSV, DynamoDB, HTTP) into
exactly one of three outcomes, each with a sentence a billing person can act on:
``eligible`` (billed), ``excluded`` (nothing to bill: paused, cancelled, not started) or
``quarantined`` (the data is wrong). It never raises: one bad row must not stop a run of
100,000 accounts, and it must never vanish silently either.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Literal

import msgspec
from pydantic import BaseModel, ValidationError

from invoice_dispatch.billing import account_schema as schema
from invoice_dispatch.billing.catalog import CADENCE_MONTHS, Cadence, Catalog
from invoice_dispatch.billing.credits import next_period
from invoice_dispatch.billing.csv_dialect import csv_number, read_csv
from invoice_dispatch.billing.milestones import milestone_refusal
from invoice_dispatch.billing.period import (
    BillingPeriod,
    last_local_day,
    local_date,
    months_between,
    term_containing,
)
from invoice_dispatch.billing.quoting import quote, shorten
from invoice_dispatch.billing.struct_validation import derive_checks, record_from_model
from invoice_dispatch.invoice import PostalAddress
from invoice_dispatch.milestone import MilestoneRef

# The records: the validated account as screening and the engine read it, one per model of
# ``account_schema`` (same name, same fields in the same order, same defaults:
# ``struct_validation`` refuses them otherwise). A field the schema types
# ``date | datetime`` is a ``date`` here, and a ``datetime`` (a ``date`` subclass) when the
# source gave a timestamp.


class _Record(msgspec.Struct, frozen=True, forbid_unknown_fields=True, gc=False):
    """Immutable and acyclic (built from a JSON-like dict), so the cyclic GC can skip it.

    Subclasses repeat ``frozen`` (for type checkers) and set ``kw_only`` (msgspec does not
    inherit it), which keeps the schema's field order whatever the defaults.
    """


class BillingHistory(_Record, frozen=True, kw_only=True):
    """What the last period looked like, for the 'changed a lot' anomaly checks."""

    previous_gross_total: Decimal | None = None
    trailing_usage_average: dict[str, Decimal] = msgspec.field(default_factory=dict)


class Address(_Record, frozen=True, kw_only=True):
    """The customer's address as the account gives it (the invoice prints a ``PostalAddress``)."""

    line1: str
    line2: str | None = None
    city: str
    postal_code: str | None = None
    region: str | None = None
    country: str


class CustomerInfo(_Record, frozen=True, kw_only=True):
    name: str
    email: str
    address: Address
    vat_id: str | None = None
    locale: Literal["en", "de", "fr"] = "en"
    channel: Literal["email", "portal", "both"] = "email"
    tax_exempt: bool = False
    exemption_reason: str | None = None


class PlanChange(_Record, frozen=True, kw_only=True):
    """From ``effective`` (first day on the new terms) the plan, seats, price or cadence change."""

    effective: date
    plan: str | None = None
    quantity: Decimal | None = None
    unit_price: Decimal | None = None
    cadence: Cadence | None = None
    interval_months: int | None = None

    def term_months(self) -> int | None:
        """The new term length in months, when the change sets a cadence."""
        if self.cadence is None:
            return None
        if self.cadence == "custom":
            return self.interval_months or 1
        return CADENCE_MONTHS[self.cadence]


class Subscription(_Record, frozen=True, kw_only=True):
    """One recurring contract. ``end`` is the last day of service, inclusive."""

    subscription_id: str
    plan: str
    quantity: Decimal = Decimal(1)
    start: date
    end: date | None = None
    cadence: Cadence | None = None
    interval_months: int | None = None
    billing_timing: Literal["advance", "arrears"] = "advance"
    anchor: date | None = None
    unit_price: Decimal | None = None
    trial_end: date | None = None
    changes: tuple[PlanChange, ...] = ()

    def term_months(self, default_cadence: str) -> int:
        cadence = self.cadence or default_cadence
        if cadence == "custom":
            return self.interval_months or 1
        return CADENCE_MONTHS[cadence]


class UsageRecord(_Record, frozen=True, kw_only=True):
    metric: str
    quantity: Decimal
    pricing: str | None = None
    source: str | None = None


class MinimumCommitment(_Record, frozen=True, kw_only=True):
    """Usage is topped up to ``amount`` per period (a true-up line, product MIN-COMMIT)."""

    amount: Decimal
    metrics: tuple[str, ...] = ()


class OneOffCharge(_Record, frozen=True, kw_only=True):
    product: Literal["ONBOARDING"] = "ONBOARDING"
    description: str | None = None
    quantity: Decimal = Decimal(1)
    unit_price: Decimal | None = None
    bill_in: str | None = None


class MilestonePart(_Record, frozen=True, kw_only=True):
    share: Decimal
    label: str | None = None
    due_period: str


class Milestone(_Record, frozen=True, kw_only=True):
    """A project amount billed in parts; the parts always sum to ``contract_amount``."""

    milestone_id: str
    description: str
    contract_amount: Decimal
    parts: tuple[MilestonePart, ...]
    billed_on: Literal["due_period", "completion"] = "due_period"


class Credit(_Record, frozen=True, kw_only=True):
    """A credit owed to the customer, carried to the invoice of ``apply_in`` as a line."""

    credit_id: str
    amount: Decimal
    from_period: str
    apply_in: str | None = None
    description: str | None = None

    def applies_in(self, period_label: str) -> bool:
        return period_label == (self.apply_in or next_period(self.from_period))


class Discount(_Record, frozen=True, kw_only=True):
    """A coupon: percentage or fixed, on the invoice or on one product, for N periods."""

    discount_id: str
    description: str | None = None
    kind: Literal["percentage", "fixed"]
    percent: Decimal | None = None
    amount: Decimal | None = None
    applies_to: str = "invoice"
    first_period: str | None = None
    periods: int | None = None

    def applies_in(self, period_label: str) -> bool:
        if self.first_period is None:
            return True
        offset = months_between(self.first_period, period_label)
        return offset >= 0 and (self.periods is None or offset < self.periods)


class AutoPay(_Record, frozen=True, kw_only=True):
    """A stored payment method or mandate reference; never card data."""

    method_ref: str | None = None
    mandate_ref: str | None = None


class Account(_Record, frozen=True, kw_only=True):
    account_id: str
    status: Literal["active", "paused", "cancelled"] = "active"
    currency: str
    timezone: str | None = None
    prices_include_tax: bool = False
    payment_terms_days: int | None = None
    tax_rate_override: Decimal | None = None
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


#: Each record type and the schema it mirrors.
SCHEMAS: dict[type[msgspec.Struct], type[BaseModel]] = {
    BillingHistory: schema.BillingHistory,
    Address: PostalAddress,
    CustomerInfo: schema.CustomerInfo,
    PlanChange: schema.PlanChange,
    Subscription: schema.Subscription,
    UsageRecord: schema.UsageRecord,
    MinimumCommitment: schema.MinimumCommitment,
    OneOffCharge: schema.OneOffCharge,
    MilestonePart: schema.MilestonePart,
    Milestone: schema.Milestone,
    Discount: schema.Discount,
    Credit: schema.Credit,
    AutoPay: schema.AutoPay,
    Account: schema.Account,
}
_ACCOUNT_CHECK = derive_checks(SCHEMAS)[Account]

Outcome = Literal["eligible", "excluded", "quarantined"]

#: Source metadata that quarantines a record: a problem the source's reader found and
#: could not put in the record itself (a CSV number it cannot read for sure, rows of one
#: account that disagree). Every other ``_`` key is ignored.
SOURCE_PROBLEM = "_problem"


@dataclass(frozen=True, slots=True)
class AccountScreening:
    """What screening made of one raw record; ``account`` is set when it is eligible.

    A plain dataclass: every account of a run gets one, and it only carries the validated
    record to the engine (a pydantic model would check the just-validated record again).
    """

    account_id: str
    outcome: Outcome
    reason: str | None = None
    account: Account | None = None


#: Pydantic's wording, said the way a billing person would read it on the run report.
_PLAIN_MESSAGES: dict[str, str] = {
    "greater_than_equal": "must be {ge:,} or more",
    "greater_than": "must be more than {gt:,}",
    "less_than_equal": "must be {le:,} or less",
    "missing": "is missing",
    "extra_forbidden": "is not a known field (check its spelling)",
    "decimal_parsing": "is not a number",
    "date_from_datetime_parsing": "is not a date (write YYYY-MM-DD)",
    "date_parsing": "is not a date (write YYYY-MM-DD)",
    "literal_error": "must be one of {expected}",
    "string_too_short": "must not be empty",
}


def _location(parts: tuple[int | str, ...]) -> str:
    """('subscriptions', 0, 'quantity') -> 'subscriptions #1 quantity'.

    A key the source made up (an unknown field, a metric in ``trailing_usage_average``) is
    input too, and cut like any quoted value.
    """
    words = [f"#{part + 1}" if isinstance(part, int) else shorten(str(part)) for part in parts]
    return " ".join(words) or "account"


def _first_error_sentence(error: ValidationError) -> str:
    """Pydantic's first error as "Field 'a #1 b': plain message", plus how many more."""
    errors = error.errors(include_url=False)
    first = errors[0]
    template = _PLAIN_MESSAGES.get(first["type"])
    if template is not None:
        message = template.format(**(first.get("ctx") or {}))
    else:
        message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "decimal_parsing" and "," in str(first.get("input")):
        message += ": write a decimal point (a decimal comma only in a semicolon-separated CSV)"
    if first["type"] not in ("value_error", "missing", "extra_forbidden") and "input" in first:
        message = f"{message} (got {quote(first['input'])})"
    sentence = f"Field '{_location(first['loc'])}': {message}"
    if len(errors) > 1:
        sentence += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return sentence


#: The longest id an account may have (``account_schema.Account.account_id``).
_MAX_ID_LENGTH = 100


def _label_for(raw: Mapping[str, Any]) -> str:
    """The name screening reports a record by: its id, else its ``_label``.

    An id longer than any valid one is input like any other and is cut (``quoting``).
    """
    is_mapping = type(raw) is dict or isinstance(raw, Mapping)  # dict first: ABC checks cost
    account_id = raw.get("account_id") if is_mapping else None
    if isinstance(account_id, str) and account_id:
        return account_id if len(account_id) <= _MAX_ID_LENGTH else shorten(account_id)
    label = raw.get("_label") if is_mapping else None
    return shorten(str(label)) if label else "<unlabelled record>"


@dataclass(frozen=True, slots=True)
class CadencePhase:
    """A stretch of a subscription on one cadence: terms of ``months`` aligned on ``anchor``."""

    start: date
    end: date | None
    months: int
    anchor: date


def cadence_phases(
    subscription: Subscription, start: date, end: date | None, term_months: int, timezone: str
) -> list[CadencePhase]:
    """The subscription's cadences in order; a change that sets one starts a new phase.

    The new phase's terms are aligned on the change's month, so annual to monthly from 16
    November bills November's remaining days, then every month.
    """
    phases = []
    phase_start, months, anchor = start, term_months, subscription.anchor or start
    for change in subscription.changes:
        new_months = change.term_months()
        if new_months is None:
            continue
        effective = local_date(change.effective, timezone)
        phase_end = effective - timedelta(days=1)
        phases.append(CadencePhase(phase_start, min(phase_end, end or phase_end), months, anchor))
        phase_start, months, anchor = effective, new_months, effective
    phases.append(CadencePhase(phase_start, end, months, anchor))
    return phases


def recurring_due(
    subscription: Subscription,
    start: date,
    end: date | None,
    term_months: int,
    period: BillingPeriod,
    change_dates: Sequence[date],
    timezone: str,
) -> bool:
    """Whether this period's invoice carries a charge for the subscription.

    Advance: the term is billed in the period holding its first active day (and any change
    is settled in the period it takes effect). Arrears: in the period holding its last
    active day. A quarterly plan therefore shows up once a quarter, not as zero lines.
    A change of cadence starts terms of the new length (``cadence_phases``).

    ``start`` and ``end`` are local days already (``end`` from ``period.last_local_day``).
    ``timezone`` is the period's and has no default: a cadence change's timestamp becomes a
    day in it, and a UTC default would put ``2026-11-16T00:30:00+01:00`` on 15 November
    while the engine bills the change from the 16th (issue 16, item 4).
    """
    if end is not None and end < period.start:
        return False
    if start > period.end:
        return False
    if not any(change.cadence for change in subscription.changes):
        if term_months == 1:
            return True
        phases = [CadencePhase(start, end, term_months, subscription.anchor or start)]
    else:
        phases = cadence_phases(subscription, start, end, term_months, timezone)
    if subscription.billing_timing == "advance":
        day = max(start, period.start)
        phase = phases[0]
        for candidate in phases:
            if candidate.start <= day:
                phase = candidate
        term = term_containing(day, phase.anchor, phase.months)
        first_active = max(term.start, phase.start)
        return period.contains(first_active) or any(period.contains(day) for day in change_dates)
    for phase in phases:
        last_day = period.end if phase.end is None else min(phase.end, period.end)
        if last_day < phase.start:
            continue
        term = term_containing(last_day, phase.anchor, phase.months)
        last_active = min(term.end, phase.end) if phase.end else term.end
        if period.contains(last_active):
            return True
    return False


def _check_semantics(
    account: Account, period: BillingPeriod, catalog: Catalog, timezone: str
) -> str | None:
    """Rules pydantic cannot know: catalog codes, prices in the currency, date order."""
    for sub in account.subscriptions:
        problem = _subscription_problem(sub, account.currency, catalog, timezone)
        if problem is not None:
            return f"Subscription {quote(sub.subscription_id)}{problem}"
    for record in account.usage:
        metric = catalog.metrics.get(record.metric)
        if metric is None:
            return f"Usage metric {quote(record.metric)} is not in catalog {catalog.version}"
        model = record.pricing or metric.default_model
        if account.currency not in metric.models.get(model, {}):
            return (
                f"Usage metric {quote(record.metric)} has no {account.currency} "
                f"{quote(model)} pricing"
            )
    if len(account.usage) > 1 and (conflict := _usage_pricing_conflict(account.usage)):
        return conflict
    if account.auto_pay is not None and (
        (account.auto_pay.method_ref is None) == (account.auto_pay.mandate_ref is None)
    ):
        return (
            "Field 'auto_pay' must name exactly one of 'method_ref' (a payment method "
            "reference) or 'mandate_ref' (a direct debit mandate)"
        )
    return _other_charges_problem(account, catalog)


def _usage_pricing_conflict(usage: Sequence[UsageRecord]) -> str | None:
    """The engine bills each metric's total once (tiers price the whole period's usage),
    so the records of one metric may name one pricing model at most; records that name
    none (a metering file's readings) take it."""
    models: dict[str, str] = {}
    for record in usage:
        if record.pricing is None:
            continue
        model = models.setdefault(record.metric, record.pricing)
        if model != record.pricing:
            return (
                f"Usage metric {quote(record.metric)} is priced {quote(model)} by one record "
                f"and {quote(record.pricing)} by another: a metric's usage is billed as one "
                "total, with one pricing"
            )
    return None


def _other_charges_problem(account: Account, catalog: Catalog) -> str | None:
    """One-offs without a price, discounts without an amount or with an unknown target."""
    for one_off in account.one_offs:
        if (
            one_off.unit_price is None
            and account.currency not in catalog.one_offs[one_off.product].prices
        ):
            return f"One-off '{one_off.product}' has no {account.currency} price and none is set"
    for discount in account.discounts:
        if discount.kind == "percentage" and discount.percent is None:
            return f"Discount {quote(discount.discount_id)} is a percentage but sets no 'percent'"
        if discount.kind == "fixed" and discount.amount is None:
            return f"Discount {quote(discount.discount_id)} is fixed but sets no 'amount'"
        if discount.applies_to != "invoice" and discount.applies_to not in (
            catalog.plans.keys() | catalog.metrics.keys() | catalog.one_offs.keys()
        ):
            return (
                f"Discount {quote(discount.discount_id)} applies to {quote(discount.applies_to)}, "
                "which is neither 'invoice' nor a catalog product"
            )
    return None


def _subscription_problem(
    sub: Subscription, currency: str, catalog: Catalog, timezone: str
) -> str | None:
    """What is wrong with one subscription, worded to follow "Subscription 'id'".

    The wording is returned without the subscription's name so the common case (nothing
    wrong, three times per account) builds no sentence at all.
    """
    plans: tuple[str, ...] = (sub.plan,)
    if sub.changes:
        plans += tuple(change.plan for change in sub.changes if change.plan)
    for plan_code in plans:
        plan = catalog.plans.get(plan_code)
        if plan is None:
            return f": plan {quote(plan_code)} is not in catalog {catalog.version}"
        if sub.unit_price is None and currency not in plan.prices:
            return (
                f": plan {quote(plan_code)} has no {currency} price in catalog "
                f"{catalog.version} and the contract sets none"
            )
    cadence = sub.cadence or catalog.plans[sub.plan].default_cadence
    if cadence == "custom" and sub.interval_months is None:
        return ": a custom cadence needs 'interval_months'"
    for change in sub.changes:
        if change.cadence == "custom" and change.interval_months is None:
            return ": a change to a custom cadence needs 'interval_months'"
    if sub.end is None and not sub.changes and type(sub.start) is date:
        # Nothing to put in order, and a plain date cannot fail to convert (a timestamp can
        # overflow in the zone, which must still quarantine here): the common case stops.
        return None
    start = local_date(sub.start, timezone)
    if sub.end is not None:
        end = last_local_day(sub.end, timezone)
        if end < start:
            return f" ends on {end.isoformat()}, before it starts on {start.isoformat()}"
    previous = start
    for change in sub.changes:
        effective = local_date(change.effective, timezone)
        if effective <= previous:
            return f": change effective {effective.isoformat()} is not after {previous.isoformat()}"
        previous = effective
    return None


def _exclusion(
    account: Account, period: BillingPeriod, catalog: Catalog, timezone: str
) -> str | None:
    if account.status == "paused":
        return "Account is paused"
    has_other_charges = (
        bool(account.usage)
        or any(one_off.bill_in in (None, period.label) for one_off in account.one_offs)
        or any(
            part.due_period == period.label
            for milestone in account.milestones
            if milestone.billed_on == "due_period"
            for part in milestone.parts
        )
        # A carried credit is due in its period even with nothing else to bill: the draft
        # then carries it on again (``billing/credits.py``), so it is never dropped.
        or bool(account.credits and any(c.applies_in(period.label) for c in account.credits))
    )
    if has_other_charges:
        return None
    if not account.subscriptions:
        return "Account has nothing to bill: no subscription, usage or one-off charge"
    starts = [local_date(sub.start, timezone) for sub in account.subscriptions]
    ends = [
        None if sub.end is None else last_local_day(sub.end, timezone)
        for sub in account.subscriptions
    ]
    if all(start > period.end for start in starts):
        return f"Subscription starts on {min(starts).isoformat()}, after this period"
    if all(end is not None and end < period.start for end in ends):
        last_end = max(end for end in ends if end is not None)
        return (
            f"Account was cancelled: its last subscription ended on {last_end.isoformat()}, "
            "before this period"
        )
    for sub, start, end in zip(account.subscriptions, starts, ends, strict=True):
        months = sub.term_months(catalog.plans[sub.plan].default_cadence)
        change_dates = [local_date(change.effective, timezone) for change in sub.changes]
        if recurring_due(sub, start, end, months, period, change_dates, timezone):
            return None
    return "Nothing is due this period: every plan is billed in another month of its term"


def _fast_account(raw: Mapping[str, Any]) -> Account | None:
    """The ``Account`` in ``raw`` by the fast path, or None where it declines.

    ``struct_validation`` says why it may decline; it must never accept what the schema
    refuses, so a ``None`` here is settled by the schema.
    """
    try:
        account = msgspec.convert(raw, Account, strict=True)
    except msgspec.ValidationError:
        return None
    return account if _ACCOUNT_CHECK(account) else None


def _validate_without_metadata(raw: Mapping[str, Any]) -> Account:
    """The ``Account`` in ``raw``, ignoring ``_``-prefixed source metadata such as ``_label``.

    The fast path (``struct_validation``) reads nearly every record; the schema validates
    what it declines, and its ``ValidationError`` is what a quarantine sentence is made of.
    Nearly every record carries no metadata, so it is read as it comes; only when that
    fails and a ``_`` key is present is it read again without those keys (an ``Account``
    has no ``_`` field, so a record that is accepted never holds one).
    """
    account = _fast_account(raw)
    if account is not None:
        return account
    if any(key.startswith("_") for key in raw):
        raw = {key: value for key, value in raw.items() if not key.startswith("_")}
        account = _fast_account(raw)
        if account is not None:
            return account
    return record_from_model(schema.Account.model_validate(raw), Account, SCHEMAS)


def screen_account(
    raw: Mapping[str, Any],
    period: BillingPeriod,
    catalog: Catalog,
    completed_milestone: MilestoneRef | None = None,
) -> AccountScreening:
    """Validate one raw account and say whether this period bills it (never raises).

    With ``completed_milestone`` the question is whether that one part can be billed now:
    the account's subscriptions and their terms do not matter (a project is often
    delivered before its service starts), a paused account still waits.
    """
    label = _label_for(raw)
    if type(raw) is not dict and not isinstance(raw, Mapping):
        return AccountScreening(
            account_id=label, outcome="quarantined", reason="Record is not a JSON object"
        )
    source_problem = raw.get(SOURCE_PROBLEM)
    if source_problem:
        return AccountScreening(
            account_id=label, outcome="quarantined", reason=shorten(str(source_problem), 400)
        )
    try:
        account = _validate_without_metadata(raw)
    except ValidationError as error:
        return AccountScreening(
            account_id=label, outcome="quarantined", reason=_first_error_sentence(error)
        )
    try:
        timezone = account.timezone or period.timezone
        problem = _check_semantics(account, period, catalog, timezone)
        if problem is not None:
            return AccountScreening(account_id=label, outcome="quarantined", reason=problem)
        if completed_milestone is not None:
            return _screen_for_milestone(label, account, completed_milestone)
        excluded = _exclusion(account, period, catalog, timezone)
    except Exception as error:  # a bad record must never stop the run
        return AccountScreening(
            account_id=label,
            outcome="quarantined",
            reason=f"Account could not be read: {shorten(str(error))}",
        )
    if excluded is not None:
        return AccountScreening(account_id=label, outcome="excluded", reason=excluded)
    return AccountScreening(account_id=label, outcome="eligible", account=account)


def _screen_for_milestone(label: str, account: Account, ref: MilestoneRef) -> AccountScreening:
    if account.status == "paused":
        return AccountScreening(account_id=label, outcome="excluded", reason="Account is paused")
    refusal = milestone_refusal(account, ref)
    if refusal is not None:
        return AccountScreening(account_id=label, outcome="quarantined", reason=refusal)
    return AccountScreening(account_id=label, outcome="eligible", account=account)


def _records_phrase(positions: Sequence[int], shown: int = 5) -> str:
    """[1, 4, 9] -> 'records 1, 4 and 9'; a long list names the first few and counts the rest."""
    words = [f"{position:,}" for position in positions[:shown]]
    if len(positions) > shown:
        return f"records {', '.join(words)} and {len(positions) - shown:,} more"
    return f"records {', '.join(words[:-1])} and {words[-1]}"


def duplicate_account_reasons(raw_accounts: Sequence[Any]) -> dict[str, str]:
    """The quarantine sentence for every account id that more than one record of a source holds.

    Two records with one id used to end as one invoice (the second found the first's draft
    and counted as "already billed") while the other record's data vanished. Which one is
    right is the source's to say, so every record with that id is quarantined, with a
    sentence naming the records, until the source holds one record per account.
    """
    positions: dict[str, list[int]] = {}
    for position, raw in enumerate(raw_accounts, start=1):
        account_id = raw.get("account_id") if isinstance(raw, dict) else None
        if isinstance(account_id, str) and account_id:
            positions.setdefault(account_id, []).append(position)
    return {
        account_id: (
            f"Account id {quote(account_id)} is held by {len(found):,} records of the account "
            f"source ({_records_phrase(found)}): none is billed until the source holds one "
            "record per account"
        )
        for account_id, found in positions.items()
        if len(found) > 1
    }


#: CSV columns that describe the account, not one subscription: every row of an account
#: must repeat them or leave them empty.
_ACCOUNT_COLUMNS = (
    "status",
    "company_name",
    "email",
    "line1",
    "city",
    "postal_code",
    "region",
    "country",
    "vat_id",
    "locale",
    "currency",
)


def _disagreement(
    first_row: int, first: Mapping[str, str], row_number: int, cells: Mapping[str, str]
) -> str | None:
    """How a later row of an account contradicts its first row, or None."""
    for column in _ACCOUNT_COLUMNS:
        value = cells.get(column)
        first_value = first.get(column) or ("active" if column == "status" else "")
        if value and value != first_value:
            return (
                f"Rows {first_row} and {row_number} of account {quote(cells['account_id'])} "
                f"disagree on {quote(column)} ({quote(first_value)} and {quote(value)}): the "
                "rows of one account must repeat its account columns or leave them empty"
            )
    return None


def parse_accounts_csv(text: str) -> list[dict[str, Any]]:
    """CSV with one row per subscription -> raw account dicts, same shape as the JSON source.

    Rows sharing an ``account_id`` become one account; customer columns are read from the
    first row; a later row may leave them empty, and one that contradicts them quarantines
    the account (``_problem``: one id, one currency and customer, or the second row's data
    would vanish). Empty cells mean 'not given'. Rows without an id get a ``_label`` of
    ``<row N>`` (N counts data rows from 1) so screening can name them.

    The delimiter (comma, semicolon or tab) is read from the header, and a ``;`` file may
    write numbers with a decimal comma (``csv_dialect``); a number it cannot read for sure
    quarantines its account (``_problem``). Raises ``CsvDialectError`` for a file whose
    header has no ``account_id`` column in any of the three.
    """
    delimiter, rows = read_csv(text, "account_id")
    accounts: dict[str, dict[str, Any]] = {}
    first_rows: dict[str, tuple[int, dict[str, str]]] = {}
    for row_number, cells in enumerate(rows, start=1):
        account_key = cells.get("account_id") or f"<row {row_number}>"
        account = accounts.get(account_key)
        if account is not None:
            first_row, first_cells = first_rows[account_key]
            problem = _disagreement(first_row, first_cells, row_number, cells)
            if problem is not None:
                account.setdefault(SOURCE_PROBLEM, problem)
        else:
            first_rows[account_key] = (row_number, cells)
            address: dict[str, Any] = {
                "line1": cells.get("line1", ""),
                "city": cells.get("city", ""),
                "country": cells.get("country", ""),
            }
            for optional in ("postal_code", "region"):
                if cells.get(optional):
                    address[optional] = cells[optional]
            customer: dict[str, Any] = {
                "name": cells.get("company_name", ""),
                "email": cells.get("email", ""),
                "address": address,
            }
            for optional in ("vat_id", "locale"):
                if cells.get(optional):
                    customer[optional] = cells[optional]
            account = {
                "status": cells.get("status") or "active",
                "currency": cells.get("currency", ""),
                "customer": customer,
                "subscriptions": [],
            }
            if cells.get("account_id"):
                account["account_id"] = cells["account_id"]
            else:
                account["_label"] = account_key
            accounts[account_key] = account
        if cells.get("plan"):
            subscription: dict[str, Any] = {
                "subscription_id": cells.get("subscription_id")
                or f"{account_key}-{len(account['subscriptions']) + 1}",
                "plan": cells["plan"],
                "quantity": cells.get("quantity") or "1",
                "start": cells.get("start", ""),
            }
            for optional in ("end", "cadence", "billing_timing", "unit_price"):
                if cells.get(optional):
                    subscription[optional] = cells[optional]
            for column in ("quantity", "unit_price"):
                if column in subscription:
                    subscription[column], problem = csv_number(subscription[column], delimiter)
                    if problem is not None:
                        account.setdefault(
                            SOURCE_PROBLEM, f"Row {row_number}, column '{column}': {problem}"
                        )
            account["subscriptions"].append(subscription)
    return list(accounts.values())


__all__ = [
    "Account",
    "AccountScreening",
    "Address",
    "AutoPay",
    "BillingHistory",
    "CadencePhase",
    "Credit",
    "CustomerInfo",
    "Discount",
    "Milestone",
    "MilestonePart",
    "MinimumCommitment",
    "OneOffCharge",
    "PlanChange",
    "Subscription",
    "UsageRecord",
    "cadence_phases",
    "duplicate_account_reasons",
    "parse_accounts_csv",
    "recurring_due",
    "screen_account",
]
