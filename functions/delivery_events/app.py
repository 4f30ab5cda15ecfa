"""DeliveryEvents: SES events (via SNS) move each invoice's (or reminder's) delivery state."""

import json
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import SNSEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoice_dispatch.adapters.aws_errors import retryable_aws_errors
from invoice_dispatch.observability import logger, metrics, tracer
from invoice_dispatch.platform import get_platform
from invoice_dispatch.workflow.delivery_events import apply_ses_event
from invoice_dispatch.workflow.reminder_events import apply_reminder_event, reminder_tag


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@retryable_aws_errors
@event_source(data_class=SNSEvent)
def lambda_handler(event: SNSEvent, context: LambdaContext) -> dict[str, Any]:
    platform = get_platform()
    applied = 0
    for record in event.records:
        ses_event = json.loads(record.sns.message)
        if reminder_tag(ses_event):
            applied += int(apply_reminder_event(ses_event, platform).applied)
            continue
        update = apply_ses_event(ses_event, platform)
        applied += int(update.applied)
        if update.is_failure:
            metrics.add_metric(name="FailedDeliveries", unit=MetricUnit.Count, value=1)
            logger.warning("Delivery failed", extra=update.model_dump(mode="json"))
    metrics.add_metric(name="DeliveryEventsApplied", unit=MetricUnit.Count, value=applied)
    return {"applied": applied}
