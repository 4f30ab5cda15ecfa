"""Auto-pay: the payment run that collects invoices of accounts with a stored means.

Pure domain (no HTTP, no boto3): the retry schedule and each invoice's collection state
(``schedule.py``) and the ``PaymentGateway`` port with the outcomes a charge can have
(``gateway.py``). The HTTP adapter is ``adapters/payment_gateway_http.py``, the records
``adapters/autopay_store.py``, the collections run's steps ``workflow/autopay.py``.
"""

from invoice_dispatch.autopay.gateway import (
    ChargeOutcome,
    ChargeRequest,
    ChargeResult,
    CheckoutRequest,
    CheckoutSession,
    CheckoutUnavailable,
    PaymentGateway,
    checkout_key,
    idempotency_key,
)
from invoice_dispatch.autopay.schedule import (
    AutoPayState,
    AutoPayStatus,
    PendingCharge,
    RetrySchedule,
)

__all__ = [
    "AutoPayState",
    "AutoPayStatus",
    "ChargeOutcome",
    "ChargeRequest",
    "ChargeResult",
    "CheckoutRequest",
    "CheckoutSession",
    "CheckoutUnavailable",
    "PaymentGateway",
    "PendingCharge",
    "RetrySchedule",
    "checkout_key",
    "idempotency_key",
]
