"""Use cases, one module per business step; each takes its ports from ``Platform``."""
