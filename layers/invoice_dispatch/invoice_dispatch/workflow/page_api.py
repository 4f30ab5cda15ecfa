"""The HTTP face the approval API and the customer portal share: every answer carries the
security headers, and a busy AWS service is a 503 page, never a stack trace."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from botocore.exceptions import ClientError

from invoice_dispatch.adapters.aws_errors import CONNECTION_ERRORS, transient_reason
from invoice_dispatch.approval.page import render_error_page
from invoice_dispatch.errors import TransientError
from invoice_dispatch.observability import logger
from invoice_dispatch.workflow.approval_web import SECURITY_HEADERS, Page


def _with_security_headers(
    resolver: APIGatewayHttpResolver, next_middleware: NextMiddleware
) -> Response:
    """A global middleware also wraps Powertools' own answers (an unknown path's 404), so
    no response of the API can leave without them."""
    response = next_middleware(resolver)
    for name, value in SECURITY_HEADERS.items():
        # A page may tighten or widen one for itself (the portal's CSP names the checkout).
        response.headers.setdefault(name, value)
    return response


def respond(page: Page, headers: dict[str, str] | None = None) -> Response:
    """Headers set here as well: an exception handler's answer may bypass the middleware."""
    return Response(
        status_code=page.status_code,
        content_type=page.content_type,
        body=page.body,
        headers={**SECURITY_HEADERS, **page.headers, **(headers or {})},
    )


def page_api(service: str) -> APIGatewayHttpResolver:
    """A resolver whose every answer is a page with the security headers; ``service``
    names it in the "busy" page ("The approval service is busy ...")."""
    app = APIGatewayHttpResolver()
    app.use(middlewares=[_with_security_headers])

    @app.exception_handler([TransientError, ClientError, *CONNECTION_ERRORS])
    def busy(error: Exception) -> Response:
        """A throttled or unreachable AWS service is a 503 the visitor can retry, never a 500.

        Anything else still fails the invocation, and API Gateway answers a bare 500.
        """
        reason = transient_reason(error)
        if reason is None:
            raise error
        logger.warning("Page busy", extra={"reason": reason, "service": service})
        message = f"The {service} is busy ({reason}). Please try again in a minute."
        page = Page(503, render_error_page("Please try again in a minute", message))
        return respond(page, {"Retry-After": "60"})

    return app


def query_of(app: APIGatewayHttpResolver) -> dict[str, str]:
    return dict(app.current_event.query_string_parameters or {})
