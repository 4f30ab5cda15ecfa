"""Where the Jinja2 templates live, and the one environment that loads them.

The same code runs from the repository (tests, local runner), from a Lambda layer
(``/opt/templates``) and from a container image (``TEMPLATES_DIR``); the lookup order
below covers all three without configuration in the common cases.
"""

from __future__ import annotations

import os
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

LAMBDA_LAYER_TEMPLATES = Path("/opt/templates")


def templates_dir() -> Path:
    """``$TEMPLATES_DIR``, else the repository's top-level ``templates/``, else the layer's."""
    configured = os.environ.get("TEMPLATES_DIR")
    if configured:
        return Path(configured)
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "templates"
        if (candidate / "invoice").is_dir():
            return candidate
    return LAMBDA_LAYER_TEMPLATES


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
