"""ERP booking: the port, the mapping and the exactly-once posting rule.

Pure domain: no boto3, no HTTP library. The adapters in ``invoice_dispatch.adapters``
(``erp_tryton``, ``erp_http``) implement ``ErpClient``.
"""

from invoice_dispatch.erp.booking import (
    ErpBooking,
    ErpBookingLine,
    ErpCustomer,
    ErpReceipt,
    ErpTaxLine,
    build_booking,
)
from invoice_dispatch.erp.credit_notes import ErpCreditNoteClient, post_credit_note_once
from invoice_dispatch.erp.errors import (
    ErpError,
    ErpPermanentError,
    ErpTransientError,
    InvalidErpMapping,
    MissingMapping,
)
from invoice_dispatch.erp.mapping import ErpMapping, load_erp_mapping, parse_erp_mapping
from invoice_dispatch.erp.payments import (
    ErpPayment,
    ErpPaymentClient,
    build_payment,
    post_payment_once,
)
from invoice_dispatch.erp.posting import ErpClient, post_invoice_once
from invoice_dispatch.erp.totals import ErpBookedTotals, ErpTotalsReader

__all__ = [
    "ErpBookedTotals",
    "ErpBooking",
    "ErpBookingLine",
    "ErpClient",
    "ErpCreditNoteClient",
    "ErpCustomer",
    "ErpError",
    "ErpMapping",
    "ErpPayment",
    "ErpPaymentClient",
    "ErpPermanentError",
    "ErpReceipt",
    "ErpTaxLine",
    "ErpTotalsReader",
    "ErpTransientError",
    "InvalidErpMapping",
    "MissingMapping",
    "build_booking",
    "build_payment",
    "load_erp_mapping",
    "parse_erp_mapping",
    "post_credit_note_once",
    "post_invoice_once",
    "post_payment_once",
]
