"""The input of an on-demand run, as typed into the Step Functions console.

Its JSON Schema is published in ``events/schema/start-run.schema.json`` (generated from
this model, and a test fails when the file is stale), so whoever starts a run can check
the input before pressing "Start execution". Invalid input must end the execution at
once with a sentence a billing person understands, never halfway through a run.

Unknown fields are rejected: a typo such as ``"acount_ids"`` would otherwise silently bill
every account.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    WithJsonSchema,
    model_validator,
)

from invoice_dispatch.errors import InvalidStartInput
from invoice_dispatch.invoice import RunMode
from invoice_dispatch.money import MINOR_UNITS, is_supported_currency

SCHEMA_ID = "https://invoice-dispatch.example/schema/start-run.schema.json"

Period = Annotated[
    str,
    Field(
        pattern=r"^\d{4}-(0[1-9]|1[0-2])$",
        description="Billing month as YYYY-MM, in the legal entity's time zone",
        examples=["2026-10"],
    ),
]
AccountId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^\S+$")]
InvoiceId = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^\S+$")]


def _supported_currency(code: str) -> str:
    if not is_supported_currency(code):
        raise ValueError(f"{code!r} is not a currency this product bills in")
    return code


#: Published as an ``enum`` so the console user sees the choices before starting a run.
CurrencyCode = Annotated[
    str,
    AfterValidator(_supported_currency),
    WithJsonSchema({"type": "string", "enum": sorted(MINOR_UNITS)}),
]


class StartRunInput(BaseModel):
    """One run: which month, which accounts and currencies, live or shadow, what to redo."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        title="StartRunInput",
        json_schema_extra={
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": SCHEMA_ID,
        },
    )

    period: Period | None = Field(
        default=None,
        description="Billing month; required except for a resume, which then finishes "
        "leftovers of every period and reports under the month a scheduled run would bill",
    )
    account_ids: list[AccountId] | None = Field(
        default=None,
        min_length=1,
        description="Bill only these accounts; omit to bill every active account",
    )
    currencies: list[CurrencyCode] | None = Field(
        default=None,
        min_length=1,
        description="Bill only accounts invoiced in these ISO 4217 currencies",
    )
    mode: RunMode = Field(
        default="live",
        description="'shadow' sends e-mails to the internal address, numbers from the shadow "
        "series and posts nothing to the ERP",
    )
    release_held: Annotated[list[InvoiceId], Field(min_length=1)] | Literal["all"] | None = Field(
        default=None,
        description="Invoice ids held at an earlier approval to take through approval again, "
        "or 'all' for every held invoice of the period",
    )
    resend_failed_deliveries: StrictBool = Field(
        default=False, description="Send again the invoices of the period whose e-mail failed"
    )
    replay_erp_errors: StrictBool = Field(
        default=False, description="Post again the invoices of the period the ERP refused"
    )
    resume: StrictBool = Field(
        default=False,
        description="Only finish what earlier runs left half-done (every run does this first)",
    )
    break_lock: str | None = Field(
        default=None,
        min_length=1,
        description="Id of a run that crashed while holding this period's lock: free the "
        "period from it, then start as usual",
    )

    @model_validator(mode="after")
    def _period_unless_resume(self) -> StartRunInput:
        if self.period is None and not self.resume:
            raise ValueError("period is required (only a resume may leave it out)")
        return self


_FRIENDLY_MESSAGES: dict[str, str] = {
    "extra_forbidden": "is not a known field (check its spelling)",
    "missing": "is required",
    "string_pattern_mismatch": "has the wrong format",
    "bool_type": "must be true or false",
    "too_short": "must not be empty",
    "string_too_short": "must not be empty",
}


def _field_path(location: tuple[int | str, ...]) -> str:
    """``('release_held', 'list[...]', 2)`` -> ``release_held[2]``; union branch names dropped."""
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        elif "[" in part or part.startswith(("literal", "function")):
            continue
        else:
            path += f".{part}" if path else part
    return path or "input"


def describe_validation_error(exc: ValidationError) -> str:
    """All problems of a start input in one readable paragraph, one sentence per field."""
    sentences: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        field = _field_path(tuple(error["loc"]))
        if field in sentences:
            continue
        if error["type"] == "value_error" and not error["loc"]:  # a rule across fields
            sentences[field] = str(error.get("ctx", {}).get("error", error["msg"]))
            continue
        if field == "period" and error["type"] == "string_pattern_mismatch":
            message = f"must be a month written YYYY-MM, such as 2026-10 (got {error['input']!r})"
        elif field == "mode":
            message = f"must be 'live' or 'shadow' (got {error['input']!r})"
        elif field.startswith("currencies["):
            message = f"{error['input']!r} is not a currency this product bills in"
        elif field == "release_held" or field.startswith("release_held["):
            field = "release_held"
            message = 'must be a list of invoice ids or the word "all"'
        else:
            message = _FRIENDLY_MESSAGES.get(error["type"], error["msg"])
        sentences[field] = f"{field} {message}"
    return "The run input is not valid: " + "; ".join(sentences.values()) + "."


def parse_start_input(raw: dict[str, Any] | str | bytes) -> StartRunInput:
    """The StartRun step's first call: a valid input, or ``InvalidStartInput`` that ends the run."""
    try:
        if isinstance(raw, str | bytes):
            return StartRunInput.model_validate_json(raw)
        return StartRunInput.model_validate(raw)
    except ValidationError as exc:
        raise InvalidStartInput(describe_validation_error(exc)) from exc


def published_schema_text() -> str:
    """The exact text of ``events/schema/start-run.schema.json`` (write it to regenerate)."""
    return json.dumps(StartRunInput.model_json_schema(), indent=2, ensure_ascii=False) + "\n"
