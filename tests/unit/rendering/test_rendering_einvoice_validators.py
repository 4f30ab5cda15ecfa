"""Issue 16's acceptance: other machines' validators accept every demo invoice.

The official CEN EN 16931 schematron (CII, version ``CEN_SCHEMATRON_VERSION``) and the
Factur-X EN 16931 schematron run on the XML embedded in each demo PDF, credit notes
included; the Peppol line rules R110/R111/R120 and PDFBox's XMP parser too. See
``einvoice_validation`` for what each one is and where it comes from.
"""

from __future__ import annotations

import pytest
from einvoice_validation import (
    CEN_SCHEMATRON_VERSION,
    cen_schematron_version,
    demo_invoices,
    demo_pdf,
    embedded_xml,
    pdfbox_available,
    pdfbox_xmp_check,
    peppol_line_findings,
    schematron_findings,
)

from invoice_dispatch.rendering.facturx_xml import facturx_applies

DEMO_NAMES = sorted(demo_invoices())
FACTURX_NAMES = [name for name in DEMO_NAMES if facturx_applies(demo_invoices()[name].currency)]


def test_demo_documents_cover_invoices_credit_notes_and_the_sample_accounts() -> None:
    names = set(DEMO_NAMES)
    assert {"ACC-1001", "ACC-1012", "ACC-1021", "CSV-2001"} <= names
    # The VAT id samples (held by rule until released, then finalized like any other):
    # billed local VAT, they carry the buyer's VAT id the reverse charge was refused for.
    assert {"ACC-1040", "ACC-1041"} <= names
    assert sum(name.startswith("credit note") for name in names) == 2
    assert "partial credit note for ACC-1012" in names


def test_vendored_cen_schematron_is_the_recorded_release() -> None:
    assert cen_schematron_version() == CEN_SCHEMATRON_VERSION == "1.3.16"


@pytest.mark.parametrize("name", FACTURX_NAMES)
def test_cen_en16931_schematron_finds_no_error(name: str) -> None:
    findings = schematron_findings(embedded_xml(demo_pdf(name)), "CEN")

    assert [str(finding) for finding in findings if finding.is_error] == []


@pytest.mark.parametrize("name", FACTURX_NAMES)
def test_factur_x_schematron_finds_nothing_not_even_a_warning(name: str) -> None:
    """Warnings included: an empty ``ApplicableHeaderTradeDelivery`` used to raise R008."""
    findings = schematron_findings(embedded_xml(demo_pdf(name)), "Factur-X")

    assert [str(finding) for finding in findings] == []


@pytest.mark.parametrize("name", FACTURX_NAMES)
def test_peppol_line_rules_hold_on_every_line(name: str) -> None:
    """R110/R111: line periods inside the invoice period; R120: quantity x price = amount."""
    findings = peppol_line_findings(embedded_xml(demo_pdf(name)))

    assert [str(finding) for finding in findings] == []


@pytest.mark.skipif(
    not pdfbox_available(), reason="needs java and libpdfbox2-java (make test-deps)"
)
def test_pdfbox_parses_the_xmp_of_every_demo_pdf() -> None:
    verdicts = pdfbox_xmp_check({name: demo_pdf(name) for name in DEMO_NAMES})

    failures = {name: verdict for name, verdict in verdicts.items() if not verdict.startswith("OK")}
    assert failures == {}
    assert len(verdicts) == len(DEMO_NAMES)
    assert all("part=3 conformance=B" in verdict for verdict in verdicts.values())
    for name in FACTURX_NAMES:
        assert verdicts[name].endswith("fx=EN 16931"), name
