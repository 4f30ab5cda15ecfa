"""Invoices and rendered PDFs shared by the rendering tests.

Rendering a PDF costs a tenth of a second or more, so each sample invoice is rendered once
per test session and read back by every test that needs it.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from decimal import Decimal
from functools import cache

import pytest
from pypdf import PdfReader

from invoice_dispatch.invoice import Invoice, TaxCategory
from invoice_dispatch.legal_entity import LegalEntity, load_legal_entity
from invoice_dispatch.rendering import InvoiceRenderer
from invoice_dispatch.rendering.preview import sample_invoice

HOSTILE_NAME = '<script>alert(1)</script> & "Co"'

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
    "hostile_name_en": lambda: sample_invoice(
        locale="en", customer_name=HOSTILE_NAME, number="INV-2026-000128"
    ),
}
FINALIZED_CASES = [name for name in INVOICE_CASES if not name.startswith("draft")]


@cache
def _legal_entity() -> LegalEntity:
    return load_legal_entity()


@cache
def _renderer() -> InvoiceRenderer:
    return InvoiceRenderer(_legal_entity())


@cache
def _invoice(case: str) -> Invoice:
    return INVOICE_CASES[case]()


@cache
def _pdf(case: str) -> bytes:
    return _renderer().render_pdf(_invoice(case))


@pytest.fixture(scope="session")
def legal_entity() -> LegalEntity:
    return _legal_entity()


@pytest.fixture(scope="session")
def renderer() -> InvoiceRenderer:
    return _renderer()


@pytest.fixture(scope="session")
def invoice_for() -> Callable[[str], Invoice]:
    return _invoice


@pytest.fixture(scope="session")
def pdf_for() -> Callable[[str], bytes]:
    return _pdf


def pdf_reader(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


def page_texts(pdf: bytes) -> list[str]:
    """Text per page with the non-breaking spaces babel uses turned into plain spaces."""
    return [normalise_spaces(page.extract_text()) for page in pdf_reader(pdf).pages]


def normalise_spaces(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def money_text(amount: Decimal | int | str) -> Decimal:
    return Decimal(str(amount))
