"""The account-wide SES pace: send slots reserved in the billing table, on a clock we drive.

Each simulated process has its own clock (all showing the same wall-clock time) and its
own ``SharedSendRate``; they share only the moto table. ``simulate`` always moves the
process whose clock is earliest, so reservations reach the table in time order, as
they would from separate Lambdas.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import random
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import given, settings
from hypothesis import strategies as st
from moto import mock_aws

from invoice_dispatch.adapters.send_rate import (
    GIVE_UP_AFTER_SECONDS,
    LATE_START_TOLERANCE_SECONDS,
    MAX_SLOTS_PER_LANE,
    SharedSendRate,
)
from invoice_dispatch.adapters.ses_mailer import SesMailer
from invoice_dispatch.errors import TransientError
from tools.local_run.wiring import REGION, TEMPLATE_PATH, Template

RATE = 20
#: A wall-clock time in the middle of a slot, as the first call of a day would be.
START_US = 1_800_000_000_123_457
_peers = itertools.count()


class Clock:
    """One process's wall clock; sleeping moves it on. Whole microseconds, as slots are."""

    def __init__(self, now_us: int = START_US) -> None:
        self.now_us = now_us

    def __call__(self) -> float:
        return self.now_us / 1_000_000

    def sleep(self, seconds: float) -> None:
        self.now_us += max(1, round(seconds * 1_000_000))

    def advance(self, seconds: float) -> None:
        self.now_us += round(seconds * 1_000_000)


