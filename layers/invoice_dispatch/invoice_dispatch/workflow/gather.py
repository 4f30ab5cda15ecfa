"""GatherAccounts: read the account source, decide for every account, write chunks.

Nothing is dropped: each account ends up eligible (in a chunk), excluded (paused,
cancelled, not started: with the reason) or quarantined (invalid: with a sentence a
billing person can act on). An id that more than one record holds quarantines every one
of them (``duplicate_account_reasons``): one used to be billed while the other's data
vanished as "already billed". Chunks of ~100 accounts keep the Map's state transitions,
and so its cost and its 25,000-event history, fifty times smaller than one child per
account.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

from invoice_dispatch.adapters.s3_documents import read_uri
from invoice_dispatch.billing import billing_period, parse_accounts_csv, screen_account
from invoice_dispatch.billing.account import SOURCE_PROBLEM, duplicate_account_reasons
from invoice_dispatch.billing.csv_dialect import CsvDialectError, csv_number, read_csv
from invoice_dispatch.billing.milestones import already_billed, unknown_contract
from invoice_dispatch.billing.quoting import shorten
from invoice_dispatch.errors import PermanentError
from invoice_dispatch.invoice import InvoiceStatus, invoice_id_for
from invoice_dispatch.milestone import MilestoneRef
from invoice_dispatch.platform import Platform
from invoice_dispatch.run import RunContext, ScreenedOut, Screening
from invoice_dispatch.workflow import keys


class GatherResult(BaseModel):
    account_chunks_key: str
    chunk_count: int
    eligible_count: int
    excluded_count: int
    quarantined_count: int
    #: A milestone run's event that bills nothing: the sentence (logged with a metric).
    milestone_refused: str | None = None


def parse_account_source(uri: str, body: bytes) -> list[dict[str, Any]]:
    """JSON (a list, or {"accounts": [...]}) or CSV, chosen by the object's extension."""
    text = body.decode("utf-8-sig")
    if uri.lower().endswith(".csv"):
        try:
            return parse_accounts_csv(text)
        except CsvDialectError as error:
            raise PermanentError(f"The account source {uri} {error}") from error
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise PermanentError(
            f"The account source {uri} is not valid JSON (line {error.lineno}): {error.msg}"
        ) from error
    accounts = document.get("accounts") if isinstance(document, dict) else document
    if not isinstance(accounts, list):
        raise PermanentError(f"The account source {uri} must hold a list of accounts")
    return accounts


def merge_usage_file(raw_accounts: list[Any], uri: str, body: bytes) -> list[ScreenedOut]:
    """Add metered usage from a separate file (JSON list or CSV) to the accounts it names.

    Usage often comes from a metering export rather than the CRM. Each record is
    ``account_id, metric, quantity``; records for an account the source does not have
    are reported (quarantined), never silently dropped.
    """
    text = body.decode("utf-8-sig")
    delimiter = ","
    if uri.lower().endswith(".csv"):
        try:
            delimiter, rows = read_csv(text, "account_id")
        except CsvDialectError as error:
            raise PermanentError(f"The usage file {uri} {error}") from error
        records: list[dict[str, Any]] = list(rows)
    else:
        records = json.loads(text)
    by_id = {raw.get("account_id"): raw for raw in raw_accounts if isinstance(raw, dict)}
    orphans: dict[str, ScreenedOut] = {}
    for row_number, record in enumerate(records, start=1):
        account_id = str(record.get("account_id", ""))
        account = by_id.get(account_id)
        if account is None:
            orphans[account_id] = ScreenedOut(
                account_id=shorten(account_id) or "<no account id>",
                reason=f"Usage file {uri} has usage for an account missing from the account source",
            )
            continue
        quantity = record.get("quantity")
        if isinstance(quantity, str):
            quantity, problem = csv_number(quantity, delimiter)
            if problem is not None:
                account.setdefault(
                    SOURCE_PROBLEM,
                    f"Usage file {uri} row {row_number}, column 'quantity': {problem}",
                )
        account.setdefault("usage", []).append(
            {"metric": record.get("metric"), "quantity": quantity, "source": uri}
        )
    return list(orphans.values())


def _selected(raw_accounts: Iterable[Any], context: RunContext, shadow_ids: list[str]) -> list[Any]:
    """Apply the run's filters: account ids, currencies, and the shadow allow-list."""
    wanted_ids = set(context.account_ids or [])
    if context.mode == "shadow" and not wanted_ids:
        wanted_ids = set(shadow_ids)
    wanted_currencies = {c.upper() for c in context.currencies or []}
    selected = []
    for raw in raw_accounts:
        if not isinstance(raw, dict):
            selected.append(raw)
            continue
        if wanted_ids and raw.get("account_id") not in wanted_ids:
            continue
        if wanted_currencies and str(raw.get("currency", "")).upper() not in wanted_currencies:
            continue
        selected.append(raw)
    return selected


