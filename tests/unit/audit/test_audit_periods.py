"""Continuity across periods, on the real store (moto): a period's numbers continue the
last period's, and a number another period took in between is no gap."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest

from invoice_dispatch.platform import Platform
from invoice_dispatch.workflow.audit_verify import verify_period
from invoice_dispatch.workflow.finalize import finalized_copy, number_series
from tests.unit.billing.billing_factories import invoice_for, raw_account
from tools.audit.commands import main as audit_main

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _numbered(platform: Platform, account_id: str, period: str) -> str:
    run_id = f"run-{period}"
    draft = invoice_for(raw_account(account_id=account_id), period, run_id=run_id, mode="live")
    platform.store.create_draft(draft)
    stored = platform.store.finalize(
        [draft.invoice_id],
        run_id,
        number_series(platform.legal_entity, "live", 2026),
        lambda invoice, n: finalized_copy(invoice, platform.legal_entity, n, NOW),
    )[draft.invoice_id]
    assert not isinstance(stored, Exception)
    return str(stored.invoice.number)


def test_numbers_taken_by_other_periods_are_found_there(platform: Platform) -> None:
    numbered = [
        _numbered(platform, "ACC-1", "2026-10"),
        _numbered(platform, "ACC-2", "2026-10"),
        _numbered(platform, "ACC-3", "2026-11"),
        _numbered(platform, "ACC-4", "2026-10"),  # a held October invoice, released late
        _numbered(platform, "ACC-5", "2026-11"),
    ]
    assert numbered[-1] == "INV-2026-000005"

    numbers = verify_period("2026-11", platform, None)[0]

    assert numbers.looked_at == "2 invoice(s): INV-2026-000003 to INV-2026-000005"
    assert numbers.breaks == []


def test_a_number_no_period_holds_is_missing(platform: Platform) -> None:
    _numbered(platform, "ACC-1", "2026-10")
    invoice_id = invoice_for(raw_account(account_id="ACC-2"), "2026-10").invoice_id
    _numbered(platform, "ACC-2", "2026-10")
    _numbered(platform, "ACC-3", "2026-11")
    table = boto3.resource("dynamodb").Table(platform.settings.table_name)
    table.delete_item(Key={"PK": f"INVOICE#{invoice_id}", "SK": "DOC"})

    numbers = verify_period("2026-11", platform, None)[0]

    assert numbers.breaks == [
        "The INV-2026 series jumps from INV-2026-000001 to INV-2026-000003: "
        "INV-2026-000002 is missing."
    ]


def test_a_mistyped_period_is_refused_with_a_sentence_not_audited_as_empty(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as refused:
        audit_main(["verify", "--period", "2026-13"])
    assert refused.value.code == 2
    assert "Billing period '2026-13' is not of the form YYYY-MM" in capsys.readouterr().err
