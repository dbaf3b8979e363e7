"""Three doors: / (public status page), /portal/ (staff), /api/ (partners and machines)."""

from django.contrib import admin
from django.urls import include, path, re_path

from opsportal.api.views import api_not_found
from opsportal.core import health
from statuspage import views as statuspage_views

urlpatterns = [
    path("", statuspage_views.status_home, name="status_home"),
    path("incidents/<int:incident_id>/", statuspage_views.incident_page, name="public_incident"),
    path("maintenance/<int:window_id>/", statuspage_views.maintenance_page, name="public_maintenance"),
    path("history/", statuspage_views.history, name="public_history"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("portal/", include("opsportal.portal.urls")),
    path("api/v1/", include("opsportal.api.urls")),
    path("django-admin/", admin.site.urls),
    re_path(r"^api/", api_not_found),
]

handler400 = "opsportal.core.errors.bad_request"
handler403 = "opsportal.core.errors.permission_denied"
handler404 = "opsportal.core.errors.page_not_found"
handler500 = "opsportal.core.errors.server_error"
