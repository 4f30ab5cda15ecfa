"""The customer's portal page: the approval page's house (``approval/_base.html``).

Server-rendered, autoescaped (a customer's name and a credit note's reason come from
sources the product does not control), no script: a GET shows and never acts. The one
form is "Pay online", a POST to the portal itself (CSP ``form-action 'self'``), shown only
with a payment gateway; a scanner follows links, never submits forms. The QR codes are
inline SVG, so the page loads nothing but itself under the same CSP.
"""

from __future__ import annotations

from invoice_dispatch.approval.page import _environment
from invoice_dispatch.portal.statement import PortalView


def render_portal_page(view: PortalView) -> str:
    return _environment().get_template("portal/page.html").render(view=view)
