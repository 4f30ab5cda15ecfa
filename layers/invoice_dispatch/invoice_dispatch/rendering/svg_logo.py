"""The legal entity's SVG logo as PDF vector operators, converted once per cold start.

Logos are a few shapes and a word; a general SVG renderer would cost more to load than
every invoice of a run takes to draw. This converter handles what logos use: ``rect``
(with rounded corners), ``circle``, ``path`` (M, L, H, V, C, Q, Z, absolute and relative),
``text`` and ``g``, with ``fill``, ``stroke`` and ``stroke-width``. Anything else is
refused when the renderer is built, with the element's name, so a billing team learns it
from the first preview, not from a customer.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError, fromstring

from invoice_dispatch.rendering.pdf_document import (
    Colour,
    Page,
    TextRun,
    colour,
    rounded_rectangle_path,
)
from invoice_dispatch.rendering.pdf_fonts import FontSet

_SVG = "{http://www.w3.org/2000/svg}"
_NAMED_COLOURS = {"black": "#000000", "white": "#ffffff"}
_PATH_TOKEN = re.compile(r"[A-Za-z]|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_ARGUMENT_COUNT = {"M": 2, "L": 2, "H": 1, "V": 1, "C": 6, "Q": 4, "Z": 0}


class UnsupportedLogoError(ValueError):
    """The configured logo uses SVG the invoice renderer does not draw."""


@dataclass(frozen=True)
class _Style:
    fill: Colour | None = (0.0, 0.0, 0.0)
    stroke: Colour | None = None
    stroke_width: float = 1.0
    font_size: float = 16.0
    bold: bool = False


@dataclass(frozen=True)
class Logo:
    """The logo's drawing in its own units, and its size."""

    width: float
    height: float
    shapes: tuple[bytes | TextRun, ...]

    def draw(self, page: Page, x: float, top: float, height: float) -> float:
        """Draw with its top-left corner at (x, top), ``height`` points tall; return width."""
        scale = height / self.height
        page.graphics(f"q {scale:.4f} 0 0 {-scale:.4f} {x:.2f} {top:.2f} cm")
        page.operations.extend(self.shapes)
        page.graphics("Q")
        return self.width * scale


def parse_logo(svg: str, fonts: FontSet) -> Logo:
    try:
        root = fromstring(svg)
    except ParseError as error:
        raise UnsupportedLogoError(f"The logo is not well-formed SVG: {error}") from error
    if root.tag != f"{_SVG}svg":
        raise UnsupportedLogoError("The logo must be an <svg> element in the SVG namespace")
    width, height = _size(root)
    shapes = tuple(_shapes(root, _style(root, _Style()), fonts))
    return Logo(width, height, shapes)


def _size(root: Element) -> tuple[float, float]:
    view_box = root.get("viewBox")
    if view_box:
        _x, _y, width, height = (float(value) for value in view_box.replace(",", " ").split())
        return width, height
    return float(root.get("width", "100")), float(root.get("height", "30"))


def _shapes(element: Element, style: _Style, fonts: FontSet) -> Iterator[bytes | TextRun]:
    for child in element:
        name = child.tag.removeprefix(_SVG)
        child_style = _style(child, style)
        if name == "g":
            yield from _shapes(child, child_style, fonts)
        elif name == "text":
            face = fonts.bold if child_style.bold else fonts.regular
            yield TextRun(
                x=_number(child, "x"),
                y=_number(child, "y"),
                text=face.printable("".join(child.itertext()).strip()),
                bold=child_style.bold,
                size=child_style.font_size,
                fill=child_style.fill or (0.0, 0.0, 0.0),
                angle_matrix=(1, 0, 0, -1),  # upright inside the flipped SVG coordinates
            )
        elif name in ("rect", "circle", "path"):
            yield _painted(_outline(name, child), child_style)
        elif name not in ("title", "desc", "defs"):
            raise UnsupportedLogoError(
                f"The logo uses <{name}>; the invoice draws rect, circle, path, text and g"
            )


def _outline(name: str, element: Element) -> str:
    if name == "rect":
        return _rectangle(element)
    if name == "circle":
        cx, cy, r = (_number(element, key) for key in ("cx", "cy", "r"))
        k = r * 0.5523
        return (
            f"{cx + r:.2f} {cy:.2f} m {cx + r:.2f} {cy + k:.2f} {cx + k:.2f} {cy + r:.2f} "
            f"{cx:.2f} {cy + r:.2f} c {cx - k:.2f} {cy + r:.2f} {cx - r:.2f} {cy + k:.2f} "
            f"{cx - r:.2f} {cy:.2f} c {cx - r:.2f} {cy - k:.2f} {cx - k:.2f} {cy - r:.2f} "
            f"{cx:.2f} {cy - r:.2f} c {cx + k:.2f} {cy - r:.2f} {cx + r:.2f} {cy - k:.2f} "
            f"{cx + r:.2f} {cy:.2f} c h"
        )
    return _path(element.get("d", ""))


