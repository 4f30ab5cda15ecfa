"""One SES sending rate for the whole account, shared by every sender at once.

SES enforces its maximum send rate per account and region (about 14 messages a second
for a new production account). The DeliverInvoices Map runs several DispatchInvoices
Lambdas at once, and RequestApproval and its reminder send through the same account: a
pacer per process offered SES four times what it accepts, so SES throttled instead of
us pacing. Every sender therefore reserves its send slots in one item of the table
(virtual scheduling, as GCRA does, with slots reserved in blocks).

**Slots.** Time is cut into slots ``interval`` apart on a grid anchored at the Unix
epoch. A slot belongs to at most one sender, and a message starts at most
``LATE_START_TOLERANCE_SECONDS`` after its slot begins or the slot is given up. The
interval is ``(1 s + tolerance) / rate``, so the messages started in any one-second
window come from slots inside an open interval of ``rate`` intervals: at most ``rate``
of them, whoever sends. The tolerance costs 3 % of the rate (13.6 instead of 14 a second).

**Lanes, not turns.** Blocks of consecutive slots (one sender owns the next second, the
next sender the second after) would make the senders take turns: a DispatchInvoices
Lambda spends roughly 100 ms per e-mail (the PDF from S3, SES's answer, the writes that
record it), so a block's owner could use only some of its slots and four Lambdas
together would send no faster than one. The grid is therefore dealt into ``lanes``
interleaved lanes (lane j owns slots j, j + lanes, j + 2 lanes, ...), each with its own
next free slot in the item. A sender reserves a block on one lane, or on several evenly
spaced lanes when its measured time between messages lets it use them: four slow
senders fill four lanes side by side, and a lone fast one takes every lane. Its first
reservation is a single slot, since it does not know its pace yet. With one lane this
is plain block reservation.

**About one write per block, no retry storm.** When the lanes are idle (their next free
slot is already past), one conditional SET starts the block at their next slot.
Otherwise, or when that SET finds a lane taken meanwhile, one atomic ADD appends the
block behind the lane's queue and returns where it ends. A failed SET returns the item
(``ReturnValuesOnConditionCheckFailure``), so the next write is aimed with fresh data:
at most three writes, usually one, for about a second of one sender's sending. Every
answer carries all lanes, which is how a sender sees idle lanes without reading.

Waste always falls on the safe side: a slot given up, or a block its sender did not use
up, is idle time. The item's sort key names the grid, so a new rate or lane count starts
a fresh item instead of mixing two grids.

**Clock.** Slots are wall-clock (epoch) times, since the senders are separate Lambdas;
Lambda hosts keep their clocks synchronised with the Amazon Time Sync Service to well
within a millisecond. Skew between two hosts eats into the tolerance. SES's own
throttling answer, retried with backoff by ``SesMailer``, is the safety net that remains.
"""

from __future__ import annotations

import bisect
import math
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from invoice_dispatch.adapters.aws_errors import transient_reason
from invoice_dispatch.errors import TransientError

#: How late after its slot a message may still start; slots are stretched by this much
#: per second, which is what makes "at most ``rate`` in any second" exact.
LATE_START_TOLERANCE_SECONDS = 0.03
#: A sender gives its slot up once it is this late; the rest of the tolerance covers the
#: moment between that check and the request leaving the process, and clock skew.
GIVE_UP_AFTER_SECONDS = LATE_START_TOLERANCE_SECONDS / 2
#: One reservation covers about this much time on its lanes, whatever their number...
BLOCK_SECONDS = 1.0
#: ...but at most this many slots per lane: at a very high rate (a local run without a
#: limit) a second's slots would be a list of hundreds of thousands to walk.
MAX_SLOTS_PER_LANE = 64
#: A longer gap between two messages is a pause (the next chunk, the next run), not pace.
_PAUSE_SECONDS = 2.0
#: Weight of the newest gap in the sender's pace (a moving average), how many messages
#: the lanes a sender asks for are judged over, and how close to its best they must get.
_PACE_WEIGHT = 0.3
_PACE_HORIZON = 32
_GOOD_ENOUGH = 0.95
_MICROS = 1_000_000


def _lane_attribute(lane: int) -> str:
    return f"lane{lane}_next_free_us"


