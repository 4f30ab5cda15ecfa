"""Embedded fonts for the invoice PDF: subset once per cold start, measured in Python.

PDF/A requires every font to be embedded. Subsetting a TrueType font costs a fifth of a
second, far more than drawing an invoice, so each face is subset once for the characters
most invoices use (ASCII, Latin-1, the punctuation and currency signs amounts and
addresses need) and the compressed font program is written into every PDF as it is
(about 14 KB per face). An invoice holding a character outside that set (a Polish or
Czech name, Greek, Cyrillic) gets a subset that adds the whole Unicode block of each such
character, so a few subsets per process serve every invoice; a character the font
itself lacks is printed as its compatibility decomposition, or "?" when it has none.

The base set is small on purpose: the PDF travels as an e-mail attachment, which SES
bills by size (issue 15). Latin Extended-A and the rest of the punctuation block in the
base set made every invoice about 18 KB larger for characters few invoices hold.

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

#: What every subset holds: ASCII, Latin-1, and the punctuation, spaces and signs that
#: amounts, dates and addresses use (babel's narrow no-break space among them).
_BASE_CHARACTERS = frozenset(
    [chr(c) for start, end in ((0x20, 0x7E), (0xA0, 0xFF)) for c in range(start, end + 1)]
    + list("\u2009\u2011\u2013\u2014\u2018\u2019\u201a\u201c\u201d\u201e\u2020\u2021")
    + list("\u2022\u2026\u202f\u2030\u2039\u203a\u20ac\u2116\u2122")
)
#: Blocks added whole when an invoice holds one of their characters (Unicode 15 blocks).
_EXTENSION_BLOCKS = (
    (0x100, 0x17F),  # Latin Extended-A: Polish, Czech, Hungarian, Turkish, ...
    (0x180, 0x24F),  # Latin Extended-B
    (0x370, 0x3FF),  # Greek
    (0x400, 0x4FF),  # Cyrillic
    (0x1E00, 0x1EFF),  # Latin Extended Additional: Vietnamese
    (0x2000, 0x206F),  # General Punctuation
    (0x20A0, 0x20CF),  # Currency Symbols
    (0x2100, 0x214F),  # Letterlike Symbols
)
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
        """The cached base subset, or one that also holds the blocks of ``text``'s others."""
        extra = frozenset(text) - self.base.glyph_ids.keys()
        return self.base if not extra else self.program_for(_BASE_CHARACTERS | _blocks_of(extra))

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


def _blocks_of(characters: frozenset[str]) -> frozenset[str]:
    """The whole extension block of each character; a character in none stands alone."""
    added: set[str] = set()
    for character in characters:
        code = ord(character)
        block = next(((lo, hi) for lo, hi in _EXTENSION_BLOCKS if lo <= code <= hi), None)
        if block is None:
            added.add(character)
        else:
            added.update(chr(c) for c in range(block[0], block[1] + 1))
    return frozenset(added)


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
