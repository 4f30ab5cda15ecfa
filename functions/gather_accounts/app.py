"""GatherAccounts: screen the account source and write the chunked manifest."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoice_dispatch.adapters.aws_errors import retryable_aws_errors
from invoice_dispatch.events import RunEvent
from invoice_dispatch.observability import logger, metrics, tracer
from invoice_dispatch.platform import get_platform
from invoice_dispatch.workflow.gather import gather_accounts


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@retryable_aws_errors
@event_parser(model=RunEvent)
def lambda_handler(event: RunEvent, context: LambdaContext) -> dict[str, Any]:
    result = gather_accounts(event.run, get_platform())
    metrics.add_metric(
        name="QuarantinedAccounts", unit=MetricUnit.Count, value=result.quarantined_count
    )
    if result.milestone_refused:
        logger.warning("Milestone event refused", extra={"outcome": result.milestone_refused})
        metrics.add_metric(name="MilestoneEventsRefused", unit=MetricUnit.Count, value=1)
    return result.model_dump()
