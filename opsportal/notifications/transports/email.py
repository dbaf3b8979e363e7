"""Email through Django's email backends (SMTP in production): text + HTML, RFC 8058 one-click unsubscribe,
one connection for the whole batch."""

from __future__ import annotations

import contextlib
import smtplib
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.core.mail.message import sanitize_address
from django.core.mail.utils import DNS_NAME
from django.utils.html import escape

from opsportal.core.startup import NON_DELIVERING_EMAIL_BACKENDS
from opsportal.core.text import one_line
from opsportal.notifications.transports.base import PermanentError, TransientError, Transport

# Placeholders in the once-built message; plain ASCII tokens that header folding never splits.
_TO_SLOT = "recipient-slot@opsportal.invalid"
_UNSUBSCRIBE_SLOT = "https://opsportal.invalid/unsubscribe-slot"
_MSGID_SLOT = "<message-id-slot@opsportal.invalid>"
_MANAGE_SLOT = "https://opsportal.invalid/manage-slot"
MANAGE_LINK_TEXT = "Manage your subscription or unsubscribe"


def with_manage_link(text: str, html: str, manage_url: str) -> tuple[str, str]:
    """The recipient's own manage/unsubscribe link, visible in the body (List-Unsubscribe alone is a header
    that many mail clients never show)."""
    if not manage_url:
        return text, html
    text = f"{text.rstrip()}\n\n--\n{MANAGE_LINK_TEXT}: {manage_url}\n"
    if html:
        link = f'<p style="font-size: 12px;"><a href="{escape(manage_url)}">{MANAGE_LINK_TEXT}</a></p>'
        html = html.replace("</body>", f"{link}</body>", 1) if "</body>" in html else html + link
    return text, html


def _smtp_error(exc: Exception) -> PermanentError | TransientError:
    """5xx replies are final; 4xx replies and lost connections are worth another try (RFC 5321 §4.2.1)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        detail = "; ".join(
            f"{code} {reply.decode(errors='replace')}" for code, reply in exc.recipients.values()
        )
        if codes and all(code >= 500 for code in codes):
            return PermanentError(f"Recipient refused: {detail}")
        return TransientError(f"Recipient deferred: {detail}")
    if isinstance(exc, smtplib.SMTPResponseException):
        reply = (
            exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        )
        if exc.smtp_code >= 500:
            return PermanentError(f"SMTP {exc.smtp_code} {reply}")
        return TransientError(f"SMTP {exc.smtp_code} {reply}")
    return TransientError(f"SMTP connection: {type(exc).__name__}: {exc}")


class EmailTransport(Transport):
    channel = "email"

    def __init__(self):
        self.connection = None
        self._templates: dict[tuple[int, bool], bytes] = {}

    def open(self) -> None:
        if settings.EMAIL_BACKEND in NON_DELIVERING_EMAIL_BACKENDS and not settings.NOTIFICATIONS_CONSOLE:
            # Settings refuse to start like this; an email that went nowhere is never marked sent.
            raise TransientError("No SMTP server is configured (EMAIL_HOST).")
        self.connection = get_connection(fail_silently=False)
        try:
            self.connection.open()
        except OSError as exc:  # smtplib.SMTPException is an OSError too
            self.connection.close()
            # Even a 5xx here (bad credentials) is the server's setup, not the recipients': retry them later.
            raise TransientError(f"SMTP connection: {type(exc).__name__}: {exc}") from exc

    def send(self, delivery) -> None:
        unsubscribe_url = (delivery.context or {}).get("unsubscribe_url") or ""
        manage_url = (delivery.context or {}).get("manage_url") or ""
        if (
            isinstance(self.connection, SmtpBackend)
            and delivery.address.isascii()
            and unsubscribe_url.isascii()
            and manage_url.isascii()
            and self._template(delivery.message, bool(unsubscribe_url), bool(manage_url)) is not None
        ):
            self._send_from_template(delivery, unsubscribe_url, manage_url)
        else:
            self._send_built(delivery)

    def _template(self, message, with_unsubscribe: bool, with_manage: bool) -> bytes | None:
        """The message as SMTP bytes with placeholders for what differs per recipient. Building MIME costs
        ~2.5 ms an email in the stdlib (most of a fan-out's CPU); a batch builds it once per message.
        None when a placeholder did not survive encoding (a body line past 998 bytes is quoted-printable)."""
        key = (message.pk, with_unsubscribe, with_manage)
        if key not in self._templates:
            headers = {"Message-ID": _MSGID_SLOT}
            if with_unsubscribe:
                headers["List-Unsubscribe"] = f"<{_UNSUBSCRIBE_SLOT}>"
                headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
            text, html = with_manage_link(
                message.text_body, message.html_body, _MANAGE_SLOT if with_manage else ""
            )
            email = EmailMultiAlternatives(
                subject=one_line(message.subject),
                body=text,
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=[_TO_SLOT],
                headers=headers,
            )
            if html:
                email.attach_alternative(html, "text/html")
            data = email.message().as_bytes(linesep="\r\n")
            # Every part that shows the link must still hold the placeholder verbatim, or the message is built
            # per recipient instead.
            intact = not with_manage or data.count(_MANAGE_SLOT.encode()) >= (2 if html else 1)
            self._templates[key] = data if intact else None
        return self._templates[key]

    def _send_from_template(self, delivery, unsubscribe_url: str, manage_url: str) -> None:
        data = (
            self._template(delivery.message, bool(unsubscribe_url), bool(manage_url))
            .replace(_TO_SLOT.encode(), delivery.address.encode())
            .replace(_UNSUBSCRIBE_SLOT.encode(), unsubscribe_url.encode())
            .replace(_MANAGE_SLOT.encode(), manage_url.encode())
            .replace(_MSGID_SLOT.encode(), make_msgid(domain=DNS_NAME).encode())
        )
        try:
            if self.connection.connection is None:
                self.connection.open()
            sender = sanitize_address(settings.DEFAULT_FROM_EMAIL, settings.DEFAULT_CHARSET)
            self.connection.connection.sendmail(sender, [delivery.address], data)
        except OSError as exc:
            error = _smtp_error(exc)
            if not isinstance(exc, (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused)):
                self.connection.close()
            raise error from exc

    def _send_built(self, delivery) -> None:
        message = delivery.message
        headers = {}
        unsubscribe_url = (delivery.context or {}).get("unsubscribe_url")
        if unsubscribe_url:
            headers["List-Unsubscribe"] = f"<{unsubscribe_url}>"
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        text, html = with_manage_link(
            message.text_body, message.html_body, (delivery.context or {}).get("manage_url") or ""
        )
        email = EmailMultiAlternatives(
            # A title stored before the input rules may hold a line break: a header cannot carry it.
            subject=one_line(message.subject),
            body=text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[delivery.address],
            headers=headers,
            connection=self.connection,
        )
        if html:
            email.attach_alternative(html, "text/html")
        try:
            email.send(fail_silently=False)
        except OSError as exc:  # smtplib.SMTPException is an OSError too
            error = _smtp_error(exc)
            if not isinstance(exc, (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused)):
                # The next delivery in the batch reconnects instead of writing to a dead socket.
                self.connection.close()
            raise error from exc

    def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(OSError):
                self.connection.close()
