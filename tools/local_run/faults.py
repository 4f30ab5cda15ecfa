"""Crash the local run at a named moment, the way a killed Lambda crashes on AWS.

An outside fault test found invoices stranded by crashes at precise moments: after the
number commit, between the e-mail claim and SES, after SES accepted. Each crash point
here wraps the real adapter call that marks the moment and raises right after it
returned (or, for "after-ses", right before SES's answer is recorded), so the world is
left exactly as a Lambda killed at that instant leaves it. A kill cannot be caught by the
code it kills, so the crash is a ``BaseException`` that no ``except Exception`` stops. The router
reports the crash with the error type AWS uses (``Sandbox.Timedout`` is retried by the
state machine; ``Runtime.ExitError`` matches no Retry and goes straight to the Catch).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from invoice_dispatch.adapters.dynamodb_store import DynamoStore
from invoice_dispatch.workflow import erp_posting, summary

#: crash point -> (object that owns the call, attribute name, crash before the call?, moment)
CRASH_POINTS: dict[str, tuple[Any, str, bool, str]] = {
    "after-draft": (DynamoStore, "create_draft", False, "a draft was written"),
    "after-number": (DynamoStore, "finalize", False, "invoice numbers were committed"),
    "after-pdf": (DynamoStore, "record_pdf", False, "a PDF was stored and recorded"),
    "after-claim": (DynamoStore, "claim_dispatch", False, "an e-mail was claimed, before SES"),
    "after-ses": (
        DynamoStore,
        "record_sent",
        True,
        "SES accepted an e-mail, before its message id was recorded",
    ),
    "after-erp": (erp_posting, "post_invoice_once", False, "the ERP accepted a booking"),
    # Its first read: nothing of the summary happened, as when the execution itself dies.
    "before-summary": (summary, "drafting_reports", True, "the run's summary was to begin"),
}


class SimulatedCrash(BaseException):
    """The Lambda 'died' here; ``error_type`` is what Step Functions sees."""

    def __init__(self, point: str, error_type: str) -> None:
        super().__init__(f"Simulated crash {point}: {CRASH_POINTS[point][3]}")
        self.error_type = error_type


@dataclass
class CrashPlan:
    point: str
    error_type: str = "Runtime.ExitError"
    times: int = 1
    fired: int = field(default=0, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.point not in CRASH_POINTS:
            known = ", ".join(CRASH_POINTS)
            raise ValueError(f"Unknown crash point {self.point!r}; known: {known}")

    def fire(self, result: Any = None) -> None:
        """Crash, unless the wrapped call did nothing (a refused claim or draft)."""
        if result is False:
            return
        with self._lock:
            if self.fired >= self.times:
                return
            self.fired += 1
        raise SimulatedCrash(self.point, self.error_type)


@contextmanager
def crashing(plan: CrashPlan | None) -> Iterator[CrashPlan | None]:
    """Install the crash for the duration of the block; no plan installs nothing."""
    if plan is None:
        yield None
        return
    owner, name, before, _ = CRASH_POINTS[plan.point]
    original: Callable[..., Any] = getattr(owner, name)

    def crash_around(*args: Any, **kwargs: Any) -> Any:
        if before and not kwargs.get("from_event"):  # the Send event's recovery is not the sender
            plan.fire()
        result = original(*args, **kwargs)
        if not before:
            plan.fire(result)
        return result

    setattr(owner, name, crash_around)
    try:
        yield plan
    finally:
        setattr(owner, name, original)
