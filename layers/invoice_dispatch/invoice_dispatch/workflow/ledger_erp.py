"""PostLedgerToErp: book the ledger's payments and write-offs in the ERP, each exactly once.

Not in the webhook or the statement import: those answer a bank or a provider and must
not wait on (or fail with) the ERP. Each entry the ERP must book sits on the ledger's
pending list from the moment it is recorded (``ledger_store.py``); this step walks the
list, posts each with look-up-then-create (``erp/payments.py``) and takes it off the
list in the write that records the ERP's receipt. A crash between the ERP's answer and
that write is harmless: the next pass finds the payment by its external id.

An ERP that refuses an entry (unknown invoice, closed period) leaves it on the list with
the ERP's sentence in the result, so finance sees it and the next pass tries again once
fixed; a transient failure stops the pass for the state machine's Retry. Without an ERP
(``ERP_ADAPTER=none``) nothing is posted and the list is the backlog.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from invoice_dispatch.erp import ErpPermanentError, build_payment, post_payment_once
from invoice_dispatch.platform import Platform


class LedgerErpResult(BaseModel):
    booked: int = 0
    already_booked: int = 0
    refused: dict[str, str] = Field(default_factory=dict)


def post_ledger_to_erp(platform: Platform) -> LedgerErpResult:
    result = LedgerErpResult()
    if platform.settings.erp_adapter == "none":
        return result
    ledger = platform.ledger
    for number, sequence, entry in ledger.entries_awaiting_erp():
        receivable = ledger.receivable(number)
        if receivable is None:
            continue
        try:
            payment = build_payment(receivable, entry, platform.erp_mapping)
            receipt = post_payment_once(payment, platform.erp_payment_client)
        except ErpPermanentError as refused:
            result.refused[f"{entry.entry_key}#{number}"] = str(refused)
            continue
        ledger.record_erp_booked(number, sequence, receipt.erp_id)
        if receipt.created:
            result.booked += 1
        else:
            result.already_booked += 1
    return result
