"""StartRun: validate the schedule or console input and open the run record."""

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoice_dispatch.adapters.aws_errors import retryable_aws_errors
from invoice_dispatch.events import StartRunEvent
from invoice_dispatch.observability import logger, tracer
from invoice_dispatch.platform import get_platform
from invoice_dispatch.workflow.start import start_run


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@retryable_aws_errors
@event_parser(model=StartRunEvent)
def lambda_handler(event: StartRunEvent, context: LambdaContext) -> dict[str, Any]:
    run = start_run(event.input, event.execution_name, event.started_at, get_platform())
    logger.info("Run started", extra={"run_id": run.run_id, "period": run.period, "mode": run.mode})
    return run.model_dump(mode="json", exclude_none=True)