def gather_accounts(context: RunContext, platform: Platform) -> GatherResult:
    settings = platform.settings
    source_body = read_uri(platform.clients.client("s3"), settings.account_source_uri)
    raw_accounts = parse_account_source(settings.account_source_uri, source_body)
    duplicates = duplicate_account_reasons(raw_accounts)
    screening = Screening()
    usage_orphans: list[ScreenedOut] = []
    if settings.usage_source_uri:
        usage_body = read_uri(platform.clients.client("s3"), settings.usage_source_uri)
        usage_orphans = merge_usage_file(raw_accounts, settings.usage_source_uri, usage_body)
        screening.quarantined.extend(usage_orphans)
    selected = _selected(raw_accounts, context, settings.shadow_account_ids)
    period = billing_period(context.period)

    eligible: list[dict[str, Any]] = []
    for row_number, raw in enumerate(selected, start=1):
        if not isinstance(raw, dict):
            screening.quarantined.append(
                ScreenedOut(account_id=f"<row {row_number}>", reason="Row is not an account object")
            )
            continue
        account_id = raw.get("account_id")
        if duplicates and isinstance(account_id, str) and account_id in duplicates:
            screening.quarantined.append(
                ScreenedOut(account_id=shorten(account_id, 100), reason=duplicates[account_id])
            )
            continue
        outcome = screen_account(raw, period, platform.catalog, context.milestone)
        if outcome.outcome == "eligible":
            eligible.append(raw)
        elif outcome.outcome == "excluded":
            screening.excluded.append(
                ScreenedOut(account_id=outcome.account_id, reason=outcome.reason or "")
            )
        else:
            screening.quarantined.append(
                ScreenedOut(account_id=outcome.account_id, reason=outcome.reason or "")
            )
    if context.milestone is not None:
        eligible = _milestone_still_to_bill(
            context.milestone, context, selected, eligible, screening, platform
        )
    screening.eligible_count = len(eligible)

    chunk_entries = []
    for index, start in enumerate(range(0, len(eligible), settings.chunk_size)):
        chunk_key = platform.documents.put_json(
            keys.account_chunk(context.run_id, index), eligible[start : start + settings.chunk_size]
        )
        chunk_entries.append({"chunk_index": index, "chunk_key": chunk_key})
    manifest_key = platform.documents.put_json(
        keys.account_chunks_manifest(context.run_id), chunk_entries
    )
    platform.documents.put_json(keys.screening_report(context.run_id), screening)
    platform.store.update_run(
        context.run_id,
        screening_counts=json.dumps(
            {
                "source_accounts": len(raw_accounts),
                # A milestone event naming an account the source lacks selected it: it
                # is quarantined with its sentence, so the accounts still add up.
                "selected": len(selected) or int(context.milestone is not None),
                "eligible": screening.eligible_count,
                "excluded": len(screening.excluded),
                "quarantined": len(screening.quarantined),
                "usage_records_quarantined": len(usage_orphans),
                "account_chunks": len(chunk_entries),
            }
        ),
    )
    return GatherResult(
        account_chunks_key=manifest_key,
        chunk_count=len(chunk_entries),
        eligible_count=screening.eligible_count,
        excluded_count=len(screening.excluded),
        quarantined_count=len(screening.quarantined),
        milestone_refused=_milestone_refusal(context, screening),
    )


def _milestone_still_to_bill(
    ref: MilestoneRef,
    context: RunContext,
    selected: list[Any],
    eligible: list[dict[str, Any]],
    screening: Screening,
    platform: Platform,
) -> list[dict[str, Any]]:
    """A milestone run's one account, unless the contract is unknown or already billed.

    The drafting step's conditional write is the guarantee; this read only puts the
    sentence in the run report (a second delivery after the first run ended).
    """
    account_id = shorten(ref.account_id, 100)
    if not selected:
        screening.quarantined.append(
            ScreenedOut(account_id=account_id, reason=unknown_contract(ref))
        )
        return []
    existing = platform.store.get_invoice(
        invoice_id_for(ref.account_id, context.period, context.mode, ref)
    )
    if eligible and existing is not None and existing.invoice.status is not InvoiceStatus.VOID:
        screening.excluded.append(
            ScreenedOut(account_id=account_id, reason=already_billed(ref, existing.invoice))
        )
        return []
    return eligible


def _milestone_refusal(context: RunContext, screening: Screening) -> str | None:
    if context.milestone is None or screening.eligible_count:
        return None
    refused = [*screening.quarantined, *screening.excluded]
    return refused[0].reason if refused else None
