"""FinalizeInvoices: number, lock and render each invoice of a chunk, exactly once."""

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoice_dispatch.adapters.aws_errors import retryable_aws_errors
from invoice_dispatch.events import InvoiceChunkEvent
from invoice_dispatch.observability import logger, metrics, tracer
from invoice_dispatch.platform import get_platform
from invoice_dispatch.workflow.finalize import finalize_chunk


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@retryable_aws_errors
@event_parser(model=InvoiceChunkEvent)
def lambda_handler(event: InvoiceChunkEvent, context: LambdaContext) -> dict[str, Any]:
    outcome = finalize_chunk(event.run, event.invoice_ids, get_platform(), datetime.now(UTC))
    metrics.add_metric(name="InvoicesFinalized", unit=MetricUnit.Count, value=len(outcome.done))
    return outcome.model_dump()
