"""The small tree of errors the state machine understands.

The class names are the ``errorType`` a Lambda reports, so ``Retry`` and ``Catch`` in
``statemachine/monthly_run.asl.json`` match on them: ``TransientError`` is retried with
backoff, everything else is recorded and surfaced. Messages are written for a billing
person, not for a stack trace.
"""

from __future__ import annotations


class DispatchError(Exception):
    """Base of every error this product raises on purpose."""


class TransientError(DispatchError):
    """Worth retrying: throttling, a timeout, an ERP that is briefly down."""


class PermanentError(DispatchError):
    """Retrying will not help; a person must fix data or configuration."""


class InvalidStartInput(PermanentError):
    """The run's start input (schedule or console) is not valid."""


class RunAlreadyActive(PermanentError):
    """Another run holds the period's lock; this start did nothing at all."""


class ApprovalRejected(PermanentError):
    """The approver rejected the batch; nothing is finalized."""


class InvoiceLocked(PermanentError):
    """Someone tried to change a finalized invoice; only a credit note may correct it."""
