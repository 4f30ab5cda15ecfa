"""The real HTTP ERP on localhost, wired into the test's Platform."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import pytest_socket

from invoice_dispatch.adapters.erp_http import HttpErpClient
from invoice_dispatch.platform import Platform
from tools.erp.http_erp_server import HttpErpState, running_http_erp


@pytest.fixture
def erp(platform: Platform) -> Iterator[HttpErpState]:
    pytest_socket.socket_allow_hosts(["127.0.0.1", "localhost"])
    with running_http_erp() as (url, state):
        platform.erp_client = HttpErpClient(url, timeout_seconds=2)
        yield state
