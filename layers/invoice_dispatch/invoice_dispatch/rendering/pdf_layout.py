"""The invoice's page design: where every block goes, on as many A4 pages as it needs.

An invoice is one fixed design, so its layout is written out here rather than derived
from HTML and CSS by a general engine (which costs about a millisecond per text box on
these machines, a hundred milliseconds per invoice; this costs a few). The design is the
one ``templates/invoice/invoice.css`` gives the HTML view: masthead (logo, seller), the
recipient beside the invoice facts, the title, the lines table, then tax breakdown,
totals, payment details and closing note kept together; a legal footer and "Page x of y"
on every page, the title in the top margin from page 2, a DRAFT watermark on drafts.

Text is emitted in reading order (a row's cells left to right, a label before its value),
so text extraction, screen readers and copy-paste read the invoice as a person does.
Sizes are in points; CSS millimetres are converted with ``MM``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from invoice_dispatch.legal_entity import LegalEntity
from invoice_dispatch.rendering.invoice_view import InvoiceView, LineView
from invoice_dispatch.rendering.pdf_document import (
    A4_HEIGHT,
    A4_WIDTH,
    MM,
    Colour,
    Page,
    TextRun,
    colour,
)
from invoice_dispatch.rendering.pdf_fonts import FontSet
from invoice_dispatch.rendering.svg_logo import Logo

LEFT = 18 * MM
RIGHT = A4_WIDTH - 16 * MM
TOP = A4_HEIGHT - 16 * MM
BOTTOM = 30 * MM
WIDTH = RIGHT - LEFT
LINE_HEIGHT = 1.4
#: Where the first baseline sits below the top of a line box, per point of font size:
#: half the leading (1.4 - 1.164) / 2 plus DejaVu Sans' ascent 0.928.
BASELINE_DROP = 1.046

TEXT = colour("#1f2933")
MUTED = colour("#6b7280")
SOFT = colour("#4b5563")
RULE = colour("#d9dee5")
ZEBRA = colour("#f6f8fa")
PAYMENT_BACKGROUND = colour("#f3f6f9")
NOTICE_BACKGROUND = colour("#fff8e6")
WATERMARK = colour("#f8e2e2")  # rgba(200, 30, 30, 0.13) over white, without transparency
WHITE = colour("#ffffff")

BODY_SIZE = 8.5
SMALL_SIZE = 7.5
SERVICE_PERIOD_SIZE = 7.0
CELL_PADDING_X = 2 * MM
CELL_PADDING_Y = 1.8 * MM
#: Lines table columns: position, quantity, unit price, VAT rate, amount (with padding);
#: the description takes what is left.
COLUMN_WIDTHS = (9 * MM, 19 * MM, 24 * MM, 13 * MM, 27 * MM)


@dataclass(frozen=True)
class Brand:
    primary: Colour
    accent: Colour
    logo: Logo | None


class InvoiceLayout:
    """Draws one invoice view onto pages; build per invoice, call ``pages()`` once."""

    def __init__(self, view: InvoiceView, seller: LegalEntity, brand: Brand, fonts: FontSet):
        self._view = view
        self._seller = seller
        self._brand = brand
        self._fonts = fonts
        self._pages: list[Page] = []
        self._page = self._new_page()
        self._y = TOP

    def pages(self) -> list[Page]:
        self._masthead()
        self._parties()
        self._title()
        self._lines_table()
        self._settlement()
        for number, page in enumerate(self._pages, start=1):
            self._page_frame(page, number, len(self._pages))
        return self._pages

    # ----------------------------------------------------------------- text helpers
    def _text(
        self,
        x: float,
        baseline: float,
        text: str,
        size: float = BODY_SIZE,
        bold: bool = False,
        fill: Colour = TEXT,
        page: Page | None = None,
        right: bool = False,
    ) -> float:
        """Draw ``text`` from x (or ending at x when ``right``); returns its width."""
        face = self._fonts.bold if bold else self._fonts.regular
        printable = face.printable(text)
        width = face.width(printable, size)
        start = x - width if right else x
        (page or self._page).text(TextRun(start, baseline, printable, bold, size, fill))
        return width

    def _width(self, text: str, size: float, bold: bool = False) -> float:
        face = self._fonts.bold if bold else self._fonts.regular
        return face.width(face.printable(text), size)

    def _wrap(self, text: str, width: float, size: float, bold: bool = False) -> list[str]:
        """Greedy word wrap; a word longer than the line is cut where it must be."""
        lines: list[str] = []
        current = ""
        for word in text.split(" "):
            candidate = f"{current} {word}" if current else word
            if self._width(candidate, size, bold) <= width:
                current = candidate
                continue
            if current:
                lines.append(current)
            while self._width(word, size, bold) > width and len(word) > 1:
                cut = len(word) - 1
                while cut > 1 and self._width(word[:cut], size, bold) > width:
                    cut -= 1
                lines.append(word[:cut])
                word = word[cut:]
            current = word
        lines.append(current)
        return lines

    def _new_page(self) -> Page:
        page = Page()
        if self._view.is_draft:
            self._watermark(page)
        self._pages.append(page)
        return page

    def _break_page(self) -> None:
        self._page = self._new_page()
        self._y = TOP

    # ----------------------------------------------------------------- blocks
    def _masthead(self) -> None:
        view, seller = self._view, self._seller
        logo_height = 13 * MM
        if self._brand.logo is not None:
            self._brand.logo.draw(self._page, LEFT, TOP, logo_height)
        name_size, detail_size = 9.0, SMALL_SIZE
        baseline = TOP - BASELINE_DROP * name_size
        self._text(RIGHT, baseline, seller.name, name_size, True, self._brand.primary, right=True)
        details = [*view.seller_address]
        if seller.vat_id:
            details.append(f"{view.t['vat_id']} {seller.vat_id}")
        details.append(seller.email)
        block_top = TOP - name_size * LINE_HEIGHT
        for index, detail in enumerate(details):
            line_top = block_top - index * detail_size * LINE_HEIGHT
            self._text(
                RIGHT,
                line_top - BASELINE_DROP * detail_size,
                detail,
                detail_size,
                fill=SOFT,
                right=True,
            )
        seller_height = name_size * LINE_HEIGHT + len(details) * detail_size * LINE_HEIGHT
        bottom = TOP - max(logo_height, seller_height) - 4 * MM
        self._page.rule(LEFT, bottom - 1.25, RIGHT, bottom - 1.25, 2.5, self._brand.primary)
        self._y = bottom - 2.5

    def _parties(self) -> None:
        view = self._view
        top = self._y - 9 * MM
        caption_size, name_size = 7.0, 10.0
        y = top
        self._text(
            LEFT,
            y - BASELINE_DROP * caption_size,
            view.t["bill_to"].upper(),
            caption_size,
            fill=MUTED,
        )
        y -= caption_size * LINE_HEIGHT
        self._text(LEFT, y - BASELINE_DROP * name_size, view.customer_name, name_size, True)
        y -= name_size * LINE_HEIGHT
        address = [*view.customer_address]
        if view.customer_vat_id:
            address.append(f"{view.t['vat_id']} {view.customer_vat_id}")
        for line in address:
            self._text(LEFT, y - BASELINE_DROP * BODY_SIZE, line, BODY_SIZE)
            y -= BODY_SIZE * LINE_HEIGHT
        left_bottom = y

        facts_left = LEFT + 0.52 * WIDTH
        row_height = BODY_SIZE * LINE_HEIGHT + 2 * 0.6 * MM
        y = top
        for label, value in view.facts:
            baseline = y - 0.6 * MM - BASELINE_DROP * BODY_SIZE
            self._text(facts_left, baseline, label.upper(), caption_size, fill=MUTED)
            self._text(RIGHT, baseline, value, BODY_SIZE, True, right=True)
            y -= row_height
        self._y = min(left_bottom, y)

    def _title(self) -> None:
        view = self._view
        size = 17.0
        top = self._y - 10 * MM
        baseline = top - BASELINE_DROP * size
        heading = f"{view.document_name} " if view.number else view.document_name
        width = self._text(LEFT, baseline, heading, size, True, self._brand.primary)
        if view.number:
            self._text(LEFT + width, baseline, view.number, size)
        self._y = top - size * LINE_HEIGHT - 4 * MM
        if view.is_draft:
            self._draft_notice()

    def _draft_notice(self) -> None:
        padding_x, padding_y = 3 * MM, 2 * MM
        lines = self._wrap(self._view.t["draft_notice"], WIDTH - 2 * padding_x - 3, BODY_SIZE)
        height = 2 * padding_y + len(lines) * BODY_SIZE * LINE_HEIGHT
        self._page.rectangle(LEFT, self._y - height, WIDTH, height, NOTICE_BACKGROUND)
        self._page.rectangle(LEFT, self._y - height, 3, height, self._brand.accent)
        y = self._y - padding_y
        for line in lines:
            self._text(LEFT + 3 + padding_x, y - BASELINE_DROP * BODY_SIZE, line)
            y -= BODY_SIZE * LINE_HEIGHT
        self._y -= height + 4 * MM

    def _column_edges(self) -> list[float]:
        """Left edge of each of the six columns, and the table's right edge."""
        position, quantity, unit_price, tax_rate, amount = COLUMN_WIDTHS
        description = WIDTH - sum(COLUMN_WIDTHS)
        edges = [LEFT]
        for width in (position, description, quantity, unit_price, tax_rate, amount):
            edges.append(edges[-1] + width)
        return edges

    def _lines_table(self) -> None:
        edges = self._column_edges()
        self._table_header(edges)
        description_width = edges[2] - edges[1] - 2 * CELL_PADDING_X
        for index, line in enumerate(self._view.lines):
            description = self._wrap(line.description, description_width, BODY_SIZE)
            period = (
                self._wrap(
                    f"{self._view.t['service_period']}: {line.service_period}",
                    description_width,
                    SERVICE_PERIOD_SIZE,
                )
                if line.service_period
                else []
            )
            height = (
                2 * CELL_PADDING_Y
                + len(description) * BODY_SIZE * LINE_HEIGHT
                + len(period) * SERVICE_PERIOD_SIZE * LINE_HEIGHT
            )
            if self._y - height < BOTTOM:
                self._break_page()
                self._table_header(edges)
            self._table_row(edges, line, description, period, height, zebra=index % 2 == 1)

    def _table_header(self, edges: list[float]) -> None:
        t = self._view.t
        height = SMALL_SIZE * LINE_HEIGHT + 2 * CELL_PADDING_Y
        self._page.rectangle(LEFT, self._y - height, WIDTH, height, self._brand.primary)
        baseline = self._y - CELL_PADDING_Y - BASELINE_DROP * SMALL_SIZE
        labels = [
            t["position"],
            t["description"],
            t["quantity"],
            t["unit_price"],
            t["tax_rate"],
            t["amount"],
        ]
        for column, label in enumerate(labels):
            if column < 2:
                self._text(edges[column] + CELL_PADDING_X, baseline, label, SMALL_SIZE, True, WHITE)
            else:
                self._text(
                    edges[column + 1] - CELL_PADDING_X,
                    baseline,
                    label,
                    SMALL_SIZE,
                    True,
                    WHITE,
                    right=True,
                )
        self._y -= height

    def _table_row(
        self,
        edges: list[float],
        line: LineView,
        description: list[str],
        period: list[str],
        height: float,
        zebra: bool,
    ) -> None:
        top = self._y
        if zebra:
            self._page.rectangle(LEFT, top - height, WIDTH, height, ZEBRA)
        self._page.rule(LEFT, top - height, RIGHT, top - height, 0.5, RULE)
        baseline = top - CELL_PADDING_Y - BASELINE_DROP * BODY_SIZE
        self._text(edges[0] + CELL_PADDING_X, baseline, str(line.position), fill=MUTED)
        self._text(edges[1] + CELL_PADDING_X, baseline, description[0])
        for column, value in enumerate(
            (line.quantity, line.unit_price, line.tax_rate, line.net_amount), start=3
        ):
            self._text(edges[column] - CELL_PADDING_X, baseline, value, right=True)
        for index, continued in enumerate(description[1:], start=1):
            self._text(
                edges[1] + CELL_PADDING_X, baseline - index * BODY_SIZE * LINE_HEIGHT, continued
            )
        # The service period's line boxes follow the description's, in the smaller size.
        period_top = top - CELL_PADDING_Y - len(description) * BODY_SIZE * LINE_HEIGHT
        for index, text in enumerate(period):
            period_baseline = period_top - index * SERVICE_PERIOD_SIZE * LINE_HEIGHT
            self._text(
                edges[1] + CELL_PADDING_X,
                period_baseline - BASELINE_DROP * SERVICE_PERIOD_SIZE,
                text,
                SERVICE_PERIOD_SIZE,
                fill=MUTED,
            )
        self._y = top - height

    def _settlement(self) -> None:
        """Tax breakdown, totals, payment and closing note: measured, then kept on one page."""
        if self._y - self._settlement_height() < BOTTOM:
            self._break_page()
        self._summary()
        self._payment()
        self._closing()

    def _settlement_height(self) -> float:
        return (
            5 * MM
            + max(self._tax_breakdown(draw=False), self._totals(draw=False))
            + self._payment(draw=False)
            + self._closing(draw=False)
        )

    def _summary(self) -> None:
        self._y -= 5 * MM
        height = max(self._tax_breakdown(draw=True), self._totals(draw=True))
        self._y -= height

    def _tax_breakdown(self, draw: bool) -> float:
        view = self._view
        size, padding_x, padding_y = SMALL_SIZE, 1.5 * MM, 1 * MM
        line = size * LINE_HEIGHT
        width = 0.52 * WIDTH
        column = width / 3
        y = self._y
        if draw:
            self._text(LEFT, y - BASELINE_DROP * size, view.t["tax_breakdown"], size, True)
        y -= line + 1 * MM
        row_height = line + 2 * padding_y
        if draw:
            baseline = y - padding_y - BASELINE_DROP * size
            self._text(LEFT + padding_x, baseline, view.t["tax_rate"], size, fill=MUTED)
            self._text(
                LEFT + 2 * column - padding_x,
                baseline,
                view.t["taxable_amount"],
                size,
                fill=MUTED,
                right=True,
            )
            self._text(
                LEFT + width - padding_x,
                baseline,
                view.t["tax_amount"],
                size,
                fill=MUTED,
                right=True,
            )
            self._page.rule(LEFT, y - row_height, LEFT + width, y - row_height, 0.5, RULE)
        y -= row_height
        for row in view.tax_rows:
            if draw:
                baseline = y - padding_y - BASELINE_DROP * size
                self._text(LEFT + padding_x, baseline, row.rate, size)
                self._text(
                    LEFT + 2 * column - padding_x, baseline, row.taxable_amount, size, right=True
                )
                self._text(LEFT + width - padding_x, baseline, row.tax_amount, size, right=True)
            y -= row_height
            if row.note:
                for note_line in self._wrap(row.note, width - 2 * padding_x, size):
                    if draw:
                        self._text(
                            LEFT + padding_x, y - BASELINE_DROP * size, note_line, size, fill=SOFT
                        )
                    y -= line
                y -= padding_y
        return self._y - y

    def _totals(self, draw: bool) -> float:
        view = self._view
        left = LEFT + 0.6 * WIDTH
        padding_x, padding_y = 2 * MM, 1 * MM
        row_height = BODY_SIZE * LINE_HEIGHT + 2 * padding_y
        y = self._y
        for label, value in (
            (view.t["net_total"], view.net_total),
            (view.t["tax_total"], view.tax_total),
        ):
            if draw:
                baseline = y - padding_y - BASELINE_DROP * BODY_SIZE
                self._text(left + padding_x, baseline, label)
                self._text(RIGHT - padding_x, baseline, value, right=True)
            y -= row_height
        gross_size, gross_padding = 10.5, 2 * MM
        gross_height = gross_size * LINE_HEIGHT + 2 * gross_padding + 1.5 + 3
        if draw:
            self._page.rule(left, y - 0.75, RIGHT, y - 0.75, 1.5, self._brand.primary)
            baseline = y - 1.5 - gross_padding - BASELINE_DROP * gross_size
            self._text(left + padding_x, baseline, view.t["gross_total"], gross_size, True)
            self._text(RIGHT - padding_x, baseline, view.gross_total, gross_size, True, right=True)
            bottom = y - gross_height
            self._page.rule(left, bottom + 1.5, RIGHT, bottom + 1.5, 3, self._brand.accent)
        y -= gross_height
        return self._y - y

    def _payment(self, draw: bool = True) -> float:
        view = self._view
        padding_x, padding_y = 4 * MM, 3 * MM
        heading_size = 9.5
        inner = WIDTH - 2 * padding_x
        paragraph = self._wrap(view.payment_text, inner, BODY_SIZE)
        row_height = BODY_SIZE * LINE_HEIGHT + 0.8 * MM
        height = (
            2 * padding_y
            + heading_size * LINE_HEIGHT
            + 1.5 * MM
            + len(paragraph) * BODY_SIZE * LINE_HEIGHT
            + 2 * MM
            + len(view.payment_rows) * row_height
        )
        if not draw:
            return 7 * MM + height
        top = self._y - 7 * MM
        self._page.rounded_rectangle(LEFT, top - height, WIDTH, height, 2 * MM, PAYMENT_BACKGROUND)
        x = LEFT + padding_x
        y = top - padding_y
        self._text(
            x,
            y - BASELINE_DROP * heading_size,
            view.t["payment"],
            heading_size,
            True,
            self._brand.primary,
        )
        y -= heading_size * LINE_HEIGHT + 1.5 * MM
        for line in paragraph:
            self._text(x, y - BASELINE_DROP * BODY_SIZE, line)
            y -= BODY_SIZE * LINE_HEIGHT
        y -= 2 * MM
        value_x = x + 0.35 * 0.6 * inner
        for label, value in view.payment_rows:
            baseline = y - 0.4 * MM - BASELINE_DROP * BODY_SIZE
            self._text(x, baseline, label, fill=MUTED)
            self._text(value_x, baseline, value, bold=True)
            y -= row_height
        self._y = top - height
        return 7 * MM + height

    def _closing(self, draw: bool = True) -> float:
        note = self._view.closing_note
        if not note:
            return 0.0
        lines = self._wrap(note, WIDTH, BODY_SIZE)
        if draw:
            y = self._y - 6 * MM
            for line in lines:
                self._text(LEFT, y - BASELINE_DROP * BODY_SIZE, line, fill=SOFT)
                y -= BODY_SIZE * LINE_HEIGHT
            self._y = y
        return 6 * MM + len(lines) * BODY_SIZE * LINE_HEIGHT

    def _page_frame(self, page: Page, number: int, count: int) -> None:
        """Footer and page number on every page; the title in the top margin from page 2."""
        view = self._view
        footer_size = 6.8
        footer_top = BOTTOM - 2 * MM
        footer_width = 0.8 * WIDTH
        page.rule(LEFT, footer_top, LEFT + footer_width, footer_top, 0.5, RULE)
        y = footer_top - 2 * MM
        for paragraph in view.footer_lines:
            for line in self._wrap(paragraph, footer_width, footer_size):
                self._text(
                    LEFT, y - BASELINE_DROP * footer_size, line, footer_size, fill=MUTED, page=page
                )
                y -= footer_size * LINE_HEIGHT
        page_label = f"{view.t['page']} {number} {view.t['of']} {count}"
        self._text(
            RIGHT,
            footer_top - 3 * MM - BASELINE_DROP * SMALL_SIZE,
            page_label,
            SMALL_SIZE,
            fill=MUTED,
            page=page,
            right=True,
        )
        if number > 1:
            self._text(
                RIGHT,
                TOP + 8 * MM - BASELINE_DROP * SMALL_SIZE,
                view.title,
                SMALL_SIZE,
                fill=MUTED,
                page=page,
                right=True,
            )

    def _watermark(self, page: Page) -> None:
        """A large diagonal word behind the content of every page of a draft."""
        word = self._view.t["draft"]
        size = 110.0
        angle = math.radians(35)
        cos, sin = math.cos(angle), math.sin(angle)
        half_width = self._width(word, size, True) / 2
        centre_x, centre_y = A4_WIDTH / 2, TOP - 95 * MM - 40
        # Start so that the word's middle (half its width along, a third of its size up)
        # lands on the centre point.
        x = centre_x - cos * half_width + sin * size * 0.35
        y = centre_y - sin * half_width - cos * size * 0.35
        page.text(TextRun(x, y, word, True, size, WATERMARK, (cos, sin, -sin, cos)))
