"""The ports one Lambda cold start needs, built once and shared by its invocations.

Handlers call ``get_platform()``; tests and the local runner call ``reset_platform()``
after pointing the environment at a fresh moto, so nothing is patched by import path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from invoice_dispatch.adapters import aws_clients
from invoice_dispatch.adapters.autopay_store import AutoPayStore
from invoice_dispatch.adapters.collections_store import CollectionsStore
from invoice_dispatch.adapters.corrections_store import CorrectionsStore
from invoice_dispatch.adapters.dynamodb_store import DynamoStore
from invoice_dispatch.adapters.history_store import HistoryStore
from invoice_dispatch.adapters.ledger_store import LedgerStore
from invoice_dispatch.adapters.s3_documents import S3Documents
from invoice_dispatch.adapters.send_rate import SharedSendRate
from invoice_dispatch.adapters.ses_mailer import SesMailer
from invoice_dispatch.autopay import PaymentGateway, RetrySchedule
from invoice_dispatch.collections.stages import ReminderSchedule
from invoice_dispatch.errors import PermanentError
from invoice_dispatch.legal_entity import LegalEntity, load_legal_entity
from invoice_dispatch.portal.links import sign_portal_link
from invoice_dispatch.settings import Settings, get_settings

if TYPE_CHECKING:
    from invoice_dispatch.billing import AnomalyThresholds, Catalog, TaxTable
    from invoice_dispatch.erp import ErpClient, ErpCreditNoteClient, ErpMapping, ErpPaymentClient
    from invoice_dispatch.rendering import InvoiceRenderer


@dataclass
class Platform:
    settings: Settings
    store: DynamoStore
    documents: S3Documents
    legal_entity: LegalEntity
    clients: Any = field(default=aws_clients)

    @cached_property
    def mailer(self) -> SesMailer:
        """Paced with every other sender of the account, through the billing table."""
        return SesMailer(
            self.clients.client("sesv2"),
            self.settings.ses_configuration_set,
            SharedSendRate(
                self.clients.dynamodb_table(self.settings.table_name),
                self.settings.ses_max_send_rate,
                self.settings.ses_send_lanes,
            ),
        )

    @cached_property
    def ledger(self) -> LedgerStore:
        """Receivables, their entries and payment postings, on the same billing table."""
        return LedgerStore(self.clients.dynamodb_table(self.settings.table_name))

    @cached_property
    def collections(self) -> CollectionsStore:
        """Reminders, escalations and the collections KPIs' tallies, on the same table."""
        return CollectionsStore(self.clients.dynamodb_table(self.settings.table_name))

    @cached_property
    def history(self) -> HistoryStore:
        """One record per run of any kind, on the same table (``history/``)."""
        return HistoryStore(self.clients.dynamodb_table(self.settings.table_name))

    @cached_property
    def reminder_schedule(self) -> ReminderSchedule:
        return ReminderSchedule(self.settings.reminder_stages, self.settings.escalation_grace_days)

    @cached_property
    def autopay(self) -> AutoPayStore:
        """The payment run's states and success tallies, on the same table."""
        return AutoPayStore(self.clients.dynamodb_table(self.settings.table_name))

    @cached_property
    def retry_schedule(self) -> RetrySchedule:
        return RetrySchedule(self.settings.auto_pay_retry_days)

    @cached_property
    def payment_gateway(self) -> PaymentGateway:
        """The HTTP gateway, its API key read from Secrets Manager once per cold start."""
        from invoice_dispatch.adapters.payment_gateway_http import HttpPaymentGateway

        settings = self.settings
        if not (settings.payment_gateway_url and settings.payment_gateway_secret_id):
            raise PermanentError(
                "Auto-pay needs PAYMENT_GATEWAY_URL and PAYMENT_GATEWAY_SECRET_ID configured"
            )
        secret = json.loads(self.clients.secret_bytes(settings.payment_gateway_secret_id))
        return HttpPaymentGateway(
            settings.payment_gateway_url,
            str(secret.get("api_key", "")),
            settings.payment_gateway_timeout_seconds,
        )

    @property
    def offers_online_payment(self) -> bool:
        """The portal's "Pay online" needs the gateway's address and key; the portal's
        Lambda is given both only when ``PaymentGatewayUrl`` is set."""
        return bool(self.settings.payment_gateway_url and self.settings.payment_gateway_secret_id)

    @property
    def checkout_origin(self) -> str | None:
        """The one origin "Pay online" may send a customer to: the configured checkout
        origin, else the gateway's own (``scheme://host[:port]``); None without a gateway."""
        if not self.offers_online_payment:
            return None
        configured = self.settings.payment_checkout_origin or self.settings.payment_gateway_url
        return origin_of(configured or "")

    @cached_property
    def corrections(self) -> CorrectionsStore:
        """Credit notes, write-offs and disputes asked for on demand, on the same table."""
        return CorrectionsStore(self.store)

    @cached_property
    def renderer(self) -> InvoiceRenderer:
        """Built lazily: subsetting the invoice fonts costs ~0.4 s, only finalize needs it."""
        from invoice_dispatch.rendering import InvoiceRenderer

        return InvoiceRenderer(self.legal_entity)

    @cached_property
    def catalog(self) -> Catalog:
        from invoice_dispatch.billing import load_catalog

        return load_catalog()

    @cached_property
    def tax_table(self) -> TaxTable:
        from invoice_dispatch.billing import load_tax_table

        return load_tax_table()

    @cached_property
    def thresholds(self) -> AnomalyThresholds:
        from invoice_dispatch.billing import ANOMALY_CODES, AnomalyThresholds

        unknown = sorted(set(self.settings.anomaly_hold_codes) - set(ANOMALY_CODES))
        if unknown:
            raise PermanentError(
                f"ANOMALY_HOLD_CODES names unknown anomaly codes {', '.join(unknown)}; "
                f"known codes are {', '.join(ANOMALY_CODES)}"
            )
        return AnomalyThresholds(
            total_change_percent=self.settings.anomaly_total_change_percent,
            usage_spike_factor=self.settings.anomaly_usage_spike_factor,
            hold_codes=frozenset(self.settings.anomaly_hold_codes),
        )

    @cached_property
    def erp_mapping(self) -> ErpMapping:
        from invoice_dispatch.erp import load_erp_mapping

        return load_erp_mapping()

    @cached_property
    def erp_client(self) -> ErpClient:
        from invoice_dispatch.adapters.erp_factory import build_erp_client

        return build_erp_client(self.settings)

    @cached_property
    def erp_payment_client(self) -> ErpPaymentClient:
        """The same kind of adapter as ``erp_client``, for payments and write-offs."""
        from invoice_dispatch.adapters.erp_factory import build_erp_client

        return build_erp_client(self.settings)

    @cached_property
    def erp_credit_note_client(self) -> ErpCreditNoteClient:
        """The same kind of adapter as ``erp_client``, for credit notes."""
        from invoice_dispatch.adapters.erp_factory import build_erp_client

        return build_erp_client(self.settings)

    def approval_key(self) -> bytes:
        return self.clients.secret_bytes(self.settings.approval_key_secret_id)

    def portal_key(self) -> bytes:
        secret_id = self.settings.portal_key_secret_id
        if not secret_id:
            raise PermanentError("PORTAL_KEY_SECRET_ID is not configured")
        return self.clients.secret_bytes(secret_id)

    def portal_link(self, account_id: str, now: datetime) -> str:
        """The customer's signed portal link, valid ``portal_link_ttl_hours`` from ``now``."""
        expires_at = now + timedelta(hours=self.settings.portal_link_ttl_hours)
        return sign_portal_link(
            self.settings.approval_base_url, account_id, expires_at, self.portal_key()
        )

    def payments_webhook_secret(self) -> bytes:
        secret_id = self.settings.payments_webhook_secret_id
        if not secret_id:
            raise PermanentError("PAYMENTS_WEBHOOK_SECRET_ID is not configured")
        return self.clients.secret_bytes(secret_id)


def origin_of(url: str) -> str:
    """``https://pay.example.com`` of ``https://pay.example.com/v1/...``: what a CSP names."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


@lru_cache(maxsize=1)
def get_platform() -> Platform:
    settings = get_settings()
    return Platform(
        settings=settings,
        store=DynamoStore(aws_clients.dynamodb_table(settings.table_name)),
        documents=S3Documents(aws_clients.client("s3"), settings.documents_bucket),
        legal_entity=load_legal_entity(settings.legal_entity_path),
    )


def reset_platform() -> None:
    get_settings.cache_clear()
    get_platform.cache_clear()
    aws_clients.reset()
