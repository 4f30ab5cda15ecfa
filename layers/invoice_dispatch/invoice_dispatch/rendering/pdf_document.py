"""Pages drawn as PDF operators, written with pydyf (WeasyPrint's PDF writer) as PDF/A-3b.

The invoice is a fixed design whose every position the renderer computes itself (see
``pdf.py``), so drawing needs no layout engine: text runs in two embedded faces, filled
rectangles, rules and vector paths. This module turns those into a PDF:

* fonts are chosen once the whole document's text is known, so every page shares one
  subset per face (the cached one unless an unusual character needs its own);
* a finalized invoice is written as PDF/A-3b (ISO 19005-3): XMP metadata agreeing with the
  document information dictionary, an sRGB output intent, every font embedded, and the
  Factur-X XML as an associated file with the "Data" relationship (Factur-X 1.0, 6.2);
* the same inputs always give the same bytes (dates come from the invoice, the file
  identifier from the content), so a retried finalize stores an identical PDF.
"""

from __future__ import annotations

import hashlib
import io
import zlib
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib.resources import files

import pydyf

from invoice_dispatch.rendering.pdf_fonts import FontFace, FontProgram, FontSet
from invoice_dispatch.rendering.pdf_metadata import xmp_packet

A4_WIDTH = 595.28
A4_HEIGHT = 841.89
MM = 72 / 25.4

Colour = tuple[float, float, float]


def colour(hex_colour: str) -> Colour:
    """``#1f4e79`` as PDF's 0..1 RGB components."""
    value = hex_colour.lstrip("#")
    return (int(value[0:2], 16) / 255, int(value[2:4], 16) / 255, int(value[4:6], 16) / 255)


@dataclass(frozen=True)
class TextRun:
    """Printable text (see ``FontFace.printable``) whose baseline starts at (x, y)."""

    x: float
    y: float
    text: str
    bold: bool
    size: float
    fill: Colour
    angle_matrix: tuple[float, float, float, float] = (1, 0, 0, 1)


@dataclass
class Page:
    """One page's drawing, in painting order; text stays text until fonts are chosen."""

    operations: list[TextRun | bytes] = field(default_factory=list)

    def text(self, run: TextRun) -> None:
        self.operations.append(run)

    def graphics(self, operators: str) -> None:
        self.operations.append(operators.encode("ascii"))

    def rectangle(self, x: float, y: float, width: float, height: float, fill: Colour) -> None:
        self.graphics(f"{_rgb(fill)} rg {x:.2f} {y:.2f} {width:.2f} {height:.2f} re f")

    def rule(
        self, x1: float, y1: float, x2: float, y2: float, width: float, stroke: Colour
    ) -> None:
        self.graphics(f"{_rgb(stroke)} RG {width:.2f} w {x1:.2f} {y1:.2f} m {x2:.2f} {y2:.2f} l S")

    def rounded_rectangle(
        self, x: float, y: float, width: float, height: float, radius: float, fill: Colour
    ) -> None:
        self.graphics(f"{_rgb(fill)} rg {rounded_rectangle_path(x, y, width, height, radius)} f")


def rounded_rectangle_path(x: float, y: float, width: float, height: float, radius: float) -> str:
    """A closed rectangle path from (x, y) to (x + width, y + height) with round corners.

    The same outline whichever way the y axis points, so SVG logos use it too.
    """
    k = radius * 0.5523  # Bezier handle length for a quarter circle
    x2, y2 = x + width, y + height
    return (
        f"{x + radius:.2f} {y:.2f} m {x2 - radius:.2f} {y:.2f} l "
        f"{x2 - radius + k:.2f} {y:.2f} {x2:.2f} {y + radius - k:.2f} {x2:.2f} {y + radius:.2f} c "
        f"{x2:.2f} {y2 - radius:.2f} l "
        f"{x2:.2f} {y2 - radius + k:.2f} {x2 - radius + k:.2f} {y2:.2f} "
        f"{x2 - radius:.2f} {y2:.2f} c "
        f"{x + radius:.2f} {y2:.2f} l "
        f"{x + radius - k:.2f} {y2:.2f} {x:.2f} {y2 - radius + k:.2f} {x:.2f} {y2 - radius:.2f} c "
        f"{x:.2f} {y + radius:.2f} l "
        f"{x:.2f} {y + radius - k:.2f} {x + radius - k:.2f} {y:.2f} {x + radius:.2f} {y:.2f} c h"
    )


@dataclass(frozen=True)
class DocumentInfo:
    """What the document information dictionary and the XMP packet both say."""

    title: str
    author: str
    language: str
    created: date | None


