"""Receivables: what each finalized invoice still has open, and the ledger that says why.

Pure domain (no boto3): entries, the receivable's open amount and status, aging buckets
and DSO. The DynamoDB side is ``adapters/ledger_store.py``; payments arrive through
``payments/`` and ``workflow/payments_in.py``.
"""

from invoice_dispatch.receivables.aging import (
    BUCKET_LABELS,
    CURRENT,
    AgingReport,
    BucketTotal,
    CurrencyAging,
    age_receivables,
    bucket_of,
)
from invoice_dispatch.receivables.dso import (
    days_in_period,
    days_sales_outstanding,
    dso_by_currency,
)
from invoice_dispatch.receivables.entries import (
    ERP_BOOKED_KINDS,
    EntryKind,
    InvalidEntry,
    LedgerEntry,
    applied_amount,
)
from invoice_dispatch.receivables.posting import Allocation, Posting, PostingOutcome
from invoice_dispatch.receivables.receivable import (
    SETTLED,
    NotReceivable,
    Receivable,
    ReceivableStatus,
)

__all__ = [
    "BUCKET_LABELS",
    "CURRENT",
    "ERP_BOOKED_KINDS",
    "SETTLED",
    "AgingReport",
    "Allocation",
    "BucketTotal",
    "CurrencyAging",
    "EntryKind",
    "InvalidEntry",
    "LedgerEntry",
    "NotReceivable",
    "Posting",
    "PostingOutcome",
    "Receivable",
    "ReceivableStatus",
    "age_receivables",
    "applied_amount",
    "bucket_of",
    "days_in_period",
    "days_sales_outstanding",
    "dso_by_currency",
]
