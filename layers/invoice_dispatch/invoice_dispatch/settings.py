"""Configuration, read from the environment once per cold start.

Every Lambda function gets the same variables from the SAM template's Globals, and the
local runner builds the same environment from that template, so a value cannot differ
between a laptop run and a deployed one.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

#: The most accounts or invoices one Map child may work on.
MAX_CHUNK_SIZE = 200


def _split_csv(value: str | list[str]) -> list[str]:
    if isinstance(value, list):
        return value
    return [item.strip() for item in value.split(",") if item.strip()]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    table_name: str
    documents_bucket: str
    alert_topic_arn: str
    erp_error_queue_url: str
    ses_configuration_set: str
    sender_email: str
    approver_emails: Annotated[list[str], NoDecode] = Field(default_factory=list)
    approval_base_url: str
    approval_key_secret_id: str
    approval_ttl_hours: float = Field(default=72, gt=0)
    approval_reminder_function_arn: str | None = None
    scheduler_role_arn: str | None = None
    auto_approve: bool = False
    account_source_uri: str = Field(description="s3://bucket/key of the JSON or CSV account source")
    usage_source_uri: str | None = None
    legal_entity_path: str | None = None
    shadow_recipient: str = "billing-shadow@example.com"
    shadow_account_ids: Annotated[list[str], NoDecode] = Field(default_factory=list)
    erp_adapter: Literal["http", "tryton", "none"] = "http"
    erp_endpoint: str | None = None
    erp_credentials_secret_id: str | None = None
    anomaly_total_change_percent: Decimal = Decimal(50)
    anomaly_usage_spike_factor: Decimal = Decimal(3)
    anomaly_hold_codes: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: [
            "NON_POSITIVE_TOTAL",
            "TAX_RATE_MISMATCH",
            "INVALID_VAT_ID",
            "VAT_ID_COUNTRY_MISMATCH",
        ]
    )
    #: The account's SES rate, shared by every sender at once (``adapters/send_rate.py``).
    ses_max_send_rate: float = Field(default=14.0, gt=0)
    #: How many senders may send side by side, each at its share of the rate; a lone
    #: sender fast enough takes several lanes. About the Map's MaxConcurrency.
    ses_send_lanes: int = Field(default=4, ge=1, le=32)
    #: Accounts or invoices per Map child. Bounded so that a child's payload (the ids it
    #: works on) and its Lambda's work stay small (tests/e2e/test_e2e_payload_limits.py).
    chunk_size: int = Field(default=100, ge=1, le=MAX_CHUNK_SIZE)
    portal_link_ttl_hours: int = 168
    #: The secret payment providers sign webhook events with (``payments/webhook.py``).
    payments_webhook_secret_id: str | None = None
    #: The monthly run's state machine: receivables are admitted from its finished runs.
    monthly_run_state_machine_arn: str | None = None
    #: How long an e-mail claim may wait for SES's answer before a resume sends it again.
    #: Longer than the Dispatch function's timeout (a test checks against the template),
    #: so a live sender never loses its claim.
    dispatch_claim_lease_seconds: int = 1200
    #: A write-off above this amount (in the invoice's currency) waits for a signed approval.
    write_off_approval_threshold: Decimal = Field(default=Decimal(100), ge=0)

    @field_validator("approver_emails", "shadow_account_ids", "anomaly_hold_codes", mode="before")
    @classmethod
    def _comma_separated(cls, value: str | list[str]) -> list[str]:
        """CloudFormation parameters are strings, so lists arrive comma-separated."""
        return _split_csv(value)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()  # type: ignore[call-arg]