@pytest.fixture(scope="module")
def table() -> Iterator[Any]:
    """Only the billing table, shaped as the template has it; each test uses its own item."""
    properties = Template().resources["BillingTable"]["Properties"]
    with mock_aws():
        dynamodb = boto3.resource(
            "dynamodb",
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        yield dynamodb.create_table(
            TableName="billing",
            BillingMode=properties["BillingMode"],
            AttributeDefinitions=properties["AttributeDefinitions"],
            KeySchema=properties["KeySchema"],
            GlobalSecondaryIndexes=properties["GlobalSecondaryIndexes"],
        )


def _senders(
    table: Any, count: int, *, rate: float = RATE, lanes: int = 4
) -> list[tuple[SharedSendRate, Clock]]:
    """``count`` processes pacing one fresh account-wide rate."""
    peer = f"test-{next(_peers)}"
    processes = []
    for index in range(count):
        clock = Clock()
        pacer = SharedSendRate(
            table, rate, lanes, peer=peer, clock=clock, sleep=clock.sleep, rng=random.Random(index)
        )
        processes.append((pacer, clock))
    return processes


def _starts(pacer: SharedSendRate, clock: Clock, messages: int) -> list[int]:
    """A sender with no work between messages: when each of them starts."""
    starts = []
    for _ in range(messages):
        pacer.wait()
        starts.append(clock.now_us)
    return starts


def _gaps(starts: list[int]) -> set[int]:
    return {later - earlier for earlier, later in itertools.pairwise(starts)}


def simulate(
    processes: list[tuple[SharedSendRate, Clock]],
    seconds_per_message: list[float],
    messages: int,
    sent_late_by: Callable[[], float] = lambda: 0.0,
) -> list[list[int]]:
    """Each process: wait, start a message ``sent_late_by()`` later, work, again.

    Returns when each process started each of its messages.
    """
    starts: list[list[int]] = [[] for _ in processes]
    ready = [(clock.now_us, index) for index, (_, clock) in enumerate(processes)]
    while ready:
        _, index = heapq.heappop(ready)
        pacer, clock = processes[index]
        pacer.wait()
        clock.advance(sent_late_by())
        starts[index].append(clock.now_us)
        clock.advance(seconds_per_message[index])
        if len(starts[index]) < messages:
            heapq.heappush(ready, (clock.now_us, index))
    return starts


def _all(starts: list[list[int]]) -> list[int]:
    return sorted(itertools.chain.from_iterable(starts))


def busiest_second(starts: list[int], second: float = 1_000_000) -> int:
    """Most message starts in any one-second window ``[t, t + second)``."""
    ordered = sorted(starts)
    return max(
        bisect.bisect_left(ordered, start + second) - index for index, start in enumerate(ordered)
    )


def test_an_idle_rate_starts_the_first_message_at_once_with_one_write(table: Any) -> None:
    [(pacer, clock)] = _senders(table, 1)

    pacer.wait()

    assert clock.now_us - START_US < pacer.grid.lane_stride_us
    assert pacer.reservation_writes == 1


def test_a_fast_sender_learns_its_pace_on_one_slot_then_takes_every_lane(table: Any) -> None:
    [(pacer, clock)] = _senders(table, 1)
    grid = pacer.grid

    [probe] = _starts(pacer, clock, 1)
    all_lanes = _starts(pacer, clock, grid.lanes * grid.slots_per_lane)

    assert all_lanes[0] - probe <= grid.lane_stride_us
    assert _gaps(all_lanes) == {grid.interval_us}
    assert pacer.reservation_writes == 2


def test_a_sender_too_slow_for_two_lanes_keeps_one_and_leaves_the_rest(table: Any) -> None:
    (slow, _), (latecomer, latecomer_clock) = processes = _senders(table, 2)
    grid = slow.grid
    too_slow_for_two = 0.9 * grid.spacing_seconds(1)
    [slow_starts] = simulate(processes[:1], [too_slow_for_two], 1 + grid.slots_per_lane)

    latecomer_clock.now_us = slow_starts[-1]
    latecomer.wait()

    assert _gaps(slow_starts[1:]) == {grid.lane_stride_us}
    assert latecomer_clock.now_us - slow_starts[-1] < grid.lane_stride_us
    assert latecomer.reservation_writes == 1


def test_back_to_back_blocks_of_two_processes_on_one_lane_never_overlap(table: Any) -> None:
    (first, first_clock), (second, second_clock) = _senders(table, 2, lanes=1)
    grid = first.grid
    first.wait()
    second_clock.now_us = first_clock.now_us  # another Lambda, the same wall-clock moment

    first_block = _starts(first, first_clock, grid.slots_per_lane)
    second.wait()

    assert _gaps(first_block) == {grid.interval_us}
    assert second_clock.now_us == first_block[-1] + grid.interval_us
    assert second.reservation_writes == 2  # the SET found the lane taken, the ADD queued


def test_two_processes_starting_together_send_side_by_side_in_their_own_slots(
    table: Any,
) -> None:
    processes = _senders(table, 2)
    grid = processes[0][0].grid

    first, second = simulate(processes, [0.0, 0.0], messages=grid.slots_per_lane + 1)

    assert abs(first[0] - second[0]) < grid.lane_stride_us
    assert abs(first[-1] - second[-1]) < grid.lane_stride_us
    assert min(_gaps(_all([first, second]))) >= grid.interval_us


def test_a_rate_idle_for_a_while_restarts_paced_instead_of_catching_up(table: Any) -> None:
    [(pacer, clock)] = _senders(table, 1)
    _starts(pacer, clock, 3)

    clock.advance(60)
    idle_since = clock.now_us
    writes_before = pacer.reservation_writes
    after_pause = _starts(pacer, clock, 3)

    assert after_pause[0] - idle_since < pacer.grid.lane_stride_us
    assert min(_gaps(after_pause)) >= pacer.grid.interval_us
    assert pacer.reservation_writes == writes_before + 1


def test_a_slot_missed_by_more_than_half_the_tolerance_is_given_up_not_used_late(
    table: Any,
) -> None:
    [(pacer, clock)] = _senders(table, 1, lanes=1)
    interval = pacer.grid.interval_us
    _, on_grid = _starts(pacer, clock, 2)  # a probe, then the first slot of a block

    give_up = round(GIVE_UP_AFTER_SECONDS * 1_000_000)
    clock.now_us = on_grid + interval + give_up  # just still in time for the next slot
    pacer.wait()
    used_late = clock.now_us
    clock.now_us = on_grid + 2 * interval + give_up + 1  # a microsecond too late for its next
    pacer.wait()

    assert used_late == on_grid + interval + give_up
    assert clock.now_us == on_grid + 3 * interval
    assert pacer.slots_given_up == 1


def test_four_slow_senders_fill_the_rate_side_by_side_where_one_lane_makes_them_take_turns(
    table: Any,
) -> None:
    """100 ms of work per e-mail (S3, SES's answer, the writes): a Lambda's real pace."""
    paces = [0.1] * 4

    lanes = _all(simulate(_senders(table, 4), paces, messages=30))
    turns = _all(simulate(_senders(table, 4, lanes=1), paces, messages=30))

    def per_second(starts: list[int]) -> float:
        return (len(starts) - 1) / ((starts[-1] - starts[0]) / 1_000_000)

    assert per_second(lanes) > 0.9 * RATE
    assert per_second(turns) < 0.6 * RATE
    assert busiest_second(lanes) <= RATE and busiest_second(turns) <= RATE


@settings(max_examples=15, deadline=None)
@given(
    rate=st.sampled_from([3, 14, 20]),
    lanes=st.sampled_from([1, 2, 4]),
    paces=st.lists(st.floats(min_value=0, max_value=0.4), min_size=1, max_size=4),
    delays=st.randoms(use_true_random=False),
)
def test_no_second_ever_holds_more_than_the_rate_whatever_the_senders_pace(
    table: Any, rate: int, lanes: int, paces: list[float], delays: random.Random
) -> None:
    """Late by up to the whole tolerance: up to half before the check (a sender busy past
    its slot), up to half after it (the request still in this process)."""
    assert GIVE_UP_AFTER_SECONDS * 2 <= LATE_START_TOLERANCE_SECONDS

    processes = _senders(table, len(paces), rate=rate, lanes=lanes)
    starts = _all(
        simulate(processes, paces, 10, lambda: delays.uniform(0, 0.99 * GIVE_UP_AFTER_SECONDS))
    )

    assert len(starts) == 10 * len(paces)
    assert busiest_second(starts) <= rate


def test_a_busy_sender_writes_about_once_per_second_of_sending(table: Any) -> None:
    [(pacer, clock)] = _senders(table, 1)

    _starts(pacer, clock, 10 * RATE)

    assert pacer.reservation_writes <= 11


class RefusingTable:
    def update_item(self, **_request: Any) -> Any:
        raise ClientError(
            {"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}}, "UpdateItem"
        )


class UnusedSes:
    def send_email(self, **_request: Any) -> Any:
        raise AssertionError("SES must not be called without a send slot")


def test_a_reservation_dynamodb_refuses_leaves_the_email_queued_not_failed() -> None:
    mailer = SesMailer(UnusedSes(), "config-set", SharedSendRate(RefusingTable(), RATE))

    with pytest.raises(TransientError, match=r"Could not reserve SES send slots.*AccessDenied"):
        mailer.send_raw("billing@example.com", "ap@example.com", b"raw", {})


def test_every_function_that_sends_email_may_reserve_send_slots() -> None:
    """A sender without UpdateItem on the rate item could never send (AccessDenied)."""
    template = Template()
    senders = {
        name: resource["Properties"]["Policies"]
        for name, resource in template.resources.items()
        if resource["Type"] == "AWS::Serverless::Function"
        and {"Ref": "SendAsSenderPolicy"} in resource["Properties"].get("Policies", [])
    }

    def may_update_rate_item(policies: list[Any]) -> bool:
        for policy in policies:
            if "DynamoDBCrudPolicy" in policy:
                return True
            for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
                actions = statement.get("Action")
                actions = actions if isinstance(actions, list) else [actions]
                conditions = statement.get("Condition", {})
                leading_keys = [
                    key
                    for test in ("ForAllValues:StringEquals", "ForAllValues:StringLike")
                    for key in conditions.get(test, {}).get("dynamodb:LeadingKeys", [])
                ]
                if "dynamodb:UpdateItem" in actions and "RATE#ses" in leading_keys:
                    return True
        return False

    assert senders, f"no function sends e-mail in {TEMPLATE_PATH}?"
    assert [name for name, policies in senders.items() if not may_update_rate_item(policies)] == []


def test_an_unlimited_local_rate_keeps_each_reservation_small_and_sends_at_once(
    table: Any,
) -> None:
    """A local run sets a rate nothing reaches: a second's slots would be 500,000 to walk."""
    ((sender, clock),) = _senders(table, 1, rate=1_000_000)
    started_us = clock.now_us

    for _ in range(200):
        sender.wait()
        clock.advance(0.005)  # each message takes 5 ms to build and send

    assert sender.grid.slots_per_lane == MAX_SLOTS_PER_LANE
    assert clock.now_us - started_us < 200 * 5_000 + 10_000, "nobody waited for a slot"
    assert sender.reservation_writes <= 200
