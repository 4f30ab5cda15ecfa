"""GenerateDrafts (one Map child per chunk): one draft per (account, period)."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoice_dispatch.adapters.aws_errors import retryable_aws_errors
from invoice_dispatch.events import AccountChunkEvent
from invoice_dispatch.observability import logger, metrics, tracer
from invoice_dispatch.platform import get_platform
from invoice_dispatch.workflow.drafting import draft_chunk


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@retryable_aws_errors
@event_parser(model=AccountChunkEvent)
def lambda_handler(event: AccountChunkEvent, context: LambdaContext) -> dict[str, Any]:
    result = draft_chunk(event.run, event.chunk_index, event.chunk_key, get_platform())
    metrics.add_metric(name="DraftsCreated", unit=MetricUnit.Count, value=result.drafted)
    return result.model_dump()
