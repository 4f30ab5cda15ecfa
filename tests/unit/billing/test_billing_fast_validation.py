"""The fast validation path reads every record exactly as the pydantic schema does.

``screen_account`` reads raw accounts with ``msgspec`` into records and leaves what that
path declines to the schema (``billing/struct_validation.py``). These tests are the guard:
on valid accounts and on thousands of mutations of them (wrong types, negative or zero
amounts, NaN, unknown currency or zone, bad e-mail, dates, timestamps and periods, unknown
and ``_`` keys, missing fields), whenever the fast path accepts a record the schema accepts
it too and reads every value identically (type, digits and exponent included).
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest
from billing_factories import PERIOD, raw_account, rich_account
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    field_validator,
)

from bench.bench_engine import synthetic_accounts
from invoice_dispatch.billing import account as account_module
from invoice_dispatch.billing import account_schema as schema
from invoice_dispatch.billing import load_catalog, parse_accounts_csv, screen_account
from invoice_dispatch.billing.account import SCHEMAS, Account
from invoice_dispatch.billing.struct_validation import derive_checks, record_from_model

SAMPLES = Path(__file__).resolve().parents[3] / "events" / "accounts"
#: Valid samples the fast path leaves to the schema: their subscriptions start at a timestamp.
DECLINED_SAMPLES = {"ACC-1010", "ACC-1039"}


def _valid_accounts() -> list[dict[str, Any]]:
    samples = json.loads((SAMPLES / "sample-accounts.json").read_text(encoding="utf-8"))
    csv_rows = parse_accounts_csv((SAMPLES / "sample-accounts.csv").read_text(encoding="utf-8"))
    return [*samples, *csv_rows, *synthetic_accounts(4), raw_account(), rich_account()]


BASES = _valid_accounts()
RICH = rich_account()

# fmt: off
ODD_VALUES: list[Any] = [
    None, "", " ", "x", "-0", "0", "0.00", "-0.0", "NaN", "-Infinity", "1e3", "1E-2", " 5",
    "5 ", "1_000", "+5", "05", "5.0", "１２", -1, 0, 1, 2, 1.5, -0.0, float("nan"), 10**20,
    61, 100, 100.5, 101, 365, 366, True, False, "true", "yes", "off", "1", Decimal("5"),
    Decimal("-0"), Decimal("NaN"), "2025-01-01", "2025-1-01", "20250101", "2025-02-30",
    "2025-01-01T00:00:00", "2025-01-01T00:00:00Z", "2025-01-01T10:00:00+02:00", 0.0,
    "2026-11", "2026-11\n", "2026-13", "EUR", "eur", "XYZ", "Europe/Berlin", "Mars/Base",
    "a@b.example.com", "bad@", "a b@c.example.com", "a@b.example.com\n", "DE", "de", "DE\n",
    "monthly", "custom", "arrears", "percentage", "fixed", "invoice", "STARTER", "x" * 201,
    [], {}, [{}], ["API-CALLS"], {"API-CALLS": "5"}, {"line1": "l", "city": "c", "country": "DE"},
]
# fmt: on


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key or item position inside ``value``, parents before children."""
    found = []
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    else:
        return found
    for key, child in items:
        found.append((*prefix, key))
        found += _paths(child, (*prefix, key))
    return found


def _container(record: Any, path: tuple[Any, ...]) -> Any:
    for key in path[:-1]:
        record = record[key]
    return record


@st.composite
def mutated_accounts(draw: st.DrawFn) -> dict[str, Any]:
    record = copy.deepcopy(draw(st.one_of(st.just(RICH), st.sampled_from(BASES))))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = _paths(record)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = _container(record, path)
        action = draw(st.sampled_from(["replace", "replace", "random", "delete", "add", "meta"]))
        if action == "replace":
            parent[path[-1]] = copy.deepcopy(draw(st.sampled_from(ODD_VALUES)))
        elif action == "random":
            parent[path[-1]] = draw(
                st.one_of(
                    st.text(max_size=12),
                    st.integers(min_value=-(10**6), max_value=10**6),
                    st.decimals(allow_nan=True, allow_infinity=True, places=3),
                    st.floats(allow_nan=True),
                    st.dates().map(lambda day: day.isoformat()),
                    st.datetimes().map(lambda moment: moment.isoformat()),
                )
            )
        elif isinstance(parent, list):
            if action == "delete":
                del parent[path[-1]]
            else:
                parent.append(copy.deepcopy(parent[path[-1]]))
        elif action == "delete":
            del parent[path[-1]]
        else:
            key = draw(st.sampled_from(["_label", "_source", "unknown", "discount", "Plan"]))
            parent[key if action == "add" else f"_{key.lstrip('_')}"] = "<row 3>"
    return record


def _schema_reading(raw: dict[str, Any]) -> Account | str:
    """What the schema alone makes of ``raw`` (``_`` keys dropped): records or the error."""
    without_metadata = {key: value for key, value in raw.items() if not key.startswith("_")}
    try:
        model = schema.Account.model_validate(without_metadata)
    except ValidationError as error:
        return account_module._first_error_sentence(error)
    return record_from_model(model, Account, SCHEMAS)


