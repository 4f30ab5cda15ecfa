"""What a customer sees on the invoice PDF, read back from the PDF bytes."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image, ImageChops
from rendering_samples import (
    BIDI_CONTROLS,
    BIDI_OVERRIDE_NAME_AS_TYPED,
    HOSTILE_NAME,
    page_texts,
    pdf_reader,
)

from invoice_dispatch.invoice import Invoice, InvoiceStatus
from invoice_dispatch.rendering import InvoiceRenderer, NotFinalizedError
from tests.unit.billing.billing_factories import customer, raw_account
from tests.unit.billing.billing_factories import invoice_for as billing_invoice_for

PdfFor = Callable[[str], bytes]
InvoiceFor = Callable[[str], Invoice]


def test_german_invoice_shows_number_dates_period_and_german_amounts(pdf_for: PdfFor) -> None:
    (text,) = page_texts(pdf_for("eur_de"))

    assert "Rechnung INV-2026-000123" in text
    assert "RECHNUNGSDATUM 01.12.2026" in text
    assert "FÄLLIG AM 31.12.2026" in text
    assert "01.11.2026 – 30.11.2026" in text
    assert "1 Platform subscription, Business plan (monthly) 1 1.234,56 € 19 % 1.234,56 €" in text
    assert "234.567 0,0012 € 19 % 281,48 €" in text
    assert "Summe netto 1.936,04 €" in text
    assert "Summe USt. 367,85 €" in text
    assert "Rechnungsbetrag 2.303,89 €" in text


def test_us_invoice_uses_english_labels_and_dollar_formatting(pdf_for: PdfFor) -> None:
    (text,) = page_texts(pdf_for("usd_en"))

    assert "Invoice INV-2026-000124" in text
    assert "ISSUE DATE Dec 1, 2026" in text
    assert "DUE DATE Dec 31, 2026" in text
    assert "$1,333.3248 19% $1,333.32" in text
    assert "Total net $2,090.92" in text
    assert "Total due $2,488.19" in text
    assert "San Francisco, CA 94105" in text


def test_yen_invoice_in_french_has_no_minor_units(pdf_for: PdfFor) -> None:
    (text,) = page_texts(pdf_for("jpy_fr"))

    assert "Facture INV-2026-000125" in text
    assert "DATE D'ÉCHÉANCE 31 déc. 2026" in text
    assert "185 184 JPY 19 % 185 184 JPY" in text
    assert "0,18 JPY 19 % 42 222 JPY" in text, "unit prices keep their precision"
    assert "Total HT 290 406 JPY" in text
    assert "Total TTC 345 583 JPY" in text


def test_reverse_charge_invoice_names_the_recipients_liability(pdf_for: PdfFor) -> None:
    (text,) = page_texts(pdf_for("reverse_charge_en"))

    assert "Reverse charge: VAT to be accounted for by the recipient" in text
    assert "VAT ID IE6388047V" in text
    assert "Total VAT €0.00" in text
    assert "Total due €1,936.04" in text


def test_credit_note_is_titled_as_such_and_asks_for_no_payment(pdf_for: PdfFor) -> None:
    (text,) = page_texts(pdf_for("credit_note_en"))

    assert "Credit note INV-2026-000130" in text
    assert "CORRECTS INVOICE INV-2026-000124" in text
    assert "Total due -$2,488.19" in text
    assert "The credited amount of $2,488.19 will be refunded" in text
    assert "Please transfer" not in text
    assert "DUE DATE" not in text


def test_payment_block_gives_reference_and_grouped_iban(pdf_for: PdfFor) -> None:
    (text,) = page_texts(pdf_for("eur_de"))

    assert "Verwendungszweck INV-2026-000123" in text
    assert "IBAN DE89 3704 0044 0532 0130 00" in text
    assert "BIC COBADEFFXXX" in text
    assert "Bitte überweisen Sie 2.303,89 € bis zum 31.12.2026" in text


def test_seller_and_customer_details_are_printed(pdf_for: PdfFor) -> None:
    (text,) = page_texts(pdf_for("eur_de"))

    assert "Northwind Cloud Services GmbH" in text
    assert "USt-IdNr. DE136695976" in text
    assert "Amtsgericht Charlottenburg HRB 123456" in text
    assert "Müller & Söhne Maschinenbau GmbH" in text
    assert "40212 Düsseldorf" in text
    assert "USt-IdNr. DE811569869" in text


def test_long_invoice_flows_over_pages_repeating_the_table_header(
    pdf_for: PdfFor, invoice_for: InvoiceFor
) -> None:
    texts = page_texts(pdf_for("sixty_lines_de"))
    page_count = len(texts)

    pages_with_lines = [
        text for text in texts if re.search(r"(^|\n)\d+ (Platform|API|Additional|Object)", text)
    ]
    assert page_count > 1
    assert len(pages_with_lines) > 1
    for text in pages_with_lines:
        assert "Pos. Beschreibung Menge Einzelpreis USt. Betrag" in text
    for page_number, text in enumerate(texts, start=1):
        assert f"Seite {page_number} von {page_count}" in text
    all_text = "\n".join(texts)
    for position in range(1, 61):
        assert re.search(rf"(^|\n){position} ", all_text), f"line {position} missing"
    assert "Rechnung INV-2026-000127" in texts[1], "later pages name the invoice at the top"
    assert "Rechnungsbetrag 27.646,65 €" in all_text
    assert invoice_for("sixty_lines_de").gross_total == Decimal("27646.65")


def test_english_pages_are_numbered_page_x_of_y(pdf_for: PdfFor) -> None:
    (text,) = page_texts(pdf_for("usd_en"))

    assert "Page 1 of 1" in text


def test_first_page_renders_to_a_non_blank_image(pdf_for: PdfFor, tmp_path: Path) -> None:
    image = _render_first_page(pdf_for("eur_de"), tmp_path)

    non_white = sum(image.convert("L").histogram()[:200])
    red, _green, blue = image.convert("RGB").split()
    coloured = sum(ImageChops.subtract(blue, red).histogram()[60:])
    assert image.size[0] > 400
    assert non_white > 0.03 * image.size[0] * image.size[1], "page is (almost) blank"
    assert coloured > 1000, "the brand colour is missing from the page"


def test_finalized_pdf_declares_pdf_a_3b_and_factur_x_in_xmp(pdf_for: PdfFor) -> None:
    reader = pdf_reader(pdf_for("eur_de"))
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode("utf-8")

    assert 'pdfaid:part="3"' in xmp
    assert 'pdfaid:conformance="B"' in xmp
    assert "<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>" in xmp
    assert "<fx:DocumentFileName>factur-x.xml</fx:DocumentFileName>" in xmp
    assert "Factur-X PDFA Extension Schema" in xmp
    assert xmp.count("<rdf:RDF") == 1
    assert reader.pdf_header == "%PDF-1.7"


def test_finalized_pdf_links_the_xml_as_associated_file_with_data_relationship(
    pdf_for: PdfFor,
) -> None:
    catalog = pdf_reader(pdf_for("eur_de")).trailer["/Root"]
    (file_spec,) = [reference.get_object() for reference in catalog["/AF"]]

    assert file_spec["/F"] == "factur-x.xml"
    assert file_spec["/AFRelationship"] == "/Data"
    assert file_spec["/EF"]["/F"].get_object()["/Subtype"] == "/text/xml"
    assert "/OutputIntents" in catalog


def test_every_font_is_embedded_as_pdf_a_requires(pdf_for: PdfFor) -> None:
    reader = pdf_reader(pdf_for("jpy_fr"))
    font_names = []
    for page in reader.pages:
        for font_reference in page["/Resources"]["/Font"].values():
            font = font_reference.get_object()
            descendants = font.get("/DescendantFonts")
            described = descendants[0].get_object() if descendants else font
            descriptor = described["/FontDescriptor"].get_object()
            font_names.append(str(descriptor["/FontName"]))
            assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor), descriptor

    assert any("DejaVu" in name for name in font_names)


def test_draft_shows_draft_watermark_and_no_number_or_factur_x(pdf_for: PdfFor) -> None:
    pdf = pdf_for("draft_de")
    (text,) = page_texts(pdf)
    reader = pdf_reader(pdf)

    assert "DRAFT" in text
    assert "Entwurf zur Freigabe" in text
    assert "INV-" not in text
    assert "RECHNUNGSNUMMER" not in text
    assert "Rechnungsbetrag 2.303,89 €" in text
    assert reader.attachments == {}


def test_customer_text_is_escaped_in_html_and_printed_literally(
    renderer: InvoiceRenderer, invoice_for: InvoiceFor, pdf_for: PdfFor
) -> None:
    html = renderer.render_html(invoice_for("hostile_name_en"))
    (text,) = page_texts(pdf_for("hostile_name_en"))

    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;Co&#34;" in html
    assert HOSTILE_NAME in text


def test_bidi_override_in_a_customer_name_is_not_printed_and_the_name_reads_as_typed(
    pdf_for: PdfFor,
) -> None:
    (text,) = page_texts(pdf_for("bidi_override_name_en"))

    assert BIDI_CONTROLS.search(text) is None
    assert BIDI_OVERRIDE_NAME_AS_TYPED in text


def test_same_invoice_renders_to_identical_bytes(
    renderer: InvoiceRenderer, invoice_for: InvoiceFor, pdf_for: PdfFor
) -> None:
    """A retried finalize must store the same document under the same SHA-256."""
    assert renderer.render_pdf(invoice_for("eur_de")) == pdf_for("eur_de")


def test_finalized_invoice_without_number_is_refused(
    renderer: InvoiceRenderer, invoice_for: InvoiceFor
) -> None:
    broken = invoice_for("draft_de").model_copy(update={"status": InvoiceStatus.FINALIZED})

    with pytest.raises(NotFinalizedError, match="lacks its number"):
        renderer.render_pdf(broken)


def test_standalone_html_inlines_the_brand_colours(
    renderer: InvoiceRenderer, invoice_for: InvoiceFor
) -> None:
    html = renderer.render_html(invoice_for("eur_de"))

    assert "--brand-primary: #1f4e79" in html
    assert '<html lang="de">' in html


def _render_first_page(pdf: bytes, directory: Path) -> Image.Image:
    """Rasterise with poppler's pdftoppm, or pypdfium2 where poppler is not installed."""
    if shutil.which("pdftoppm"):
        pdf_path = directory / "invoice.pdf"
        pdf_path.write_bytes(pdf)
        subprocess.run(
            [
                "pdftoppm",
                "-r",
                "60",
                "-png",
                "-f",
                "1",
                "-l",
                "1",
                "-singlefile",
                str(pdf_path),
                str(directory / "page"),
            ],
            check=True,
        )
        return Image.open(directory / "page.png")
    try:
        import pypdfium2
    except ImportError:
        pytest.fail("Rasterising needs poppler-utils (pdftoppm) or the pypdfium2 package")
    document = pypdfium2.PdfDocument(pdf)
    return document[0].render(scale=60 / 72).to_pil()