def _rectangle(element: Element) -> str:
    x, y, width, height = (_number(element, key) for key in ("x", "y", "width", "height"))
    radius = min(_number(element, "rx") or _number(element, "ry"), width / 2, height / 2)
    if not radius:
        return f"{x:.2f} {y:.2f} {width:.2f} {height:.2f} re"
    return rounded_rectangle_path(x, y, width, height, radius)


def _path(data: str) -> str:
    """SVG path data as PDF path operators (quadratic curves raised to cubic)."""
    tokens = _PATH_TOKEN.findall(data)
    operators: list[str] = []
    x = y = start_x = start_y = 0.0
    command = ""
    index = 0
    while index < len(tokens):
        if tokens[index].isalpha():
            command = tokens[index]
            index += 1
        elif not command:
            raise UnsupportedLogoError(
                f"The logo's path data does not start with a command: {data!r}"
            )
        upper = command.upper()
        if upper not in _ARGUMENT_COUNT:
            raise UnsupportedLogoError(f"The logo's path uses '{command}'; use M, L, H, V, C, Q, Z")
        count = _ARGUMENT_COUNT[upper]
        values = [float(value) for value in tokens[index : index + count]]
        index += count
        relative = command.islower()
        if upper == "Z":
            operators.append("h")
            x, y = start_x, start_y
            continue
        if len(values) < count:
            raise UnsupportedLogoError(f"The logo's path data ends mid-command: {data!r}")
        if upper == "H":
            x = values[0] + (x if relative else 0)
            operators.append(f"{x:.2f} {y:.2f} l")
            continue
        if upper == "V":
            y = values[0] + (y if relative else 0)
            operators.append(f"{x:.2f} {y:.2f} l")
            continue
        points = [
            (values[i] + (x if relative else 0), values[i + 1] + (y if relative else 0))
            for i in range(0, count, 2)
        ]
        if upper == "M":
            operators.append(f"{points[0][0]:.2f} {points[0][1]:.2f} m")
            start_x, start_y = points[0]
            command = "l" if relative else "L"  # further pairs are implicit line-tos
        elif upper == "L":
            operators.append(f"{points[0][0]:.2f} {points[0][1]:.2f} l")
        elif upper == "C":
            operators.append(" ".join(f"{px:.2f} {py:.2f}" for px, py in points) + " c")
        else:  # Q: control point (qx, qy), end point; the cubic's handles are 2/3 of the way
            (qx, qy), (ex, ey) = points
            operators.append(
                f"{x + 2 / 3 * (qx - x):.2f} {y + 2 / 3 * (qy - y):.2f} "
                f"{ex + 2 / 3 * (qx - ex):.2f} {ey + 2 / 3 * (qy - ey):.2f} {ex:.2f} {ey:.2f} c"
            )
        x, y = points[-1]
    return " ".join(operators)


def _painted(outline: str, style: _Style) -> bytes:
    paint = []
    if style.fill is not None:
        paint.append(f"{style.fill[0]:.3f} {style.fill[1]:.3f} {style.fill[2]:.3f} rg")
    if style.stroke is not None:
        paint.append(
            f"{style.stroke[0]:.3f} {style.stroke[1]:.3f} {style.stroke[2]:.3f} RG "
            f"{style.stroke_width:.2f} w"
        )
    operator = {(True, True): "B", (True, False): "f", (False, True): "S"}.get(
        (style.fill is not None, style.stroke is not None), "n"
    )
    return f"{' '.join(paint)} {outline} {operator}".encode("ascii")


def _style(element: Element, inherited: _Style) -> _Style:
    weight = element.get("font-weight")
    return _Style(
        fill=_paint(element.get("fill"), inherited.fill),
        stroke=_paint(element.get("stroke"), inherited.stroke),
        stroke_width=float(element.get("stroke-width", inherited.stroke_width)),
        font_size=float(element.get("font-size", inherited.font_size)),
        bold=inherited.bold if weight is None else weight in ("bold", "700", "800", "900"),
    )


def _paint(value: str | None, inherited: Colour | None) -> Colour | None:
    if value is None:
        return inherited
    if value == "none":
        return None
    value = _NAMED_COLOURS.get(value, value)
    if re.fullmatch(r"#[0-9a-fA-F]{3}", value):
        value = "#" + "".join(digit * 2 for digit in value[1:])
    if not re.fullmatch(r"#[0-9a-fA-F]{6}", value):
        raise UnsupportedLogoError(f"The logo uses the colour {value!r}; use #rgb or #rrggbb")
    return colour(value)


def _number(element: Element, attribute: str) -> float:
    return float(element.get(attribute, "0"))
