"""The local monthly run: a whole run of the real state machine on this machine.

One ``LocalEnvironment`` is one moto account with the stack provisioned from the SAM
template; ``run()`` starts an execution and drives it to the end, approving through the
real approval HTTP handler (as an approver's browser would) or waiting for a person's
click. Several runs can share one environment, which is how the tests prove that a
second run for the same period creates nothing. With a ``state_dir`` the stack's data
also outlives the process (``persistence``), as a deployed stack's does.
"""

from __future__ import annotations

import email
import email.policy
import gc
import json
import logging
import os
import re
import shutil
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import unescape
from pathlib import Path
from typing import Any

import boto3
import requests
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.s3.models import s3_backends
from moto.ses.models import ses_backends

from invoice_dispatch.events import StepError
from invoice_dispatch.platform import get_platform, reset_platform
from invoice_dispatch.workflow.keys import HISTORY_PAGE
from tools.approval_server import ApprovalServer, serve_lambda
from tools.local_run.lambda_router import LambdaRouter
from tools.local_run.metering import HTTP_API, Meter, acting_as
from tools.local_run.persistence import SavedCounts, StackState
from tools.local_run.stack import LocalStack
from tools.local_run.wiring import ACCOUNT_ID, COLLECTIONS_RUN, MONTHLY_RUN, REGION, Template

warnings.filterwarnings("ignore", message="No application metrics to publish")
logging.getLogger("moto").setLevel(logging.CRITICAL)

MOTO_CONFIG = {
    "stepfunctions": {"execute_state_machine": True},
    "lambda": {"use_docker": False},
}
assert ACCOUNT_ID == DEFAULT_ACCOUNT_ID

#: The run is watched often at first (a demo run takes seconds), then less and less: each
#: look costs the state machine's threads the interpreter for a moment.
POLL_SECONDS = 0.05
MAX_POLL_SECONDS = 0.5

#: The collector's thresholds while a run is in progress (Python's are 700, 10, 10).
GC_THRESHOLDS = (20_000, 20, 20)

#: Who the meter counts the runner's own calls for (polling, approval link, export).
LOCAL_RUNNER = "local runner"
#: The HTTP API's routes served by functions other than the approval API's (the template's
#: ``HttpApi`` events under these paths).
HTTP_API_PREFIXES = {
    "/portal/": "CustomerPortalFunction",
    "/payments/webhook": "PaymentsWebhookFunction",
}

#: Business names of the steps, for progress lines.
STEP_NAMES = {
    "StartRunFunction": "Starting run",
    "ReleaseHeldFunction": "Releasing held invoices",
    "GatherAccountsFunction": "Gathering accounts",
    "GenerateDraftsFunction": "Generating drafts",
    "ReviewDraftsFunction": "Reviewing drafts",
    "RequestApprovalFunction": "Requesting approval",
    "ApprovalReminderFunction": "Reminding the approver",
    "AutoApproveFunction": "Auto-approving",
    "PlanDeliveryFunction": "Planning delivery",
    "PlanRedoFunction": "Planning re-sends and replays",
    "PlanResumeFunction": "Finishing earlier runs' work",
    "NumberInvoicesFunction": "Numbering invoices",
    "FinalizeInvoicesFunction": "Finalizing invoices",
    "DispatchInvoicesFunction": "E-mailing invoices",
    "PostToErpFunction": "Booking in the ERP",
    "RecordChunkFailureFunction": "Recording a failed chunk",
    "SummarizeRunFunction": "Summarizing",
    "AdmitInvoicesFunction": "Admitting invoices",
    "PlanPaymentsFunction": "Planning auto-pay charges",
    "CollectPaymentsFunction": "Collecting auto-pay charges",
    "PlanRemindersFunction": "Planning reminders",
    "SendRemindersFunction": "Sending reminders",
    "EscalateFunction": "Escalating",
    "NotifyCollectionsFunction": "Notifying due and paid",
    "PostLedgerToErpFunction": "Booking payments in the ERP",
    "CollectionsReportFunction": "Reporting collections",
    "RecordEscalationDecisionFunction": "Recording a decision",
}


@dataclass
class ApprovalPlan:
    """How the local run answers the approval request."""

    wait_for_person: bool = False
    hold_invoice_ids: list[str] = field(default_factory=list)
    reject_reason: str | None = None
    on_link: Callable[[str], None] | None = None


