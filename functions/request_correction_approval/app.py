"""RequestCorrectionApproval (.waitForTaskToken): store the token, e-mail the signed link."""

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoice_dispatch.adapters.aws_errors import retryable_aws_errors
from invoice_dispatch.observability import logger, metrics, tracer
from invoice_dispatch.platform import get_platform
from invoice_dispatch.workflow.corrections import CorrectionStepEvent, request_correction_approval


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@retryable_aws_errors
@event_parser(model=CorrectionStepEvent)
def lambda_handler(event: CorrectionStepEvent, context: LambdaContext) -> dict[str, Any]:
    sent = request_correction_approval(event.correction, event.task_token or "", get_platform())
    return {"emails_sent": sent}
