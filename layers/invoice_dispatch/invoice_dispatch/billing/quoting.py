"""Quoting what a source sent in a sentence a person reads: a glimpse, never the whole input.

A quarantine reason or an anomaly flag names the value it is about, and that value comes
from the account source. One 10 MB customer name once made a 10,000,073-character reason
and a 10 MB ``run.json`` (issue 16). Every quoted value is therefore cut to
``QUOTE_LIMIT`` characters, ending in "…" when something was left out.
"""

from __future__ import annotations

import reprlib

#: The most characters of one input value a sentence quotes (the "…" included).
QUOTE_LIMIT = 60
ELLIPSIS = "…"

_REPR = reprlib.Repr()  # attributes, not keywords: Python 3.11 takes none
_REPR.maxlevel = 2
for _container in ("maxtuple", "maxlist", "maxarray", "maxdict", "maxset", "maxfrozenset"):
    setattr(_REPR, _container, 4)
_REPR.maxstring = _REPR.maxlong = _REPR.maxother = QUOTE_LIMIT


def shorten(text: str, limit: int = QUOTE_LIMIT) -> str:
    """``text`` itself, or its first ``limit - 1`` characters and "…"."""
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def quote(value: object, limit: int = QUOTE_LIMIT) -> str:
    """``value`` as a sentence quotes it: ``repr`` (``'ACC-1'``, ``-3``), cut to ``limit``.

    A string is cut before it is quoted, so the quotes always close; anything else is
    written by a ``reprlib`` that stops early on long containers, then cut.
    """
    if isinstance(value, str):
        return repr(shorten(value, limit))
    return shorten(_REPR.repr(value), limit)
