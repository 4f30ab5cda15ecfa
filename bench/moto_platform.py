"""The local stack's moto (tools/local_run/stack.py) with a Platform on it, for benchmarks."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from moto import mock_aws

from invoice_dispatch.platform import Platform, get_platform, reset_platform
from tools.local_run.stack import LocalStack
from tools.local_run.wiring import Template


@contextmanager
def local_platform() -> Iterator[Platform]:
    """A provisioned stack (table, bucket, queues) and the platform the handlers would use."""
    saved = dict(os.environ)
    try:
        with mock_aws():
            stack = LocalStack(Template())
            os.environ.update(stack.environment())
            reset_platform()
            stack.provision()
            yield get_platform()
    finally:
        os.environ.clear()
        os.environ.update(saved)
        reset_platform()
