"""The direct PDF drawing: fonts for any customer's name, wrapping, PDF/A bookkeeping, logos."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from rendering_samples import cached_renderer, page_texts, pdf_reader

from invoice_dispatch.invoice import Invoice
from invoice_dispatch.rendering.pdf_fonts import (
    BOLD_FACE,
    BUNDLED_FONT_DIRECTORY,
    FONT_DIRECTORY_ENV,
    REGULAR_FACE,
    FontUnavailableError,
    _font_directory,
    invoice_fonts,
)
from invoice_dispatch.rendering.preview import sample_invoice
from invoice_dispatch.rendering.svg_logo import UnsupportedLogoError, parse_logo


def _font_names(pdf: bytes) -> set[str]:
    fonts = pdf_reader(pdf).pages[0]["/Resources"]["/Font"].values()
    return {str(font.get_object()["/BaseFont"]) for font in fonts}


def test_greek_and_cyrillic_names_are_embedded_and_read_back() -> None:
    name = "Αθηνά Παπαδοπούλου & Иван Петров"
    pdf = cached_renderer().render_pdf(sample_invoice(customer_name=name))
    plain = cached_renderer().render_pdf(sample_invoice())

    (text,) = page_texts(pdf)
    assert name in text
    assert _font_names(pdf) != _font_names(plain), "the name needs a wider subset"


def test_a_typical_invoice_embeds_small_subsets_and_polish_names_share_one_wider_one() -> None:
    """The PDF is e-mailed and SES bills attachments by size: the base subsets hold
    Latin-1, and a name beyond it adds its whole Unicode block, once per process."""
    plain = cached_renderer().render_pdf(sample_invoice())
    first = cached_renderer().render_pdf(sample_invoice(customer_name="Łódź Spółka z o.o."))
    second = cached_renderer().render_pdf(sample_invoice(customer_name="Zakład Gdańsk Sp. j."))

    assert len(plain) < 50_000, f"{len(plain)} bytes: the base subsets grew"
    assert _font_names(first) == _font_names(second) != _font_names(plain)
    assert "Łódź Spółka z o.o." in page_texts(first)[0]


def test_characters_the_font_lacks_print_as_their_plain_form_or_a_question_mark() -> None:
    pdf = cached_renderer().render_pdf(sample_invoice(customer_name="ＡＣＭＥ 株式会社"))

    (text,) = page_texts(pdf)
    assert "ACME ????" in text


def test_a_long_description_wraps_in_its_column_and_keeps_the_amount_on_its_first_line() -> None:
    invoice = sample_invoice()
    words = " ".join(f"word{index}" for index in range(40))
    long_line = invoice.lines[0].model_copy(update={"description": f"Consulting {words}"})
    pdf = cached_renderer().render_pdf(
        invoice.model_copy(update={"lines": (long_line, *invoice.lines[1:])})
    )

    (text,) = page_texts(pdf)
    first_row = next(row for row in text.splitlines() if row.startswith("1 Consulting"))
    assert first_row.endswith("1.234,56 €"), first_row
    assert "word39" in text and "word39" not in first_row
    for index in range(40):
        assert f"word{index}" in text


def test_document_information_agrees_with_the_xmp_packet(pdf_for: object) -> None:
    pdf = cached_renderer().render_pdf(sample_invoice())
    reader = pdf_reader(pdf)
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode("utf-8")
    info = reader.metadata

    assert info is not None
    assert info.title == "Rechnung INV-2026-000123"
    assert f'<rdf:li xml:lang="x-default">{info.title}</rdf:li>' in xmp
    assert f"<rdf:li>{info.author}</rdf:li>" in xmp
    assert f"<pdf:Producer>{info.producer}</pdf:Producer>" in xmp
    assert info["/CreationDate"] == "D:20261201000000Z"
    assert "<xmp:CreateDate>2026-12-01T00:00:00Z</xmp:CreateDate>" in xmp
    assert len(reader.trailer["/ID"]) == 2, "PDF/A requires a file identifier"
    for font in reader.pages[0]["/Resources"]["/Font"].values():
        assert "/ToUnicode" in font.get_object(), "text must stay searchable"


def test_fonts_missing_from_the_machine_give_an_installable_answer(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(FONT_DIRECTORY_ENV, str(tmp_path))

    with pytest.raises(FontUnavailableError, match="unset it to use the faces shipped in"):
        _font_directory()


def test_fonts_ship_inside_the_package_with_their_licence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(FONT_DIRECTORY_ENV, raising=False)

    directory = _font_directory()

    assert directory == BUNDLED_FONT_DIRECTORY
    assert {path.name for path in directory.iterdir()} >= {REGULAR_FACE, BOLD_FACE, "LICENSE"}


def test_logo_shapes_become_pdf_paths_in_logo_units() -> None:
    logo = parse_logo(
        "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 40 20'>"
        "<g fill='#f00'><path d='M1 2 h3 v4 l-2 0 Q 0 0 1 2 z'/></g>"
        "<circle cx='30' cy='10' r='5' fill='none' stroke='#000' stroke-width='2'/>"
        "<rect width='40' height='20' rx='3' fill='white'/></svg>",
        invoice_fonts(),
    )

    path, circle, rectangle = (shape.decode("ascii") for shape in logo.shapes)  # type: ignore[union-attr]
    assert (logo.width, logo.height) == (40.0, 20.0)
    assert path.startswith("1.000 0.000 0.000 rg 1.00 2.00 m 4.00 2.00 l 4.00 6.00 l 2.00 6.00 l")
    assert path.endswith("1.00 2.00 c h f")
    assert circle.startswith("0.000 0.000 0.000 RG 2.00 w 35.00 10.00 m") and circle.endswith(" S")
    assert rectangle.startswith("1.000 1.000 1.000 rg 3.00 0.00 m") and rectangle.endswith(" f")


@pytest.mark.parametrize(
    ("svg", "problem"),
    [
        ("<svg xmlns='http://www.w3.org/2000/svg'><image href='x.png'/></svg>", "<image>"),
        ("<svg xmlns='http://www.w3.org/2000/svg'><path d='M0 0 A 1 1 0 0 1 2 2'/></svg>", "'A'"),
        ("<svg xmlns='http://www.w3.org/2000/svg'><rect fill='rebeccapurple'/></svg>", "colour"),
        ("<svg xmlns='http://www.w3.org/2000/svg'><rect", "not well-formed"),
        ("<html/>", "<svg> element"),
    ],
)
def test_a_logo_the_renderer_cannot_draw_is_refused_with_the_reason(svg: str, problem: str) -> None:
    with pytest.raises(UnsupportedLogoError, match=problem):
        parse_logo(svg, invoice_fonts())


def test_retried_render_of_a_multi_page_invoice_is_byte_identical() -> None:
    invoice: Invoice = sample_invoice(line_count=45, customer_name="Ελένη")

    assert cached_renderer().render_pdf(invoice) == cached_renderer().render_pdf(invoice)


def test_a_prorated_line_prints_its_service_period_under_its_description() -> None:
    invoice = sample_invoice()
    prorated = invoice.lines[0].model_copy(update={"service_start": date(2026, 11, 15)})
    pdf = cached_renderer().render_pdf(
        invoice.model_copy(update={"lines": (prorated, *invoice.lines[1:])})
    )

    rows = page_texts(pdf)[0].splitlines()
    first = next(index for index, row in enumerate(rows) if row.startswith("1 Platform"))
    assert rows[first].endswith("1.234,56 €")
    assert rows[first + 1] == "Leistungszeitraum: 15.11.2026 – 30.11.2026"
    assert sum("Leistungszeitraum" in row for row in rows) == 1