@dataclass(frozen=True)
class EmbeddedXml:
    """The Factur-X XML attached as the invoice's associated file."""

    filename: str
    description: str
    content: bytes
    relationship: str


def write_pdf(
    pages: list[Page],
    fonts: FontSet,
    info: DocumentInfo,
    attachment: EmbeddedXml | None,
    *,
    archival: bool = False,
) -> bytes:
    """The pages as PDF 1.7; with an attachment (or ``archival``), as PDF/A-3b carrying it.

    A finalized invoice is always PDF/A-3b; one whose currency EN 16931 cannot state (three
    decimals, see ``facturx_xml.facturx_applies``) is archival without an attachment.
    """
    pdf = pydyf.PDF()
    programs = _programs_for(pages, fonts)
    font_references = {
        bold: _add_font(pdf, program) for bold, program in programs.items() if program is not None
    }
    font_resources = pydyf.Dictionary(
        {f"F{int(bold)}": reference for bold, reference in font_references.items()}
    )
    contents = [_content(page, programs) for page in pages]
    for content_bytes in contents:
        content = pydyf.Stream([content_bytes], compress=True)
        pdf.add_object(content)
        pdf.add_page(
            pydyf.Dictionary(
                {
                    "Type": "/Page",
                    "Parent": pdf.pages.reference,
                    "MediaBox": pydyf.Array([0, 0, A4_WIDTH, A4_HEIGHT]),
                    "Contents": content.reference,
                    "Resources": pydyf.Dictionary({"Font": font_resources}),
                }
            )
        )
    pdf.catalog["Lang"] = pydyf.String(info.language)
    _add_information(pdf, info)
    if attachment is not None or archival:
        _make_pdf_a_3b(pdf, info, attachment)
    output = io.BytesIO()
    # The file identifier PDF/A asks for, derived from the content: same invoice, same bytes.
    fingerprint = hashlib.md5(usedforsecurity=False)
    for content_bytes in contents:
        fingerprint.update(content_bytes)
    fingerprint.update(attachment.content if attachment else b"")
    pdf.write(output, version=b"1.7", identifier=fingerprint.hexdigest().encode("ascii"))
    return output.getvalue()


def _programs_for(pages: list[Page], fonts: FontSet) -> dict[bool, FontProgram | None]:
    text_by_face: dict[bool, list[str]] = {False: [], True: []}
    for page in pages:
        for operation in page.operations:
            if isinstance(operation, TextRun):
                text_by_face[operation.bold].append(operation.text)
    faces: dict[bool, FontFace] = {False: fonts.regular, True: fonts.bold}
    return {
        bold: faces[bold].program_for_text("".join(texts)) if texts else None
        for bold, texts in text_by_face.items()
    }


def _content(page: Page, programs: dict[bool, FontProgram | None]) -> bytes:
    parts = []
    for operation in page.operations:
        if isinstance(operation, bytes):
            parts.append(operation)
            continue
        program = programs[operation.bold]
        assert program is not None, "a face is embedded whenever a run uses it"
        a, b, c, d = operation.angle_matrix
        parts.append(
            f"BT /F{int(operation.bold)} {operation.size:g} Tf {_rgb(operation.fill)} rg "
            f"{a:g} {b:g} {c:g} {d:g} {operation.x:.2f} {operation.y:.2f} Tm ".encode("ascii")
            + program.encode(operation.text)
            + b" Tj ET"
        )
    return b"\n".join(parts)


def _add_font(pdf: pydyf.PDF, program: FontProgram) -> bytes:
    font_file = pydyf.Stream(
        [program.compressed_program],
        {"Filter": "/FlateDecode", "Length1": program.program_length},
    )
    pdf.add_object(font_file)
    descriptor = pydyf.Dictionary(
        {
            "Type": "/FontDescriptor",
            "FontName": pydyf.name(program.base_name),
            "Flags": 32,  # non-symbolic: Latin text
            "FontBBox": pydyf.Array(program.bbox),
            "ItalicAngle": 0,
            "Ascent": program.ascent,
            "Descent": program.descent,
            "CapHeight": program.cap_height,
            "StemV": 80,
            "FontFile2": font_file.reference,
        }
    )
    pdf.add_object(descriptor)
    descendant = pydyf.Dictionary(
        {
            "Type": "/Font",
            "Subtype": "/CIDFontType2",
            "BaseFont": pydyf.name(program.base_name),
            "CIDSystemInfo": pydyf.Dictionary(
                {
                    "Registry": pydyf.String("Adobe"),
                    "Ordering": pydyf.String("Identity"),
                    "Supplement": 0,
                }
            ),
            "FontDescriptor": descriptor.reference,
            "W": pydyf.Array([0, pydyf.Array(program.widths)]),
            "CIDToGIDMap": "/Identity",
        }
    )
    pdf.add_object(descendant)
    to_unicode = pydyf.Stream([program.to_unicode], compress=True)
    pdf.add_object(to_unicode)
    font = pydyf.Dictionary(
        {
            "Type": "/Font",
            "Subtype": "/Type0",
            "BaseFont": pydyf.name(program.base_name),
            "Encoding": "/Identity-H",
            "DescendantFonts": pydyf.Array([descendant.reference]),
            "ToUnicode": to_unicode.reference,
        }
    )
    pdf.add_object(font)
    return font.reference


