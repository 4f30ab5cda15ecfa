"""boto3 clients built once per cold start and reused across invocations."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

#: Attempts per AWS call, the first included. botocore's standard mode retries throttling,
#: 5xx answers and dropped connections with jittered backoff for a few seconds; what still
#: fails becomes a ``TransientError`` (``aws_errors``) for the state machine's Retry, whose
#: backoff runs to minutes without a Lambda waiting (and billing) for it.
ATTEMPTS_PER_CALL = 5
_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": ATTEMPTS_PER_CALL})


@cache
def client(service: str) -> Any:
    return boto3.client(service, config=_RETRIES)


@cache
def dynamodb_table(name: str) -> Any:
    return boto3.resource("dynamodb", config=_RETRIES).Table(name)


@cache
def secret_bytes(secret_id: str) -> bytes:
    """A secret's value, read once per cold start (Secrets Manager is billed per call)."""
    response = client("secretsmanager").get_secret_value(SecretId=secret_id)
    return str(response["SecretString"]).encode("utf-8")


def reset() -> None:
    """Forget cached clients: the local runner and tests start a fresh moto per run."""
    client.cache_clear()
    dynamodb_table.cache_clear()
    secret_bytes.cache_clear()
