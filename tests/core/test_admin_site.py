"""The Django admin is not mounted: staff change things only in the portal, through services that check roles
and write the audit log."""

import pytest
from django.conf import settings


def test_admin_app_is_not_installed():
    assert "django.contrib.admin" not in settings.INSTALLED_APPS


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/django-admin/", "/django-admin/login/", "/admin/", "/admin/auth/user/"])
def test_admin_urls_are_not_found_even_for_a_portal_admin(client_for, alice, path):
    assert client_for(alice).get(path).status_code == 404
    assert client_for(None).get(path).status_code == 404