def _add_information(pdf: pydyf.PDF, info: DocumentInfo) -> None:
    pdf.info["Title"] = pydyf.String(info.title)
    pdf.info["Author"] = pydyf.String(info.author)
    pdf.info["Creator"] = pydyf.String(PRODUCER)
    pdf.info["Producer"] = pydyf.String(PRODUCER)
    if info.created is not None:
        stamp = f"D:{info.created:%Y%m%d}000000Z"
        pdf.info["CreationDate"] = pydyf.String(stamp)
        pdf.info["ModDate"] = pydyf.String(stamp)


PRODUCER = "invoice-dispatch"


def _make_pdf_a_3b(pdf: pydyf.PDF, info: DocumentInfo, attachment: EmbeddedXml | None) -> None:
    metadata = pydyf.Stream(
        [
            xmp_packet(
                info.title, info.author, PRODUCER, info.created, facturx=attachment is not None
            )
        ],
        {"Type": "/Metadata", "Subtype": "/XML"},
    )
    pdf.add_object(metadata)
    pdf.catalog["Metadata"] = metadata.reference

    profile = pydyf.Stream([_srgb_profile()], {"N": 3, "Filter": "/FlateDecode"})
    pdf.add_object(profile)
    pdf.catalog["OutputIntents"] = pydyf.Array(
        [
            pydyf.Dictionary(
                {
                    "Type": "/OutputIntent",
                    "S": "/GTS_PDFA1",
                    "OutputConditionIdentifier": pydyf.String("sRGB IEC61966-2.1"),
                    "Info": pydyf.String("sRGB IEC61966-2.1"),
                    "DestOutputProfile": profile.reference,
                }
            )
        ]
    )

    if attachment is None:
        return
    stamp = f"D:{info.created:%Y%m%d}000000Z" if info.created else None
    parameters = pydyf.Dictionary(
        {
            "Size": len(attachment.content),
            "CheckSum": f"<{hashlib.md5(attachment.content, usedforsecurity=False).hexdigest()}>",
        }
    )
    if stamp:
        parameters["CreationDate"] = pydyf.String(stamp)
        parameters["ModDate"] = pydyf.String(stamp)
    embedded = pydyf.Stream(
        [zlib.compress(attachment.content)],
        {
            "Type": "/EmbeddedFile",
            "Subtype": pydyf.name("text/xml"),
            "Filter": "/FlateDecode",
            "Params": parameters,
        },
    )
    pdf.add_object(embedded)
    file_spec = pydyf.Dictionary(
        {
            "Type": "/Filespec",
            "F": pydyf.String(attachment.filename),
            "UF": pydyf.String(attachment.filename),
            "Desc": pydyf.String(attachment.description),
            "AFRelationship": pydyf.name(attachment.relationship),
            "EF": pydyf.Dictionary({"F": embedded.reference, "UF": embedded.reference}),
        }
    )
    pdf.add_object(file_spec)
    pdf.catalog["Names"] = pydyf.Dictionary(
        {
            "EmbeddedFiles": pydyf.Dictionary(
                {"Names": pydyf.Array([pydyf.String(attachment.filename), file_spec.reference])}
            )
        }
    )
    pdf.catalog["AF"] = pydyf.Array([file_spec.reference])


@cache
def _srgb_profile() -> bytes:
    """The sRGB ICC profile (ICC's sRGB2014, freely redistributable), compressed once."""
    return zlib.compress(
        files("invoice_dispatch.rendering").joinpath("sRGB2014.icc").read_bytes(), 9
    )


def _rgb(fill: Colour) -> str:
    return f"{fill[0]:.3f} {fill[1]:.3f} {fill[2]:.3f}"
