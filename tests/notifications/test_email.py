"""Email against a real SMTP server (aiosmtpd) on loopback: text + HTML, RFC 8058 headers, one connection
per batch, and what 5xx and 4xx replies do to a delivery."""

from __future__ import annotations

import socket
from email import message_from_bytes
from email.policy import default

import pytest
from aiosmtpd.controller import Controller

from opsportal.notifications.delivery import deliver_due_batches
from opsportal.notifications.models import Delivery
from opsportal.notifications.services import Recipient
from tests.notifications.conftest import delivery_of

Status = Delivery.Status


class MailSink:
    def __init__(self):
        self.messages = []
        self.peers = []  # one (host, port) per SMTP connection that sent mail
        self.rcpt_replies: dict[str, str] = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.rcpt_replies:
            return self.rcpt_replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if session.peer not in self.peers:
            self.peers.append(session.peer)
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=default)))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def mail_sink(settings):
    sink = MailSink()
    controller = Controller(sink, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.DEFAULT_FROM_EMAIL = "Platform status <status@ops.example.com>"
    yield sink
    controller.stop()


def test_email_carries_text_html_and_one_click_unsubscribe(enqueue, mail_sink):
    message = enqueue(
        Recipient(
            "email", "ana@shop.example.com", context={"unsubscribe_url": "https://status.example.com/u/abc"}
        ),
        subject="Checkout is degraded",
        text="We are investigating slow checkouts.",
        html="<p>We are investigating <b>slow checkouts</b>.</p>",
    )

    assert deliver_due_batches() == 1

    [(rcpt_tos, mail)] = mail_sink.messages
    assert rcpt_tos == ["ana@shop.example.com"]
    assert mail["Subject"] == "Checkout is degraded"
    assert mail["To"] == "ana@shop.example.com"
    assert mail["List-Unsubscribe"] == "<https://status.example.com/u/abc>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail.get_content_type() == "multipart/alternative"
    assert mail.get_body(("plain",)).get_content().strip() == "We are investigating slow checkouts."
    assert "<b>slow checkouts</b>" in mail.get_body(("html",)).get_content()
    row = delivery_of(message)
    assert (row.status, row.last_error) == (Status.SENT, "")


def test_email_without_an_unsubscribe_url_has_no_list_headers(enqueue, mail_sink):
    enqueue(Recipient("email", "ops@ops.example.com"))
    deliver_due_batches()
    [(_, mail)] = mail_sink.messages
    assert mail["List-Unsubscribe"] is None
    assert mail["List-Unsubscribe-Post"] is None
    assert mail.get_content_type() == "text/plain", "no HTML body, no alternative part"


def test_a_batch_of_three_uses_one_smtp_connection(enqueue, mail_sink):
    addresses = ["a@shop.example.com", "b@shop.example.com", "c@shop.example.com"]
    enqueue(*(Recipient("email", address) for address in addresses), html="<p>hi</p>")

    assert deliver_due_batches() == 3

    assert sorted(rcpt for rcpts, _ in mail_sink.messages for rcpt in rcpts) == addresses
    assert len(mail_sink.peers) == 1


def test_refused_recipient_goes_dead_and_the_batch_carries_on(enqueue, mail_sink):
    mail_sink.rcpt_replies["gone@shop.example.com"] = "550 5.1.1 No such user"
    message = enqueue(Recipient("email", "gone@shop.example.com"), Recipient("email", "ok@shop.example.com"))

    deliver_due_batches()

    gone = delivery_of(message, "gone@shop.example.com")
    assert gone.status == Status.DEAD
    assert "550" in gone.last_error and "No such user" in gone.last_error
    assert delivery_of(message, "ok@shop.example.com").status == Status.SENT
    assert len(mail_sink.peers) == 1


def test_deferred_recipient_is_retried_later(enqueue, mail_sink):
    mail_sink.rcpt_replies["busy@shop.example.com"] = "451 4.3.0 Try again later"
    message = enqueue(Recipient("email", "busy@shop.example.com"))

    deliver_due_batches()

    row = delivery_of(message)
    assert (row.status, row.attempts) == (Status.PENDING, 1)
    assert "451" in row.last_error


def test_smtp_server_down_retries_every_delivery_of_the_batch(enqueue, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", _free_port()
    message = enqueue(Recipient("email", "a@shop.example.com"), Recipient("email", "b@shop.example.com"))

    deliver_due_batches()

    rows = list(message.deliveries.all())
    assert {row.status for row in rows} == {Status.PENDING}
    assert all("SMTP connection" in row.last_error for row in rows)


def test_each_recipient_of_a_batch_gets_their_own_to_unsubscribe_link_and_message_id(enqueue, mail_sink):
    # The message is built once per batch and personalised per recipient: nothing may leak between them.
    enqueue(
        *(
            Recipient(
                "email",
                f"{name}@shop.example.com",
                context={"unsubscribe_url": f"https://status.example.com/u/{name}"},
            )
            for name in ("ana", "ben", "chloe")
        ),
        html="<p>hi</p>",
    )
    deliver_due_batches()
    seen = {mail["To"]: mail for _, mail in mail_sink.messages}
    assert set(seen) == {"ana@shop.example.com", "ben@shop.example.com", "chloe@shop.example.com"}
    for address, mail in seen.items():
        assert mail["List-Unsubscribe"] == f"<https://status.example.com/u/{address.split('@')[0]}>"
        assert "slot" not in mail.as_string()
    assert len({mail["Message-ID"] for mail in seen.values()}) == 3


def test_without_smtp_or_the_console_opt_in_no_email_is_marked_sent(enqueue, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    settings.NOTIFICATIONS_CONSOLE = False
    message = enqueue(Recipient("email", "ana@shop.example.com"))

    deliver_due_batches()

    row = message.deliveries.get()
    assert (row.status, row.last_error) == (
        Delivery.Status.PENDING,
        "No SMTP server is configured (EMAIL_HOST).",
    )
