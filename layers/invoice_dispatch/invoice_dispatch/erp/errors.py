"""The ERP errors the state machine tells apart by name.

``ErpTransientError`` is retried with backoff by the ``PostToErp`` state's Retry block
(the ERP was down, slow or overloaded: trying again later is safe because posting looks
up by external id first). ``ErpPermanentError`` and ``MissingMapping`` go to the error
queue: retrying them changes nothing until a person fixes the ERP data or the mapping.
"""

from __future__ import annotations


class ErpError(Exception):
    """Base of every ERP failure; its message is meant for a finance person."""


class ErpTransientError(ErpError):
    """Timeout, 5xx or refused connection: the same request may succeed later."""


class ErpPermanentError(ErpError):
    """The ERP rejected the booking (validation); the message is the ERP's, made readable."""


class MissingMapping(ErpError):
    """The mapping has no GL account or tax account for something on the invoice."""


class InvalidErpMapping(ErpError):
    """The mapping document itself is inconsistent; a run refuses to start with it."""
