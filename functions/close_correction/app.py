"""CloseCorrection: a rejected, expired or refused correction ends without effect."""

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoice_dispatch.adapters.aws_errors import retryable_aws_errors
from invoice_dispatch.events import StepError
from invoice_dispatch.observability import logger, metrics, tracer
from invoice_dispatch.platform import get_platform
from invoice_dispatch.workflow.corrections import CorrectionStepEvent, close_correction


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@retryable_aws_errors
@event_parser(model=CorrectionStepEvent)
def lambda_handler(event: CorrectionStepEvent, context: LambdaContext) -> dict[str, Any]:
    cause = StepError(**(event.error or {})).message if event.error else ""
    if event.outcome is not None:
        close_correction(event.correction.request_id, event.outcome, cause, get_platform())
    return {"closed": event.correction.request_id, "cause": cause}
