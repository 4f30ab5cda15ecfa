"""RecordChunkFailure: the Catch path; every invoice of a failed chunk says why."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoice_dispatch.adapters.aws_errors import retryable_aws_errors
from invoice_dispatch.events import ChunkFailureEvent
from invoice_dispatch.observability import logger, metrics, tracer
from invoice_dispatch.platform import get_platform
from invoice_dispatch.workflow.delivery import record_chunk_failure


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@retryable_aws_errors
@event_parser(model=ChunkFailureEvent)
def lambda_handler(event: ChunkFailureEvent, context: LambdaContext) -> dict[str, Any]:
    touched = record_chunk_failure(event.invoice_ids, event.step, event.error, get_platform())
    metrics.add_metric(name="ChunkFailures", unit=MetricUnit.Count, value=1)
    logger.error(
        "Chunk failed", extra={"step": event.step, "invoices": touched, "error": event.error.Error}
    )
    return {"recorded": touched}
