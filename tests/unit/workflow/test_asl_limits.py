"""The state machine, read with the template, stays inside Step Functions' hard limits.

moto runs every Map child as STANDARD and enforces neither the 256 KB payload limit nor
Express's 5 minutes (design.md), so no local run would show these: they are read here
from the real ASL and the real Lambda timeouts instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest

from tools.local_run.wiring import REPO_ROOT, Template

ASL_PATH = REPO_ROOT / "statemachine" / "monthly_run.asl.json"
EXPRESS_LIMIT_SECONDS = 300
#: What AWS assumes when a retrier names no MaxAttempts.
DEFAULT_MAX_ATTEMPTS = 3


@cache
def _template() -> Template:
    return Template()


def _definition() -> dict[str, Any]:
    return json.loads(ASL_PATH.read_text(encoding="utf-8"))


def _distributed_maps(states: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, state in states.items():
        if state["Type"] == "Map":
            processor = state["ItemProcessor"]
            if processor.get("ProcessorConfig", {}).get("Mode") == "DISTRIBUTED":
                yield name, state
            yield from _distributed_maps(processor["States"])


def _substitution(value: str) -> Any:
    machine = next(iter(_template().resources_of_type("AWS::Serverless::StateMachine").values()))
    return machine["Properties"]["DefinitionSubstitutions"][value.strip("${}")]


def _lambda_timeout(function_arn_substitution: str) -> int:
    """The invoked function's Timeout, from the template (or the Globals default)."""
    logical_id = _substitution(function_arn_substitution)["Fn::GetAtt"][0]
    properties = _template().resources[logical_id]["Properties"]
    return int(properties.get("Timeout", _template().document["Globals"]["Function"]["Timeout"]))


def _retry_waits(retrier: dict[str, Any]) -> float:
    """The longest a retrier can wait in all, before jitter (FULL jitter only shortens it)."""
    interval = retrier.get("IntervalSeconds", 1)
    backoff = retrier.get("BackoffRate", 2.0)
    cap = retrier.get("MaxDelaySeconds", float("inf"))
    attempts = retrier.get("MaxAttempts", DEFAULT_MAX_ATTEMPTS)
    return sum(min(interval * backoff**attempt, cap) for attempt in range(attempts))


def _worst_case_seconds(state: dict[str, Any]) -> float:
    """Every attempt times out, every retrier spends all its attempts and waits."""
    if state["Type"] != "Task":
        return 0.0
    retriers = state.get("Retry", [])
    attempts = 1 + sum(r.get("MaxAttempts", DEFAULT_MAX_ATTEMPTS) for r in retriers)
    timeout = _lambda_timeout(state["Parameters"]["FunctionName"])
    return attempts * timeout + sum(_retry_waits(r) for r in retriers)


def _longest_path_seconds(states: dict[str, Any], start: str) -> float:
    """The slowest way through a child: along Next and every Catch (the children are DAGs)."""
    state = states[start]
    followers = [state["Next"]] if "Next" in state else []
    followers += [catcher["Next"] for catcher in state.get("Catch", [])]
    for choice in state.get("Choices", []):
        followers.append(choice["Next"])
    if "Default" in state:
        followers.append(state["Default"])
    after = max((_longest_path_seconds(states, name) for name in set(followers)), default=0.0)
    return _worst_case_seconds(state) + after


DISTRIBUTED_MAPS = sorted(_distributed_maps(_definition()["States"]))


def test_the_run_has_distributed_maps_to_check() -> None:
    assert [name for name, _ in DISTRIBUTED_MAPS] == ["DeliverInvoices", "GenerateDrafts"]


@pytest.mark.parametrize(("name", "state"), DISTRIBUTED_MAPS, ids=[n for n, _ in DISTRIBUTED_MAPS])
def test_a_distributed_map_writes_its_children_results_to_s3_not_into_the_run(
    name: str, state: dict[str, Any]
) -> None:
    """Without a ResultWriter the children's outputs are collected into the parent state:
    about 24.5 KB per 1,000 invoices, over 256 KB above ~10k (aws-cdk#24799: even with
    ``ResultPath: null``)."""
    writer = state.get("ResultWriter")
    assert writer, f"{name} collects its children's outputs into the run's state"
    assert writer["Resource"] == "arn:aws:states:::s3:putObject"
    assert writer["Parameters"]["Bucket"] == "${DocumentsBucketName}"
    assert state["ResultPath"] is None


@pytest.mark.parametrize(("name", "state"), DISTRIBUTED_MAPS, ids=[n for n, _ in DISTRIBUTED_MAPS])
def test_an_express_child_ends_within_five_minutes_even_when_everything_times_out(
    name: str, state: dict[str, Any]
) -> None:
    processor = state["ItemProcessor"]
    execution_type = _substitution(processor["ProcessorConfig"]["ExecutionType"])
    worst_case = _longest_path_seconds(processor["States"], processor["StartAt"])
    if execution_type == "EXPRESS":
        assert worst_case < EXPRESS_LIMIT_SECONDS, (
            f"{name}'s Express child can run {worst_case:.0f} s; Express stops at 5 minutes"
        )
    else:
        assert execution_type == "STANDARD"
        assert worst_case >= EXPRESS_LIMIT_SECONDS, (
            f"{name}'s child is bounded by {worst_case:.0f} s: it could be Express and cheaper"
        )


def test_the_worst_case_model_counts_every_attempt_and_wait() -> None:
    task = {
        "Type": "Task",
        "Parameters": {"FunctionName": "${GenerateDraftsFunctionArn}"},
        "Retry": [
            {"ErrorEquals": ["A"], "IntervalSeconds": 2, "MaxAttempts": 3, "BackoffRate": 2},
            {"ErrorEquals": ["B"], "IntervalSeconds": 5, "MaxAttempts": 1},
        ],
    }
    timeout = _lambda_timeout("${GenerateDraftsFunctionArn}")
    assert _worst_case_seconds(task) == 5 * timeout + (2 + 4 + 8) + 5
    capped = {"IntervalSeconds": 5, "MaxAttempts": 6, "BackoffRate": 2, "MaxDelaySeconds": 30}
    assert _retry_waits(capped) == 5 + 10 + 20 + 30 + 30 + 30
