"""Sustained AWS throttling reaches the state machine as a readable TransientError.

Each client is the product's own (``aws_clients``: standard retries, 5 attempts) and its
HTTP layer answers every attempt with the same AWS error, so these tests see what a
handler sees once botocore has given up.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError, EndpointConnectionError

from invoice_dispatch.adapters import aws_clients
from invoice_dispatch.adapters.aws_errors import names_transient_aws_errors, retryable_aws_errors
from invoice_dispatch.errors import TransientError
from tools.approval_server import LocalLambdaContext
from tools.local_run.lambda_router import load_handler
from tools.local_run.wiring import REGION, REPO_ROOT, Template


@dataclass(frozen=True)
class AwsAnswer:
    """One error answer, in the wire format of the service's protocol."""

    code: str
    status: int
    message: str = "Rate exceeded"

    def body(self, protocol: str) -> bytes:
        if protocol == "query":
            return (
                f"<ErrorResponse><Error><Type>Sender</Type><Code>{self.code}</Code>"
                f"<Message>{self.message}</Message></Error></ErrorResponse>"
            ).encode()
        if protocol == "rest-xml":
            return (
                f"<Error><Code>{self.code}</Code><Message>{self.message}</Message></Error>".encode()
            )
        return json.dumps({"__type": self.code, "message": self.message}).encode()


class AlwaysFailingAws:
    """Answers every HTTP attempt of a client with one error, and counts the attempts."""

    def __init__(self, answer: AwsAnswer | Exception) -> None:
        self.answer = answer
        self.attempts = 0

    def install(self, client: Any) -> Any:
        protocol = client.meta.service_model.protocol

        def answer(request: Any, **_: Any) -> AWSResponse:
            self.attempts += 1
            if isinstance(self.answer, Exception):
                raise self.answer
            headers = {"x-amzn-ErrorType": self.answer.code}
            raw = _RawBody(self.answer.body(protocol))
            return AWSResponse(request.url, self.answer.status, headers, raw)

        client.meta.events.register("before-send", answer)
        return client


class _RawBody:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


