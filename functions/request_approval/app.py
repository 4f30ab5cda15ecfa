"""AwaitApproval: keep the task token server-side and e-mail each approver a signed link."""

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoice_dispatch.adapters.aws_errors import retryable_aws_errors
from invoice_dispatch.events import ApprovalRequestEvent
from invoice_dispatch.observability import logger, tracer
from invoice_dispatch.platform import get_platform
from invoice_dispatch.workflow.approval import request_approval


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@retryable_aws_errors
@event_parser(model=ApprovalRequestEvent)
def lambda_handler(event: ApprovalRequestEvent, context: LambdaContext) -> dict[str, Any]:
    emails_sent = request_approval(event.run, event.task_token, get_platform())
    return {"approval_emails_sent": emails_sent}
