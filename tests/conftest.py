"""Shared fixtures: a moto account provisioned from infra/template.yaml, and a Platform on it."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from moto import mock_aws

from invoice_dispatch.invoice import Invoice
from invoice_dispatch.platform import Platform, get_platform, reset_platform
from invoice_dispatch.tracking import INVOICE_TAG, invoice_tag_value
from tests.unit.billing.billing_factories import context, invoice_for, raw_account
from tools.local_run.stack import LocalStack
from tools.local_run.wiring import REPO_ROOT, Template

SES_EVENTS = REPO_ROOT / "events" / "ses"


@contextmanager
def moto_platform() -> Iterator[Platform]:
    """A fresh moto account provisioned from the template, and the Platform built on it."""
    saved = dict(os.environ)
    try:
        with mock_aws():
            stack = LocalStack(Template())
            os.environ.update(stack.environment())
            reset_platform()
            stack.provision()
            yield get_platform()
    finally:
        os.environ.clear()
        os.environ.update(saved)
        reset_platform()


@pytest.fixture
def platform() -> Iterator[Platform]:
    with moto_platform() as fresh:
        yield fresh


@pytest.fixture
def dense_thread_switching() -> Iterator[None]:
    """Switch threads every microsecond instead of every 5 ms, so that an unguarded read
    meets a write within a fraction of a second instead of once in a long run (the local
    stack runs a Map's children as threads of one process)."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def draft_invoice(
    account_id: str = "ACC-T1", run_id: str = "run-1", mode: str = "live", **account_fields: Any
) -> Invoice:
    """A real draft from the billing engine for a small EUR account."""
    raw = raw_account(account_id=account_id, **account_fields)
    return invoice_for(raw, run_id=run_id, mode=mode)


__all__ = ["context", "draft_invoice", "moto_platform"]


def ses_sample_event(name: str, message_id: str, invoice_id: str) -> dict[str, Any]:
    """A sample SES event (``events/ses``) about this message, tagged with its invoice as
    SES repeats the message's tags on every event."""
    sns_event = json.loads((SES_EVENTS / f"{name}.json").read_text())
    message = json.loads(sns_event["Records"][0]["Sns"]["Message"])
    message["mail"]["messageId"] = message_id
    message["mail"]["tags"][INVOICE_TAG] = [invoice_tag_value(invoice_id)]
    sns_event["Records"][0]["Sns"]["Message"] = json.dumps(message)
    return sns_event
