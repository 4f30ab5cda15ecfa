"""Corrections of finalized invoices: credit notes, write-offs and disputes, on demand.

Pure domain (no boto3): what a request may ask (``requests.py``) and what a credit note
may credit given what earlier ones did (``credit_plan.py``). The state machine is
``statemachine/corrections.asl.json``; its steps are ``workflow/corrections.py`` and the
items they write are ``adapters/corrections_store.py``.
"""

from invoice_dispatch.corrections.credit_plan import (
    CreditedSoFar,
    CreditNotePlan,
    plan_credit_note,
)
from invoice_dispatch.corrections.requests import (
    CorrectionInput,
    CorrectionKind,
    CorrectionRefused,
    CreditNoteRequest,
    DisputeRequest,
    WriteOffRequest,
    parse_correction_input,
)

__all__ = [
    "CorrectionInput",
    "CorrectionKind",
    "CorrectionRefused",
    "CreditNotePlan",
    "CreditNoteRequest",
    "CreditedSoFar",
    "DisputeRequest",
    "WriteOffRequest",
    "parse_correction_input",
    "plan_credit_note",
]
