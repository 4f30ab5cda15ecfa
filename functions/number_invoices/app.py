"""NumberInvoices: number the run's approved invoices in one sequential pass."""

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoice_dispatch.adapters.aws_errors import retryable_aws_errors
from invoice_dispatch.events import NumberingEvent
from invoice_dispatch.observability import logger, tracer
from invoice_dispatch.platform import get_platform
from invoice_dispatch.workflow.finalize import number_planned_invoices


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@retryable_aws_errors
@event_parser(model=NumberingEvent)
def lambda_handler(event: NumberingEvent, context: LambdaContext) -> dict[str, Any]:
    return number_planned_invoices(
        event.run,
        event.invoice_chunks_key,
        get_platform(),
        datetime.now(UTC),
        lambda: context.get_remaining_time_in_millis() / 1000,
    ).model_dump()
