"""The local API Gateway bridge: real HTTP in, payload 2.0 event to the handler, response out."""

from __future__ import annotations

import base64
import json
import urllib.request
from typing import Any
from urllib.parse import parse_qs, urlencode

import pytest

from tools.approval_server import LocalLambdaContext, build_http_api_event, serve_lambda

pytestmark = [pytest.mark.integration, pytest.mark.enable_socket]


def _echo_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answers with what it received, so the test can check the event API Gateway would send."""
    return {
        "statusCode": 201 if event["requestContext"]["http"]["method"] == "POST" else 200,
        "headers": {"Content-Type": "application/json", "X-Request-Id": context.aws_request_id},
        "cookies": ["seen=1; Path=/"],
        "body": json.dumps(event),
        "isBase64Encoded": False,
    }


def test_get_with_query_reaches_the_handler_as_a_payload_v2_event() -> None:
    with serve_lambda(_echo_handler, LocalLambdaContext) as server:
        request = urllib.request.Request(
            f"{server.url}/approvals/run-1?approver=a%40b.com&exp=17&sig=ab",
            headers={"User-Agent": "ApprovalTest/1.0", "Cookie": "a=1; b=2"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            event = json.loads(response.read())
            assert response.status == 200
            assert response.headers["X-Request-Id"]
            assert response.headers["Set-Cookie"] == "seen=1; Path=/"

    assert event["version"] == "2.0" and event["routeKey"] == "$default"
    assert event["rawPath"] == "/approvals/run-1"
    assert event["rawQueryString"] == "approver=a%40b.com&exp=17&sig=ab"
    assert event["queryStringParameters"] == {"approver": "a@b.com", "exp": "17", "sig": "ab"}
    assert event["requestContext"]["http"]["method"] == "GET"
    assert event["requestContext"]["http"]["sourceIp"] == "127.0.0.1"
    assert event["requestContext"]["http"]["userAgent"] == "ApprovalTest/1.0"
    assert event["headers"]["user-agent"] == "ApprovalTest/1.0"
    assert event["cookies"] == ["a=1", "b=2"]
    assert "body" not in event and event["isBase64Encoded"] is False


def test_post_of_a_form_arrives_base64_encoded_like_a_real_http_api() -> None:
    form = urlencode([("decision", "approve_with_holds"), ("hold", "inv-1"), ("hold", "inv-2")])
    with serve_lambda(_echo_handler, LocalLambdaContext) as server:
        request = urllib.request.Request(
            f"{server.url}/approvals/run-1?sig=ab",
            data=form.encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            event = json.loads(response.read())
            assert response.status == 201

    assert event["requestContext"]["http"]["method"] == "POST"
    assert event["isBase64Encoded"] is True
    decoded = parse_qs(base64.b64decode(event["body"]).decode())
    assert decoded == {"decision": ["approve_with_holds"], "hold": ["inv-1", "inv-2"]}


def test_binary_responses_and_handler_errors_are_written_back_faithfully() -> None:
    pdf = b"%PDF-1.7 draft \x00\xff"

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        if event["rawPath"] == "/boom":
            raise RuntimeError("handler failed")
        return {
            "statusCode": 200,
            "headers": {"Content-Type": "application/pdf"},
            "body": base64.b64encode(pdf).decode(),
            "isBase64Encoded": True,
        }

    with serve_lambda(handler, LocalLambdaContext) as server:
        with urllib.request.urlopen(f"{server.url}/preview", timeout=5) as response:
            assert response.read() == pdf
            assert response.headers["Content-Type"] == "application/pdf"
        with pytest.raises(urllib.error.HTTPError) as failed:
            urllib.request.urlopen(f"{server.url}/boom", timeout=5)
        assert failed.value.code == 500
        assert json.loads(failed.value.read()) == {"message": "Internal Server Error"}


def test_json_bodies_stay_text_and_repeated_query_parameters_are_comma_joined() -> None:
    event = build_http_api_event(
        "POST",
        "/x?a=1&a=2",
        [("Content-Type", "application/json"), ("X-Multi", "1"), ("X-Multi", "2")],
        b'{"k": 1}',
        "10.0.0.1",
        "localhost",
    )
    assert event["body"] == '{"k": 1}' and event["isBase64Encoded"] is False
    assert event["queryStringParameters"] == {"a": "1,2"}
    assert event["headers"]["x-multi"] == "1,2"
