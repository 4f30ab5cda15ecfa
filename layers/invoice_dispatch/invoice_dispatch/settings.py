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
    #: At the bound: a delivery child is a Standard execution billed per state it enters,
    #: so 200 invoices a child cost half the transitions and invocations of 100, while its
    #: slowest step (sending 200 e-mails at a lane's share of the SES rate) takes about a
    #: minute, far inside the step's timeout.
    chunk_size: int = Field(default=MAX_CHUNK_SIZE, ge=1, le=MAX_CHUNK_SIZE)
    #: How long a customer's portal link opens their page (each invoice and reminder
    #: e-mail carries a fresh one).
    portal_link_ttl_hours: int = Field(default=168, gt=0)
    #: The secret that signs portal links; its own, so the portal's Lambda can read it
    #: and no other key (it could never sign an approval).
    portal_key_secret_id: str | None = None
    #: The secret payment providers sign webhook events with (``payments/webhook.py``).
    payments_webhook_secret_id: str | None = None
    #: The monthly run's state machine: receivables are admitted from its finished runs.
    monthly_run_state_machine_arn: str | None = None
    #: How long an e-mail claim may wait for SES's answer before a resume sends it again.
    #: Longer than the Dispatch function's timeout (a test checks against the template),
    #: so a live sender never loses its claim.
    dispatch_claim_lease_seconds: int = 1200
    #: Days around the due date on which a reminder goes out (``collections/stages.py``).
    reminder_stages: Annotated[list[int], NoDecode] = Field(default_factory=lambda: [-7, 0, 7, 14])
    #: Days after the last reminder before a person is asked to act (``collections/``).
    escalation_grace_days: int = Field(default=3, ge=0, le=60)
    #: Where an escalation goes when its account has no owner in ``collections_owners``.
    collections_email: str | None = None
    #: ``ACC-1=owner@example.com,ACC-2=...``: the person who owns each account's collections.
    collections_owners: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)
    #: The collections run's own topic (due, paid, escalations); the alert topic stays for
    #: what needs a person now.
    collections_topic_arn: str | None = None
    #: ``event=topic`` pairs, topic one of ``alert``, ``notification``, ``none``.
    collections_notify: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=lambda: {"due": "notification", "paid": "notification"}
    )
    #: The trailing window DSO and the matching rate are measured over, in days.
    kpi_period_days: int = Field(default=90, ge=1, le=366)
    #: A write-off above this amount (in the invoice's currency) waits for a signed approval.
    write_off_approval_threshold: Decimal = Field(default=Decimal(100), ge=0)

    #: The payment gateway auto-pay charges through (``adapters/payment_gateway_http.py``);
    #: empty: no gateway, so no invoice is enrolled and reminders chase every invoice.
    payment_gateway_url: str | None = None
    #: The secret holding the gateway's API key (``{"api_key": ...}``).
    payment_gateway_secret_id: str | None = None
    #: Where the gateway's hosted checkout pages live, when not at the API's own origin
    #: (Stripe: ``https://checkout.stripe.com``). The portal page's CSP lets its "Pay
    #: online" form lead there and nowhere else (``workflow/portal_web.py``).
    payment_checkout_origin: str | None = None
    #: How long a charge may take before its outcome is "unknown" (asked again later).
    payment_gateway_timeout_seconds: float = Field(default=20.0, gt=0, le=120)
    #: Days after the first declined charge on which it is tried again (``autopay/``).
    auto_pay_retry_days: Annotated[list[int], NoDecode] = Field(default_factory=lambda: [3, 5, 7])

    @field_validator("auto_pay_retry_days", mode="before")
    @classmethod
    def _retry_days(cls, value: str | list[int]) -> list[int]:
        """``3,5,7``: increasing days after the first decline (empty: never retried)."""
        days = [int(item) for item in _split_csv(value)] if isinstance(value, str) else value
        if sorted(set(days)) != days or any(day < 1 for day in days):
            raise ValueError(f"AUTO_PAY_RETRY_DAYS needs increasing days of 1 or more: {value!r}")
        return days

    @field_validator("approver_emails", "shadow_account_ids", "anomaly_hold_codes", mode="before")
    @classmethod
    def _comma_separated(cls, value: str | list[str]) -> list[str]:
        """CloudFormation parameters are strings, so lists arrive comma-separated."""
        return _split_csv(value)

    @field_validator("reminder_stages", mode="before")
    @classmethod
    def _day_offsets(cls, value: str | list[int]) -> list[int]:
        """``-7,0,7,14``: distinct offsets, sent in increasing order whatever the input order."""
        offsets = [int(item) for item in _split_csv(value)] if isinstance(value, str) else value
        if not offsets or len(set(offsets)) != len(offsets):
            raise ValueError(f"REMINDER_STAGES needs distinct day offsets, got {value!r}")
        return sorted(offsets)

    @field_validator("collections_owners", "collections_notify", mode="before")
    @classmethod
    def _pairs(cls, value: str | dict[str, str]) -> dict[str, str]:
        if isinstance(value, dict):
            return value
        pairs = {}
        for item in _split_csv(value):
            name, separator, target = item.partition("=")
            if not separator or not name.strip() or not target.strip():
                raise ValueError(f"Expected name=value pairs separated by commas, got {item!r}")
            pairs[name.strip()] = target.strip()
        return pairs


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()  # type: ignore[call-arg]
