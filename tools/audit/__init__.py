"""``python -m tools.audit``: the period's invoice register and its verifier."""
