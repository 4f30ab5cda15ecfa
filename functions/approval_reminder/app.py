"""ApprovalReminder: e-mail the approval link again, at half-time or when an operator asks.

Invoked by the one-time schedule RequestApproval creates, or from the console with
``{"run_id": "..."}`` to re-send a link someone lost.
"""

from typing import Any

from aws_lambda_powertools.utilities.parser import BaseModel, event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoice_dispatch.adapters.aws_errors import retryable_aws_errors
from invoice_dispatch.observability import logger, tracer
from invoice_dispatch.platform import get_platform
from invoice_dispatch.workflow.approval import remind_approvers


class ReminderEvent(BaseModel):
    run_id: str


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@retryable_aws_errors
@event_parser(model=ReminderEvent)
def lambda_handler(event: ReminderEvent, context: LambdaContext) -> dict[str, Any]:
    sent = remind_approvers(event.run_id, get_platform())
    logger.info("Approval reminder", extra={"run_id": event.run_id, "emails_sent": sent})
    return {"emails_sent": sent}
