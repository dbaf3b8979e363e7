from django.contrib.auth import views as auth_views
from django.urls import path

from opsportal.portal import alert_views as alv
from opsportal.portal import component_views as cv
from opsportal.portal import delivery_views as dv
from opsportal.portal import escalation_views as esv
from opsportal.portal import incident_search_views as isv
from opsportal.portal import incident_views as iv
from opsportal.portal import integration_views as inv
from opsportal.portal import maintenance_views as mv
from opsportal.portal import metrics_views as mtv
from opsportal.portal import oncall_views as ov
from opsportal.portal import partner_views as ptv
from opsportal.portal import postmortem_views as pmv
from opsportal.portal import subscriber_views as sv
from opsportal.portal import views

app_name = "portal"

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="portal/login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", views.PortalLogoutView.as_view(), name="logout"),
    path("", views.home, name="home"),
    path("live-check/", views.live_check, name="live_check"),
    path("tokens/", views.api_tokens, name="api_tokens"),
    path("tokens/<id:token_id>/revoke/", views.api_token_revoke_view, name="api_token_revoke"),
    path("tokens/partners/", ptv.partner_new, name="partner_new"),
    path("tokens/partners/tokens/", ptv.partner_token_new, name="partner_token_new"),
    path("tokens/partners/<id:partner_id>/active/", ptv.partner_active, name="partner_active"),
    path("staff/", views.staff, name="staff"),
    path("staff/<id:user_id>/role/", views.staff_role, name="staff_role"),
    path("audit/", views.audit_log, name="audit"),
    path("incidents/", iv.incident_list, name="incident_list"),
    path("incidents/declare/", iv.incident_declare, name="incident_declare"),
    path(
        "incidents/declare/search/components/",
        isv.declare_component_search,
        name="declare_component_search",
    ),
    path("incidents/declare/search/people/", isv.declare_person_search, name="declare_person_search"),
    path("incidents/<id:incident_id>/", iv.incident_detail, name="incident_detail"),
    path("incidents/<id:incident_id>/panels/<str:panel>/", iv.incident_panel, name="incident_panel"),
    path("incidents/<id:incident_id>/transition/", iv.incident_transition, name="incident_transition"),
    path("incidents/<id:incident_id>/acknowledge/", iv.incident_acknowledge, name="incident_acknowledge"),
    path("incidents/<id:incident_id>/severity/", iv.incident_severity, name="incident_severity"),
    path("incidents/<id:incident_id>/roles/", iv.incident_role_assign, name="incident_role_assign"),
    path(
        "incidents/<id:incident_id>/roles/take-command/",
        iv.incident_take_command,
        name="incident_take_command",
    ),
    path("incidents/<id:incident_id>/roles/relieve/", iv.incident_role_relieve, name="incident_role_relieve"),
    path("incidents/<id:incident_id>/components/", iv.incident_component, name="incident_component"),
    path("incidents/<id:incident_id>/notes/", iv.incident_note, name="incident_note"),
    path("incidents/<id:incident_id>/updates/", iv.incident_public_update, name="incident_public_update"),
    path("incidents/<id:incident_id>/merge/", iv.incident_merge, name="incident_merge"),
    path(
        "incidents/<id:incident_id>/search/components/",
        isv.incident_component_search,
        name="incident_component_search",
    ),
    path(
        "incidents/<id:incident_id>/search/people/", isv.incident_person_search, name="incident_person_search"
    ),
    path(
        "incidents/<id:incident_id>/search/merge-targets/",
        isv.incident_merge_search,
        name="incident_merge_search",
    ),
    path("incidents/<id:incident_id>/timeline/<id:event_id>/pin/", iv.timeline_pin, name="timeline_pin"),
    path(
        "incidents/<id:incident_id>/timeline.md", iv.incident_timeline_markdown, name="incident_timeline_md"
    ),
    path("incidents/<id:incident_id>/postmortem/", pmv.incident_postmortem, name="incident_postmortem"),
    path(
        "incidents/<id:incident_id>/postmortem/start/",
        pmv.incident_postmortem_start,
        name="incident_postmortem_start",
    ),
    path(
        "incidents/<id:incident_id>/postmortem/status/",
        pmv.incident_postmortem_status,
        name="incident_postmortem_status",
    ),
    path("incidents/<id:incident_id>/postmortem/actions/", pmv.action_item_add, name="action_item_add"),
    path(
        "incidents/<id:incident_id>/postmortem/actions/<id:item_id>/status/",
        pmv.action_item_status,
        name="action_item_status",
    ),
    path("maintenance/", mv.maintenance_list, name="maintenance_list"),
    path("maintenance/new/", mv.maintenance_new, name="maintenance_new"),
    path("maintenance/<id:window_id>/", mv.maintenance_detail, name="maintenance_detail"),
    path("maintenance/<id:window_id>/transition/", mv.maintenance_transition, name="maintenance_transition"),
    path("maintenance/<id:window_id>/updates/", mv.maintenance_post_update, name="maintenance_post_update"),
    path("maintenance/<id:window_id>/reschedule/", mv.maintenance_reschedule, name="maintenance_reschedule"),
    path("oncall/", ov.oncall_board, name="oncall_board"),
    path("oncall/<slug:slug>/", ov.schedule_detail, name="oncall_schedule"),
    path("oncall/<slug:slug>/overrides/", ov.override_new, name="oncall_override_new"),
    path("oncall/<slug:slug>/swaps/", ov.swap_new, name="oncall_swap_new"),
    path("oncall/<slug:slug>/swaps/<id:swap_id>/decide/", ov.swap_decide, name="oncall_swap_decide"),
    path("oncall/<slug:slug>/layers/", ov.layer_new, name="oncall_layer_new"),
    path("components/", cv.component_list, name="component_list"),
    path("components/new/", cv.component_new, name="component_new"),
    path("components/<id:component_id>/edit/", cv.component_edit, name="component_edit"),
    path("components/<id:component_id>/status/", cv.component_status, name="component_status"),
    path("components/groups/new/", cv.component_group_new, name="component_group_new"),
    path("components/groups/<id:group_id>/edit/", cv.component_group_edit, name="component_group_edit"),
    path("deliveries/", dv.delivery_log, name="delivery_log"),
    path("deliveries/<id:message_id>/", dv.message_detail, name="message_detail"),
    path("deliveries/<id:message_id>/progress/", dv.message_progress, name="message_progress"),
    path("deliveries/<id:message_id>/cancel/", dv.message_cancel, name="message_cancel"),
    path("deliveries/retry/<id:delivery_id>/", dv.delivery_retry, name="delivery_retry"),
    path("deliveries/release/<id:delivery_id>/", dv.delivery_release, name="delivery_release"),
    path("deliveries/cancel/<id:delivery_id>/", dv.delivery_cancel, name="delivery_cancel"),
    path("deliveries/<id:message_id>/release-stuck/", dv.message_release_stuck, name="message_release_stuck"),
    path("subscribers/", sv.subscriber_list_view, name="subscriber_list"),
    path("subscribers/export.csv", sv.subscriber_export, name="subscriber_export"),
    path("subscribers/import/", sv.subscriber_import, name="subscriber_import"),
    path("metrics/", mtv.metrics, name="metrics"),
    path("settings/severities/", mtv.severity_settings, name="severity_settings"),
    # Alerts, escalation policies and integrations
    path("alerts/", alv.alert_list, name="alert_list"),
    path("alerts/<id:group_id>/", alv.alert_group_detail, name="alert_group"),
    path("alerts/<id:group_id>/live/", alv.alert_group_escalation_panel, name="alert_group_live"),
    path("alerts/<id:group_id>/snooze/", alv.alert_group_snooze, name="alert_group_snooze"),
    path("alerts/<id:group_id>/declare-incident/", alv.alert_group_declare, name="alert_group_declare"),
    path("alerts/<id:group_id>/<slug:action>/", alv.alert_group_act, name="alert_group_act"),
    path("escalation-policies/", esv.policy_list, name="policy_list"),
    path("escalation-policies/new/", esv.policy_new, name="policy_new"),
    path("escalation-policies/<id:policy_id>/", esv.policy_detail, name="policy_detail"),
    path("escalation-policies/<id:policy_id>/edit/", esv.policy_edit, name="policy_edit"),
    path("escalation-policies/<id:policy_id>/delete/", esv.policy_delete, name="policy_delete"),
    path("escalation-policies/<id:policy_id>/levels/", esv.level_new, name="level_new"),
    path("escalation-policies/<id:policy_id>/levels/<id:level_id>/", esv.level_edit, name="level_edit"),
    path(
        "escalation-policies/<id:policy_id>/levels/<id:level_id>/delete/",
        esv.level_delete,
        name="level_delete",
    ),
    path("escalation-policies/<id:policy_id>/levels/<id:level_id>/move/", esv.level_move, name="level_move"),
    path(
        "escalation-policies/<id:policy_id>/levels/<id:level_id>/targets/", esv.target_new, name="target_new"
    ),
    path(
        "escalation-policies/<id:policy_id>/targets/<id:target_id>/delete/",
        esv.target_delete,
        name="target_delete",
    ),
    path("integrations/", inv.integration_list, name="integration_list"),
    path("integrations/new/", inv.integration_new, name="integration_new"),
    path("integrations/<id:integration_id>/", inv.integration_detail, name="integration_detail"),
    path("integrations/<id:integration_id>/edit/", inv.integration_edit, name="integration_edit"),
    path("integrations/<id:integration_id>/rotate-key/", inv.integration_rotate, name="integration_rotate"),
    path("integrations/<id:integration_id>/routes/", inv.route_new, name="route_new"),
    path("integrations/<id:integration_id>/routes/<id:route_id>/", inv.route_edit, name="route_edit"),
    path(
        "integrations/<id:integration_id>/routes/<id:route_id>/delete/", inv.route_delete, name="route_delete"
    ),
    path("integrations/<id:integration_id>/routes/<id:route_id>/move/", inv.route_move, name="route_move"),
    path("integrations/<id:integration_id>/test/", inv.rule_test, name="rule_test"),
]

# A responder's own contact methods and notification rules (appended: other helpers edit the list above).
from opsportal.portal import contact_views as ctv  # noqa: E402

urlpatterns += [
    path("me/contacts/", ctv.my_contacts, name="my_contacts"),
    path("me/contacts/methods/", ctv.method_add, name="contact_method_add"),
    path("me/contacts/methods/<id:method_id>/code/", ctv.method_send_code, name="contact_method_send_code"),
    path("me/contacts/methods/<id:method_id>/verify/", ctv.method_verify, name="contact_method_verify"),
    path("me/contacts/methods/<id:method_id>/enabled/", ctv.method_enabled, name="contact_method_enabled"),
    path("me/contacts/methods/<id:method_id>/remove/", ctv.method_remove, name="contact_method_remove"),
    path("me/contacts/rules/", ctv.rule_add, name="notification_rule_add"),
    path("me/contacts/rules/<id:rule_id>/remove/", ctv.rule_remove, name="notification_rule_remove"),
]
