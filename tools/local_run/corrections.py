"""Local corrections: start ``statemachine/corrections.asl.json`` on a local stack and drive it.

The corrections state machine is created on first use beside the monthly one (same
template, same in-process handlers); the approver's link is opened and its form posted
through the real approval HTTP handler, as for a batch (``LocalEnvironment.click_approval``).
"""

from __future__ import annotations

import email
import email.policy
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3

from invoice_dispatch.corrections import parse_correction_input
from invoice_dispatch.events import StepError
from invoice_dispatch.platform import get_platform
from invoice_dispatch.workflow.receivables_admission import AdmissionResult, admit_invoices
from tools.local_run.runner import POLL_SECONDS, ApprovalPlan, LocalEnvironment
from tools.local_run.wiring import CORRECTIONS_RUN, REGION


@dataclass
class CorrectionResult:
    request_id: str
    status: str
    #: For a failed run, the error name and the sentence (``CorrectionRefused: ...``).
    error: str | None
    approval_link: str | None
    record: dict[str, Any]
    #: Where the credit note's PDF was written, for a credit note that was issued.
    pdf_path: Path | None = None


def admit(env: LocalEnvironment) -> AdmissionResult:
    """What the daily collections run does first: finished monthly runs' invoices become
    receivables (a correction names an invoice on the ledger)."""
    return admit_invoices(get_platform(), datetime.now(UTC))


def _machine_arn(env: LocalEnvironment) -> str:
    arn = env.stack.state_machine_arn(CORRECTIONS_RUN)
    sfn = boto3.client("stepfunctions", region_name=REGION)
    known = {machine["stateMachineArn"] for machine in sfn.list_state_machines()["stateMachines"]}
    return arn if arn in known else env.stack.create_state_machine(CORRECTIONS_RUN)


def _link(env: LocalEnvironment, request_id: str, first_message: int) -> str | None:
    """The approver's link, read from the plain-text body of the e-mail SES was given."""
    for message in env.sent_messages()[first_message:]:
        parsed = email.message_from_string(
            getattr(message, "raw_data", ""), policy=email.policy.default
        )
        body = parsed.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        for word in text.split():
            if word.startswith("http") and f"/corrections/{request_id}?" in word:
                return word
    return None


def run_correction(
    env: LocalEnvironment,
    correction: dict[str, Any],
    approval: ApprovalPlan | None = None,
    timeout_seconds: float = 120,
) -> CorrectionResult:
    """Start one correction run and approve (or reject) it as ``approval`` says."""
    approval = approval or ApprovalPlan()
    request_id = parse_correction_input(correction).request_id
    sfn = boto3.client("stepfunctions", region_name=REGION)
    first_message = len(env.sent_messages())
    execution_arn = sfn.start_execution(
        stateMachineArn=_machine_arn(env),
        name=f"{request_id[:50]}-{datetime.now(UTC):%H%M%S%f}",
        input=json.dumps(correction),
    )["executionArn"]
    link: str | None = None
    deadline = time.monotonic() + timeout_seconds
    while True:
        description = sfn.describe_execution(executionArn=execution_arn)
        if description["status"] != "RUNNING":
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"Correction {request_id} did not finish in {timeout_seconds} s")
        record = get_platform().corrections.get(request_id) or {}
        if link is None and record.get("status") == "awaiting_approval":
            link = _link(env, request_id, first_message)
            if link and approval.on_link:
                approval.on_link(link)
            if link and not approval.wait_for_person:
                env.click_approval(link, approval)
        time.sleep(POLL_SECONDS)
    error = None
    if description["status"] != "SUCCEEDED":
        failure = StepError(Error=description.get("error", ""), Cause=description.get("cause", ""))
        error = f"{failure.Error}: {failure.message}"
    record = get_platform().corrections.get(request_id) or {}
    pdf_path = None
    if record.get("pdf_key"):
        pdf_path = env.out_root / "credit-notes" / Path(str(record["pdf_key"])).name
        pdf_path.parent.mkdir(parents=True, exist_ok=True)
        pdf_path.write_bytes(get_platform().documents.get_bytes(str(record["pdf_key"])))
    return CorrectionResult(request_id, description["status"], error, link, record, pdf_path)


def demo_credit_note(env: LocalEnvironment) -> list[str]:
    """What ``make demo`` adds after the monthly run: the first invoice's first line credited,
    approved through its own signed link; the lines it prints. A second demo on the kept
    stack finds the same request done and shows the same credit note."""
    admit(env)
    receivables = sorted(get_platform().ledger.unsettled_receivables(), key=lambda r: r.number)
    if not receivables:
        return ["Credit note: no invoice on the ledger to credit"]
    receivable = receivables[0]
    stored = get_platform().store.get_invoice(receivable.invoice_id)
    first_line = stored.invoice.lines[0].line_id if stored else "L001"
    result = run_correction(
        env,
        {
            "credit_note": {
                "invoice": receivable.number,
                "lines": [first_line],
                "reason": "Demo: one line credited",
            }
        },
    )
    if result.status != "SUCCEEDED":
        return [f"Credit note for {receivable.number}: {result.status} {result.error or ''}"]
    return [
        f"Credit note {result.record['number']} credits {receivable.number} line {first_line} "
        f"(approved through {str(result.approval_link or 'an earlier approval').split('?')[0]})",
        f"  PDF        {result.pdf_path}",
    ]
