"""Reconciliation: a run proves it accounted for every account and every invoice.

"Zero accounts forgotten" is a claim a run must prove, not assume: a failed Map child, a
Lambda killed mid-chunk or a lost SES answer would otherwise leave a run that says
"completed" over invoices nobody will ever send. Four equations, each from counts that
different steps wrote independently:

* accounts:  selected = drafted + already billed + excluded + quarantined
             (excluded and quarantined by the screening and by the engine; a drafting
             chunk that left no report counts as missing)
* approval:  this run's drafts = finalized + held + voided + approved-but-unnumbered
* e-mail:    finalized = sent + failed deliveries (reported) + still pending
* ERP:       finalized = booked + refused (error queue) + skipped + still pending

An equation that does not balance, or any invoice still pending, makes the run
``incomplete``: run.json lists each such invoice with its lifecycle stage, the alert says
so, and the next run (or ``{"resume": true}``) finishes them.
"""

from __future__ import annotations

from collections import Counter

from pydantic import BaseModel, Field

from invoice_dispatch import lifecycle
from invoice_dispatch.invoice import ErpStatus, InvoiceStatus
from invoice_dispatch.lifecycle import Stage
from invoice_dispatch.tracking import StoredInvoice


class Equation(BaseModel):
    name: str
    total_label: str
    total: int
    parts: dict[str, int]

    @property
    def balances(self) -> bool:
        return self.total == sum(self.parts.values())

    def sentence(self) -> str:
        parts = " + ".join(f"{value} {label}" for label, value in self.parts.items())
        sign = "=" if self.balances else "≠"
        return f"{self.name}: {self.total} {self.total_label} {sign} {parts}"


class Unreconciled(BaseModel):
    invoice_id: str
    number: str | None
    stage: str
    detail: str


class Reconciliation(BaseModel):
    equations: list[Equation] = Field(default_factory=list)
    unreconciled: list[Unreconciled] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list)
    possibly_sent_twice: int = 0

    @property
    def complete(self) -> bool:
        return not self.unreconciled and not self.problems

    def report(self) -> dict[str, object]:
        return {
            "complete": self.complete,
            "equations": [e.sentence() for e in self.equations],
            "problems": self.problems,
            "unreconciled_count": len(self.unreconciled),
            "unreconciled": [u.model_dump() for u in self.unreconciled],
            "possibly_sent_twice": self.possibly_sent_twice,
        }


class AccountCounts(BaseModel):
    """What GatherAccounts and the drafting chunks wrote down about the source's accounts."""

    selected: int
    excluded_at_screening: int
    quarantined_at_screening: int
    account_chunks: int
    drafting_reports: int
    drafted: int
    already_billed: int
    excluded_by_engine: int
    quarantined_by_engine: int


_PENDING_STAGES = frozenset({Stage.NUMBERED, Stage.STORED, Stage.CLAIMED, Stage.SENT})


def reconcile_accounts(counts: AccountCounts) -> tuple[Equation, list[str]]:
    equation = Equation(
        name="Accounts",
        total_label="selected",
        total=counts.selected,
        parts={
            "drafted": counts.drafted,
            "already billed": counts.already_billed,
            "excluded": counts.excluded_at_screening + counts.excluded_by_engine,
            "quarantined": counts.quarantined_at_screening + counts.quarantined_by_engine,
        },
    )
    problems = []
    missing_reports = counts.account_chunks - counts.drafting_reports
    if missing_reports > 0:
        problems.append(
            f"{missing_reports} drafting chunk(s) left no report: their accounts were "
            "neither drafted nor reported"
        )
    if not equation.balances:
        problems.append(f"Not every account is accounted for. {equation.sentence()}")
    return equation, problems


def _unreconciled(stored: StoredInvoice, stage: str, sentence: str) -> Unreconciled:
    last_error = f". Last error: {stored.failure}" if stored.failure else ""
    return Unreconciled(
        invoice_id=stored.invoice_id,
        number=stored.invoice.number,
        stage=stage,
        detail=sentence + last_error,
    )


class InvoiceReconciler:
    """Partitions the run's invoices by stage, fed one invoice at a time.

    SummarizeRun walks the run once and hands each invoice here as it is paged in; only
    counters and the pending invoices (listed in run.json) are kept. ``resumed_ids`` were
    handed over from earlier runs: they count in the e-mail and ERP equations (this run
    finished them) but not among this run's own drafts.
    """

    def __init__(self, resumed_ids: set[str], after_approval: bool) -> None:
        self._resumed_ids = resumed_ids
        self._after_approval = after_approval
        self._unreconciled: list[Unreconciled] = []
        self._possibly_sent_twice = 0
        self._own: Counter[str] = Counter()
        self._email: Counter[str] = Counter()
        self._erp: Counter[str] = Counter()
        self._finalized = 0

    def add(self, stored: StoredInvoice) -> None:
        status = stored.invoice.status
        if stored.invoice_id not in self._resumed_ids:
            self._own[status.value] += 1
        if status is InvoiceStatus.DRAFT and self._after_approval:
            sentence = f"{stored.invoice_id} was approved but not numbered"
            self._unreconciled.append(_unreconciled(stored, "approved", sentence))
            return
        if status is not InvoiceStatus.FINALIZED:
            return
        self._finalized += 1
        stage = lifecycle.stage_of(stored)
        self._possibly_sent_twice += int(stored.possibly_sent_twice)
        if stage in _PENDING_STAGES:
            self._unreconciled.append(
                _unreconciled(stored, stage.value, lifecycle.describe(stored))
            )
        if stage is Stage.DELIVERY_FAILED:
            self._email["failed deliveries"] += 1
        elif lifecycle.delivery_settled(stored):
            self._email["sent"] += 1
        else:
            self._email["pending"] += 1
        erp_label = {
            ErpStatus.POSTED: "booked",
            ErpStatus.FAILED: "refused",
            ErpStatus.SKIPPED: "skipped",
        }.get(stored.erp_status, "pending")
        self._erp[erp_label] += 1

    def result(self) -> Reconciliation:
        """The equations of what was added so far; pending ones and unnumbered approvals."""
        own = self._own
        result = Reconciliation(
            unreconciled=list(self._unreconciled),
            possibly_sent_twice=self._possibly_sent_twice,
        )
        result.equations.append(
            Equation(
                name="Approval",
                total_label="drafts of this run",
                total=sum(own.values()),
                parts={
                    "finalized": own[InvoiceStatus.FINALIZED.value],
                    "held": own[InvoiceStatus.HELD.value],
                    "voided": own[InvoiceStatus.VOID.value],
                    "not numbered" if self._after_approval else "awaiting approval": own[
                        InvoiceStatus.DRAFT.value
                    ],
                },
            )
        )
        for name, counter, labels in (
            ("E-mail", self._email, ("sent", "failed deliveries", "pending")),
            ("ERP", self._erp, ("booked", "refused", "skipped", "pending")),
        ):
            result.equations.append(
                Equation(
                    name=name,
                    total_label="finalized",
                    total=self._finalized,
                    parts={label: counter[label] for label in labels},
                )
            )
        return result
