"""The billing engine: one account and one period in, one explainable draft invoice out.

Pure computation (no AWS, no clock, no I/O), so the same draft comes out on every re-run
and in every test. Validation of the account happens once, at screening; here the work is
plain ``Decimal`` arithmetic, and the invoice models are assembled from those values
without a second validation (``trusted.trusted_factory``; the tests re-validate every draft).

Speed (issue 5 asks for 25,000 drafts/s per core): what only depends on the run, such as
a plan's line for a given period, quantity and price, or a customer's tax treatment, is
worked out once per ``BillingContext`` and reused (``RunMemo``), and the common monthly
subscription billed in advance for the whole period skips the term and change machinery.

Rounding (EN 16931): every line is rounded half up to the currency's minor unit when it is
made; tax is computed per (category, rate) on the sum of those rounded lines and rounded
once; totals are plain sums. ``gross_total == net_total + tax_total`` and
``net_total == sum(line.net_amount)`` hold to the minor unit on every draft.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from invoice_dispatch.billing import anomalies as checks
from invoice_dispatch.billing.account import (
    Account,
    BillingHistory,
    Discount,
    Milestone,
    Subscription,
    UsageRecord,
    cadence_phases,
    recurring_due,
)
from invoice_dispatch.billing.anomalies import AnomalyThresholds
from invoice_dispatch.billing.catalog import (
    CADENCE_MONTHS,
    Catalog,
    Plan,
    UsagePricing,
    packages_needed,
    price_usage,
)
from invoice_dispatch.billing.credits import CREDIT_PRODUCT, CarriedCredit
from invoice_dispatch.billing.line_terms import (
    GraduatedTiers,
    charge_terms,
    graduated_tier_uses,
    graduated_tiers,
    restated_for_net,
)
from invoice_dispatch.billing.period import (
    BillingPeriod,
    last_local_day,
    local_date,
    months_between,
    term_containing,
)
from invoice_dispatch.billing.proration import prorate, split_by_shares
from invoice_dispatch.billing.quoting import shorten
from invoice_dispatch.billing.tax import NoTaxRate, TaxTable, TaxTreatment, resolve_tax
from invoice_dispatch.billing.trusted import trusted_factory
from invoice_dispatch.billing.wording import Wording, wording
from invoice_dispatch.invoice import (
    AnomalyFlag,
    AutoPayMeans,
    Channel,
    Customer,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    PostalAddress,
    TaxSubtotal,
    invoice_id_for,
)
from invoice_dispatch.legal_entity import LegalEntity
from invoice_dispatch.milestone import MilestoneRef
from invoice_dispatch.money import quantum, round_money

_ONE_DAY = timedelta(days=1)
_HUNDRED = Decimal(100)
_ZERO = Decimal(0)
_ONE = Decimal(1)
_DRAFT = InvoiceStatus.DRAFT
#: Line ids L001..L999, made once: every line of every draft needs one.
_LINE_IDS = tuple(f"L{number:03d}" for number in range(1, 1000))

_new_line = trusted_factory(InvoiceLine)
_new_tax_subtotal = trusted_factory(TaxSubtotal)
_new_customer = trusted_factory(Customer)
_new_address = trusted_factory(PostalAddress)
_new_invoice = trusted_factory(Invoice)

#: (description, quantity, price, base quantity, rounded amount) of one subscription charge;
#: quantity x price / base quantity is the amount before its one rounding (``line_terms``).
ChargeValues = tuple[str, Decimal, Decimal, Decimal, Decimal]


@dataclass(slots=True)
class RunMemo:
    """Results that depend only on the run's fixed inputs, computed once per context.

    Keys hold ``str(Decimal)`` rather than the ``Decimal``: ``Decimal("1") == Decimal("1.0")``
    but the two print differently on a line, so they must not share an entry (discount
    wording prints them alike, so ``discount_texts`` is keyed by the coupon record).
    """

    charges: dict[tuple, ChargeValues] = field(default_factory=dict)
    treatments: dict[tuple, TaxTreatment] = field(default_factory=dict)
    subscription_outcomes: dict[tuple, SubscriptionOutcome] = field(default_factory=dict)
    usage_terms: dict[tuple, _UsageTerms] = field(default_factory=dict)
    discount_texts: dict[tuple, str] = field(default_factory=dict)
    full_tier_lines: dict[tuple, InvoiceLine] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BillingContext:
    """Everything a draft depends on besides the account, fixed for a whole run.

    ``memo`` lives as long as the context, so a new period, catalog or tax table (a new
    context, also through ``dataclasses.replace``) always starts from an empty one.
    """

    period: BillingPeriod
    run_id: str
    mode: Literal["live", "shadow"]
    legal_entity: LegalEntity
    catalog: Catalog
    tax_table: TaxTable
    thresholds: AnomalyThresholds = field(default_factory=AnomalyThresholds)
    #: A run a MilestoneCompleted event started bills this one part and nothing else.
    completed_milestone: MilestoneRef | None = None
    memo: RunMemo = field(default_factory=RunMemo, init=False, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class DraftResult:
    """A draft, or the reason the account must be quarantined, or why nothing is billed.

    A period whose total is negative has no invoice: ``credit`` holds what the customer is
    owed and ``skipped_reason`` says how it is carried (``billing/credits.py``).
    """

    invoice: Invoice | None
    quarantine_reason: str | None = None
    skipped_reason: str | None = None
    credit: CarriedCredit | None = None


@dataclass(slots=True)
class _PlanState:
    """The contract's terms from one day on; ``months`` and ``anchor`` shape its terms."""

    plan: Plan
    quantity: Decimal
    unit_price: Decimal
    negotiated: bool
    months: int = 1
    anchor: date | None = None

    def units(self) -> Decimal:
        if self.plan.model == "package":
            return packages_needed(self.quantity, self.plan.package_size or 1)
        return self.quantity

    def label(self, words: Wording) -> str:
        plan = self.plan
        name = plan.name_in(words.language)
        if plan.model == "per_seat":
            unit = words.unit(plan.unit_label, self.quantity)
            return f"{name}, {words.number(self.quantity)} {unit}"
        if plan.model == "package":
            return words(
                "package",
                name=name,
                packages=words.number(self.units()),
                size=words.number(Decimal(plan.package_size or 1)),
                unit=words.unit(plan.unit_label),
                quantity=words.number(self.quantity),
            )
        if self.quantity != 1:
            return words("times", name=name, quantity=words.number(self.quantity))
        return name


