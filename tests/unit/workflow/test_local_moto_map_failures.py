"""The local stack's moto fails a Distributed Map on a failed child, as AWS does.

Each test runs a tiny state machine of its own in moto: a Map over three chunks, one of
which is broken and ends its child in a ``Fail`` state.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tools.local_run.moto_fidelity import (
    THRESHOLD_CAUSE,
    exceeds_threshold,
    make_moto_distributed_map_honour_failure_threshold,
)
from tools.local_run.runner import MOTO_CONFIG
from tools.local_run.wiring import ACCOUNT_ID, REGION

BUCKET = "map-failures"
CHUNKS = [{"chunk": 0}, {"chunk": 1, "broken": True}, {"chunk": 2}]

CHILD_STATES: dict[str, Any] = {
    "StartAt": "CheckChunk",
    "States": {
        "CheckChunk": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.broken", "IsPresent": True, "Next": "ChunkBroken"}],
            "Default": "ChunkDone",
        },
        "ChunkBroken": {"Type": "Fail", "Error": "ChunkBroken", "Cause": "chunk 1 is broken"},
        "ChunkDone": {"Type": "Succeed"},
    },
}


def distributed_map(**map_fields: Any) -> dict[str, Any]:
    return {
        "Type": "Map",
        "ItemReader": {
            "Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"InputType": "JSON"},
            "Parameters": {"Bucket": BUCKET, "Key": "chunks.json"},
        },
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            **CHILD_STATES,
        },
        "End": True,
        **map_fields,
    }


def inline_map() -> dict[str, Any]:
    return {
        "Type": "Map",
        "ItemsPath": "$.chunks",
        "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, **CHILD_STATES},
        "End": True,
    }


def with_catch(map_state: dict[str, Any]) -> dict[str, Any]:
    caught = {**map_state, "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "MapFailed"}]}
    caught.pop("End")
    caught["Next"] = "MapSucceeded"
    return caught


@pytest.fixture
def run_map() -> Iterator[Any]:
    with mock_aws(config=MOTO_CONFIG):
        make_moto_distributed_map_honour_failure_threshold()
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_object(Bucket=BUCKET, Key="chunks.json", Body=json.dumps(CHUNKS))
        sfn = boto3.client("stepfunctions", region_name=REGION)

        def run(map_state: dict[str, Any]) -> dict[str, Any]:
            definition = {
                "StartAt": "Chunks",
                "States": {
                    "Chunks": map_state,
                    "MapFailed": {"Type": "Pass", "End": True},
                    "MapSucceeded": {"Type": "Pass", "End": True},
                },
            }
            machine_arn = sfn.create_state_machine(
                name=f"map-{time.monotonic_ns()}",
                definition=json.dumps(definition),
                roleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/map-failures",
            )["stateMachineArn"]
            execution_arn = sfn.start_execution(
                stateMachineArn=machine_arn, input=json.dumps({"chunks": CHUNKS})
            )["executionArn"]
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                execution = sfn.describe_execution(executionArn=execution_arn)
                if execution["status"] != "RUNNING":
                    return execution  # type: ignore[no-any-return]
                time.sleep(0.02)
            raise TimeoutError("the tiny state machine did not finish in 30 s")

        yield run


def test_a_failed_child_fails_the_distributed_map_and_the_execution(run_map: Any) -> None:
    execution = run_map(distributed_map())

    assert execution["status"] == "FAILED"
    assert execution["error"] == "States.ExceedToleratedFailureThreshold"
    assert execution["cause"] == THRESHOLD_CAUSE


def test_a_tolerated_failure_count_lets_the_map_succeed(run_map: Any) -> None:
    assert run_map(distributed_map(ToleratedFailureCount=1))["status"] == "SUCCEEDED"


def test_a_tolerated_failure_percentage_lets_the_map_succeed_up_to_it(run_map: Any) -> None:
    # moto's ASL grammar takes the percentage only as a decimal number (AWS takes 50 too)
    assert run_map(distributed_map(ToleratedFailurePercentage=50.0))["status"] == "SUCCEEDED"
    assert run_map(distributed_map(ToleratedFailurePercentage=20.0))["status"] == "FAILED"


def test_a_catch_on_the_map_catches_the_threshold_error(run_map: Any) -> None:
    execution = run_map(with_catch(distributed_map()))

    assert execution["status"] == "SUCCEEDED"
    assert json.loads(execution["output"])["Error"] == "States.ExceedToleratedFailureThreshold"


def test_an_inline_map_still_fails_with_its_childs_own_error(run_map: Any) -> None:
    execution = run_map(inline_map())

    assert execution["status"] == "FAILED"
    assert execution["error"] == "ChunkBroken"


@pytest.mark.parametrize(
    ("failed", "tolerated_count", "tolerated_percentage", "fails"),
    [
        (0, None, None, False),
        (1, None, None, True),
        (1, 1, None, False),
        (2, 1, None, True),
        (1, None, 50.0, False),
        (2, None, 50.0, True),
        (1, 5, 10.0, True),  # either declared threshold exceeded fails the Map Run
    ],
)
def test_the_threshold_rule_is_awss(
    failed: int, tolerated_count: int | None, tolerated_percentage: float | None, fails: bool
) -> None:
    assert exceeds_threshold(failed, 3, tolerated_count, tolerated_percentage) is fails