def _assert_same_reading(raw: dict[str, Any]) -> Account | None:
    reference = _schema_reading(raw)
    fast = account_module._fast_account(
        {key: value for key, value in raw.items() if not key.startswith("_")}
    )
    if fast is not None:
        assert isinstance(reference, Account), (raw, reference)
        assert fast == reference
        assert repr(fast) == repr(reference)  # Decimal digits, date vs datetime
    screening = screen_account(raw, PERIOD, load_catalog())
    if isinstance(reference, str):
        assert (screening.outcome, screening.reason) == ("quarantined", reference)
    elif screening.account is not None:
        assert repr(screening.account) == repr(reference)
    return fast


@pytest.mark.parametrize("raw", BASES, ids=lambda raw: str(raw.get("account_id", "<csv>")))
def test_valid_accounts_are_read_by_the_fast_path_as_the_schema_reads_them(raw: dict) -> None:
    fast = _assert_same_reading(raw)
    reference = _schema_reading(raw)
    if isinstance(reference, Account) and raw.get("account_id") not in DECLINED_SAMPLES:
        assert fast is not None, raw


@pytest.mark.parametrize("path", _paths(RICH), ids=str)
def test_every_odd_value_in_every_place_of_a_rich_account_is_read_as_the_schema_reads_it(
    path: tuple[Any, ...],
) -> None:
    for value in ODD_VALUES:
        raw = copy.deepcopy(RICH)
        _container(raw, path)[path[-1]] = copy.deepcopy(value)
        _assert_same_reading(raw)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=mutated_accounts())
def test_fast_path_never_accepts_or_reads_differently_what_the_schema_decides(
    raw: dict[str, Any],
) -> None:
    _assert_same_reading(raw)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("quantity", "NaN"),
        ("quantity", "Infinity"),
        ("start", "2025-01-01T00:00:00Z"),
        ("start", "2025-01-01T10:00:00+02:00"),
        ("interval_months", "2"),  # msgspec's lax mode also reads "1e3" as an int
        ("billing_timing", None),
    ],
)
def test_values_the_fast_path_leaves_to_the_schema(field: str, value: str) -> None:
    raw = raw_account()
    raw["subscriptions"][0][field] = value
    assert account_module._fast_account(raw) is None
    _assert_same_reading(raw)


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        (
            "customer",
            b"x",
            "Field 'customer': Input should be a valid dictionary or instance of CustomerInfo "
            "(got b'x')",
        ),
        (
            "subscriptions",
            [1],
            "Field 'subscriptions #1': Input should be a valid dictionary or instance of "
            "Subscription (got 1)",
        ),
        (
            "history",
            "x",
            "Field 'history': Input should be a valid dictionary or instance of "
            "BillingHistory (got 'x')",
        ),
    ],
)
def test_schema_errors_name_the_models_as_before(field: str, value: Any, reason: str) -> None:
    """Pydantic names a nested model by its class: the schema keeps the records' names."""
    screening = screen_account(raw_account(**{field: value}), PERIOD, load_catalog())
    assert (screening.outcome, screening.reason) == ("quarantined", reason)


class _Plain(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _record_type(default: Any = Decimal(1)) -> type[msgspec.Struct]:
    return msgspec.defstruct("Record", [("value", Decimal, default)], frozen=True)


@pytest.mark.parametrize(
    ("schema", "record", "problem"),
    [
        (
            create_model("Schema", __base__=_Plain, value=(Decimal, Decimal("1.0"))),
            _record_type(),
            "must default to Decimal",
        ),
        (
            create_model("Schema", __base__=_Plain, other=(Decimal, Decimal(1))),
            _record_type(),
            "different fields",
        ),
        (
            create_model("Schema", __base__=_Plain, value=(Decimal, Field(Decimal(1), alias="v"))),
            _record_type(),
            "aliases",
        ),
        (
            create_model(
                "Schema",
                __base__=BaseModel,
                __config__=ConfigDict(str_strip_whitespace=True),
                value=(Decimal, Decimal(1)),
            ),
            _record_type(),
            "only",
        ),
        (
            create_model("Schema", __base__=_Plain, value=(str, Field("1", pattern="[0-9]"))),
            _record_type("1"),
            "not anchored",
        ),
        (
            create_model(
                "Schema", __base__=_Plain, value=(Decimal, Field(Decimal(1), max_digits=3))
            ),
            _record_type(),
            "cannot derive",
        ),
    ],
)
def test_checks_are_not_derived_from_a_schema_they_would_misread(
    schema: type[BaseModel], record: type[msgspec.Struct], problem: str
) -> None:
    with pytest.raises(TypeError, match=problem):
        derive_checks({record: schema})


def test_a_field_validator_that_changes_the_value_leaves_the_record_to_the_schema() -> None:
    class Schema(_Plain):
        value: str

        @field_validator("value")
        @classmethod
        def _upper(cls, value: str) -> str:
            return value.upper()

    record_type = msgspec.defstruct("Record", [("value", str)], frozen=True)
    check = derive_checks({record_type: Schema})[record_type]
    assert not check(record_type(value="abc"))  # the schema would read "ABC"
