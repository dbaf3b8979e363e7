"""/api/v1/: every area's endpoints hang here."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from oncall.api import alert_views
from oncall.api import views as oncall_views
from opsportal.api import views
from opsportal.changes.api import public_views as public_maintenance_api
from opsportal.changes.api import views as maintenance_api
from opsportal.incidents.api import postmortem_views as postmortem_api
from opsportal.incidents.api import public_views as public_incidents_api
from opsportal.incidents.api import views as incidents_api
from statuspage.api import subscribers as subscriber_api
from statuspage.api import views as statuspage_views

app_name = "api"


class PublicSchemaView(SpectacularAPIView):
    authentication_classes = []
    permission_classes = []
    throttle_classes = []


class PublicDocsView(SpectacularSwaggerSplitView):
    """Swagger UI with its start-up script and styles served as files, not inline: the Content-Security-Policy
    holds."""

    template_name = "api/swagger_ui.html"

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
        "statuspage/components/<id:component_id>/",
        statuspage_views.ComponentDetailView.as_view(),
        name="statuspage-component",
    ),
    # The public view (public titles and updates, component impact, maintenance): what partners may read.
    path("status/incidents/", public_incidents_api.PublicIncidentListView.as_view(), name="status-incidents"),
    path(
        "status/incidents/<id:incident_id>/",
        public_incidents_api.PublicIncidentDetailView.as_view(),
        name="status-incident",
    ),
    path(
        "status/maintenance/",
        public_maintenance_api.PublicMaintenanceListView.as_view(),
        name="status-maintenance",
    ),
    path(
        "status/maintenance/<id:window_id>/",
        public_maintenance_api.PublicMaintenanceDetailView.as_view(),
        name="status-maintenance-detail",
    ),
    path("subscribers/", subscriber_api.SubscriberListView.as_view(), name="subscribers"),
    path(
        "subscribers/<id:subscriber_id>/resume/",
        subscriber_api.SubscriberResumeView.as_view(),
        name="subscriber-resume",
    ),
    path(
        "subscribers/<id:subscriber_id>/",
        subscriber_api.SubscriberDetailView.as_view(),
        name="subscriber",
    ),
    path("oncall/regions/", oncall_views.RegionListView.as_view(), name="oncall-regions"),
    path("oncall/teams/", oncall_views.TeamListView.as_view(), name="oncall-teams"),
    path("oncall/", oncall_views.OnCallView.as_view(), name="oncall"),
    path("oncall/schedules/", oncall_views.ScheduleListView.as_view(), name="oncall-schedules"),
    path("oncall/schedules/<slug:slug>/", oncall_views.ScheduleDetailView.as_view(), name="oncall-schedule"),
    path(
        "oncall/schedules/<slug:slug>/final/",
        oncall_views.FinalScheduleView.as_view(),
        name="oncall-schedule-final",
    ),
    path(
        "oncall/schedules/<slug:slug>/layers/",
        oncall_views.LayerListView.as_view(),
        name="oncall-schedule-layers",
    ),
    path(
        "oncall/schedules/<slug:slug>/layers/<id:layer_id>/",
        oncall_views.LayerDetailView.as_view(),
        name="oncall-schedule-layer",
    ),
    path(
        "oncall/schedules/<slug:slug>/overrides/",
        oncall_views.OverrideListView.as_view(),
        name="oncall-schedule-overrides",
    ),
    path(
        "oncall/schedules/<slug:slug>/swaps/",
        oncall_views.SwapListView.as_view(),
        name="oncall-schedule-swaps",
    ),
    path(
        "oncall/swaps/<id:swap_id>/accept/", oncall_views.SwapAcceptView.as_view(), name="oncall-swap-accept"
    ),
    path(
        "oncall/swaps/<id:swap_id>/decline/",
        oncall_views.SwapDeclineView.as_view(),
        name="oncall-swap-decline",
    ),
    path(
        "oncall/swaps/<id:swap_id>/cancel/", oncall_views.SwapCancelView.as_view(), name="oncall-swap-cancel"
    ),
    path("alerts/integrations/", alert_views.IntegrationListView.as_view(), name="alerts-integrations"),
    path(
        "alerts/integrations/<id:integration_id>/",
        alert_views.IntegrationDetailView.as_view(),
        name="alerts-integration",
    ),
    path(
        "alerts/integrations/<id:integration_id>/routes/",
        alert_views.RouteListView.as_view(),
        name="alerts-routes",
    ),
    path(
        "alerts/integrations/<id:integration_id>/routes/order/",
        alert_views.RouteOrderView.as_view(),
        name="alerts-routes-order",
    ),
    path(
        "alerts/integrations/<id:integration_id>/routes/<id:route_id>/",
        alert_views.RouteDetailView.as_view(),
        name="alerts-route",
    ),
    path("alerts/policies/", alert_views.PolicyListView.as_view(), name="alerts-policies"),
    path("alerts/policies/<id:policy_id>/", alert_views.PolicyDetailView.as_view(), name="alerts-policy"),
    path("alerts/groups/", alert_views.AlertGroupListView.as_view(), name="alerts-groups"),
    path("alerts/groups/<id:group_id>/", alert_views.AlertGroupDetailView.as_view(), name="alerts-group"),
    path(
        "alerts/groups/<id:group_id>/acknowledge/",
        alert_views.AlertGroupAcknowledgeView.as_view(),
        name="alerts-group-acknowledge",
    ),
    path(
        "alerts/groups/<id:group_id>/resolve/",
        alert_views.AlertGroupResolveView.as_view(),
        name="alerts-group-resolve",
    ),
    path(
        "alerts/groups/<id:group_id>/snooze/",
        alert_views.AlertGroupSnoozeView.as_view(),
        name="alerts-group-snooze",
    ),
    path(
        "alerts/groups/<id:group_id>/escalate/",
        alert_views.AlertGroupEscalateView.as_view(),
        name="alerts-group-escalate",
    ),
    path("alerts/me/contact-methods/", alert_views.ContactMethodListView.as_view(), name="alerts-contacts"),
    path(
        "alerts/me/contact-methods/<id:contact_method_id>/",
        alert_views.ContactMethodDetailView.as_view(),
        name="alerts-contact",
    ),
    path(
        "alerts/me/contact-methods/<id:contact_method_id>/verify/",
        alert_views.ContactMethodVerifyView.as_view(),
        name="alerts-contact-verify",
    ),
    path(
        "alerts/me/contact-methods/<id:contact_method_id>/resend/",
        alert_views.ContactMethodResendView.as_view(),
        name="alerts-contact-resend",
    ),
    path("alerts/me/rules/", alert_views.NotificationRuleListView.as_view(), name="alerts-rules"),
    path(
        "alerts/me/rules/<id:rule_id>/", alert_views.NotificationRuleDetailView.as_view(), name="alerts-rule"
    ),
    path("maintenance/", maintenance_api.MaintenanceListView.as_view(), name="maintenance"),
    path(
        "maintenance/<id:window_id>/",
        maintenance_api.MaintenanceDetailView.as_view(),
        name="maintenance-detail",
    ),
    path(
        "maintenance/<id:window_id>/transition/",
        maintenance_api.MaintenanceTransitionView.as_view(),
        name="maintenance-transition",
    ),
    path(
        "maintenance/<id:window_id>/updates/",
        maintenance_api.MaintenanceUpdatesView.as_view(),
        name="maintenance-updates",
    ),
    path(
        "maintenance/<id:window_id>/reschedule/",
        maintenance_api.MaintenanceRescheduleView.as_view(),
        name="maintenance-reschedule",
    ),
    path("incidents/", incidents_api.IncidentListView.as_view(), name="incidents"),
    path("incidents/<id:incident_id>/", incidents_api.IncidentDetailView.as_view(), name="incident"),
    path(
        "incidents/<id:incident_id>/transition/",
        incidents_api.IncidentTransitionView.as_view(),
        name="incident-transition",
    ),
    path(
        "incidents/<id:incident_id>/acknowledge/",
        incidents_api.IncidentAcknowledgeView.as_view(),
        name="incident-acknowledge",
    ),
    path(
        "incidents/<id:incident_id>/severity/",
        incidents_api.IncidentSeverityView.as_view(),
        name="incident-severity",
    ),
    path(
        "incidents/<id:incident_id>/roles/",
        incidents_api.IncidentRoleAssignView.as_view(),
        name="incident-roles",
    ),
    path(
        "incidents/<id:incident_id>/roles/relieve/",
        incidents_api.IncidentRoleRelieveView.as_view(),
        name="incident-roles-relieve",
    ),
    path(
        "incidents/<id:incident_id>/components/",
        incidents_api.IncidentComponentView.as_view(),
        name="incident-components",
    ),
    path(
        "incidents/<id:incident_id>/notes/", incidents_api.IncidentNoteView.as_view(), name="incident-notes"
    ),
    path(
        "incidents/<id:incident_id>/updates/",
        incidents_api.IncidentUpdatesView.as_view(),
        name="incident-updates",
    ),
    path(
        "incidents/<id:incident_id>/timeline/",
        incidents_api.IncidentTimelineView.as_view(),
        name="incident-timeline",
    ),
    path(
        "incidents/<id:incident_id>/merge/", incidents_api.IncidentMergeView.as_view(), name="incident-merge"
    ),
    path(
        "incidents/<id:incident_id>/postmortem/",
        postmortem_api.PostmortemView.as_view(),
        name="incident-postmortem",
    ),
    path(
        "incidents/<id:incident_id>/postmortem/transition/",
        postmortem_api.PostmortemTransitionView.as_view(),
        name="incident-postmortem-transition",
    ),
    path(
        "incidents/<id:incident_id>/postmortem/action-items/",
        postmortem_api.ActionItemListView.as_view(),
        name="incident-postmortem-action-items",
    ),
]