def _line_id(position: int) -> str:
    """``L001`` for the first line; ids past ``L999`` are made as needed."""
    return _LINE_IDS[position] if position < len(_LINE_IDS) else f"L{position + 1:03d}"


class _Draft:
    """Accumulates lines while one draft is computed.

    ``line_key`` is what, besides its own terms, makes two drafts' lines identical: the
    currency, the tax treatment (rate as printed, so 7 and 7.0 stay apart) and the
    language the lines are worded in.
    ``net_sum`` follows the lines as they are added (``Decimal`` sums of rounded amounts
    are exact, so it equals ``sum(line.net_amount)``): invoice discounts and tax need it.
    """

    __slots__ = (
        "currency",
        "flags",
        "line_key",
        "lines",
        "net_sum",
        "quantum",
        "treatment",
        "words",
    )

    def __init__(
        self,
        currency: str,
        currency_quantum: Decimal,
        treatment: TaxTreatment,
        words: Wording,
    ) -> None:
        self.currency = currency
        self.quantum = currency_quantum
        self.treatment = treatment
        self.words = words
        self.line_key = (currency, treatment.category, str(treatment.rate), words.language)
        self.lines: list[InvoiceLine] = []
        self.flags: list[AnomalyFlag] = []
        self.net_sum = _ZERO

    def round(self, amount: Decimal) -> Decimal:
        """``money.round_money`` with the currency's quantum looked up once per draft."""
        return amount.quantize(self.quantum, ROUND_HALF_UP)

    def add(
        self,
        kind: str,
        description: str,
        product_code: str,
        quantity: Decimal,
        unit_price: Decimal,
        net_amount: Decimal,
        service_start: date,
        service_end: date,
        base_quantity: Decimal = _ONE,
    ) -> None:
        """Builds a line and adds it; ``net_sum`` follows (shared lines are added in bulk)."""
        lines = self.lines
        lines.append(
            _new_line(
                line_id=_line_id(len(lines)),
                kind=kind,
                description=description,
                product_code=product_code,
                quantity=quantity,
                unit_price=unit_price,
                base_quantity=base_quantity,
                net_amount=net_amount,
                tax_rate=self.treatment.rate,
                tax_category=self.treatment.category,
                service_start=service_start,
                service_end=service_end,
            )
        )
        self.net_sum += net_amount


def _initial_state(
    sub: Subscription, plan: Plan, currency: str, months: int, anchor: date
) -> _PlanState:
    """The contract's terms on its start day: the negotiated price, else the catalog's."""
    return _PlanState(
        plan=plan,
        quantity=sub.quantity,
        unit_price=sub.unit_price if sub.unit_price is not None else plan.prices.get(currency),  # type: ignore[arg-type]
        negotiated=sub.unit_price is not None,
        months=months,
        anchor=anchor,
    )


def _states(
    sub: Subscription, catalog: Catalog, currency: str, timezone: str, months: int, start: date
) -> list[tuple[date, _PlanState]]:
    """(effective date, plan state) pairs: the subscription's contract history in order.

    A change that sets a cadence starts terms of the new length on its own month.
    """
    state = _initial_state(sub, catalog.plans[sub.plan], currency, months, sub.anchor or start)
    result = [(start, state)]
    for change in sub.changes:
        effective = local_date(change.effective, timezone)
        new_plan = catalog.plans[change.plan] if change.plan else state.plan
        if change.unit_price is not None:
            price, negotiated = change.unit_price, True
        elif new_plan is state.plan and state.negotiated:
            price, negotiated = state.unit_price, True
        else:
            price, negotiated = new_plan.prices[currency], False
        new_months = change.term_months()
        state = _PlanState(
            plan=new_plan,
            quantity=change.quantity if change.quantity is not None else state.quantity,
            unit_price=price,
            negotiated=negotiated,
            months=state.months if new_months is None else new_months,
            anchor=state.anchor if new_months is None else effective,
        )
        result.append((effective, state))
    return result


def _state_on(states, day: date) -> _PlanState:
    current = states[0][1]
    for effective, state in states:
        if effective <= day:
            current = state
        else:
            break
    return current


