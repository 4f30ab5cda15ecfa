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


def draft_preview_pdf(run_id: str, invoice_id: str) -> str:
    return f"runs/{run_id}/previews/{invoice_id.replace(':', '_')}.pdf"


def erp_report(run_id: str, chunk_index: int) -> str:
    return f"runs/{run_id}/erp/chunk-{chunk_index:05d}.json"


def erp_reports_prefix(run_id: str) -> str:
    return f"runs/{run_id}/erp/"
