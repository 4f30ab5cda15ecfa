"""No state's input or output can reach 256 KB, and the run's history stays small, at 100k.

moto enforces neither limit (design.md), so a local run cannot fail on them: this test
measures instead. It runs the real ASL with the real handlers twice, on 39 and on 312
accounts, records the size of every Lambda payload and result and of every state's input
and output in the run's history, and extrapolates each one linearly to 100,000 accounts.
A payload that carried ids or invoices would grow with the run and fail here; one that
carries keys, counts and the run context does not grow.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import boto3
import pytest

from invoice_dispatch.settings import MAX_CHUNK_SIZE
from tests.e2e.conftest import SAMPLE_ACCOUNTS
from tools.local_run.metering import Meter
from tools.local_run.runner import LocalEnvironment
from tools.local_run.wiring import REGION

pytestmark = pytest.mark.e2e

STATE_PAYLOAD_LIMIT = 256 * 1024
HISTORY_EVENT_LIMIT = 25_000
TARGET_ACCOUNTS = 100_000
SIZES = (1, 8)  # copies of the 39 sample accounts
#: Small chunks, so both runs have full ones: a chunk's payload grows with its ids up to
#: the chunk size, then stops. Chunk payloads are scaled to the largest allowed chunk.
TEST_CHUNK_SIZE = 10


def _accounts(copies: int, folder: Path) -> Path:
    """The sample accounts ``copies`` times over, each copy with its own account ids."""
    samples = json.loads(SAMPLE_ACCOUNTS.read_text())
    accounts = []
    for copy in range(copies):
        for sample in samples:
            account = json.loads(json.dumps(sample))
            account["account_id"] = f"{sample['account_id']}-{copy:03d}"
            accounts.append(account)
    path = folder / f"accounts-{copies}.json"
    path.write_text(json.dumps(accounts))
    return path


def _measure(copies: int, folder: Path) -> tuple[int, dict[str, int], int, set[str]]:
    """Accounts, largest payload per Lambda direction and per state, the parent's history
    events, and which payloads carry a chunk's invoice ids."""
    accounts_file = _accounts(copies, folder)
    largest: dict[str, int] = defaultdict(int)
    per_chunk: set[str] = set()
    with LocalEnvironment(accounts_file, folder / f"out-{copies}") as env:
        real_invoke = env.router.invoke

        def measuring_invoke(function_name: str, payload: dict[str, Any]) -> Any:
            result, error = real_invoke(function_name, payload)
            name = function_name.rsplit(":", 1)[-1]
            if "invoice_ids" in payload:
                per_chunk.update({f"{name} input", f"{name} output"})
            largest[f"{name} input"] = max(largest[f"{name} input"], len(json.dumps(payload)))
            output = len(json.dumps(result, default=str))
            largest[f"{name} output"] = max(largest[f"{name} output"], output)
            return result, error

        env.router.invoke = measuring_invoke  # type: ignore[method-assign]
        result = env.run({"period": "2026-11"})
        assert result.status == "SUCCEEDED", result.error
        events = _history(env.state_machine_arn, result.run_id)
    for event in events:
        for details_key, field in (
            ("stateEnteredEventDetails", "input"),
            ("stateExitedEventDetails", "output"),
        ):
            details = event.get(details_key)
            if details and field in details:
                key = f"state {details['name']} {field}"
                largest[key] = max(largest[key], len(details[field]))
    return len(json.loads(accounts_file.read_text())), dict(largest), len(events), per_chunk


def _history(state_machine_arn: str, run_id: str) -> list[dict[str, Any]]:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    execution_arn = state_machine_arn.replace(":stateMachine:", ":execution:") + f":{run_id}"
    pages = sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn)
    return [event for page in pages for event in page["events"]]


def _at_target(small: tuple[int, int], large: tuple[int, int]) -> float:
    """Linear through two measurements, to TARGET_ACCOUNTS (never below the larger one)."""
    (n_small, size_small), (n_large, size_large) = small, large
    slope = max(0.0, (size_large - size_small) / (n_large - n_small))
    return size_large + slope * (TARGET_ACCOUNTS - n_large)


def test_no_state_payload_or_history_grows_towards_the_limits_at_100k_accounts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHUNK_SIZE", str(TEST_CHUNK_SIZE))
    (n_small, small, events_small, _), (n_large, large, events_large, per_chunk) = (
        _measure(copies, tmp_path) for copies in SIZES
    )

    assert set(small) == set(large), "the same states and functions ran at both sizes"
    assert any(key.startswith("state DeliverInvoices") for key in large)
    assert any(key.startswith("FinalizeInvoicesFunction") for key in large)
    assert {"FinalizeInvoicesFunction input", "DispatchInvoicesFunction input"} <= per_chunk
    extrapolated = {key: _at_target((n_small, small[key]), (n_large, large[key])) for key in large}
    for key in per_chunk:  # an upper bound: the run context in it does not grow with the chunk
        extrapolated[key] *= MAX_CHUNK_SIZE / TEST_CHUNK_SIZE
    largest_key = max(extrapolated, key=lambda key: extrapolated[key])
    print(
        f"largest payload at {TARGET_ACCOUNTS:,} accounts: {largest_key} ~ "
        f"{extrapolated[largest_key] / 1024:.1f} KB"
    )
    too_big = {k: round(v) for k, v in extrapolated.items() if v >= STATE_PAYLOAD_LIMIT / 4}
    assert not too_big, f"payloads heading for the 256 KB limit at 100k accounts: {too_big}"
    history_at_target = _at_target((n_small, events_small), (n_large, events_large))
    print(
        f"parent history: {events_small} / {events_large} events, ~{history_at_target:.0f} at 100k"
    )
    assert history_at_target < HISTORY_EVENT_LIMIT / 10, (
        f"the run's history would hold ~{history_at_target:.0f} events at 100k accounts"
    )


def test_each_distributed_map_hands_its_parent_where_its_results_are_not_the_results(
    tmp_path: Path,
) -> None:
    """moto runs ResultWriter too: the metered Map state's output is the writer's S3 key."""
    meter = Meter()
    with LocalEnvironment(SAMPLE_ACCOUNTS, tmp_path, meter=meter) as env:
        result = env.run({"period": "2026-11"})
    assert result.status == "SUCCEEDED", result.error

    handed = meter.figures()["map_results_bytes"]
    assert len(handed) == 2, "the drafting and the delivery Map"
    assert max(handed) < 1024, handed
