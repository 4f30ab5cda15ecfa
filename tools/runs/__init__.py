"""`python -m tools.runs`: the run history from the command line."""
