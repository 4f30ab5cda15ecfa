"""``python -m tools.audit verify|register --period YYYY-MM [--stack NAME] [--out DIR]``.

``verify`` proves the period's register (``workflow/audit_verify.py``): one line per
check, exit 0 when every check holds, 1 with a sentence per break otherwise.
``register`` writes the register again (after a credit note, say) to S3 and to
``DIR/registers/<period>/``.

Without ``--stack`` both work on the local stack ``make demo`` keeps in
``DIR/.local-stack/`` (its table, bucket and HTTP ERP, put back into moto); with
``--stack NAME`` on a deployed stack, found through its outputs and parameters
(``--region`` or the AWS environment's region).
"""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3

from invoice_dispatch.adapters.dynamodb_store import DynamoStore
from invoice_dispatch.adapters.erp_factory import build_erp_client
from invoice_dispatch.adapters.s3_documents import S3Documents
from invoice_dispatch.audit.checks import report_lines
from invoice_dispatch.billing.period import billing_period
from invoice_dispatch.erp import ErpTotalsReader
from invoice_dispatch.legal_entity import load_legal_entity
from invoice_dispatch.platform import Platform
from invoice_dispatch.settings import Settings
from invoice_dispatch.workflow.audit_verify import verify_period
from invoice_dispatch.workflow.register import write_period_register
from tools.local_run.wiring import REPO_ROOT

Target = tuple[Platform, ErpTotalsReader | None]


def _period(label: str) -> str:
    """A mistyped period (2026-13) is refused with a sentence, not audited as empty."""
    try:
        return billing_period(label).label
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def verify(period: str, platform: Platform, erp: ErpTotalsReader | None) -> int:
    """Print one line per check, then each break's sentence; 0 only when all hold."""
    results = verify_period(period, platform, erp)
    print(f"Audit of the invoice register for {period}")
    for line in report_lines(results):
        print(f"  {line}")
    breaks = sum(len(result.breaks) for result in results)
    if breaks:
        print(f"The register for {period} does not hold: {breaks} break(s), listed above.")
        return 1
    print(f"The register for {period} holds: every check passed.")
    return 0


def export_register(period: str, platform: Platform, out: Path) -> list[str]:
    """Write the register to S3, copy it to ``out/registers/<period>/``; the lines saying
    where (``make demo`` prints them too)."""
    written = write_period_register(period, platform, datetime.now(UTC))
    folder = out / "registers" / period
    folder.mkdir(parents=True, exist_ok=True)
    for key in (written.csv_key, written.pdf_key):
        (folder / Path(key).name).write_bytes(platform.documents.get_bytes(key))
    return [
        f"Register for {period}: {written.invoices} invoice(s), "
        f"{written.credit_notes} credit note(s)",
        f"  S3         s3://{platform.documents.bucket}/{written.csv_key} (and .pdf)",
        f"  local      {folder}/register.csv and register.pdf",
        f"  verify     python -m tools.audit verify --period {period}",
    ]


@contextlib.contextmanager
def deployed_stack(name: str) -> Iterator[Target]:
    """The stack's table, bucket and ERP, found through CloudFormation.

    The verifier needs those three, not a Lambda's whole environment, so the settings
    are built from the stack's outputs and parameters without the functions' other fields.
    """
    cloudformation = boto3.client("cloudformation")
    stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    outputs = {entry["OutputKey"]: entry["OutputValue"] for entry in stack.get("Outputs", [])}
    parameters = {
        entry["ParameterKey"]: entry.get("ParameterValue", "")
        for entry in stack.get("Parameters", [])
    }
    settings = Settings.model_construct(
        table_name=outputs["BillingTableName"],
        documents_bucket=outputs["DocumentsBucketName"],
        erp_adapter=parameters.get("ErpAdapter", "none") or "none",
        erp_endpoint=parameters.get("ErpEndpoint") or None,
        erp_credentials_secret_id=_physical_id(cloudformation, name, "ErpCredentialsSecret"),
    )
    platform = Platform(
        settings=settings,
        store=DynamoStore(boto3.resource("dynamodb").Table(settings.table_name)),
        documents=S3Documents(boto3.client("s3"), settings.documents_bucket),
        legal_entity=load_legal_entity(),
    )
    erp = build_erp_client(settings) if settings.erp_adapter != "none" else None
    yield platform, erp


def _physical_id(cloudformation: Any, stack: str, logical_id: str) -> str | None:
    try:
        resource = cloudformation.describe_stack_resource(
            StackName=stack, LogicalResourceId=logical_id
        )
    except cloudformation.exceptions.ClientError:
        return None
    return str(resource["StackResourceDetail"]["PhysicalResourceId"])


@contextlib.contextmanager
def local_stack(out: Path) -> Iterator[Target]:
    """The stack ``make demo`` keeps in ``out/.local-stack/``, back in moto, and its ERP."""
    from invoice_dispatch.adapters.erp_http import HttpErpClient
    from invoice_dispatch.platform import get_platform
    from tools.erp.http_erp_server import running_http_erp
    from tools.local_run.__main__ import DEFAULT_ACCOUNTS, STATE_FOLDER
    from tools.local_run.persistence import HTTP_ERP_FILE, StackState
    from tools.local_run.runner import LocalEnvironment
    from tools.local_run.wiring import LocalNames

    state = StackState(out / STATE_FOLDER, LocalNames())
    if not state.exists():
        raise SystemExit(f"No local stack in {state.directory}/: run `make demo` first.")
    erp_file = state.directory / HTTP_ERP_FILE
    with contextlib.ExitStack() as stack:
        erp: ErpTotalsReader | None = None
        if erp_file.exists():
            url, _erp_state = stack.enter_context(running_http_erp(kept_in=erp_file))
            erp = HttpErpClient(url)
        stack.enter_context(LocalEnvironment(DEFAULT_ACCOUNTS, out, state_dir=state.directory))
        yield get_platform(), erp


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.audit", description=__doc__)
    parser.add_argument("command", choices=("verify", "register"))
    parser.add_argument("--period", required=True, type=_period, help="the billing period, YYYY-MM")
    parser.add_argument("--stack", help="a deployed stack's name; default: the local stack")
    parser.add_argument("--region", help="the deployed stack's region")
    parser.add_argument(
        "--out", type=Path, default=REPO_ROOT / "out", help="the local output (make demo's)"
    )
    arguments = parser.parse_args(argv)
    if arguments.region:
        os.environ["AWS_DEFAULT_REGION"] = arguments.region
    target = deployed_stack(arguments.stack) if arguments.stack else local_stack(arguments.out)
    with target as (platform, erp):
        if arguments.command == "register":
            print("\n".join(export_register(arguments.period, platform, arguments.out)))
            return 0
        return verify(arguments.period, platform, erp)