def _compute_charge(
    state: _PlanState,
    seg_start: date,
    seg_end: date,
    term_days: int,
    months: int,
    currency: str,
    text: tuple[str, str, str],
    words: Wording,
) -> ChargeValues:
    """One charge for ``state`` over a segment of a term of ``months`` months.

    Catalog prices are per the plan's own cadence (ENTERPRISE: a year); a term of another
    length scales it by months before the single rounding of the line. ``text`` is the
    (prefix, cadence note, trailing note) around the plan label and the span.
    """
    prefix, cadence_note, note = text
    plan_months = CADENCE_MONTHS[state.plan.default_cadence]
    units = state.units()
    days = (seg_end - seg_start).days + 1
    amount = prorate(units * state.unit_price * months, days, term_days * plan_months, currency)
    quantity, price, base = charge_terms(
        units, state.unit_price, plan_months, months, days, term_days
    )
    span = words.span(seg_start, seg_end, term_days)
    description = f"{prefix}{state.label(words)}{cadence_note}, {span}{note}"
    return description, quantity, price, base, amount


def _charge_values(
    memo: RunMemo,
    state: _PlanState,
    seg_start: date,
    seg_end: date,
    term_days: int,
    months: int,
    currency: str,
    text: tuple[str, str, str],
    words: Wording,
) -> ChargeValues:
    """``_compute_charge`` once per run for each distinct plan, seats, price and segment.

    Thousands of accounts share a plan, seat count and period, so the proration and the
    description (the costliest part of a line) are worked out once and reused.
    """
    key = (
        state.plan.code,
        str(state.quantity),
        str(state.unit_price),
        seg_start,
        seg_end,
        term_days,
        months,
        currency,
        text,
        words.language,
    )
    values = memo.charges.get(key)
    if values is None:
        values = memo.charges[key] = _compute_charge(
            state, seg_start, seg_end, term_days, months, currency, text, words
        )
    return values


def _add_charge(
    draft: _Draft,
    context: BillingContext,
    kind: str,
    state: _PlanState,
    seg_start: date,
    seg_end: date,
    term_days: int,
    months: int,
    text: tuple[str, str, str],
    sign: int = 1,
) -> None:
    description, quantity, price, base, amount = _charge_values(
        context.memo,
        state,
        seg_start,
        seg_end,
        term_days,
        months,
        draft.currency,
        text,
        draft.words,
    )
    draft.add(
        kind,
        description,
        state.plan.code,
        quantity if sign > 0 else -quantity,
        price,
        amount if sign > 0 else -amount,
        seg_start,
        seg_end,
        base,
    )


def _flag_negotiated_price(
    draft: _Draft, state: _PlanState, currency: str, context: BillingContext
) -> None:
    flag = checks.price_off_catalog_flag(
        state.plan.name,
        state.unit_price,
        state.plan.prices.get(currency),
        currency,
        context.catalog.version,
        context.thresholds,
    )
    if flag is not None:
        draft.flags.append(flag)


#: The outcome of billing one subscription: its lines and flags, in order, and the sum of
#: the lines' net amounts (exact, as every ``Decimal`` sum of rounded amounts here).
SubscriptionOutcome = tuple[tuple[InvoiceLine, ...], tuple[AnomalyFlag, ...], Decimal]


def _bill_subscriptions(
    draft: _Draft, account: Account, context: BillingContext, timezone: str
) -> None:
    """``_bill_subscription`` once per run for each distinct set of contract terms.

    Without changes, a subscription's lines and flags depend only on the terms in the key
    (not on its id or the account), the draft's currency and tax treatment (``line_key``),
    the zone its timestamps are read in, and its position on the invoice (the line ids).
    Thousands of accounts share those, so a steady subscription costs one dict lookup and
    shares its frozen lines (added at once, with their net sum worked out when first billed).
    A subscription with changes takes the general path each time.
    One loop over the account's subscriptions (not a call per subscription) keeps what is
    the same for all of them in locals.
    """
    memo = context.memo.subscription_outcomes
    line_key = draft.line_key
    lines = draft.lines
    for sub in account.subscriptions:
        if sub.changes:
            _bill_subscription(draft, sub, account, context, timezone)
            continue
        key = (
            len(lines),
            line_key,
            timezone,
            sub.plan,
            str(sub.quantity),
            None if sub.unit_price is None else str(sub.unit_price),
            sub.cadence,
            sub.interval_months,
            sub.billing_timing,
            sub.anchor,
            sub.start,
            sub.end,
            sub.trial_end,
        )
        outcome = memo.get(key)
        if outcome is None:
            first_line, first_flag = len(lines), len(draft.flags)
            _bill_subscription(draft, sub, account, context, timezone)
            memo[key] = (
                tuple(lines[first_line:]),
                tuple(draft.flags[first_flag:]),
                sum((line.net_amount for line in lines[first_line:]), _ZERO),
            )
            continue
        shared_lines, shared_flags, shared_net = outcome
        lines.extend(shared_lines)
        draft.net_sum += shared_net
        if shared_flags:
            draft.flags.extend(shared_flags)


