"""Local run: the real state machine in moto, the real handlers in-process."""
