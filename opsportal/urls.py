"""Three doors: / (public status page), /portal/ (staff), /api/ (partners and machines)."""

from django.urls import include, path, re_path

from oncall import ical as oncall_ical
from oncall.ack import sms as ack_sms
from oncall.ack import views as ack_views
from opsportal.api.views import api_not_found
from opsportal.core import health
from statuspage.public import api_v2_views, feeds, ical, subscription_views
from statuspage.public import views as statuspage_views

# Statuspage-compatible public JSON; unknown paths under it answer with a problem (and CORS).
api_v2 = [
    path("summary.json", api_v2_views.summary, name="v2_summary"),
    path("status.json", api_v2_views.status, name="v2_status"),
    path("components.json", api_v2_views.components, name="v2_components"),
    path("incidents.json", api_v2_views.incidents, name="v2_incidents"),
    path("incidents/unresolved.json", api_v2_views.incidents_unresolved, name="v2_incidents_unresolved"),
    path("scheduled-maintenances.json", api_v2_views.scheduled_maintenances, name="v2_maintenances"),
    path(
        "scheduled-maintenances/upcoming.json",
        api_v2_views.scheduled_maintenances_upcoming,
        name="v2_maintenances_upcoming",
    ),
    path(
        "scheduled-maintenances/active.json",
        api_v2_views.scheduled_maintenances_active,
        name="v2_maintenances_active",
    ),
    re_path(r"^", api_v2_views.not_found),
]

urlpatterns = [
    path("", statuspage_views.status_home, name="status_home"),
    path("incidents/<id:incident_id>/", statuspage_views.incident_page, name="public_incident"),
    path("maintenance/<id:window_id>/", statuspage_views.maintenance_page, name="public_maintenance"),
    path("history/", statuspage_views.history, name="public_history"),
    path("history.rss", feeds.history_rss, name="history_rss"),
    path("history.atom", feeds.history_atom, name="history_atom"),
    path("maintenance.ics", ical.maintenance_ics, name="maintenance_ics"),
    path("oncall/people/<str:username>/<str:token>.ics", oncall_ical.person_ics, name="oncall_person_ics"),
    path("oncall/<slug:slug>/<str:token>.ics", oncall_ical.schedule_ics, name="oncall_schedule_ics"),
    path("subscribe/", subscription_views.subscribe, name="subscribe"),
    path("subscriptions/confirm/<str:token>/", subscription_views.confirm, name="subscription_confirm"),
    path("subscriptions/<str:token>/", subscription_views.manage, name="subscription_manage"),
    path(
        "subscriptions/<str:token>/unsubscribe/",
        subscription_views.unsubscribe,
        name="subscription_unsubscribe",
    ),
    # Doors in for monitoring: /v2/enqueue (PagerDuty Events v2), /hooks/…, /ping/… (heartbeats).
    path("", include("oncall.ingest.urls")),
    # Acknowledge from a page: the one-time link (short, for SMS) and the SMS provider's inbound webhook.
    path("a/<str:token>", ack_views.ack_link, name="alert_ack_link"),
    path("hooks/sms/twilio", ack_sms.twilio_inbound, name="sms_twilio_inbound"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("portal/", include("opsportal.portal.urls")),
    path("api/v1/", include("opsportal.api.urls")),
    path("api/v2/", include(api_v2)),
    # "/api" itself too: otherwise APPEND_SLASH would redirect it (and fail on a POST) instead of answering.
    re_path(r"^api(?:/|$)", api_not_found),
]

handler400 = "opsportal.core.errors.bad_request"
handler403 = "opsportal.core.errors.permission_denied"
handler404 = "opsportal.core.errors.page_not_found"
handler500 = "opsportal.core.errors.server_error"