def _bill_subscription(
    draft: _Draft, sub: Subscription, account: Account, context: BillingContext, timezone: str
) -> None:
    period = context.period
    catalog = context.catalog
    currency = account.currency
    plan = catalog.plans[sub.plan]
    months = sub.term_months(plan.default_cadence)
    start = local_date(sub.start, timezone)
    end = None if sub.end is None else last_local_day(sub.end, timezone)
    states = _states(sub, catalog, currency, timezone, months, start)
    change_days = [eff for eff, _ in states[1:]]
    if not recurring_due(sub, start, end, months, period, change_days, timezone):
        return
    for _, state in states:
        if state.negotiated:
            _flag_negotiated_price(draft, state, currency, context)
    first_paid = start if sub.trial_end is None else max(start, sub.trial_end + _ONE_DAY)
    timing = sub.billing_timing
    words = draft.words
    trial_note = ""
    if sub.trial_end is not None:
        trial_note = words("trial", date=words.date_text(sub.trial_end))

    if timing == "advance":
        day = max(start, period.start)
        current = _state_on(states, day)
        term = term_containing(day, current.anchor or start, current.months)
        first_active = max(term.start, start)
        charged_from = None
        if period.contains(first_active):
            coverage_end = term.end if end is None else min(term.end, end)
            seg_start = max(first_active, first_paid)
            if seg_start <= coverage_end:
                charged_from = first_active
                note = trial_note if seg_start != first_active else ""
                state = _state_on(states, first_active)
                _add_charge(
                    draft,
                    context,
                    "recurring",
                    state,
                    seg_start,
                    coverage_end,
                    term.days,
                    state.months,
                    ("", words.cadence(state.months, timing), note),
                )
        for index in range(1, len(states)):
            effective, new_state = states[index]
            if not period.contains(effective) or (end is not None and effective > end):
                continue
            old_state = states[index - 1][1]
            seg_start = max(effective, first_paid)
            # The old terms were paid when their term began: credit what is left of the
            # one running on the change day (nothing if that term begins on it).
            old_term = term_containing(effective, old_state.anchor or start, old_state.months)
            old_end = old_term.end if end is None else min(old_term.end, end)
            if old_term.start < effective and seg_start <= old_end:
                _add_charge(
                    draft,
                    context,
                    "proration_credit",
                    old_state,
                    seg_start,
                    old_end,
                    old_term.days,
                    old_state.months,
                    (words("unused"), words.cadence(old_state.months, timing), ""),
                    sign=-1,
                )
            # The new terms from the change day, unless the period's own charge above
            # already billed the term that begins on it.
            new_term = term_containing(effective, new_state.anchor or start, new_state.months)
            new_end = new_term.end if end is None else min(new_term.end, end)
            if charged_from != effective and seg_start <= new_end:
                _add_charge(
                    draft,
                    context,
                    "proration_charge",
                    new_state,
                    seg_start,
                    new_end,
                    new_term.days,
                    new_state.months,
                    (words("remaining"), words.cadence(new_state.months, timing), ""),
                )
        return

    for phase in cadence_phases(sub, start, end, months, timezone):
        last_day = period.end if phase.end is None else min(phase.end, period.end)
        if last_day < phase.start:
            continue
        term = term_containing(last_day, phase.anchor, phase.months)
        last_active = term.end if phase.end is None else min(term.end, phase.end)
        if not period.contains(last_active):
            continue
        boundaries = [max(term.start, phase.start, first_paid)]
        boundaries += [eff for eff in change_days if boundaries[0] < eff <= last_active]
        for position, seg_start in enumerate(boundaries):
            seg_end = (
                boundaries[position + 1] - _ONE_DAY
                if position + 1 < len(boundaries)
                else last_active
            )
            if seg_start > seg_end:
                continue
            note = trial_note if position == 0 and seg_start == first_paid and sub.trial_end else ""
            _add_charge(
                draft,
                context,
                "recurring",
                _state_on(states, seg_start),
                seg_start,
                seg_end,
                term.days,
                phase.months,
                ("", words.cadence(phase.months, timing), note),
            )


def _bill_usage(
    draft: _Draft, account: Account, context: BillingContext, history: BillingHistory | None
) -> None:
    period = context.period
    currency = account.currency
    commitment = account.minimum_commitment
    usage_by_metric: dict[str, Decimal] = {}
    usage = account.usage
    if len(usage) > 1:
        usage = _usage_per_metric(draft, usage, context)
    for record in usage:
        terms = _usage_terms(context, record.metric, record.pricing, currency, draft.words)
        pricing = terms.pricing
        if pricing.model == "graduated":
            amount = _add_tier_lines(draft, terms, record.quantity, context)
        else:
            amount = price_usage(pricing, record.quantity, currency)
            quantity, unit_price, flat_fee = _usage_quantity_and_price(pricing, record.quantity)
            base = _ONE
            if flat_fee:  # quantity x price is the amount before rounding, unless a fee adds
                unit_price, base = restated_for_net(
                    quantity, unit_price, _ONE, amount, draft.quantum
                )
            draft.add(
                "usage",
                terms.usage_text.format(quantity=draft.words.number(record.quantity)),
                record.metric,
                quantity,
                unit_price,
                amount,
                period.start,
                period.end,
                base,
            )
        if commitment is not None:
            usage_by_metric[record.metric] = usage_by_metric.get(record.metric, _ZERO) + amount
        if history is not None:
            flag = checks.usage_spike_flag(
                terms.metric_name,
                record.metric,
                record.quantity,
                history.trailing_usage_average.get(record.metric),
                context.thresholds,
            )
            if flag is not None:
                draft.flags.append(flag)
    if commitment is None:
        return
    covered = [
        amount
        for code, amount in usage_by_metric.items()
        if not commitment.metrics or code in commitment.metrics
    ]
    usage_total = sum(covered, _ZERO)
    minimum = round_money(commitment.amount, currency)
    if usage_total < minimum:
        shortfall = minimum - usage_total
        words = draft.words
        draft.add(
            "minimum_commitment",
            words(
                "minimum",
                minimum=words.amount(minimum),
                usage=words.amount(usage_total),
                currency=currency,
            ),
            "MIN-COMMIT",
            Decimal(1),
            shortfall,
            shortfall,
            period.start,
            period.end,
        )


