"""Where the Jinja2 templates live, and the one environment that loads them.

The templates are package data of ``invoice_dispatch`` (``invoice_dispatch/templates/``;
the repository's top-level ``templates/`` is a symlink to it, the place a designer edits).
Shipping them inside the package means the Lambda layer carries them under
``/opt/python/invoice_dispatch/templates`` without its build reaching outside the layer's
folder, and every checkout, test and deployed function reads the same files.
``$TEMPLATES_DIR`` overrides them, for a container image or a branded fork.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

BUNDLED_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def templates_dir() -> Path:
    """``$TEMPLATES_DIR`` when set, else the templates shipped inside the package."""
    configured = os.environ.get("TEMPLATES_DIR")
    return Path(configured) if configured else BUNDLED_TEMPLATES


def jinja_environment(templates_path: Path) -> Environment:
    """Autoescaping for .html/.xml (customer names are untrusted text), none for .txt.

    ``StrictUndefined`` turns a misspelt variable into an error in tests instead of a
    blank on a legal document.
    """
    return Environment(
        loader=FileSystemLoader(str(templates_path)),
        autoescape=select_autoescape(enabled_extensions=("html", "xml"), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


@lru_cache(maxsize=4)
def cached_environment(templates_path: Path | None = None) -> Environment:
    """One environment per templates folder and process: Jinja caches compiled templates."""
    return jinja_environment(templates_path or templates_dir())