@pytest.fixture(autouse=True)
def product_clients(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(time, "sleep", lambda seconds: None)  # botocore's backoff
    aws_clients.reset()
    yield
    aws_clients.reset()


Call = Callable[[Any], Any]

SUSTAINED_THROTTLING: list[tuple[str, Call, AwsAnswer, str]] = [
    (
        "dynamodb",
        lambda c: c.transact_write_items(
            TransactItems=[{"Put": {"TableName": "t", "Item": {"PK": {"S": "1"}}}}]
        ),
        AwsAnswer("ProvisionedThroughputExceededException", 400),
        "DynamoDB is throttling writes (ProvisionedThroughputExceededException on "
        "TransactWriteItems); the step will be retried",
    ),
    (
        "dynamodb",
        lambda c: c.query(TableName="t", KeyConditionExpression="PK = :p"),
        AwsAnswer("InternalServerError", 500),
        "DynamoDB is briefly unavailable (InternalServerError on Query); the step will be retried",
    ),
    (
        "s3",
        lambda c: c.put_object(Bucket="documents", Key="invoice.pdf", Body=b"%PDF"),
        AwsAnswer("SlowDown", 503),
        "S3 is throttling writes (SlowDown on PutObject); the step will be retried",
    ),
    (
        "sesv2",
        lambda c: c.send_email(
            FromEmailAddress="billing@northwind.example",
            Destination={"ToAddresses": ["ap@kunde.example"]},
            Content={"Raw": {"Data": b"Subject: Invoice\r\n\r\nHello"}},
        ),
        AwsAnswer("TooManyRequestsException", 429, "Maximum sending rate exceeded."),
        "SES is throttling sends (TooManyRequestsException on SendEmail); the step will be retried",
    ),
    (
        "sns",
        lambda c: c.publish(TopicArn="arn:aws:sns:eu-central-1:123456789012:t", Message="x"),
        AwsAnswer("Throttling", 400),
        "SNS is throttling sends (Throttling on Publish); the step will be retried",
    ),
    (
        "sqs",
        lambda c: c.send_message(
            QueueUrl="https://sqs.eu-central-1.amazonaws.com/1/q", MessageBody="x"
        ),
        AwsAnswer("RequestThrottled", 400),
        "SQS is throttling sends (RequestThrottled on SendMessage); the step will be retried",
    ),
    (
        "secretsmanager",
        lambda c: c.get_secret_value(SecretId="approval-key"),
        AwsAnswer("ThrottlingException", 400),
        "Secrets Manager is throttling reads (ThrottlingException on GetSecretValue); "
        "the step will be retried",
    ),
]

PERMANENT: list[tuple[str, Call, AwsAnswer]] = [
    (
        "dynamodb",
        lambda c: c.query(TableName="t", KeyConditionExpression="PK = :p"),
        AwsAnswer("ValidationException", 400, "Invalid KeyConditionExpression"),
    ),
    (
        "s3",
        lambda c: c.put_object(Bucket="documents", Key="invoice.pdf", Body=b"%PDF"),
        AwsAnswer("AccessDenied", 403, "Access Denied"),
    ),
    (
        "sesv2",
        lambda c: c.send_email(
            FromEmailAddress="billing@northwind.example",
            Destination={"ToAddresses": ["ap@kunde.example"]},
            Content={"Raw": {"Data": b"Subject: Invoice\r\n\r\nHello"}},
        ),
        AwsAnswer("LimitExceededException", 400, "Daily message quota exceeded."),
    ),
    (
        "secretsmanager",
        lambda c: c.get_secret_value(SecretId="approval-key"),
        AwsAnswer("ResourceNotFoundException", 400, "Secrets Manager can't find the secret"),
    ),
]


def _ids(cases: list[Any]) -> list[str]:
    return [f"{case[0]}-{case[2].code}" for case in cases]


@pytest.mark.parametrize(
    ("service", "call", "answer", "message"), SUSTAINED_THROTTLING, ids=_ids(SUSTAINED_THROTTLING)
)
def test_sustained_throttling_becomes_a_readable_transient_error(
    service: str, call: Call, answer: AwsAnswer, message: str
) -> None:
    aws = AlwaysFailingAws(answer)
    client = aws.install(aws_clients.client(service))

    with pytest.raises(TransientError) as raised:
        retryable_aws_errors(call)(client)

    assert str(raised.value) == message
    assert isinstance(raised.value.__cause__, ClientError)
    assert aws.attempts == aws_clients.ATTEMPTS_PER_CALL, "botocore retried in-process first"


@pytest.mark.parametrize(("service", "call", "answer"), PERMANENT, ids=_ids(PERMANENT))
def test_a_permanent_error_stays_what_aws_said(service: str, call: Call, answer: AwsAnswer) -> None:
    client = AlwaysFailingAws(answer).install(aws_clients.client(service))

    with pytest.raises(ClientError) as raised:
        retryable_aws_errors(call)(client)

    assert not isinstance(raised.value, TransientError)
    assert raised.value.response["Error"]["Code"] == answer.code


def test_an_unreachable_endpoint_is_transient_and_names_the_service() -> None:
    endpoint = f"https://dynamodb.{REGION}.amazonaws.com/"
    aws = AlwaysFailingAws(EndpointConnectionError(endpoint_url=endpoint))
    client = aws.install(aws_clients.client("dynamodb"))

    with pytest.raises(
        TransientError, match=r"Could not reach DynamoDB \(EndpointConnectionError\)"
    ):
        retryable_aws_errors(lambda: client.get_item(TableName="t", Key={"PK": {"S": "1"}}))()

    assert aws.attempts == aws_clients.ATTEMPTS_PER_CALL


def test_errors_that_are_not_aws_pass_through_unchanged() -> None:
    def broken() -> None:
        raise KeyError("invoice_id")

    with pytest.raises(KeyError):
        retryable_aws_errors(broken)()


# --------------------------------------------------------------- handlers
TEMPLATE = Template()
HTTP_FUNCTIONS = {
    logical_id
    for logical_id, resource in TEMPLATE.resources_of_type("AWS::Serverless::Function").items()
    if any(
        event["Type"] == "HttpApi" for event in resource["Properties"].get("Events", {}).values()
    )
}


@pytest.mark.parametrize("logical_id", sorted(set(TEMPLATE.functions()) - HTTP_FUNCTIONS))
def test_every_step_handler_names_transient_aws_errors(logical_id: str) -> None:
    handler = load_handler(TEMPLATE.functions()[logical_id])

    assert names_transient_aws_errors(handler), (
        f"{logical_id}: put @retryable_aws_errors just above the event parser"
    )


def _throttled_approval_api(monkeypatch: pytest.MonkeyPatch, code: str) -> Any:
    handler = load_handler(TEMPLATE.functions()["ApprovalApiFunction"])

    def throttled_platform() -> Any:
        raise ClientError({"Error": {"Code": code, "Message": code}}, "GetItem")

    monkeypatch.setattr(sys.modules[handler.__module__], "get_platform", throttled_platform)
    event = json.loads((REPO_ROOT / "events" / "approval-get.json").read_text())
    return lambda: handler(event, LocalLambdaContext())


def test_a_throttled_approval_page_answers_503_with_the_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    response = _throttled_approval_api(monkeypatch, "ProvisionedThroughputExceededException")()

    assert response["statusCode"] == 503
    assert response["headers"]["Retry-After"] == "60"
    assert "Please try again in a minute" in response["body"]
    assert "DynamoDB is throttling reads" in response["body"]


def test_a_permanent_error_behind_the_approval_page_is_not_dressed_as_busy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(ClientError, match="AccessDeniedException"):
        _throttled_approval_api(monkeypatch, "AccessDeniedException")()
