"""The run history record: one small summary per run of any kind.

A billing team asks "how did the last runs go?" about every kind of run at once (a monthly
run, a shadow run, the daily collections run, a credit note), so one record shape holds
them all and ``kind`` tells them apart; a new kind (a milestone invoice, an audit) is one
more value of ``RunKind`` and fills the fields that apply to it. Every figure is computed
while the run's summary pages through it (``HistoryTally``), never by loading the run:
at 100,000 invoices the record is still a few KB, far below DynamoDB's 400 KB item.

ERP posting latency is kept as a histogram of logarithmic buckets, eight per doubling
(each bucket about 9 % wide), so its p50/p95 need no list of 100,000 numbers, and the
histograms of several runs add up to the percentiles over all of them.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

#: Buckets per doubling of the latency: the bucket bound is at most 9.05 % above a value.
_BUCKETS_PER_DOUBLING = 8
#: Latencies at or under a millisecond share the first bucket.
_SMALLEST_SECONDS = 0.001
#: A record lists at most this many exception sentences; the counts hold every one.
EXAMPLES_KEPT = 5


class RunKind(StrEnum):
    MONTHLY = "monthly"
    ON_DEMAND = "on_demand"
    SHADOW = "shadow"
    RESUME = "resume"
    RELEASE_HELD = "release_held"
    RESEND = "resend"
    REPLAY_ERP = "replay_erp"
    COLLECTIONS = "collections"
    CREDIT_NOTE = "credit_note"
    WRITE_OFF = "write_off"
    DISPUTE = "dispute"
    MILESTONE = "milestone"


#: Kinds that draft invoices for a period: the runs first-pass accuracy is measured on.
DRAFTING_KINDS = frozenset({RunKind.MONTHLY, RunKind.ON_DEMAND, RunKind.MILESTONE})
#: Kinds that finalize, e-mail and book invoices: delivery rate and ERP latency apply.
BILLING_KINDS = frozenset(
    {
        RunKind.MONTHLY,
        RunKind.ON_DEMAND,
        RunKind.SHADOW,
        RunKind.RESUME,
        RunKind.RELEASE_HELD,
        RunKind.RESEND,
        RunKind.REPLAY_ERP,
    }
)


def bucket_of(seconds: float) -> int:
    """The histogram bucket of a latency: its upper bound is ``2 ** (bucket / 8)`` seconds."""
    return math.ceil(math.log2(max(seconds, _SMALLEST_SECONDS)) * _BUCKETS_PER_DOUBLING - 1e-9)


def bucket_bound(bucket: int) -> float:
    return float(2 ** (bucket / _BUCKETS_PER_DOUBLING))


class LatencyHistogram(BaseModel):
    """Counts per logarithmic bucket (keys are bucket numbers as strings, for JSON)."""

    counts: dict[str, int] = Field(default_factory=dict)

    def add(self, seconds: float) -> None:
        key = str(bucket_of(seconds))
        self.counts[key] = self.counts.get(key, 0) + 1

    def merged(self, other: LatencyHistogram) -> LatencyHistogram:
        total = Counter(self.counts)
        total.update(other.counts)
        return LatencyHistogram(counts=dict(total))

    @property
    def count(self) -> int:
        return sum(self.counts.values())

    def percentile(self, percent: float) -> float | None:
        """Nearest-rank percentile, as the upper bound of the bucket holding that rank.

        ``None`` without values: no latency is better than a made-up zero.
        """
        total = self.count
        if not total:
            return None
        rank = max(1, math.ceil(percent / 100 * total))
        seen = 0
        for bucket in sorted(int(key) for key in self.counts):
            seen += self.counts[str(bucket)]
            if seen >= rank:
                return round(bucket_bound(bucket), 3)
        raise AssertionError("unreachable: the ranks add up to the total")


class Exceptions(BaseModel):
    """What needs a person at the end of the run: counts, and a few sentences as examples.

    ``erp_error_queue``, ``payment_exceptions`` and ``open_escalations`` are the backlog as
    it stood when the run ended (they are not the run's own); ``quarantined`` and ``held``
    are the run's.
    """

    quarantined: int = 0
    held: int = 0
    erp_errors: int = 0
    erp_error_queue: int | None = None
    payment_exceptions: int | None = None
    open_escalations: int | None = None
    examples: list[str] = Field(default_factory=list)


class RunHistoryRecord(BaseModel):
    """One run in the history. Figures a kind does not have stay ``None`` (not zero)."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    kind: RunKind
    status: str
    started_at: datetime
    finished_at: datetime
    period: str | None = None
    mode: str = "live"
    counts: dict[str, int] = Field(default_factory=dict)
    totals_by_currency: dict[str, dict[str, Decimal]] = Field(default_factory=dict)
    #: Seconds from the approval e-mail to the decision (None: no person was asked).
    approval_turnaround_seconds: float | None = None
    emails_sent: int = 0
    #: Of ``emails_sent``, those SES had reported on (delivered, bounced, complained or
    #: rejected) when the summary ran, and of those the ones delivered. SES's events come
    #: seconds to minutes after the send: a message without one yet is neither.
    emails_reported: int = 0
    emails_delivered: int = 0
    erp_latency: LatencyHistogram = Field(default_factory=LatencyHistogram)
    #: Invoices e-mailed again (a resend run) or credited (a credit note) within 30 days of
    #: issue, by the period they were billed for: they count against first-pass accuracy.
    reworked_within_30_days: dict[str, int] = Field(default_factory=dict)
    dso_days: dict[str, Decimal | None] = Field(default_factory=dict)
    exceptions: Exceptions = Field(default_factory=Exceptions)
    report_key: str | None = None

    @property
    def duration_seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()

    @property
    def delivery_rate_percent(self) -> Decimal | None:
        """Delivered of those SES reported on: a run summarized before its last events
        arrived is not reported as failing to deliver them."""
        return percent(self.emails_delivered, self.emails_reported)


_PERCENT = Decimal("0.1")


def percent(part: int, whole: int) -> Decimal | None:
    """``part`` of ``whole`` in percent to a tenth, half up; ``None`` when there is no whole."""
    if whole <= 0:
        return None
    return (Decimal(100) * part / whole).quantize(_PERCENT, rounding="ROUND_HALF_UP")
