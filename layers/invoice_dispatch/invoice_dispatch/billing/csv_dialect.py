"""Reading the CSV files people actually export: comma, semicolon or tab, decimal commas.

Excel in most of Europe writes ``;``-separated files with decimal commas ("12,50"). Read as
comma-separated, each row is one column and every valid account became a "<row N>"
quarantine (issue 16). So the delimiter is taken from the header, the one line whose
content is known: it is the one of ``,`` ``;`` and tab that splits it into columns including
the required one (``account_id``). A file where none does is refused with a sentence that
says what the header looks like, rather than quarantining every row.

Numbers in a ``;`` file may use a decimal comma ("12,50", "1.234,50"). A number written
only with points there ("1.000") is ambiguous (one thousand with a thousands point, or one
with a decimal point), so it is reported, never guessed. In ``,`` and tab files a number
uses a decimal point, as JSON does.
"""

from __future__ import annotations

import csv
import io
import re

from invoice_dispatch.billing.quoting import quote

#: The delimiters a source may use, by the name a sentence gives them.
DELIMITERS: dict[str, str] = {",": "comma", ";": "semicolon", "\t": "tab"}
#: Other separators seen in exports; only named in the refusal sentence.
_OTHER_SEPARATORS = ("|", ":", " ")
_EXCEL_SEPARATOR_LINE = re.compile(r"sep=(.)")

_DECIMAL_COMMA = re.compile(r"-?\d+,\d+")
_GROUPED_DECIMAL_COMMA = re.compile(r"-?\d{1,3}(?:\.\d{3})+,\d+")
_POINTS_ONLY_GROUPING = re.compile(r"-?[1-9]\d{0,2}(?:\.\d{3})+")


class CsvDialectError(ValueError):
    """A CSV file that cannot be read as it stands; the message says why and what to do."""


def _columns(header: str, delimiter: str) -> list[str]:
    return [cell.strip() for cell in next(csv.reader([header], delimiter=delimiter), [])]


def _delimiter_of(header: str, required_column: str) -> str:
    """The delimiter that makes ``required_column`` one of the header's columns."""
    fits = {
        delimiter: len(columns)
        for delimiter in DELIMITERS
        if required_column in (columns := _columns(header, delimiter))
    }
    if fits:
        return max(fits, key=lambda delimiter: fits[delimiter])  # "account_id" alone: any
    others = [separator for separator in _OTHER_SEPARATORS if separator in header]
    if others and not any(delimiter in header for delimiter in DELIMITERS):
        raise CsvDialectError(
            f"has no {quote(required_column)} column: its header {quote(header)} seems to be "
            f"separated by {quote(others[0])}; separate the columns with a comma, a semicolon "
            "or a tab"
        )
    raise CsvDialectError(
        f"has no {quote(required_column)} column in its header {quote(header)}: separate the "
        f"columns with a comma, a semicolon or a tab, and name one {quote(required_column)}"
    )


def read_csv(text: str, required_column: str = "account_id") -> tuple[str, list[dict[str, str]]]:
    """(delimiter, rows as dicts) of a CSV text, its delimiter taken from the header.

    An Excel ``sep=;`` first line names the delimiter itself. Raises ``CsvDialectError``.
    """
    text = text.lstrip("\ufeff")
    first_line, _, rest = text.partition("\n")
    first_line = first_line.rstrip("\r")
    hint = _EXCEL_SEPARATOR_LINE.fullmatch(first_line)
    if hint is not None:
        text = rest
        first_line = rest.partition("\n")[0].rstrip("\r")
    if not first_line.strip():
        return ",", []
    delimiter = hint.group(1) if hint is not None else _delimiter_of(first_line, required_column)
    if delimiter not in DELIMITERS:
        raise CsvDialectError(
            f"names {quote(delimiter)} as its separator: separate the columns with a comma, "
            "a semicolon or a tab"
        )
    rows = [
        {key.strip(): (value or "").strip() for key, value in row.items() if key}
        for row in csv.DictReader(io.StringIO(text), delimiter=delimiter)
    ]
    return delimiter, rows


def csv_number(cell: str, delimiter: str) -> tuple[str, str | None]:
    """(the number as JSON would write it, or the cell as given; a problem sentence or None).

    Only ``;`` files may use a decimal comma; see the module's docstring.
    """
    if delimiter != ";" or not cell:
        return cell, None
    if _DECIMAL_COMMA.fullmatch(cell):
        return cell.replace(",", "."), None
    if _GROUPED_DECIMAL_COMMA.fullmatch(cell):
        return cell.replace(".", "").replace(",", "."), None
    if _POINTS_ONLY_GROUPING.fullmatch(cell):
        return cell, (
            f"{quote(cell)} is ambiguous in a semicolon-separated file (a thousands point or "
            "a decimal point?): write it without thousands points, with a decimal comma if it "
            "has decimals"
        )
    return cell, None
