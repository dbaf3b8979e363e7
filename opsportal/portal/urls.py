from django.contrib.auth import views as auth_views
from django.urls import path

from opsportal.portal import views

app_name = "portal"

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="portal/login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.home, name="home"),
    path("live-check/", views.live_check, name="live_check"),
    path("tokens/", views.api_tokens, name="api_tokens"),
    path("tokens/<int:token_id>/revoke/", views.api_token_revoke_view, name="api_token_revoke"),
    path("staff/", views.staff, name="staff"),
    path("staff/<int:user_id>/role/", views.staff_role, name="staff_role"),
    path("audit/", views.audit_log, name="audit"),
]
