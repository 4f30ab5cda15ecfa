"""Customer text and Unicode bidirectional controls.

A customer's name, address or line text comes from an account source the product does
not control. Its embedding, override and isolate controls (U+202A-U+202E, U+2066-U+2069)
reorder everything after them up to the end of the line: a name ending in U+202E (RIGHT-
TO-LEFT OVERRIDE) would show the amount or IBAN that follows it reversed.
"""

from __future__ import annotations

import re

_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def neutralise_bidi_controls(text: str) -> str:
    """``text`` without its bidi embedding, override and isolate controls.

    Removed rather than replaced by a visible mark: they are invisible and have no glyph,
    the PDF is laid out left to right by our own code (nothing there would honour them)
    and a plain-text mail client would apply them to the rest of the line. Removing them
    keeps every visible character of the name in the order it was typed, and the legal
    document prints the customer's name, not a replacement character the customer never
    wrote. HTML keeps the text as it is and isolates it with ``<bdi>`` instead.
    """
    return _BIDI_CONTROLS.sub("", text)
