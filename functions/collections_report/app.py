"""CollectionsReport (daily collections run): the KPIs to S3 and to CloudWatch (EMF)."""

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoice_dispatch.adapters.aws_errors import retryable_aws_errors
from invoice_dispatch.events import CollectionsStepEvent
from invoice_dispatch.observability import (
    emit_collections_metrics,
    emit_history_metrics,
    logger,
    metrics,
    tracer,
)
from invoice_dispatch.platform import get_platform
from invoice_dispatch.workflow.collections_report import write_report
from invoice_dispatch.workflow.run_history import collections_record, record_run


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@retryable_aws_errors
@event_parser(model=CollectionsStepEvent)
def lambda_handler(event: CollectionsStepEvent, context: LambdaContext) -> dict[str, Any]:
    platform = get_platform()
    report = write_report(event.run, platform)
    emit_collections_metrics(report)
    record = collections_record(event.run.run_id, report, platform)
    emit_history_metrics(record, record_run(record, platform))
    return {
        "as_of": str(report.as_of),
        "reminders_sent": report.reminders_sent,
        "open_escalations": len(report.open_escalations),
    }
