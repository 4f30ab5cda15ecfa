"""``python -m tools.audit verify|register --period YYYY-MM``: see ``tools/audit/commands.py``."""

import sys

from tools.audit.commands import main

sys.exit(main())
