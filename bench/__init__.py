"""Benchmarks. Importing the package puts the repository and the domain layer on the path,
so ``python -m bench`` runs from a checkout as ``make bench`` does, without PYTHONPATH."""

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
LAYER_PATH = REPO_ROOT / "layers" / "invoice_dispatch"
for _path in (str(REPO_ROOT), str(LAYER_PATH)):
    if _path not in sys.path:
        sys.path.insert(0, _path)
