"""Embedded fonts for the invoice PDF: subset once per cold start, measured in Python.

PDF/A requires every font to be embedded. Subsetting a TrueType font costs a fifth of a
second, far more than drawing an invoice, so each face is subset once for the characters
European invoices use (Latin, Latin-1, Latin Extended-A, punctuation, currency signs) and
the compressed font program is written into every PDF as it is (about 22 KB per face).
An invoice holding a character outside that set (a Greek or Cyrillic name) gets a face
subset for its own characters, cached per character set; a character the font itself
lacks is printed as its compatibility decomposition, or "?" when it has none.

Glyphs are addressed by their index in the subset (Identity-H encoding); the ToUnicode
map turns them back into text, so the PDF is searchable and its text can be read back.
"""

from __future__ import annotations

import hashlib
import io
import os
import unicodedata
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

#: Where the DejaVu faces are looked for: ``$INVOICE_FONT_DIR`` when set, else the faces
#: vendored in the package (``invoice_dispatch/fonts``, with their licence), so a Lambda
#: layer and a fresh checkout draw with the same files and need no system font package.
FONT_DIRECTORY_ENV = "INVOICE_FONT_DIR"
BUNDLED_FONT_DIRECTORY = Path(__file__).resolve().parent.parent / "fonts"
REGULAR_FACE = "DejaVuSans.ttf"
BOLD_FACE = "DejaVuSans-Bold.ttf"

#: Code point ranges every cached subset holds.
_BASE_RANGES = ((0x20, 0x7E), (0xA0, 0x17F), (0x2000, 0x206F), (0x20A0, 0x20CF), (0x2116, 0x2122))
_BASE_CHARACTERS = frozenset(chr(c) for start, end in _BASE_RANGES for c in range(start, end + 1))
_REPLACEMENT = "?"


class FontUnavailableError(RuntimeError):
    """The DejaVu fonts are not installed where the renderer looks for them."""


@dataclass(frozen=True)
class FontProgram:
    """One subset face: its metrics, glyph map and ready-to-embed PDF bytes."""

    base_name: str
    glyph_ids: dict[str, int]
    ascent: float
    descent: float
    cap_height: float
    bbox: tuple[float, float, float, float]
    compressed_program: bytes
    program_length: int
    widths: tuple[float, ...]
    to_unicode: bytes

    def encode(self, text: str) -> bytes:
        """The glyph ids of ``text`` as a PDF hex string, two bytes per glyph."""
        glyph_ids = self.glyph_ids
        return b"<" + "".join(f"{glyph_ids[c]:04X}" for c in text).encode("ascii") + b">"


class FontFace:
    """A TrueType face from disk, with a cached subset per character set."""

    def __init__(self, path: Path) -> None:
        self._path = path
        font = TTFont(path)
        scale = 1000 / font["head"].unitsPerEm
        metrics = font["hmtx"].metrics
        #: Advance per character in thousandths of an em: the same in every subset.
        self._advances = {
            chr(code): metrics[name][0] * scale for code, name in font.getBestCmap().items()
        }
        self._programs: dict[frozenset[str], FontProgram] = {}
        self.base = self.program_for(_BASE_CHARACTERS)

    def width(self, text: str, size: float) -> float:
        """Advance width of printable ``text`` at ``size`` points (no kerning, as drawn)."""
        advances = self._advances
        return sum(advances[character] for character in text) * size / 1000

    def printable(self, text: str) -> str:
        """``text`` with every character the face cannot draw replaced by one it can."""
        if all(character in self._advances for character in text):
            return text
        return "".join(self._printable_character(character) for character in text)

    def program_for_text(self, text: str) -> FontProgram:
        """The cached base subset, or a subset that also holds ``text``'s other characters."""
        extra = frozenset(text) - self.base.glyph_ids.keys()
        return self.base if not extra else self.program_for(_BASE_CHARACTERS | extra)

    def program_for(self, characters: frozenset[str]) -> FontProgram:
        program = self._programs.get(characters)
        if program is None:
            program = _subset_program(self._path, characters & self._advances.keys())
            self._programs[characters] = program
        return program

    def _printable_character(self, character: str) -> str:
        if character in self._advances:
            return character
        decomposed = unicodedata.normalize("NFKD", character)
        if decomposed != character and all(c in self._advances for c in decomposed):
            return decomposed
        return _REPLACEMENT


