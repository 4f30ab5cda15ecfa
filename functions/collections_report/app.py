"""CollectionsReport (daily collections run): the KPIs to S3 and to CloudWatch (EMF)."""

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoice_dispatch.adapters.aws_errors import retryable_aws_errors
from invoice_dispatch.events import CollectionsStepEvent
from invoice_dispatch.observability import emit_collections_metrics, logger, metrics, tracer
from invoice_dispatch.platform import get_platform
from invoice_dispatch.workflow.collections_report import write_report


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@retryable_aws_errors
@event_parser(model=CollectionsStepEvent)
def lambda_handler(event: CollectionsStepEvent, context: LambdaContext) -> dict[str, Any]:
    report = write_report(event.run, get_platform())
    emit_collections_metrics(report)
    return {
        "as_of": str(report.as_of),
        "reminders_sent": report.reminders_sent,
        "open_escalations": len(report.open_escalations),
    }
