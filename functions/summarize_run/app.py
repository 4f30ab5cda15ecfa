"""SummarizeRun: write run.json, update the run record and notify the SNS topic."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoice_dispatch.adapters.aws_errors import retryable_aws_errors
from invoice_dispatch.events import SummarizeEvent
from invoice_dispatch.history import KpiSummary, RunHistoryRecord
from invoice_dispatch.observability import emit_history_metrics, logger, metrics, tracer
from invoice_dispatch.platform import get_platform
from invoice_dispatch.workflow.summary import summarize_run


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@retryable_aws_errors
@event_parser(model=SummarizeEvent)
def lambda_handler(event: SummarizeEvent, context: LambdaContext) -> dict[str, Any]:
    report = summarize_run(event.run, event.outcome, get_platform(), event.error)
    counts = report["counts"]
    for metric, key in (
        ("RunInvoicesFinalized", "finalized"),
        ("RunInvoicesHeld", "held"),
        ("RunQuarantinedAccounts", "quarantined"),
        ("RunErpFailures", "erp_failed"),
        ("UnreconciledInvoices", "unreconciled"),
        ("PossiblySentTwice", "possibly_sent_twice"),
    ):
        metrics.add_metric(name=metric, unit=MetricUnit.Count, value=counts.get(key, 0))
    emit_history_metrics(
        RunHistoryRecord.model_validate(report["history"]),
        KpiSummary.model_validate(report["kpis"]),
    )
    return {"status": report["status"], "counts": report["counts"]}
