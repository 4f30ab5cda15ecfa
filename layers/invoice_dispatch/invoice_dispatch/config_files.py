"""Configuration documents: a file named by configuration, or the default bundled in the layer.

The catalog, tax table, legal entity and ERP mapping are all versioned JSON documents a
billing team edits without a deploy; each loader validates its own model on top of this.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def read_config_text(path: str | None, package: str, bundled_name: str) -> str:
    if path:
        return Path(path).read_text(encoding="utf-8")
    return resources.files(package).joinpath(bundled_name).read_text(encoding="utf-8")
