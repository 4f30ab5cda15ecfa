"""Which AWS failures are worth retrying, decided in one place.

botocore already retries throttling, 5xx answers and dropped connections a few times
inside one call (standard mode, ``aws_clients``). When AWS is still throttling after
that, the raw ``ClientError`` used to escape the handler under its own name, which no
``Retry`` block in the state machine lists: a busy table failed a chunk for good. Here
such an error becomes a ``TransientError``, the one name every Task's ``Retry`` matches,
with a message a billing person can read; everything else stays exactly as it was.

Not transient on purpose: SES's *daily* sending quota (SES v2 ``LimitExceededException``,
or ``Throttling`` saying "Daily message quota exceeded") does not clear within a step's
retries; quota errors of other services (``LimitExceededException``) need a person.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar
from urllib.parse import urlsplit

import botocore.session
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from invoice_dispatch.errors import TransientError

P = ParamSpec("P")
R = TypeVar("R")

#: The services this product calls, by botocore name, as a billing team knows them.
SERVICE_NAMES = {
    "dynamodb": "DynamoDB",
    "s3": "S3",
    "sesv2": "SES",
    "sns": "SNS",
    "sqs": "SQS",
    "secretsmanager": "Secrets Manager",
    "stepfunctions": "Step Functions",
    "scheduler": "EventBridge Scheduler",
}

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",  # SNS
        "RequestThrottled",  # SQS
        "RequestThrottledException",
        "TooManyRequestsException",  # SES v2: "Maximum sending rate exceeded."
        "ProvisionedThroughputExceededException",  # DynamoDB
        "RequestLimitExceeded",  # DynamoDB account-level throughput
        "TransactionInProgressException",  # DynamoDB: the same token is still running
        "SlowDown",  # S3
        "KMSThrottlingException",
        "KmsThrottled",
    }
)
UNAVAILABLE_CODES = frozenset(
    {
        "InternalServerError",  # DynamoDB
        "InternalError",  # S3
        "InternalFailure",
        "InternalServiceError",  # Secrets Manager
        "InternalErrorException",  # SNS
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)
#: SES answers a spent daily quota with a throttling code too; only the message tells.
DAILY_QUOTA_MESSAGE = "daily message quota"
SES_DAILY_QUOTA_CODE = "LimitExceededException"
CONNECTION_ERRORS = (
    EndpointConnectionError,
    ConnectionClosedError,
    ReadTimeoutError,
    ConnectTimeoutError,
)
_VERBS = (
    ("writes", ("Put", "Update", "Delete", "BatchWrite", "TransactWrite", "Create", "Copy")),
    ("reads", ("Get", "Query", "Scan", "List", "Head", "BatchGet", "TransactGet", "Describe")),
    ("sends", ("Send", "Publish", "Receive")),
)


def transient_reason(error: BaseException) -> str | None:
    """Why ``error`` is worth retrying, in a billing person's words; None if it is not."""
    if isinstance(error, TransientError):
        return str(error)
    if isinstance(error, CONNECTION_ERRORS):
        endpoint = str(error.kwargs.get("endpoint_url", ""))
        return f"Could not reach {_service_at(endpoint)} ({type(error).__name__})"
    if not isinstance(error, ClientError):
        return None
    details = error.response.get("Error", {})
    code = str(details.get("Code", ""))
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
    operation = error.operation_name
    service = _service_of(operation)
    if _is_daily_quota(service, code, str(details.get("Message", ""))):
        return None
    if code in THROTTLING_CODES or status == 429:
        return f"{service} is throttling {_kind_of(operation)} ({code} on {operation})"
    if code in UNAVAILABLE_CODES or status >= 500:
        return f"{service} is briefly unavailable ({code or status} on {operation})"
    return None


def already_exists(error: BaseException) -> bool:
    """AWS refused to create what an earlier attempt of the same step already created."""
    return isinstance(error, ClientError) and error.response.get("Error", {}).get("Code") in (
        "ConflictException",
        "ResourceAlreadyExistsException",
    )


def retryable_aws_errors(handler: Callable[P, R]) -> Callable[P, R]:
    """Re-raise a transient AWS error as ``TransientError`` so the step's Retry takes it.

    Put it just above the event parser, under the Powertools decorators, so the log line
    and the trace show the readable error with the AWS one chained as its cause.
    """

    @functools.wraps(handler)
    def with_transient_errors_named(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return handler(*args, **kwargs)
        except TransientError:
            raise
        except Exception as error:
            reason = transient_reason(error)
            if reason is None:
                raise
            raise TransientError(f"{reason}; the step will be retried") from error

    with_transient_errors_named.names_transient_aws_errors = True  # type: ignore[attr-defined]
    return with_transient_errors_named


def names_transient_aws_errors(handler: Callable[..., object]) -> bool:
    """True if ``retryable_aws_errors`` wraps ``handler`` at any depth of its decorators."""
    current: object = handler
    while current is not None:
        if getattr(current, "names_transient_aws_errors", False):
            return True
        current = getattr(current, "__wrapped__", None)
    return False


def _is_daily_quota(service: str, code: str, message: str) -> bool:
    return service == "SES" and (
        code == SES_DAILY_QUOTA_CODE or DAILY_QUOTA_MESSAGE in message.lower()
    )


def _kind_of(operation: str) -> str:
    for kind, verbs in _VERBS:
        if operation.startswith(verbs):
            return kind
    return "requests"


def _service_of(operation: str) -> str:
    services = _services_by_operation().get(operation, frozenset())
    return next(iter(services)) if len(services) == 1 else "AWS"


def _service_at(endpoint_url: str) -> str:
    host_labels = (urlsplit(endpoint_url).hostname or "").split(".")
    prefixes = _services_by_endpoint_prefix()
    return next((prefixes[label] for label in host_labels if label in prefixes), "AWS")


@functools.cache
def _services_by_operation() -> dict[str, frozenset[str]]:
    """Operation name -> service, from botocore's models (loaded once, on the error path)."""
    session = botocore.session.get_session()
    index: dict[str, set[str]] = {}
    for name, display_name in SERVICE_NAMES.items():
        for operation in session.get_service_model(name).operation_names:
            index.setdefault(operation, set()).add(display_name)
    return {operation: frozenset(services) for operation, services in index.items()}


@functools.cache
def _services_by_endpoint_prefix() -> dict[str, str]:
    session = botocore.session.get_session()
    return {
        session.get_service_model(name).endpoint_prefix: display_name
        for name, display_name in SERVICE_NAMES.items()
    }
