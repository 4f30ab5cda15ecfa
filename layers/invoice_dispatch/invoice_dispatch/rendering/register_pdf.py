"""The period's invoice register as a PDF, drawn with the invoice's own PDF code.

Same faces, colours and writer as the invoice (``pdf_document``), so there is one way of
drawing documents in this house (style.md: a new document reuses the layout code). The
register is archival (PDF/A-3b, no attachment): it is kept with the invoices it lists.
Amounts are printed as the register rows hold them (plain ``Decimal`` text, the CSV's
form), so an auditor can match the PDF and the CSV character for character.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from invoice_dispatch.audit.register import Amounts, RegisterDigest
from invoice_dispatch.rendering.pdf_document import (
    A4_HEIGHT,
    A4_WIDTH,
    MM,
    DocumentInfo,
    Page,
    TextRun,
    write_pdf,
)
from invoice_dispatch.rendering.pdf_fonts import FontSet, invoice_fonts
from invoice_dispatch.rendering.pdf_layout import MUTED, RULE, TEXT

LEFT = 14 * MM
RIGHT = A4_WIDTH - 14 * MM
TOP = A4_HEIGHT - 16 * MM
BOTTOM = 18 * MM
SIZE = 7.0
HASH_SIZE = 5.6
HEADING_SIZE = 13.0
ROW_HEIGHT = SIZE * 1.45
#: Per column: its title, where it is anchored (mm from the left margin) and whether it
#: is right-aligned (amounts end at their anchor, so decimal points line up).
ROW_COLUMNS = (
    ("Number", 0.0, False),
    ("Issued", 28 * MM, False),
    ("Customer", 46 * MM, False),
    ("Cur.", 98 * MM, False),
    ("Rate", 122 * MM, True),
    ("Net", 144 * MM, True),
    ("Tax", 163 * MM, True),
    ("Gross", 182 * MM, True),
)
TOTAL_COLUMNS = (
    ("Currency", 0.0, False),
    ("Tax category", 22 * MM, False),
    ("Rate %", 80 * MM, True),
    ("Net", 120 * MM, True),
    ("Tax", 150 * MM, True),
    ("Gross", 182 * MM, True),
)
BLOCK_COLUMNS = (
    ("Numbers", 0.0, False),
    ("Invoices", 80 * MM, True),
    ("Currency", 86 * MM, False),
    ("Net", 130 * MM, True),
    ("Tax", 155 * MM, True),
    ("Gross", 182 * MM, True),
)
Columns = tuple[tuple[str, float, bool], ...]


class _Pages:
    """A cursor down A4 pages: text rows that start a new page when the bottom is near."""

    def __init__(self, fonts: FontSet, heading: Callable[[], None] | None = None) -> None:
        self.fonts = fonts
        self.pages: list[Page] = []
        self.y = 0.0
        self.heading = heading
        self.new_page()

    def new_page(self) -> None:
        self.pages.append(Page())
        self.y = TOP
        if self.heading is not None:
            self.heading()

    def need(self, height: float) -> None:
        if self.y - height < BOTTOM:
            self.new_page()

    def text(
        self, x: float, text: str, size: float = SIZE, *, bold: bool = False, right: bool = False
    ) -> None:
        face = self.fonts.bold if bold else self.fonts.regular
        printable = face.printable(text)
        start = x - face.width(printable, size) if right else x
        fill = MUTED if size == HASH_SIZE else TEXT
        self.pages[-1].text(TextRun(start, self.y - size, printable, bold, size, fill))

    def fit(self, text: str, width: float) -> str:
        """``text`` cut with an ellipsis to ``width``: a long customer name stays in its column."""
        face = self.fonts.regular
        while text and face.width(face.printable(text), SIZE) > width:
            text = text[:-2] + "…" if len(text) > 2 else ""
        return text

    def row(self, columns: Columns, values: list[str], bold: bool = False) -> None:
        self.need(ROW_HEIGHT)
        for (_title, anchor, right), value in zip(columns, values, strict=True):
            self.text(LEFT + anchor, value, bold=bold, right=right)
        self.y -= ROW_HEIGHT

    def header(self, columns: Columns) -> None:
        self.need(3 * ROW_HEIGHT)
        self.row(columns, [title for title, _left, _right in columns], bold=True)
        self.pages[-1].rule(LEFT, self.y + 2, RIGHT, self.y + 2, 0.5, RULE)

    def gap(self, height: float) -> None:
        self.y -= height


def _amounts(amounts: Amounts) -> list[str]:
    return [str(amounts.net), str(amounts.tax), str(amounts.gross)]


def render_register_pdf(digest: RegisterDigest, seller: str, generated_at: datetime) -> bytes:
    """The register: totals per currency and tax rate, then every invoice (or every block)."""
    fonts = invoice_fonts()
    title = f"Invoice register {digest.period}"
    cursor = _Pages(fonts)
    cursor.text(LEFT, title, HEADING_SIZE, bold=True)
    cursor.gap(HEADING_SIZE * 1.6)
    cursor.text(
        LEFT,
        f"{seller} · {digest.invoices} invoice(s), {digest.credit_notes} credit note(s) · "
        f"generated {generated_at.isoformat(timespec='seconds')}",
    )
    cursor.gap(ROW_HEIGHT * 2)
    cursor.text(LEFT, "Totals per currency and tax rate", 9.0, bold=True)
    cursor.gap(ROW_HEIGHT * 1.5)
    cursor.header(TOTAL_COLUMNS)
    for (currency, category, rate), amounts in digest.totals_in_order():
        cursor.row(TOTAL_COLUMNS, [currency, category, str(rate), *_amounts(amounts)])
    cursor.gap(ROW_HEIGHT * 2)
    if digest.detailed:
        _invoice_rows(cursor, digest)
    else:
        _block_rows(cursor, digest)
    for number, page in enumerate(cursor.pages, start=1):
        label = f"{title} · page {number} of {len(cursor.pages)}"
        face = fonts.regular
        page.text(
            TextRun(RIGHT - face.width(label, SIZE), BOTTOM - 8 * MM, label, False, SIZE, MUTED)
        )
    info = DocumentInfo(title, seller, "en", generated_at.date())
    return write_pdf(cursor.pages, fonts, info, None, archival=True)


def _invoice_rows(cursor: _Pages, digest: RegisterDigest) -> None:
    cursor.text(
        LEFT, "Invoices (SHA-256 of each PDF as recorded when it was locked)", 9.0, bold=True
    )
    cursor.gap(ROW_HEIGHT * 1.5)
    cursor.heading = lambda: cursor.header(ROW_COLUMNS)
    cursor.header(ROW_COLUMNS)
    customer_width = ROW_COLUMNS[3][1] - ROW_COLUMNS[2][1] - 3 * MM
    for row in digest.rows_in_number_order():
        cursor.need(ROW_HEIGHT + HASH_SIZE * 1.5)
        cursor.row(
            ROW_COLUMNS,
            [
                row.number,
                row.issue_date.isoformat(),
                cursor.fit(row.customer, customer_width),
                row.currency,
                f"{row.tax_category} {row.tax_rate}",
                str(row.net),
                str(row.tax),
                str(row.gross),
            ],
        )
        credited = f"   credited by {', '.join(row.credit_notes)}" if row.credit_notes else ""
        cursor.text(LEFT, f"SHA-256 {row.pdf_sha256}{credited}", HASH_SIZE)
        cursor.gap(HASH_SIZE * 1.5)


def _block_rows(cursor: _Pages, digest: RegisterDigest) -> None:
    cursor.text(
        LEFT, "Invoices per block of numbers (every invoice is in register.csv)", 9.0, bold=True
    )
    cursor.gap(ROW_HEIGHT * 1.5)
    cursor.heading = lambda: cursor.header(BLOCK_COLUMNS)
    cursor.header(BLOCK_COLUMNS)
    for block in digest.blocks_in_number_order():
        for currency, amounts in sorted(block.by_currency.items()):
            numbers = f"{block.first} to {block.last}"
            cursor.row(BLOCK_COLUMNS, [numbers, str(block.invoices), currency, *_amounts(amounts)])