def _usage_per_metric(
    draft: _Draft, usage: tuple[UsageRecord, ...], context: BillingContext
) -> tuple[UsageRecord, ...]:
    """One record per metric, in order of first appearance, holding the metric's total.

    Tiers price a period's whole usage: 10,000 + 9,999 API calls from two records (the
    account and a metering file) are 19,999 calls, the price of one record of 19,999, not
    two free first tiers. Usage records carry no period of their own: all of an account's
    usage is the billed period's. Screening has made sure the records of one metric name
    at most one pricing model, which the total takes. Equal records (metric, quantity and
    source) are still summed, and flagged as a record perhaps sent twice.
    """
    totals: dict[str, UsageRecord] = {}
    copies: dict[tuple[str, str, str | None], int] = {}
    for record in usage:
        key = (record.metric, str(record.quantity), record.source)
        copies[key] = copies.get(key, 0) + 1
        total = totals.get(record.metric)
        if total is None:
            totals[record.metric] = record
            continue
        totals[record.metric] = UsageRecord(
            metric=record.metric,
            quantity=total.quantity + record.quantity,
            pricing=total.pricing or record.pricing,
            source=total.source if total.source == record.source else None,
        )
    if len(totals) == len(usage):
        return usage
    for (metric, quantity, source), count in copies.items():
        if count > 1:
            draft.flags.append(
                checks.duplicate_usage_flag(
                    context.catalog.metrics[metric].name,
                    Decimal(quantity),
                    source,
                    count,
                    context.thresholds,
                )
            )
    return tuple(totals.values())


def _usage_quantity_and_price(
    pricing: UsagePricing, quantity: Decimal
) -> tuple[Decimal, Decimal, Decimal]:
    """What a per-unit, package or volume usage line states: units (or packages), price, and
    the flat fee of a volume tier (which the line's price must then take in)."""
    if pricing.model == "package":
        packages = packages_needed(quantity, pricing.package_size or 1)
        return packages, pricing.package_price or _ZERO, _ZERO
    if pricing.model == "volume":
        for tier in pricing.tiers:
            if tier.up_to is None or quantity <= tier.up_to:
                return quantity, tier.unit_price, tier.flat_fee
    return quantity, pricing.unit_price or _ZERO, _ZERO


def _add_tier_lines(
    draft: _Draft, terms: _UsageTerms, quantity: Decimal, context: BillingContext
) -> Decimal:
    """One line per graduated tier the quantity reaches; returns their sum.

    Each tier's line is its units at its price, rounded once (EN 16931 rounds per line), so
    the usage amount is the sum of the tiers' rounded amounts. That equals the single
    rounding of the tiers' exact sum whenever the tiers below the last come to whole minor
    units, as every tier of the bundled catalog does (85,000 calls: 0.00 + 75.00).
    A tier the quantity fills is the same line for every account of the run at the same
    position, so it is made once (``RunMemo.full_tier_lines``); only the last one is not.
    """
    total = _ZERO
    words = draft.words
    count = len(terms.tiers)
    shared = context.memo.full_tier_lines
    period = context.period
    for position, first, last, units, unit_price, flat_fee in graduated_tier_uses(
        terms.tiers, quantity
    ):
        key = (len(draft.lines), draft.line_key, terms.metric_code, terms.pricing_key, position)
        line = shared.get(key) if last < quantity else None
        if line is not None:
            draft.lines.append(line)
            draft.net_sum += line.net_amount
            total += line.net_amount
            continue
        amount = draft.round(units * unit_price + flat_fee)
        base = _ONE
        if flat_fee:  # the price must take the tier's fee in (R120)
            unit_price, base = restated_for_net(units, unit_price, _ONE, amount, draft.quantum)
        draft.add(
            "usage",
            terms.tier_text.format(
                first=words.number(first),
                last=words.number(last),
                position=position,
                count=count,
            ),
            terms.metric_code,
            units,
            unit_price,
            amount,
            period.start,
            period.end,
            base,
        )
        if last < quantity:
            shared[key] = draft.lines[-1]
        total += amount
    return total


@dataclass(frozen=True, slots=True)
class _UsageTerms:
    """What a usage line takes from the catalog: its pricing and the words around the quantity."""

    pricing: UsagePricing
    metric_code: str
    #: The English name, for the approver's anomaly sentences.
    metric_name: str
    #: The line's wording with ``{quantity}`` left open (tiers: also first, last, position,
    #: count), in the customer's language.
    usage_text: str
    tier_text: str
    tiers: GraduatedTiers
    #: The metric's pricing model name (with the currency in the draft's ``line_key``).
    pricing_key: str | None


