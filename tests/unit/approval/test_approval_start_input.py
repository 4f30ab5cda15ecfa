"""The on-demand start input: published schema is current, examples valid, errors readable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from invoice_dispatch.approval import StartRunInput, describe_validation_error, parse_start_input
from invoice_dispatch.approval.start_input import published_schema_text
from invoice_dispatch.errors import InvalidStartInput

EVENTS = Path(__file__).resolve().parents[3] / "events"
SCHEMA_FILE = EVENTS / "schema" / "start-run.schema.json"


def test_published_schema_matches_the_model() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == published_schema_text(), (
        "events/schema/start-run.schema.json is stale; regenerate it with "
        "invoice_dispatch.approval.start_input.published_schema_text()"
    )
    assert json.loads(SCHEMA_FILE.read_text()) == StartRunInput.model_json_schema()


@pytest.mark.parametrize(
    "example", ["start-on-demand.json", "start-shadow.json", "start-release-held.json"]
)
def test_every_console_example_is_a_valid_start_input(example: str) -> None:
    parse_start_input((EVENTS / example).read_bytes())


def test_examples_cover_shadow_and_release_held() -> None:
    shadow = parse_start_input((EVENTS / "start-shadow.json").read_text())
    release = parse_start_input((EVENTS / "start-release-held.json").read_text())
    assert shadow.mode == "shadow" and shadow.account_ids
    assert isinstance(release.release_held, list) and release.release_held


def test_minimal_input_defaults_to_a_live_run_of_every_account() -> None:
    run_input = parse_start_input({"period": "2026-10"})
    assert run_input.mode == "live"
    assert run_input.account_ids is None and run_input.currencies is None
    assert run_input.release_held is None
    assert not run_input.resend_failed_deliveries and not run_input.replay_erp_errors


def test_release_held_accepts_all() -> None:
    assert parse_start_input({"period": "2026-10", "release_held": "all"}).release_held == "all"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({}, "period is required"),
        ({"period": "2026-13"}, "period must be a month written YYYY-MM, such as 2026-10"),
        ({"period": "10/2026"}, "got '10/2026'"),
        ({"period": "2026-10", "mode": "test"}, "mode must be 'live' or 'shadow' (got 'test')"),
        (
            {"period": "2026-10", "currencies": ["EUR", "XXX"]},
            "currencies[1] 'XXX' is not a currency this product bills in",
        ),
        ({"period": "2026-10", "account_ids": []}, "account_ids must not be empty"),
        ({"period": "2026-10", "acount_ids": ["a"]}, "acount_ids is not a known field"),
        (
            {"period": "2026-10", "release_held": "some"},
            'release_held must be a list of invoice ids or the word "all"',
        ),
        ({"period": "2026-10", "release_held": []}, "release_held must be a list"),
        (
            {"period": "2026-10", "resend_failed_deliveries": "yes"},
            "resend_failed_deliveries must be true or false",
        ),
    ],
)
def test_invalid_input_is_explained_in_plain_words(raw: dict[str, object], expected: str) -> None:
    with pytest.raises(InvalidStartInput) as invalid:
        parse_start_input(raw)
    message = str(invalid.value)
    assert message.startswith("The run input is not valid: ")
    assert expected in message


def test_all_problems_are_reported_at_once() -> None:
    with pytest.raises(ValidationError) as invalid:
        StartRunInput.model_validate({"period": "2026-1", "mode": "dry", "extra": 1})
    message = describe_validation_error(invalid.value)
    assert "period" in message and "mode" in message and "extra" in message


def test_malformed_json_is_reported_not_raised_raw() -> None:
    with pytest.raises(InvalidStartInput, match="The run input is not valid"):
        parse_start_input('{"period": ')


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({}, "period is required (only a resume may leave it out)"),
        ({"resume": "yes"}, "resume must be true or false"),
        ({"period": "2026-11", "break_lock": ""}, "break_lock must not be empty"),
    ],
)
def test_resume_and_lock_inputs_are_explained_in_plain_words(
    raw: dict[str, object], expected: str
) -> None:
    with pytest.raises(InvalidStartInput) as raised:
        parse_start_input(raw)
    assert expected in str(raised.value)
