"""The ERP errors the state machine tells apart by name.

``ErpTransientError`` is retried with backoff by the ``PostToErp`` state's Retry block
(the ERP was down, slow or overloaded: trying again later is safe because posting looks
up by external id first). ``ErpPermanentError`` and ``MissingMapping`` go to the error
queue: retrying them changes nothing until a person fixes the ERP data or the mapping.
They join the project's error tree (``invoice_dispatch.errors``) so code that only knows
``TransientError`` / ``PermanentError`` treats them right.
"""

from __future__ import annotations

from invoice_dispatch.errors import DispatchError, PermanentError, TransientError


class ErpError(DispatchError):
    """Base of every ERP failure; its message is meant for a finance person."""


class ErpTransientError(ErpError, TransientError):
    """Timeout, 5xx or refused connection: the same request may succeed later."""


class ErpPermanentError(ErpError, PermanentError):
    """The ERP rejected the booking (validation); the message is the ERP's, made readable."""


class MissingMapping(ErpError, PermanentError):
    """The mapping has no GL account or tax account for something on the invoice."""


class InvalidErpMapping(ErpError, PermanentError):
    """The mapping document itself is inconsistent; a run refuses to start with it."""