def _usage_terms(
    context: BillingContext, metric_code: str, model: str | None, currency: str, words: Wording
) -> _UsageTerms:
    """The catalog side of a usage line, fixed per metric, model, currency and language."""
    key = (metric_code, model, currency, words.language)
    terms = context.memo.usage_terms.get(key)
    if terms is None:
        metric = context.catalog.metrics[metric_code]
        pricing = context.catalog.usage_pricing(metric_code, model, currency)
        period = context.period
        fixed = {
            "metric": _braces(metric.name_in(words.language)),
            "unit": _braces(words.unit(metric.unit_label)),
            "span": _braces(words.span(period.start, period.end, period.days)),
        }
        pricing_words = (
            words("packages_of", size=words.number(Decimal(pricing.package_size or 1)))
            if pricing.model == "package"
            else words(pricing.model)
        )
        terms = context.memo.usage_terms[key] = _UsageTerms(
            pricing=pricing,
            metric_code=metric_code,
            metric_name=metric.name,
            usage_text=words(
                "usage", quantity="{quantity}", pricing=_braces(pricing_words), **fixed
            ),
            tiers=graduated_tiers(pricing) if pricing.model == "graduated" else (),
            tier_text=words(
                "tier",
                first="{first}",
                last="{last}",
                position="{position}",
                count="{count}",
                **fixed,
            ),
            pricing_key=model,
        )
    return terms


def _braces(text: str) -> str:
    """Catalog text kept literal in a wording that is formatted again per line."""
    return text.replace("{", "{{").replace("}", "}}")


def _bill_one_offs(draft: _Draft, account: Account, context: BillingContext) -> None:
    period = context.period
    currency = account.currency
    for one_off in account.one_offs:
        if one_off.bill_in not in (None, period.label):
            continue
        product = context.catalog.one_offs[one_off.product]
        unit_price = (
            one_off.unit_price if one_off.unit_price is not None else product.prices[currency]
        )
        draft.add(
            "one_off",
            one_off.description or product.name_in(draft.words.language),
            one_off.product,
            one_off.quantity,
            unit_price,
            round_money(one_off.quantity * unit_price, currency),
            period.start,
            period.end,
        )


def _bills_part(
    milestone: Milestone, position: int, due_period: str, context: BillingContext
) -> bool:
    """A completion-billed part only in the run its event started; any other in its month."""
    completed = context.completed_milestone
    if milestone.billed_on == "completion":
        return (
            completed is not None
            and completed.milestone_id == milestone.milestone_id
            and completed.part == position
        )
    return completed is None and due_period == context.period.label


def _bill_milestones(draft: _Draft, account: Account, context: BillingContext) -> None:
    period = context.period
    currency = account.currency
    for milestone in account.milestones:
        shares = [part.share for part in milestone.parts]
        amounts = split_by_shares(milestone.contract_amount, shares, currency)
        weight_total = sum(shares, _ZERO)
        for index, (part, amount) in enumerate(zip(milestone.parts, amounts, strict=True)):
            if not _bills_part(milestone, index + 1, part.due_period, context):
                continue
            percent = (part.share * _HUNDRED / weight_total).quantize(Decimal("0.01"))
            label = f" '{part.label}'" if part.label else ""
            words = draft.words
            draft.add(
                "milestone",
                words(
                    "milestone",
                    description=milestone.description,
                    position=index + 1,
                    count=len(milestone.parts),
                    label=label,
                    percent=words.number(percent),
                    amount=words.amount(round_money(milestone.contract_amount, currency)),
                    currency=currency,
                ),
                "MILESTONE",
                Decimal(1),
                amount,
                amount,
                period.start,
                period.end,
            )


def _apply_discounts(draft: _Draft, account: Account, context: BillingContext) -> None:
    """Line discounts first, then invoice discounts; each is capped at what it discounts.

    The cap is taken on the amount still positive after earlier discounts, so no discount
    can push a total below zero (a credit can, and is flagged instead).
    """
    period = context.period
    already_discounted: dict[str, Decimal] = {}
    ordered: Sequence[Discount] = account.discounts
    if len(ordered) > 1:
        ordered = sorted(ordered, key=lambda d: d.applies_to == "invoice")
    for discount in ordered:
        if not discount.applies_in(period.label):
            continue
        target = discount.applies_to
        if target == "invoice":
            base = draft.net_sum
        else:
            base = sum(
                (line.net_amount for line in draft.lines if line.product_code == target), _ZERO
            ) - already_discounted.get(target, _ZERO)
        if base < _ZERO:
            base = _ZERO
        if discount.kind == "percentage":
            assert discount.percent is not None
            amount = draft.round(base * discount.percent / _HUNDRED)
        else:
            assert discount.amount is not None
            amount = min(draft.round(discount.amount), base)
        if amount <= 0:
            continue
        if target != "invoice":  # invoice discounts read the running net sum instead
            already_discounted[target] = already_discounted.get(target, _ZERO) + amount
        discount_net = -amount
        draft.add(
            "discount",
            _discount_text(context, discount, draft.currency, draft.words),
            "DISCOUNT",
            _ONE,
            discount_net,
            discount_net,
            period.start,
            period.end,
        )


def _apply_credits(draft: _Draft, account: Account, context: BillingContext) -> None:
    """Credits carried from earlier periods, after the discounts (which never see them)."""
    period = context.period
    for credit in account.credits:
        if not credit.applies_in(period.label):
            continue
        amount = -draft.round(credit.amount)
        words = draft.words
        description = words(
            "credit_carried", month=words.month(credit.from_period), credit_id=credit.credit_id
        )
        if credit.description:
            description = f"{description}: {credit.description}"
        draft.add(
            "credit",
            description,
            CREDIT_PRODUCT,
            _ONE,
            amount,
            amount,
            period.start,
            period.end,
        )


