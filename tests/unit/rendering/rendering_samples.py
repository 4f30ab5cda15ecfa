"""Sample invoices and PDF read-back helpers for the rendering tests.

A module with a unique name rather than ``conftest``: test modules import these helpers,
and several ``conftest.py`` files in one tree would shadow each other on import.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import date
from functools import cache

from pypdf import PdfReader

from invoice_dispatch.billing.credit_note import create_credit_note
from invoice_dispatch.invoice import Invoice, InvoiceStatus, TaxCategory
from invoice_dispatch.legal_entity import LegalEntity, load_legal_entity
from invoice_dispatch.rendering import InvoiceRenderer
from invoice_dispatch.rendering.preview import sample_invoice

HOSTILE_NAME = '<script>alert(1)</script> & "Co"'
#: A name whose RIGHT-TO-LEFT OVERRIDE (closed by POP DIRECTIONAL FORMATTING) would show
#: "Baba Trading" and whatever follows it on the line reversed.
BIDI_OVERRIDE_NAME = "Ali \u202eBaba Trading\u202c"
BIDI_OVERRIDE_NAME_AS_TYPED = "Ali Baba Trading"
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")

#: The invoices a billing team actually sends: named so test ids read as behaviour.
INVOICE_CASES: dict[str, Callable[[], Invoice]] = {
    "eur_de": lambda: sample_invoice(locale="de", currency="EUR"),
    "usd_en": lambda: sample_invoice(locale="en", currency="USD", number="INV-2026-000124"),
    "jpy_fr": lambda: sample_invoice(locale="fr", currency="JPY", number="INV-2026-000125"),
    "reverse_charge_en": lambda: sample_invoice(
        locale="en",
        currency="EUR",
        tax_category=TaxCategory.REVERSE_CHARGE,
        customer_vat_id="IE6388047V",
        number="INV-2026-000126",
    ),
    "sixty_lines_de": lambda: sample_invoice(
        locale="de", currency="EUR", line_count=60, number="INV-2026-000127"
    ),
    "draft_de": lambda: sample_invoice(locale="de", finalized=False),
    "credit_note_en": lambda: _finalized_credit_note(),
    "hostile_name_en": lambda: sample_invoice(
        locale="en", customer_name=HOSTILE_NAME, number="INV-2026-000128"
    ),
    "bidi_override_name_en": lambda: sample_invoice(
        locale="en", customer_name=BIDI_OVERRIDE_NAME, number="INV-2026-000129"
    ),
}


def _finalized_credit_note() -> Invoice:
    """A full credit of the US invoice, made by billing's own credit-note service."""
    credited = sample_invoice(locale="en", currency="USD", number="INV-2026-000124")
    draft = create_credit_note(credited, "duplicate charge")
    return draft.model_copy(
        update={
            "status": InvoiceStatus.FINALIZED,
            "number": "INV-2026-000130",
            "issue_date": date(2026, 12, 5),
            "due_date": date(2027, 1, 4),
        }
    )


FINALIZED_CASES = [name for name in INVOICE_CASES if not name.startswith("draft")]


@cache
def cached_legal_entity() -> LegalEntity:
    return load_legal_entity()


@cache
def cached_renderer() -> InvoiceRenderer:
    return InvoiceRenderer(cached_legal_entity())


@cache
def cached_invoice(case: str) -> Invoice:
    return INVOICE_CASES[case]()


@cache
def cached_pdf(case: str) -> bytes:
    return cached_renderer().render_pdf(cached_invoice(case))


def pdf_reader(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


def page_texts(pdf: bytes) -> list[str]:
    """Text per page with the non-breaking spaces babel uses turned into plain spaces."""
    return [normalise_spaces(page.extract_text()) for page in pdf_reader(pdf).pages]


def normalise_spaces(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")