def test_prorated_line_states_its_own_service_period(
    renderer: InvoiceRenderer, invoice_for: InvoiceFor
) -> None:
    invoice = invoice_for("eur_de")
    prorated = invoice.lines[0].model_copy(update={"service_start": date(2026, 11, 15)})
    html = renderer.render_html(
        invoice.model_copy(update={"lines": (prorated, *invoice.lines[1:])})
    )

    assert html.count("Leistungszeitraum:") == 1
    assert "Leistungszeitraum: 15.11.2026 – 30.11.2026" in html


def test_prorated_credit_prints_a_quantity_that_multiplies_out_to_its_amount(
    renderer: InvoiceRenderer,
) -> None:
    """Issue 16: the credit read "1 x 29,00 €" beside "-14,50 €"; now "-15/30 x 29,00 €"."""
    draft = billing_invoice_for(
        raw_account(
            customer={**customer("DE"), "locale": "de"},
            subscriptions=[
                {
                    "subscription_id": "S",
                    "plan": "STARTER",
                    "start": "2025-01-01",
                    "changes": [{"effective": "2026-11-16", "plan": "BUSINESS"}],
                }
            ],
        )
    )
    text = " ".join(page_texts(renderer.render_pdf(draft)))

    assert re.search(r"-15/30 29,00 € 19 % -14,50 €", text), text
    assert re.search(r"15/30 249,95 € 19 % 124,98 €", text), text


