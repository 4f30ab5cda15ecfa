"""Deterministic S3 keys of a run's artefacts: a retried step overwrites, never duplicates."""

from __future__ import annotations


def account_chunks_manifest(run_id: str) -> str:
    return f"runs/{run_id}/account-chunks.json"


def account_chunk(run_id: str, index: int) -> str:
    return f"runs/{run_id}/accounts/chunk-{index:05d}.json"


def screening_report(run_id: str) -> str:
    return f"runs/{run_id}/screening.json"


def drafting_report(run_id: str, chunk_index: int) -> str:
    return f"runs/{run_id}/drafting/chunk-{chunk_index:05d}.json"


def drafting_reports_prefix(run_id: str) -> str:
    return f"runs/{run_id}/drafting/"


def approval_summary(run_id: str) -> str:
    return f"runs/{run_id}/approval-summary.json"


def approval_rows(run_id: str) -> str:
    return f"runs/{run_id}/approval-rows.json"


def invoice_chunks_manifest(run_id: str, phase: str = "deliver") -> str:
    return f"runs/{run_id}/{'resume' if phase == 'resume' else 'invoice'}-chunks.json"


def run_report(run_id: str) -> str:
    return f"runs/{run_id}/run.json"


def invoice_pdf(mode: str, period: str, number: str) -> str:
    return f"invoices/{mode}/{period}/{number}.pdf"


def register(period: str, extension: str) -> str:
    """The period's invoice register, ``csv`` or ``pdf``: rewritten whenever it is produced."""
    return f"registers/{period}/register.{extension}"


def draft_preview_pdf(run_id: str, invoice_id: str) -> str:
    return f"runs/{run_id}/previews/{invoice_id.replace(':', '_')}.pdf"


def erp_report(run_id: str, chunk_index: int) -> str:
    return f"runs/{run_id}/erp/chunk-{chunk_index:05d}.json"


def erp_reports_prefix(run_id: str) -> str:
    return f"runs/{run_id}/erp/"


# The daily collections run: everything under its day, so a second run the same day
# writes beside the first and the report adds both up.
def collections_reminder_chunks(as_of: str, run_id: str) -> str:
    return f"collections/{as_of}/{run_id}/reminder-chunks.json"


def collections_escalation_plan(as_of: str, run_id: str) -> str:
    return f"collections/{as_of}/{run_id}/escalation-plan.json"


def collections_plan_prefix(as_of: str) -> str:
    return f"collections/{as_of}/plans/"


def collections_reminders_prefix(as_of: str) -> str:
    return f"collections/{as_of}/reminders/"


def collections_escalations_prefix(as_of: str) -> str:
    return f"collections/{as_of}/escalations/"


def collections_report(as_of: str, extension: str) -> str:
    return f"collections/reports/{as_of}.{extension}"


def collections_plan(as_of: str, run_id: str) -> str:
    return f"{collections_plan_prefix(as_of)}{run_id}.json"


#: The run history page, rewritten at the end of every run.
HISTORY_PAGE = "history/index.html"


def collections_charge_chunks(as_of: str, run_id: str) -> str:
    return f"collections/{as_of}/{run_id}/charge-chunks.json"


def collections_autopay_prefix(as_of: str) -> str:
    return f"collections/{as_of}/autopay/"
