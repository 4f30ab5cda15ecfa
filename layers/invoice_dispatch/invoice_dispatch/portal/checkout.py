"""The portal's "Pay online": which invoices a customer may pay at the gateway, and for what.

A click on the button is a POST (``workflow/portal_web.py``): a GET never changes
anything, and mail scanners fetch every link they find. Before the gateway is asked,
the invoice is judged from the same reading as the page (``statement.standing``), so a
stale page, a second tab or an edited address cannot start a payment for what is paid,
disputed or being collected by auto-pay; each refusal is a sentence for the customer.
"""

from __future__ import annotations

from invoice_dispatch.autopay import CheckoutRequest, checkout_key
from invoice_dispatch.invoice import Invoice
from invoice_dispatch.payments.references import creditor_reference
from invoice_dispatch.portal.statement import Standing
from invoice_dispatch.receivables.receivable import ReceivableStatus


def checkout_refusal(number: str, current: Standing) -> str | None:
    """Why invoice ``number`` cannot be paid online now, or None when it can."""
    if current.owed and current.auto_pay:
        return (
            f"Invoice {number} is collected automatically with the payment method you agreed, "
            "so there is nothing for you to pay here."
        )
    if current.status is ReceivableStatus.DISPUTED:
        return (
            f"Invoice {number} is disputed: it can be paid once the dispute is settled. "
            "We will write to you about it."
        )
    if not current.payable:
        return f"Invoice {number} has nothing left to pay; no payment was started."
    if not current.payable_online:
        return (
            f"Invoice {number} can be paid online from tomorrow, once it is booked; until "
            "then please pay by bank transfer with the details shown on your page."
        )
    return None


def checkout_request(invoice: Invoice, current: Standing, return_url: str) -> CheckoutRequest:
    """The hosted page for what is open now; the key makes repeated clicks one checkout."""
    receivable = current.receivable
    return CheckoutRequest(
        idempotency_key=checkout_key(receivable.number, receivable.open_amount),
        invoice_number=receivable.number,
        account_id=invoice.account_id,
        amount=receivable.open_amount,
        currency=receivable.currency,
        reference=creditor_reference(receivable.number) or receivable.number,
        success_url=return_url,
        cancel_url=return_url,
    )