def test_blocks_stack_top_to_bottom_without_overlapping(pdf_for: PdfFor) -> None:
    """Floated blocks (addresses beside the facts, tax beside totals) must still push the
    next block down; a container that loses its floats' height draws the heading over
    the customer's address while every text test keeps passing."""
    heights = _baselines(pdf_for("eur_de"))

    address_bottom = min(heights["USt-IdNr. DE811569869"], heights["KUNDENNUMMER"])
    assert address_bottom > heights["Rechnung "] > heights["Pos."]
    assert heights["Premium support"] > heights["Umsatzsteuer"] > heights["Zahlung"]
    assert heights["Summe netto"] > heights["Rechnungsbetrag"] > heights["Zahlung"]


def _baselines(pdf: bytes) -> dict[str, float]:
    """Lowest PDF y (points from the bottom) at which each text run starts on page 1."""
    found: dict[str, float] = {}

    def visit(text: str, cm: list[float], tm: list[float], *_args: object) -> None:
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]  # text matrix times the page's CTM
        for prefix in (
            "USt-IdNr. DE811569869",
            "KUNDENNUMMER",
            "Rechnung ",
            "Pos.",
            "Premium support",
            "Umsatzsteuer",
            "Summe netto",
            "Rechnungsbetrag",
            "Zahlung",
        ):
            if text.lstrip().startswith(prefix):  # pypdf puts the gap before a run into it
                found[prefix] = min(found.get(prefix, y), y)

    pdf_reader(pdf).pages[0].extract_text(visitor_text=visit)
    return found


def test_closing_sentence_is_in_the_invoice_language(pdf_for: PdfFor) -> None:
    """Issue 16: "Thank you for your business." closed German and French invoices too."""
    german, english, french = (
        " ".join(page_texts(pdf_for(case))) for case in ("eur_de", "usd_en", "jpy_fr")
    )

    assert "Vielen Dank für Ihren Auftrag." in german and "Thank you" not in german
    assert "Merci de votre confiance." in french and "Thank you" not in french
    assert "Thank you for your business." in english
