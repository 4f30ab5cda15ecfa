"""CloseCorrection: a correction run ends (rejected, expired, refused, or done) in the history."""

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoice_dispatch.adapters.aws_errors import retryable_aws_errors
from invoice_dispatch.events import StepError
from invoice_dispatch.observability import logger, metrics, tracer
from invoice_dispatch.platform import get_platform
from invoice_dispatch.workflow.corrections import CorrectionStepEvent, end_correction


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@retryable_aws_errors
@event_parser(model=CorrectionStepEvent)
def lambda_handler(event: CorrectionStepEvent, context: LambdaContext) -> dict[str, Any]:
    cause = StepError(**(event.error or {})).message if event.error else ""
    end_correction(event.correction, event.outcome, cause, get_platform())
    return {"closed": event.correction.request_id, "cause": cause}
