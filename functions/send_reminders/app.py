"""SendReminders (one Map child per chunk): each due reminder stage e-mailed once."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoice_dispatch.adapters.aws_errors import retryable_aws_errors
from invoice_dispatch.events import ReminderChunkEvent
from invoice_dispatch.observability import logger, metrics, tracer
from invoice_dispatch.platform import get_platform
from invoice_dispatch.workflow.reminders import send_reminder_chunk


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@retryable_aws_errors
@event_parser(model=ReminderChunkEvent)
def lambda_handler(event: ReminderChunkEvent, context: LambdaContext) -> dict[str, Any]:
    result = send_reminder_chunk(event.run, event.chunk_index, event.reminders, get_platform())
    metrics.add_metric(name="RemindersSent", unit=MetricUnit.Count, value=len(result.sent))
    metrics.add_metric(name="RemindersFailed", unit=MetricUnit.Count, value=len(result.failed))
    return {"sent": len(result.sent), "skipped": len(result.skipped), "failed": len(result.failed)}
