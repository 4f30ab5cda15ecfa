"""Pick the ERP adapter named by configuration; credentials come from Secrets Manager."""

from __future__ import annotations

import json

from invoice_dispatch.adapters import aws_clients
from invoice_dispatch.adapters.erp_http import HttpErpClient
from invoice_dispatch.adapters.erp_tryton import TrytonErpClient
from invoice_dispatch.errors import PermanentError
from invoice_dispatch.settings import Settings


def _credentials(settings: Settings) -> dict[str, str]:
    if not settings.erp_credentials_secret_id:
        return {}
    secret = json.loads(aws_clients.secret_bytes(settings.erp_credentials_secret_id))
    return {str(key): str(value) for key, value in secret.items()}


def build_erp_client(settings: Settings) -> HttpErpClient | TrytonErpClient:
    """Either adapter books invoices (``ErpClient``) and payments (``ErpPaymentClient``)."""
    if not settings.erp_endpoint:
        raise PermanentError(
            f"ERP adapter '{settings.erp_adapter}' is selected but ERP_ENDPOINT is empty"
        )
    credentials = _credentials(settings)
    if settings.erp_adapter == "tryton":
        return TrytonErpClient(
            settings.erp_endpoint,
            credentials.get("database", "invoices"),
            credentials.get("user", "admin"),
            credentials.get("password", ""),
        )
    return HttpErpClient(settings.erp_endpoint, bearer_token=credentials.get("token") or None)