@dataclass(frozen=True)
class SlotGrid:
    """Slot n starts at ``n * interval_us`` epoch microseconds and belongs to lane n mod lanes."""

    interval_us: int
    lanes: int
    slots_per_lane: int

    @classmethod
    def for_rate(cls, rate_per_second: float, lanes: int) -> SlotGrid:
        # No second can hold a fraction of a message: 14.5 a second is 14 in any second.
        whole_rate = math.floor(rate_per_second) if rate_per_second >= 1 else rate_per_second
        interval_us = math.ceil(_MICROS * (1 + LATE_START_TOLERANCE_SECONDS) / whole_rate)
        slots_per_lane = min(
            MAX_SLOTS_PER_LANE,
            max(1, math.ceil(BLOCK_SECONDS * _MICROS / (interval_us * lanes))),
        )
        return cls(interval_us, lanes, slots_per_lane)

    @property
    def lane_stride_us(self) -> int:
        return self.interval_us * self.lanes

    def block_us(self, slots: int) -> int:
        """How far a reservation of ``slots`` moves a lane's next free slot."""
        return self.lane_stride_us * slots

    def first_slot(self, lane: int, now_us: int) -> int:
        """The lane's first slot starting after ``now_us`` (one starting now may be in use)."""
        slot = now_us // self.interval_us + 1
        slot += (lane - slot) % self.lanes
        return slot * self.interval_us

    def block_ending(self, end_us: int, slots: int) -> list[int]:
        start = end_us - self.block_us(slots)
        return [start + index * self.lane_stride_us for index in range(slots)]

    def set_sizes(self) -> list[int]:
        """How many evenly spaced lanes one sender may hold, largest first."""
        return [size for size in range(self.lanes, 0, -1) if self.lanes % size == 0]

    def lane_sets(self, size: int) -> list[tuple[int, ...]]:
        step = self.lanes // size
        return [tuple(range(first, self.lanes, step)) for first in range(step)]

    def spacing_seconds(self, size: int) -> float:
        """Time between the slots of ``size`` evenly spaced lanes."""
        return self.interval_us * (self.lanes // size) / _MICROS


def _sends_per_second(spacing: float, pace: float) -> float:
    """What a sender needing ``pace`` seconds per message gets from slots ``spacing`` apart.

    It takes the first slot not missed by more than ``GIVE_UP_AFTER_SECONDS``; worked
    out over a few dozen messages rather than in closed form.
    """
    slot = sent_at = 0.0
    for _ in range(_PACE_HORIZON):
        ready = sent_at + pace
        slot = max(slot + spacing, math.ceil((ready - GIVE_UP_AFTER_SECONDS) / spacing) * spacing)
        sent_at = max(slot, ready)
    return _PACE_HORIZON / sent_at


class _LanesTaken(Exception):
    def __init__(self, item: Mapping[str, Any]) -> None:
        super().__init__("another sender took the lanes first")
        self.item = item


class SharedSendRate:
    """``wait()`` returns when this sender may start its next message, account-wide.

    One instance per process (a Lambda's cold start); threads of one process share it.
    """

    def __init__(
        self,
        table: Any,
        rate_per_second: float,
        lanes: int = 4,
        peer: str = "ses",
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._table = table
        self.grid = SlotGrid.for_rate(rate_per_second, lanes)
        self._key = {"PK": f"RATE#{peer}", "SK": f"LANES#{lanes}#{self.grid.interval_us}"}
        self._clock = clock
        self._sleep = sleep
        self._random = rng or random.Random()
        self._lock = threading.Lock()
        self._slots: list[int] = []  # reserved and not used yet, ascending
        self._next_free: dict[int, int] = {}  # lane -> its next free slot, as last seen
        self._seen_at: dict[int, int] = {}  # lane -> when that was
        self._held_lanes: tuple[int, ...] = ()
        self._pace: float | None = None  # seconds this sender spends between messages
        self._sent_at: float | None = None
        self.reservation_writes = 0
        self.slots_given_up = 0

    def wait(self) -> None:
        with self._lock:
            self._learn_pace(self._clock())
            while True:
                now_us = int(self._clock() * _MICROS)
                self._give_up_missed(now_us)
                if not self._slots:
                    self._reserve(now_us)
                    continue
                starts_in_us = self._slots[0] - now_us
                if starts_in_us > 0:
                    self._sleep(starts_in_us / _MICROS)
                    continue
                self._slots.pop(0)
                self._sent_at = self._clock()
                return

    # ------------------------------------------------------------ this sender
    def _learn_pace(self, arrived: float) -> None:
        if self._sent_at is None:
            return
        gap = arrived - self._sent_at
        if gap > _PAUSE_SECONDS:
            return
        self._pace = gap if self._pace is None else self._pace + _PACE_WEIGHT * (gap - self._pace)

    def _lanes_wanted(self) -> int:
        """The fewest evenly spaced lanes that let this sender send about as fast as it can.

        A sender slower than its slots misses some (more lanes can still help it: slots
        closer together are missed by less); one lane until it knows its pace.
        """
        if self._pace is None:
            return 1
        pace = self._pace
        sizes = sorted(self.grid.set_sizes())
        gets = {size: _sends_per_second(self.grid.spacing_seconds(size), pace) for size in sizes}
        best = max(gets.values())
        return next(size for size in sizes if gets[size] >= _GOOD_ENOUGH * best)

    def _give_up_missed(self, now_us: int) -> None:
        missed = bisect.bisect_left(self._slots, now_us - int(GIVE_UP_AFTER_SECONDS * _MICROS))
        if missed:
            del self._slots[:missed]
            self.slots_given_up += missed

    # ------------------------------------------------------------ the shared item
    def _reserve(self, now_us: int) -> None:
        # Until it knows its pace, a sender takes one slot: a block on one lane would keep
        # a fast sender at a lane's share for a second, a block on all would idle a slow one.
        slots = self.grid.slots_per_lane if self._pace is not None else 1
        wanted = self._lanes_wanted()
        for _attempt in range(2):
            lanes = self._idle_lanes(wanted, now_us)
            if lanes is None:
                break
            if self._start_block(lanes, slots, now_us):
                return
            now_us = int(self._clock() * _MICROS)
        self._queue_block(self._earliest_lane(), slots)

    def _is_idle(self, lane: int, now_us: int) -> bool:
        """Free from the lane's next slot on, as far as this sender can tell without a read.

        Another sender's lane seen busy may have been renewed since its block ran out
        (its holder renews as its last slot passes), so it counts as idle only if it
        was already idle when seen: a guess on stale data would cost a failed write.
        """
        next_free = self._next_free.get(lane)
        if next_free is None:
            return True
        if next_free > self.grid.first_slot(lane, now_us):
            return False
        return lane in self._held_lanes or next_free <= self._seen_at[lane]

    def _idle_lanes(self, wanted: int, now_us: int) -> tuple[int, ...] | None:
        """The largest idle set of evenly spaced lanes, preferring the lanes held last."""
        for size in self.grid.set_sizes():
            if size > wanted:
                continue
            idle = [
                lanes
                for lanes in self.grid.lane_sets(size)
                if all(self._is_idle(lane, now_us) for lane in lanes)
            ]
            if idle:
                self._random.shuffle(idle)
                idle.sort(key=lambda lanes: not set(lanes) & set(self._held_lanes))
                return idle[0]
        return None

    def _earliest_lane(self) -> int:
        return min(
            range(self.grid.lanes),
            key=lambda lane: (self._next_free.get(lane, 0), self._random.random()),
        )

    def _start_block(self, lanes: tuple[int, ...], slots: int, now_us: int) -> bool:
        """Start a block on idle lanes at their next slot; False if one was taken meanwhile."""
        values: dict[str, int] = {}
        for lane in lanes:
            first = self.grid.first_slot(lane, now_us)
            values[f":first{lane}"] = first
            values[f":end{lane}"] = first + self.grid.block_us(slots)
        try:
            attributes = self._update(
                UpdateExpression="SET " + ", ".join(f"#lane{lane} = :end{lane}" for lane in lanes),
                ConditionExpression=" AND ".join(
                    f"(attribute_not_exists(#lane{lane}) OR #lane{lane} <= :first{lane})"
                    for lane in lanes
                ),
                ExpressionAttributeNames={f"#lane{lane}": _lane_attribute(lane) for lane in lanes},
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except _LanesTaken as taken:
            self._remember(taken.item)
            return False
        self._take(lanes, slots, attributes)
        return True

    def _queue_block(self, lane: int, slots: int) -> None:
        """Append a block behind the lane's queue: atomic, so it never fails on a race."""
        attributes = self._update(
            UpdateExpression=f"ADD #lane{lane} :block",
            ExpressionAttributeNames={f"#lane{lane}": _lane_attribute(lane)},
            ExpressionAttributeValues={":block": self.grid.block_us(slots)},
            ReturnValues="ALL_NEW",
        )
        self._take((lane,), slots, attributes)

    def _take(self, lanes: tuple[int, ...], slots: int, attributes: Mapping[str, Any]) -> None:
        self._remember(attributes)
        for lane in lanes:
            self._slots.extend(self.grid.block_ending(self._next_free[lane], slots))
        self._slots.sort()
        self._held_lanes = lanes

    def _remember(self, item: Mapping[str, Any]) -> None:
        seen_at = int(self._clock() * _MICROS)
        for lane in range(self.grid.lanes):
            value = item.get(_lane_attribute(lane))
            if isinstance(value, Mapping):  # an error's item comes in DynamoDB's wire format
                value = value["N"]
            if value is not None:
                self._next_free[lane] = int(value)
                self._seen_at[lane] = seen_at

    def _update(self, **request: Any) -> Mapping[str, Any]:
        self.reservation_writes += 1
        try:
            response = self._table.update_item(Key=self._key, **request)
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise _LanesTaken(error.response.get("Item", {})) from error
            # Not the message's fault, whatever it is: the e-mail stays queued, and the
            # chunk's failure names the cause once the step's retries are spent.
            reason = transient_reason(error) or error.response["Error"].get("Code", "")
            raise TransientError(
                f"Could not reserve SES send slots in DynamoDB: {reason}"
            ) from error
        return response["Attributes"]  # type: ignore[no-any-return]
