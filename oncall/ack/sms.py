"""Twilio-shaped inbound SMS webhook: replies "<id>a" / "<id>c" / "<id>e" to a page. The request must carry a
valid X-Twilio-Signature (HMAC-SHA1 over our public URL and the form, keyed by SMS_AUTH_TOKEN); a forged or
missing one is a 403 and nothing happens. Answers are TwiML."""

from __future__ import annotations

import logging
from xml.sax.saxutils import escape

from django.conf import settings
from django.http import HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from oncall import acknowledge, sms_replies

logger = logging.getLogger(__name__)
BODY_MAX = 1600  # Twilio's own cap on a message body


def twiml(text: str) -> HttpResponse:
    body = f'<?xml version="1.0" encoding="UTF-8"?><Response><Message>{escape(text)}</Message></Response>'
    return HttpResponse(body, content_type="application/xml; charset=utf-8")


@csrf_exempt  # the provider cannot hold our CSRF token; the request signature stands in for it
@require_POST
def twilio_inbound(request):
    url = settings.PUBLIC_URL.rstrip("/") + request.get_full_path()
    params = [(name, value) for name in request.POST for value in request.POST.getlist(name)]
    signature = request.headers.get("X-Twilio-Signature", "")
    if not sms_replies.twilio_signature_valid(settings.SMS_AUTH_TOKEN, url, params, signature):
        logger.warning("Refused an inbound SMS with a missing or wrong signature")
        return HttpResponseForbidden("Invalid signature", content_type="text/plain")
    sender = request.POST.get("From", "")[:32]
    body = request.POST.get("Body", "")[:BODY_MAX]
    return twiml(acknowledge.sms_reply_apply(sender=sender, body=body).reply)
