"""Raw MIME messages for SES v2: text + HTML alternatives and an optional PDF attachment."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid


def build_message(
    *,
    sender: str,
    recipient: str,
    subject: str,
    text_body: str,
    html_body: str,
    attachment_name: str | None = None,
    attachment: bytes | None = None,
    reply_to: str | None = None,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    if reply_to:
        message["Reply-To"] = reply_to
    message.set_content(text_body)
    message.add_alternative(html_body, subtype="html")
    if attachment is not None and attachment_name:
        message.add_attachment(
            attachment, maintype="application", subtype="pdf", filename=attachment_name
        )
    return message.as_bytes()
