"""SES v2 sender: raw MIME, a configuration set for event tracking, a steady pace.

A new production SES account accepts about 14 messages per second; a burst above the
rate gets ``TooManyRequestsException``. Every attempt waits for its turn from a pacer
shared by all senders of the account (``send_rate.SharedSendRate``), and throttling that
still happens (another program on the account, clock skew) is retried with exponential
backoff; if SES still refuses, the caller gets a ``TransientError`` and the invoice
stays queued (never marked sent, never dropped).
What counts as throttling is ``aws_errors``'s call: a spent daily quota or paused sending
is a refusal a person must look at, not something a retry within minutes fixes.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any, Protocol

from botocore.exceptions import ClientError

from invoice_dispatch.adapters.aws_errors import transient_reason
from invoice_dispatch.errors import PermanentError, TransientError


class SendPacer(Protocol):
    def wait(self) -> None:
        """Return when the next message may start."""


class SesMailer:
    def __init__(
        self,
        sesv2_client: Any,
        configuration_set: str,
        pacer: SendPacer,
        max_attempts: int = 6,
        base_backoff_seconds: float = 0.2,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._ses = sesv2_client
        self._configuration_set = configuration_set
        self._pacer = pacer
        self._max_attempts = max_attempts
        self._base_backoff = base_backoff_seconds
        self._sleep = sleep

    def send_raw(
        self, from_address: str, to_address: str, raw_message: bytes, tags: dict[str, str]
    ) -> str:
        """Send and return SES's message id, only once SES has accepted the message."""
        last_error = ""
        for attempt in range(self._max_attempts):
            self._pacer.wait()
            try:
                response = self._ses.send_email(
                    FromEmailAddress=from_address,
                    Destination={"ToAddresses": [to_address]},
                    Content={"Raw": {"Data": raw_message}},
                    ConfigurationSetName=self._configuration_set,
                    EmailTags=[{"Name": name, "Value": value} for name, value in tags.items()],
                )
                return str(response["MessageId"])
            except ClientError as error:
                reason = transient_reason(error)
                if reason is None:
                    message = error.response["Error"].get("Message", "")
                    code = error.response["Error"].get("Code", "")
                    raise PermanentError(
                        f"SES refused the message to {to_address}: {message or code}"
                    ) from error
                last_error = reason
                backoff = self._base_backoff * (2**attempt)
                self._sleep(backoff * (0.5 + random.random() / 2))
        raise TransientError(f"{last_error}; still queued after {self._max_attempts} attempts")
