"""Four DispatchInvoices chunks at once stay under the account's SES rate together (issue 15).

Each chunk runs in its own thread with its own Platform, boto3 session and mailer, as
separate Lambdas of the DeliverInvoices Map would; they share only the moto table (and
moto's SES, which is one account). SES sits behind a stand-in that throttles as SES
does: a send that would make more than ``RATE`` in any sliding second is refused with
``TooManyRequestsException``.
"""

from __future__ import annotations

import email
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from invoice_dispatch.adapters.dynamodb_store import DynamoStore
from invoice_dispatch.adapters.s3_documents import S3Documents
from invoice_dispatch.adapters.send_rate import SharedSendRate
from invoice_dispatch.adapters.ses_mailer import SesMailer
from invoice_dispatch.errors import TransientError
from invoice_dispatch.invoice import DeliveryStatus
from invoice_dispatch.platform import Platform
from invoice_dispatch.workflow.dispatch import dispatch_chunk
from invoice_dispatch.workflow.finalize import ChunkOutcome
from invoice_dispatch.workflow.mime import build_message
from tests.unit.adapters.test_adapters_send_rate import busiest_second
from tests.unit.workflow.test_workflow_dispatch import RUN, finalized_invoices, sent_emails
from tools.local_run.stack import make_moto_dynamodb_atomic
from tools.local_run.wiring import REGION

#: Low enough that the pace, not this machine, limits: four chunks unpaced reach about
#: 15 a second through moto on a loaded 2-core machine (a render, an S3 read and four
#: writes per e-mail), so at 20 the test would measure the machine.
RATE = 10
CHUNKS = 4
INVOICES_PER_CHUNK = 10


class AccountSendRate:
    """SES's per-account limit: refuses a send that would make more than ``rate`` a second."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.accepted: list[float] = []
        self.throttled = 0
        self._lock = threading.Lock()

    def admit(self) -> None:
        with self._lock:
            now = time.monotonic()
            if sum(1 for sent in self.accepted if sent > now - 1.0) >= self.rate:
                self.throttled += 1
                raise ClientError(
                    {
                        "Error": {
                            "Code": "TooManyRequestsException",
                            "Message": "Maximum sending rate exceeded.",
                        }
                    },
                    "SendEmail",
                )
            self.accepted.append(now)

    def sends_per_second(self) -> float:
        return (len(self.accepted) - 1) / (self.accepted[-1] - self.accepted[0])


class ThrottlingSes:
    def __init__(self, real: Any, limit: AccountSendRate) -> None:
        self._real = real
        self._limit = limit

    def send_email(self, **request: Any) -> Any:
        self._limit.admit()
        return self._real.send_email(**request)


_SESSION = boto3.session.Session(region_name=REGION)


class LambdaClients:
    """What one Lambda's cold start builds: its own session and clients, SES rate-limited.

    Built in the main thread: creating boto3 clients is not thread-safe, using them is.
    One session lends them all its loaded service models (a session each costs 0.3 s).
    """

    def __init__(self, limit: AccountSendRate) -> None:
        self._clients = {
            "s3": _SESSION.client("s3"),
            "sesv2": ThrottlingSes(_SESSION.client("sesv2"), limit),
        }
        self._dynamodb = _SESSION.resource("dynamodb")
        self._secrets = _SESSION.client("secretsmanager")

    def client(self, service: str) -> Any:
        return self._clients[service]

    def dynamodb_table(self, name: str) -> Any:
        return self._dynamodb.Table(name)

    def secret_bytes(self, secret_id: str) -> bytes:
        """The portal link's key: every customer e-mail carries the signed link."""
        secret = self._secrets.get_secret_value(SecretId=secret_id)["SecretString"]
        return str(secret).encode("utf-8")


def _lambda_platform(shared: Platform, limit: AccountSendRate) -> Platform:
    """A Platform as ``get_platform`` builds it in another Lambda, paced at ``RATE``."""
    clients = LambdaClients(limit)
    settings = shared.settings.model_copy(update={"ses_max_send_rate": RATE})
    return Platform(
        settings=settings,
        store=DynamoStore(clients.dynamodb_table(settings.table_name)),
        documents=S3Documents(clients.client("s3"), settings.documents_bucket),
        legal_entity=shared.legal_entity,
        clients=clients,
    )


def _at_once(work: list[Callable[[], Any]]) -> list[Any]:
    """Run each callable in its own thread, all started together; raise what any raised."""
    start = threading.Barrier(len(work))

    def run(job: Callable[[], Any]) -> Any:
        start.wait()
        return job()

    with ThreadPoolExecutor(max_workers=len(work)) as pool:
        return list(pool.map(run, work))


@pytest.fixture
def invoice_chunks(platform: Platform) -> list[list[str]]:
    make_moto_dynamodb_atomic()  # real DynamoDB applies each update atomically
    ids = finalized_invoices(platform, CHUNKS * INVOICES_PER_CHUNK)
    return [ids[index::CHUNKS] for index in range(CHUNKS)]


def test_four_chunks_at_once_send_every_invoice_once_without_one_throttle(
    platform: Platform, invoice_chunks: list[list[str]]
) -> None:
    limit = AccountSendRate(RATE)
    lambdas = [_lambda_platform(platform, limit) for _ in invoice_chunks]

    outcomes: list[ChunkOutcome] = _at_once(
        [
            lambda chunk=chunk, lambda_platform=lambda_platform: dispatch_chunk(
                RUN, chunk, lambda_platform
            )
            for chunk, lambda_platform in zip(invoice_chunks, lambdas, strict=True)
        ]
    )

    assert [sorted(outcome.done) for outcome in outcomes] == [sorted(c) for c in invoice_chunks]
    assert limit.throttled == 0
    recipients = Counter(email.message_from_string(m.raw_data)["To"] for m in sent_emails())
    assert len(recipients) == CHUNKS * INVOICES_PER_CHUNK and set(recipients.values()) == {1}
    for invoice_id in (i for chunk in invoice_chunks for i in chunk):
        stored = platform.store.get_invoice(invoice_id)
        assert stored is not None and stored.delivery_status is DeliveryStatus.SENT
    assert busiest_second(limit.accepted, second=1.0) <= RATE
    # Side by side, not in turns: well above one lane's share (RATE / 4 a second).
    assert limit.sends_per_second() > 0.6 * RATE


def test_a_pacer_per_lambda_as_before_would_be_throttled_in_the_same_setup(
    platform: Platform,
) -> None:
    """The control: each Lambda paced alone at the full rate offers SES four times that."""
    limit = AccountSendRate(RATE)
    table = platform.clients.dynamodb_table(platform.settings.table_name)
    mailers = [
        SesMailer(
            LambdaClients(limit).client("sesv2"),
            platform.settings.ses_configuration_set,
            # A rate of its own, one slot every 1/RATE s: the per-process Pacer of before.
            SharedSendRate(table, RATE, lanes=1, peer=f"lambda-{index}"),
            max_attempts=1,
        )
        for index in range(CHUNKS)
    ]
    sender = platform.settings.sender_email
    message = build_message(
        sender=sender, recipient="ap@kunde.example.com", subject="s", text_body="t", html_body="h"
    )

    def send_chunk(mailer: SesMailer) -> int:
        throttled = 0
        for _ in range(INVOICES_PER_CHUNK):
            try:
                mailer.send_raw(sender, "ap@kunde.example.com", message, {})
            except TransientError:
                throttled += 1
        return throttled

    throttled = _at_once([lambda mailer=mailer: send_chunk(mailer) for mailer in mailers])

    assert sum(throttled) == limit.throttled > 0
