"""URLs of the doors in, mounted at the site's root: PagerDuty clients expect `/v2/enqueue` on the host. A trailing
slash is taken everywhere (configurations copied by hand often carry one)."""

from django.urls import re_path

from oncall.ingest import views

KEY = r"(?P<key>[^/]+)"

urlpatterns = [
    re_path(r"^v2/enqueue/?$", views.pagerduty_enqueue, name="ingest_pagerduty"),
    re_path(rf"^hooks/alertmanager/{KEY}/?$", views.alertmanager_hook, name="ingest_alertmanager"),
    re_path(rf"^hooks/generic/{KEY}/?$", views.generic_hook, name="ingest_generic"),
    re_path(rf"^ping/{KEY}/?$", views.heartbeat_ping, name="heartbeat_ping"),
    re_path(rf"^ping/{KEY}/start/?$", views.heartbeat_ping, {"kind": "start"}, name="heartbeat_ping_start"),
    re_path(rf"^ping/{KEY}/fail/?$", views.heartbeat_ping, {"kind": "fail"}, name="heartbeat_ping_fail"),
    # An exit status: 0 is success, 1–255 failure; more digits than that is not a status at all (404).
    re_path(
        rf"^ping/{KEY}/(?P<exit_status>[0-9]{{1,3}})/?$", views.heartbeat_ping, name="heartbeat_ping_exit"
    ),
]
