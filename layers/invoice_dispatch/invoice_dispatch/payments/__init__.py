"""Payments in: the webhook, bank statements (camt.053, CSV) and matching to invoices.

Pure domain (no boto3): each source becomes an ``IncomingPayment``; ``matching`` turns
one into a ``Posting`` for the ledger. ``workflow/payments_in.py`` reads and writes.
"""