def _discount_text(
    context: BillingContext, discount: Discount, currency: str, words: Wording
) -> str:
    """A discount line's wording: fixed per coupon terms and currency within a run.

    The amount taken off is not part of it (a percentage's amount is, but only as the
    percentage), so thousands of accounts on the same coupon share one sentence. The coupon
    record itself is the key (one hash instead of a tuple of ``str(Decimal)``): records
    compare a ``Decimal`` by value (``10`` equals ``10.0``), which is right here because
    the sentence prints it normalized (``10 %``) or rounded to the currency (``5.00 EUR``).
    """
    key = (discount, currency, words.language)
    text = context.memo.discount_texts.get(key)
    if text is None:
        text = context.memo.discount_texts[key] = _describe_discount(
            context, discount, currency, words
        )
    return text


def _describe_discount(
    context: BillingContext, discount: Discount, currency: str, words: Wording
) -> str:
    period = context.period
    target = discount.applies_to
    target_name = (
        words("the_invoice")
        if target == "invoice"
        else _product_name(context.catalog, target, words.language)
    )
    if discount.kind == "percentage":
        assert discount.percent is not None
        what = words("percent_off", percent=words.number(discount.percent), target=target_name)
    else:
        assert discount.amount is not None
        amount = words.amount(round_money(discount.amount, currency))
        what = words("amount_off", amount=amount, currency=currency, target=target_name)
    coupon = ""
    if discount.first_period and discount.periods:
        position = months_between(discount.first_period, period.label) + 1
        coupon = words("coupon_period", position=position, count=discount.periods)
    return words(
        "discount", name=discount.description or discount.discount_id, what=what, coupon=coupon
    )


def _product_name(catalog: Catalog, code: str, language: str) -> str:
    for table in (catalog.plans, catalog.metrics, catalog.one_offs):
        if code in table:
            return table[code].name_in(language)
    return code


def _tax_totals(
    draft: _Draft, prices_include_tax: bool
) -> tuple[list[InvoiceLine], TaxSubtotal, Decimal, Decimal, Decimal]:
    """Tax per rate on the sum of rounded lines (EN 16931 BR-CO-17), rounded once.

    With tax-inclusive prices the lines hold gross amounts; the group's net is derived once,
    the tax is gross minus net (so the customer pays exactly the advertised gross), and the
    net is spread back over the lines so they still add up to the taxable amount.
    """
    currency = draft.currency
    treatment = draft.treatment
    rate = treatment.rate
    lines = draft.lines
    line_sum = draft.net_sum
    if not prices_include_tax or rate == 0:
        taxable = line_sum
        tax = draft.round(taxable * rate / _HUNDRED)
    else:
        gross = line_sum
        taxable = round_money(gross * _HUNDRED / (_HUNDRED + rate), currency)
        tax = gross - taxable
        nets = [
            round_money(line.net_amount * _HUNDRED / (_HUNDRED + rate), currency) for line in lines
        ]
        residue = taxable - sum(nets, _ZERO)
        if residue and nets:
            biggest = max(range(len(nets)), key=lambda i: abs(lines[i].net_amount))
            nets[biggest] += residue
        # EN 16931 prices are net: each line states the net price its net amount comes from.
        lines = [
            line.model_copy(
                update=dict(
                    zip(
                        ("unit_price", "base_quantity"),
                        restated_for_net(
                            line.quantity, line.unit_price, line.base_quantity, net, draft.quantum
                        ),
                        strict=True,
                    ),
                    net_amount=net,
                )
            )
            for line, net in zip(lines, nets, strict=True)
        ]
    subtotal = _new_tax_subtotal(
        tax_category=treatment.category,
        tax_rate=rate,
        taxable_amount=taxable,
        tax_amount=tax,
        exemption_reason=treatment.exemption_reason,
    )
    return lines, subtotal, taxable, tax, taxable + tax


def _bill_period_charges(
    draft: _Draft,
    account: Account,
    context: BillingContext,
    timezone: str,
    history: BillingHistory | None,
) -> None:
    if account.subscriptions:
        _bill_subscriptions(draft, account, context, timezone)
    if account.usage or account.minimum_commitment is not None:
        _bill_usage(draft, account, context, history)
    if account.one_offs:
        _bill_one_offs(draft, account, context)
    if account.milestones:
        _bill_milestones(draft, account, context)
    if account.discounts:
        _apply_discounts(draft, account, context)
    if account.credits:
        _apply_credits(draft, account, context)


def generate_draft(
    account: Account, context: BillingContext, history: BillingHistory | None = None
) -> DraftResult:
    """The draft invoice of ``account`` for ``context.period`` (never raises for bad data)."""
    try:
        return _generate(account, context, history)
    except NoTaxRate as error:
        return DraftResult(invoice=None, quarantine_reason=str(error))
    except (KeyError, ValueError, ArithmeticError) as error:
        return DraftResult(
            invoice=None,
            quarantine_reason=(
                f"Draft could not be computed: {type(error).__name__}: {shorten(str(error))}"
            ),
        )


