"""/api/v1/: every area's endpoints hang here."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from oncall.api import views as oncall_views
from opsportal.api import views
from statuspage.api import views as statuspage_views

app_name = "api"


class PublicSchemaView(SpectacularAPIView):
    authentication_classes = []
    permission_classes = []
    throttle_classes = []


class PublicDocsView(SpectacularSwaggerView):
    authentication_classes = []
    permission_classes = []
    throttle_classes = []


urlpatterns = [
    path("", views.ApiIndexView.as_view(), name="index"),
    path("me/", views.TokenInfoView.as_view(), name="me"),
    path("schema/", PublicSchemaView.as_view(api_version="v1"), name="schema"),
    path("docs/", PublicDocsView.as_view(url_name="api:schema"), name="docs"),
    path(
        "statuspage/components/", statuspage_views.ComponentListView.as_view(), name="statuspage-components"
    ),
    path(
        "statuspage/components/<int:component_id>/",
        statuspage_views.ComponentDetailView.as_view(),
        name="statuspage-component",
    ),
    path("oncall/regions/", oncall_views.RegionListView.as_view(), name="oncall-regions"),
    path("oncall/teams/", oncall_views.TeamListView.as_view(), name="oncall-teams"),
]
