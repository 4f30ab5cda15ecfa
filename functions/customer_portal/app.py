"""Customer portal HTTP API: one customer's documents page and their PDFs (GET), and the
"Pay online" button (POST), which sends the customer to the payment gateway's page."""

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoice_dispatch.observability import logger, tracer
from invoice_dispatch.platform import get_platform
from invoice_dispatch.workflow.page_api import page_api, query_of, respond
from invoice_dispatch.workflow.portal_web import download_document, show_portal, start_checkout

app = page_api("customer portal")


@app.get("/portal/<account_id>")
def get_portal(account_id: str) -> Response:
    return respond(show_portal(account_id, query_of(app), get_platform()))


@app.get("/portal/<account_id>/<kind>/<document_id>")
def get_document(account_id: str, kind: str, document_id: str) -> Response:
    return respond(download_document(account_id, kind, document_id, query_of(app), get_platform()))


@app.post("/portal/<account_id>/pay/<invoice_id>")
def pay_online(account_id: str, invoice_id: str) -> Response:
    return respond(start_checkout(account_id, invoice_id, query_of(app), get_platform()))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