@dataclass
class ErpTarget:
    """The ERP a local run books into, and how to show afterwards what it received."""

    adapter: str
    url: str | None = None
    credentials: dict[str, str] = field(default_factory=dict)
    dump: Callable[[Path], Any] | None = None


@dataclass
class RunResult:
    run_id: str
    status: str
    report: dict[str, Any] | None
    out_dir: Path
    approval_link: str | None
    error: str | None = None
    #: Why nothing was started (a schedule's off day, a milestone event delivered again).
    ignored: str | None = None


def failure_of(status: str, description: dict[str, Any]) -> str | None:
    """The sentence of a failed execution's error, without the Lambda's stack trace."""
    if status == "SUCCEEDED":
        return None
    failure = StepError(Error=description.get("error", ""), Cause=description.get("cause", ""))
    return f"{failure.Error}: {failure.message}"


class LocalEnvironment:
    def __init__(
        self,
        accounts_file: Path,
        out_root: Path,
        erp: ErpTarget | None = None,
        parameters: dict[str, Any] | None = None,
        progress: Callable[[str], None] | None = None,
        state_dir: Path | None = None,
        meter: Meter | None = None,
    ) -> None:
        self.accounts_file = accounts_file
        self.out_root = out_root
        self.template = Template()
        self.router = LambdaRouter(self.template.functions())
        self.progress = progress or (lambda message: None)
        self._mock = mock_aws(config=MOTO_CONFIG)
        self._approval_server: ApprovalServer | None = None
        self._saved_environ: dict[str, str] = {}
        self._saved_gc_threshold = gc.get_threshold()
        self.erp = erp or ErpTarget("none")
        self.stack = LocalStack(
            self.template,
            parameters={
                "ErpAdapter": self.erp.adapter,
                "ErpEndpoint": self.erp.url or "",
                **(parameters or {}),
            },
            erp_credentials=self.erp.credentials,
        )
        self.state_machine_arn = ""
        self.collections_arn = ""
        self.state = StackState(state_dir, self.stack.names) if state_dir else None
        self.restored: SavedCounts | None = None
        self.meter = meter
        self._acting_as_runner = acting_as(LOCAL_RUNNER)

    # --------------------------------------------------------------- set-up
    def __enter__(self) -> LocalEnvironment:
        self._saved_environ = dict(os.environ)
        self._saved_gc_threshold = gc.get_threshold()
        self._mock.start()
        os.environ.update(self.stack.environment())
        self._approval_server = serve_lambda(self._http_api_handler)
        self.stack.approval_base_url = self._approval_server.url.rstrip("/")
        os.environ["APPROVAL_BASE_URL"] = self.stack.approval_base_url
        reset_platform()
        self.stack.provision()
        if self.state and self.state.exists():
            self.restored = self.state.restore()
            if self.erp.credentials:  # the ERP is started for this run: its credentials win
                self.stack.store_erp_credentials()
        self.upload_accounts(self.accounts_file)
        self.router.install()
        self.state_machine_arn = self.stack.create_state_machine(MONTHLY_RUN)
        self.collections_arn = self.stack.create_state_machine(COLLECTIONS_RUN)
        if self.meter:  # after the stack's own patches, which it must not undo when it goes
            self.meter.install()
            self.router.meter = self.meter
        self._acting_as_runner.__enter__()
        # A run keeps millions of objects alive (moto's items, histories, the handlers'
        # modules); with the default thresholds the collector scans them thousands of
        # times, 12 % of a run's CPU. What exists now is never garbage; collect less often.
        gc.collect()
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)
        return self

    def _http_api_handler(self, event: dict[str, Any], context: Any) -> Any:
        """The HTTP API's function for the request's path, as the template routes it: the
        customer portal's under ``/portal/``, the payments webhook's (where the local
        gateway delivers a paid checkout), the approval API's for the rest. Loaded on
        first request (after the environment is set)."""
        path = str(event.get("rawPath", ""))
        function = next(
            (name for prefix, name in HTTP_API_PREFIXES.items() if path.startswith(prefix)),
            "ApprovalApiFunction",
        )
        handler = self.router.handler_for(function)[1]
        if not self.meter:
            return handler(event, context)
        with self.meter.invocation(function, event, HTTP_API) as outcome:
            outcome["result"] = handler(event, context)
        return outcome["result"]

    def __exit__(self, *exc_info: object) -> None:
        if self._approval_server:
            self._approval_server.shutdown()
        self.export_history_page()  # after runs the caller started itself (corrections)
        if self.state:  # after a failure too: that is the state a resumed run starts from
            self.state.save()
        self._acting_as_runner.__exit__(None, None, None)
        if self.meter:
            self.meter.uninstall()
            self.router.meter = None
        self.router.uninstall()
        gc.unfreeze()
        gc.set_threshold(*self._saved_gc_threshold)
        self._mock.stop()
        os.environ.clear()
        os.environ.update(self._saved_environ)
        reset_platform()

    def upload_accounts(self, accounts_file: Path) -> None:
        key = str(self.stack.parameter("AccountSourceKey"))
        if accounts_file.suffix == ".csv":
            key = key.rsplit(".", 1)[0] + ".csv"
            os.environ["ACCOUNT_SOURCE_URI"] = f"s3://{self.stack.names.bucket}/{key}"
            reset_platform()
        boto3.client("s3", region_name=REGION).put_object(
            Bucket=self.stack.names.bucket, Key=key, Body=accounts_file.read_bytes()
        )

    # ------------------------------------------------------------------ run
    def run(
        self,
        start_input: dict[str, Any],
        approval: ApprovalPlan | None = None,
        run_id: str | None = None,
        timeout_seconds: float = 600,
    ) -> RunResult:
        approval = approval or ApprovalPlan()
        period = start_input.get("period") or ("event" if "detail-type" in start_input else "run")
        run_id = (
            run_id
            or f"{period}-{start_input.get('mode', 'live')}-{datetime.now(UTC):%Y%m%dT%H%M%S%f}"
        )
        sfn = boto3.client("stepfunctions", region_name=REGION)
        self.router.on_invoke = lambda logical_id: self.progress(
            STEP_NAMES.get(logical_id, logical_id)
        )
        first_message = len(self.sent_messages())
        execution_arn = sfn.start_execution(
            stateMachineArn=self.state_machine_arn, name=run_id, input=json.dumps(start_input)
        )["executionArn"]
        approval_link: str | None = None

        def answer_approval() -> None:
            nonlocal approval_link
            run = get_platform().store.get_run(run_id) if approval_link is None else None
            if approval_link is None and run and run.get("status") == "awaiting_approval":
                try:
                    approval_link = self.approval_link_from_outbox(run_id)
                except LookupError:  # the e-mail leaves just after the token is stored
                    return
                self.progress(f"Approval requested: {approval_link}")
                if approval.on_link:
                    approval.on_link(approval_link)
                if not approval.wait_for_person:
                    self.click_approval(approval_link, approval)

        status, description = self.wait_for(execution_arn, timeout_seconds, answer_approval)
        out_dir = self.export(run_id, first_message)
        report_path = out_dir / "run.json"
        report = json.loads(report_path.read_text()) if report_path.exists() else None
        output = json.loads(description.get("output") or "{}")
        return RunResult(
            run_id,
            status,
            report,
            out_dir,
            approval_link,
            failure_of(status, description),
            output.get("ignored") if isinstance(output, dict) else None,
        )

    def wait_for(
        self,
        execution_arn: str,
        timeout_seconds: float,
        on_poll: Callable[[], None] | None = None,
    ) -> tuple[str, dict[str, Any]]:
        """Poll the execution until it stops; ``on_poll`` acts between looks (approvals)."""
        sfn = boto3.client("stepfunctions", region_name=REGION)
        deadline = time.monotonic() + timeout_seconds
        pause = POLL_SECONDS
        while time.monotonic() < deadline:
            description = sfn.describe_execution(executionArn=execution_arn)
            if description["status"] != "RUNNING":
                return str(description["status"]), description
            if on_poll:
                on_poll()
            # Grown step by step: 1.1 ** polls overflowed after a 100k run's 7,000 looks.
            pause = min(pause * 1.1, MAX_POLL_SECONDS)
            time.sleep(pause)
        raise TimeoutError(f"{execution_arn} did not finish within {timeout_seconds} s")

    def run_collections(
        self, start_input: dict[str, Any], run_id: str, timeout_seconds: float = 600
    ) -> tuple[str, dict[str, Any], str | None]:
        """One execution of the collections state machine: (status, its output, error)."""
        sfn = boto3.client("stepfunctions", region_name=REGION)
        self.router.on_invoke = lambda logical_id: self.progress(
            STEP_NAMES.get(logical_id, logical_id)
        )
        execution_arn = sfn.start_execution(
            stateMachineArn=self.collections_arn, name=run_id, input=json.dumps(start_input)
        )["executionArn"]
        status, description = self.wait_for(execution_arn, timeout_seconds)
        self.export_history_page()
        output = json.loads(description.get("output") or "{}")
        return status, output, failure_of(status, description)

    # ------------------------------------------------------------- approval
    def sent_messages(self) -> list[Any]:
        return list(ses_backends[ACCOUNT_ID][REGION].sent_messages)

    def approval_link_from_outbox(self, run_id: str) -> str:
        for message in reversed(self.sent_messages()):
            raw = getattr(message, "raw_data", "")
            if f"/approvals/{run_id}" in raw:
                parsed = email.message_from_string(raw, policy=email.policy.default)
                body = parsed.get_body(preferencelist=("plain",))
                text = body.get_content() if body else raw
                match = re.search(r"(http://\S+/approvals/\S+)", text)
                if match:
                    return match.group(1)
        raise LookupError(f"No approval e-mail for run {run_id} in the outbox")

    def click_approval(self, link: str, plan: ApprovalPlan) -> requests.Response:
        """Do what an approver's browser does: open the link, submit the form on the page."""
        page = requests.get(link, timeout=30)
        page.raise_for_status()
        token = re.search(r'name="form_token" value="([^"]+)"', page.text)
        if token is None:
            raise LookupError("The approval page has no decision form")
        form: dict[str, Any] = {"form_token": unescape(token.group(1))}
        if plan.reject_reason:
            form.update(decision="reject", reason=plan.reject_reason)
        elif plan.hold_invoice_ids:
            form.update(decision="approve_with_holds", hold=plan.hold_invoice_ids)
        else:
            form.update(decision="approve")
        response = requests.post(link, data=form, timeout=60)
        response.raise_for_status()
        return response

    # --------------------------------------------------------------- output
    def export(self, run_id: str, first_message: int) -> Path:
        """Write what the run produced where a person can look at it."""
        out_dir = self.out_root / run_id
        if out_dir.exists():
            shutil.rmtree(out_dir)
        (out_dir / "invoices").mkdir(parents=True)
        (out_dir / "outbox").mkdir()
        s3 = boto3.client("s3", region_name=REGION)
        bucket = self.stack.names.bucket
        store = get_platform().store
        # Read from moto's bucket itself, as persistence does: a GetObject per PDF is a
        # few milliseconds of request handling each, minutes at 100,000 invoices.
        stored_objects = s3_backends[ACCOUNT_ID]["aws"].get_bucket(bucket).keys
        for stored in store.run_invoices(run_id):
            if stored.pdf_key:
                (out_dir / "invoices" / Path(stored.pdf_key).name).write_bytes(
                    stored_objects[stored.pdf_key].value
                )
        for index, message in enumerate(self.sent_messages()[first_message:], start=1):
            (out_dir / "outbox" / f"{index:05d}.eml").write_text(getattr(message, "raw_data", ""))
        try:
            report = s3.get_object(Bucket=bucket, Key=f"runs/{run_id}/run.json")["Body"].read()
            (out_dir / "run.json").write_bytes(report)
        except s3.exceptions.NoSuchKey:
            pass
        if self.erp.dump:
            self.erp.dump(out_dir / "erp")
        self.export_history_page()
        return out_dir

    @property
    def history_page(self) -> Path:
        return self.out_root / "history" / "index.html"

    def export_history_page(self) -> Path | None:
        """The history page as the last run wrote it to the bucket (None: no run ended yet)."""
        stored = s3_backends[ACCOUNT_ID]["aws"].get_bucket(self.stack.names.bucket).keys
        if HISTORY_PAGE not in stored:
            return None
        self.history_page.parent.mkdir(parents=True, exist_ok=True)
        self.history_page.write_bytes(stored[HISTORY_PAGE].value)
        return self.history_page
