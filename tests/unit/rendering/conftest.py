"""Fixtures of the rendering tests: one renderer and each sample PDF, rendered once.

Rendering a PDF costs a tenth of a second or more, so each sample invoice is rendered once
per test session and read back by every test that needs it.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rendering_samples import cached_invoice, cached_legal_entity, cached_pdf, cached_renderer

from invoice_dispatch.invoice import Invoice
from invoice_dispatch.legal_entity import LegalEntity
from invoice_dispatch.rendering import InvoiceRenderer


@pytest.fixture(scope="session")
def legal_entity() -> LegalEntity:
    return cached_legal_entity()


@pytest.fixture(scope="session")
def renderer() -> InvoiceRenderer:
    return cached_renderer()


@pytest.fixture(scope="session")
def invoice_for() -> Callable[[str], Invoice]:
    return cached_invoice


@pytest.fixture(scope="session")
def pdf_for() -> Callable[[str], bytes]:
    return cached_pdf
