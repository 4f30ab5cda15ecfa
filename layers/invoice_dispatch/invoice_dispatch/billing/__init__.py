"""The billing engine: accounts in, explainable draft invoices out (pure, no AWS).

See ``README.md`` beside this file for the account schema, the rounding rule and the
worked examples the tests check.
"""

from invoice_dispatch.billing.account import (
    Account,
    AccountScreening,
    BillingHistory,
    parse_accounts_csv,
    screen_account,
)
from invoice_dispatch.billing.anomalies import ANOMALY_CODES, AnomalyThresholds
from invoice_dispatch.billing.catalog import PRODUCT_CODES, Catalog, load_catalog
from invoice_dispatch.billing.credit_note import create_credit_note
from invoice_dispatch.billing.engine import BillingContext, DraftResult, generate_draft
from invoice_dispatch.billing.period import BillingPeriod, billing_period
from invoice_dispatch.billing.tax import TaxTable, load_tax_table

__all__ = [
    "ANOMALY_CODES",
    "PRODUCT_CODES",
    "Account",
    "AccountScreening",
    "AnomalyThresholds",
    "BillingContext",
    "BillingHistory",
    "BillingPeriod",
    "Catalog",
    "DraftResult",
    "TaxTable",
    "billing_period",
    "create_credit_note",
    "generate_draft",
    "load_catalog",
    "load_tax_table",
    "parse_accounts_csv",
    "screen_account",
]
