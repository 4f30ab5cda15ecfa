"""The customer's portal page: the approval page's house (``approval/_base.html``).

Server-rendered, autoescaped (a customer's name and a credit note's reason come from
sources the product does not control), no script, no form: a GET shows and never acts.
The QR codes are inline SVG, so the page loads nothing but itself under the same CSP.
"""

from __future__ import annotations

from invoice_dispatch.approval.page import _environment
from invoice_dispatch.portal.statement import PortalView


def render_portal_page(view: PortalView) -> str:
    return _environment().get_template("portal/page.html").render(view=view)