def _generate(
    account: Account, context: BillingContext, history: BillingHistory | None
) -> DraftResult:
    currency = account.currency
    timezone = account.timezone or context.legal_entity.timezone
    currency_quantum = quantum(currency)
    draft = _Draft(
        currency,
        currency_quantum,
        _tax_treatment(account, context),
        wording(account.customer.locale),
    )
    if context.completed_milestone is not None:
        # The milestone's own invoice: its share alone, no period charges, discounts or
        # carried credits (those belong to the monthly invoice).
        _bill_milestones(draft, account, context)
    else:
        _bill_period_charges(draft, account, context, timezone, history)
    if not draft.lines:
        return DraftResult(
            invoice=None, skipped_reason="Nothing to bill for this account in this period"
        )
    lines, subtotal, net_total, tax_total, gross_total = _tax_totals(
        draft, account.prices_include_tax
    )
    if gross_total < 0:
        credit = CarriedCredit(
            account_id=account.account_id,
            period=context.period.label,
            currency=currency,
            net_amount=-net_total,
            gross_amount=-gross_total,
        )
        return DraftResult(invoice=None, skipped_reason=credit.sentence(), credit=credit)
    _flag_totals(draft, account, context, history, lines, gross_total)
    return DraftResult(
        invoice=_new_invoice(
            invoice_id=invoice_id_for(
                account.account_id, context.period.label, context.mode, context.completed_milestone
            ),
            account_id=account.account_id,
            period=context.period.label,
            period_start=context.period.start,
            period_end=context.period.end,
            mode=context.mode,
            run_id=context.run_id,
            legal_entity=context.legal_entity.code,
            currency=currency,
            customer=_customer(account),
            lines=tuple(lines),
            tax_breakdown=(subtotal,),
            net_total=net_total,
            tax_total=tax_total,
            gross_total=gross_total,
            prices_include_tax=account.prices_include_tax,
            payment_terms_days=(
                account.payment_terms_days
                if account.payment_terms_days is not None
                else context.legal_entity.default_payment_terms_days
            ),
            anomalies=tuple(draft.flags),
            status=_DRAFT,
            number=None,
            issue_date=None,
            due_date=None,
            credited_invoice_number=None,
            credited_invoice_issue_date=None,
            auto_pay=_auto_pay(account),
        )
    )


def _auto_pay(account: Account) -> AutoPayMeans | None:
    """The account's stored payment means, snapshotted on its invoice (screened already)."""
    means = account.auto_pay
    if means is None:
        return None
    return AutoPayMeans(method_ref=means.method_ref, mandate_ref=means.mandate_ref)


def _flag_totals(
    draft: _Draft,
    account: Account,
    context: BillingContext,
    history: BillingHistory | None,
    lines: list[InvoiceLine],
    gross_total: Decimal,
) -> None:
    """The checks on the finished draft, in the order the approver reads them.

    Each check is guarded by the cheap condition without which it cannot fire (no
    override: no tax mismatch; no history: no change against last period).
    """
    currency = draft.currency
    treatment = draft.treatment
    thresholds = context.thresholds
    flags = draft.flags
    if treatment.vat_id_problem is not None:
        flags.append(
            checks.vat_id_flag(
                treatment.vat_id_problem,
                treatment.rate,
                account.customer.address.country,
                thresholds,
            )
        )
    if len({line.description for line in lines}) != len(lines):  # no equal wording: no duplicate
        flags.extend(checks.duplicate_line_flags(lines, currency, thresholds))
    if account.tax_rate_override is not None and treatment.expected_rate != treatment.rate:
        address = account.customer.address
        flag = checks.tax_rate_flag(
            treatment.rate,
            treatment.expected_rate,
            address.country,
            address.region,
            context.tax_table.version,
            thresholds,
        )
        if flag is not None:
            flags.append(flag)
    if history is not None:
        flag = checks.total_change_flag(
            gross_total, history.previous_gross_total, currency, thresholds
        )
        if flag is not None:
            flags.append(flag)
    if gross_total <= 0:
        flag = checks.non_positive_total_flag(gross_total, currency, thresholds)
        if flag is not None:
            flags.append(flag)


def _customer(account: Account) -> Customer:
    """The customer snapshot printed on the invoice."""
    customer_info = account.customer
    address = customer_info.address
    return _new_customer(
        account_id=account.account_id,
        name=customer_info.name,
        email=customer_info.email,
        address=_new_address(
            line1=address.line1,
            line2=address.line2,
            city=address.city,
            postal_code=address.postal_code,
            region=address.region,
            country=address.country,
        ),
        vat_id=customer_info.vat_id,
        locale=customer_info.locale,
        channel=Channel(customer_info.channel),
    )


def _tax_treatment(account: Account, context: BillingContext) -> TaxTreatment:
    """``resolve_tax`` once per run for each distinct set of tax-relevant customer facts.

    A missing rate raises ``NoTaxRate`` every time (nothing is memoized for it), so each
    such account is quarantined with the same sentence.
    """
    customer_info = account.customer
    address = customer_info.address
    override = account.tax_rate_override
    key = (
        address.country,
        address.region,
        customer_info.vat_id,
        customer_info.tax_exempt,
        customer_info.exemption_reason,
        None if override is None else str(override),
    )
    treatment = context.memo.treatments.get(key)
    if treatment is None:
        treatment = context.memo.treatments[key] = resolve_tax(
            country=address.country,
            region=address.region,
            vat_id=customer_info.vat_id,
            tax_exempt=customer_info.tax_exempt,
            exemption_reason=customer_info.exemption_reason,
            rate_override=override,
            seller_country=context.legal_entity.address.country,
            table=context.tax_table,
        )
    return treatment
