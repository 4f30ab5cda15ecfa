"""Raw MIME messages for SES v2: text + HTML alternatives and an optional PDF attachment."""

from __future__ import annotations

from email.header import Header
from email.message import EmailMessage
from email.policy import Policy
from email.utils import formatdate, make_msgid

#: RFC 5322's recommended line length, "Subject: " included.
_LINE_LENGTH = 78


class EncodedSubject:
    """A Subject written as RFC 2047 encoded words, folded between words of our own making.

    Python's folding of a subject that is long or holds a non-ASCII word ("März") keeps the
    space before the fold and folds again, so mail clients show "GmbH  (März 2026)" or a
    line starting with a space (issue 16). Encoded words are joined without the whitespace
    between them (RFC 2047, 6.2), so this subject reads back exactly as it was written, by
    clients that unfold headers and by those that do not.
    """

    name = "Subject"

    def __init__(self, subject: str) -> None:
        self.subject = subject

    def fold(self, *, policy: Policy) -> str:
        encoded = Header(self.subject, "utf-8", header_name=self.name).encode(
            linesep=policy.linesep, maxlinelen=_LINE_LENGTH
        )
        return f"{self.name}: {encoded}{policy.linesep}"

    def __str__(self) -> str:
        return self.subject


def subject_header(subject: str) -> str | EncodedSubject:
    """A short ASCII subject as it is; anything Python would fold or encode, encoded."""
    if subject.isascii() and len("Subject: ") + len(subject) <= _LINE_LENGTH:
        return subject
    return EncodedSubject(subject)


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
    message["Subject"] = subject_header(subject)  # type: ignore[assignment]
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
