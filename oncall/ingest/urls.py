"""URLs of the doors in, mounted at the site's root: PagerDuty clients expect `/v2/enqueue` on the host."""

from django.urls import path, re_path

from oncall.ingest import views

urlpatterns = [
    path("v2/enqueue", views.pagerduty_enqueue, name="ingest_pagerduty"),
    path("v2/enqueue/", views.pagerduty_enqueue),
    path("hooks/alertmanager/<str:key>", views.alertmanager_hook, name="ingest_alertmanager"),
    path("hooks/generic/<str:key>", views.generic_hook, name="ingest_generic"),
    path("ping/<str:key>", views.heartbeat_ping, name="heartbeat_ping"),
    path("ping/<str:key>/start", views.heartbeat_ping, {"kind": "start"}, name="heartbeat_ping_start"),
    path("ping/<str:key>/fail", views.heartbeat_ping, {"kind": "fail"}, name="heartbeat_ping_fail"),
    # An exit status: 0 is success, 1–255 failure; more digits than that is not a status at all (404).
    re_path(
        r"^ping/(?P<key>[^/]+)/(?P<exit_status>[0-9]{1,3})$", views.heartbeat_ping, name="heartbeat_ping_exit"
    ),
]
