"""Crash the local run at a named moment, the way a killed Lambda crashes on AWS.

An outside fault test found invoices stranded by crashes at precise moments: after the
number commit, between the e-mail claim and SES, after SES accepted. Each crash point
here wraps the real adapter call that marks the moment and raises *after* it returned,
so the world is left exactly as a Lambda killed at that instant leaves it. The router
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
from invoice_dispatch.adapters.ses_mailer import SesMailer
from invoice_dispatch.workflow import erp_posting

#: crash point -> (object that owns the call, attribute name, what the moment is)
CRASH_POINTS: dict[str, tuple[Any, str, str]] = {
    "after-draft": (DynamoStore, "create_draft", "a draft was written"),
    "after-number": (DynamoStore, "finalize", "invoice numbers were committed"),
    "after-pdf": (DynamoStore, "record_pdf", "a PDF was stored and recorded"),
    "after-claim": (DynamoStore, "claim_dispatch", "an e-mail was claimed, before SES"),
    "after-ses": (SesMailer, "send_raw", "SES accepted an e-mail, before it was recorded"),
    "after-erp": (erp_posting, "post_invoice_once", "the ERP accepted a booking"),
}


class SimulatedCrash(Exception):
    """The Lambda 'died' here; ``error_type`` is what Step Functions sees."""

    def __init__(self, point: str, error_type: str) -> None:
        super().__init__(f"Simulated crash {point}: {CRASH_POINTS[point][2]}")
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

    def after(self, result: Any) -> None:
        """Crash after the wrapped call, unless it did nothing (a refused claim or draft)."""
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
    owner, name, _ = CRASH_POINTS[plan.point]
    original: Callable[..., Any] = getattr(owner, name)

    def crash_after(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        plan.after(result)
        return result

    setattr(owner, name, crash_after)
    try:
        yield plan
    finally:
        setattr(owner, name, original)