@dataclass(frozen=True)
class FontSet:
    """The faces an invoice is drawn with."""

    regular: FontFace
    bold: FontFace


@lru_cache(maxsize=1)
def invoice_fonts() -> FontSet:
    """DejaVu Sans regular and bold, loaded and subset once per process."""
    directory = _font_directory()
    return FontSet(FontFace(directory / REGULAR_FACE), FontFace(directory / BOLD_FACE))


def _font_directory() -> Path:
    configured = os.environ.get(FONT_DIRECTORY_ENV)
    directory = Path(configured) if configured else BUNDLED_FONT_DIRECTORY
    if not (directory / REGULAR_FACE).is_file():
        raise FontUnavailableError(
            f"{REGULAR_FACE} and {BOLD_FACE} were not found in {directory}; set "
            f"{FONT_DIRECTORY_ENV} to the directory holding them, or unset it to use the "
            f"faces shipped in {BUNDLED_FONT_DIRECTORY}"
        )
    return directory


def _subset_program(path: Path, characters: frozenset[str]) -> FontProgram:
    options = subset.Options()
    options.layout_features = []
    options.hinting = False
    options.notdef_outline = True
    options.name_IDs = ["*"]
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "kern", "FFTM"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(ord(character) for character in characters))
    font = TTFont(path)
    subsetter.subset(font)
    buffer = io.BytesIO()
    font.save(buffer)
    program = buffer.getvalue()

    scale = 1000 / font["head"].unitsPerEm
    glyph_order = font.getGlyphOrder()
    metrics = font["hmtx"].metrics
    widths = tuple(round(metrics[name][0] * scale, 2) for name in glyph_order)
    glyph_ids: dict[str, int] = {}
    unicode_of_glyph: dict[int, str] = {}
    for code, name in font.getBestCmap().items():
        glyph_id = font.getGlyphID(name)
        glyph_ids[chr(code)] = glyph_id
        unicode_of_glyph.setdefault(glyph_id, chr(code))
    head = font["head"]
    family = font["name"].getDebugName(6) or path.stem
    tag = _subset_tag(family, characters)
    return FontProgram(
        base_name=f"{tag}+{family}",
        glyph_ids=glyph_ids,
        ascent=round(font["hhea"].ascent * scale, 2),
        descent=round(font["hhea"].descent * scale, 2),
        cap_height=round(getattr(font["OS/2"], "sCapHeight", font["hhea"].ascent) * scale, 2),
        bbox=tuple(
            round(value * scale, 2) for value in (head.xMin, head.yMin, head.xMax, head.yMax)
        ),  # type: ignore[arg-type]
        compressed_program=zlib.compress(program, 9),
        program_length=len(program),
        widths=widths,
        to_unicode=_to_unicode_cmap(unicode_of_glyph),
    )


def _subset_tag(family: str, characters: frozenset[str]) -> str:
    """Six capital letters naming the subset (PDF 32000-1, 9.6.4), stable for one set."""
    digest = hashlib.sha256((family + "".join(sorted(characters))).encode("utf-8")).digest()
    return "".join(chr(ord("A") + byte % 26) for byte in digest[:6])


def _to_unicode_cmap(unicode_of_glyph: dict[int, str]) -> bytes:
    entries = sorted(unicode_of_glyph.items())
    chunks = []
    for start in range(0, len(entries), 100):  # a bfchar block holds at most 100 entries
        block = entries[start : start + 100]
        lines = "\n".join(
            f"<{glyph_id:04X}> <{''.join(f'{unit:04X}' for unit in _utf16_units(text))}>"
            for glyph_id, text in block
        )
        chunks.append(f"{len(block)} beginbfchar\n{lines}\nendbfchar")
    body = "\n".join(chunks)
    return (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
        f"{body}\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend"
    ).encode("ascii")


def _utf16_units(text: str) -> list[int]:
    encoded = text.encode("utf-16-be")
    return [int.from_bytes(encoded[i : i + 2], "big") for i in range(0, len(encoded), 2)]
