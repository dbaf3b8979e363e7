"""The OpenAPI 3 schema and the docs page, served with no CDN."""

import re

import pytest

pytestmark = pytest.mark.django_db


def test_schema_is_openapi_3_and_lists_the_endpoints(client):
    response = client.get("/api/v1/schema/", headers={"Accept": "application/json"})
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/statuspage/components/" in schema["paths"]
    assert "/api/v1/oncall/teams/" in schema["paths"]
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_docs_page_loads_its_assets_from_this_server(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    external = [
        url
        for url in re.findall(r"""(?:src|href)=["']([^"']+)""", html)
        if url.startswith(("http:", "https:", "//"))
    ]
    assert external == []
    assert "swagger-ui" in html


def test_create_api_token_command_prints_a_working_token(rob, api):
    from io import StringIO

    from django.core.management import call_command

    out, err = StringIO(), StringIO()
    call_command("create_api_token", "rob", "--scopes", "oncall:read,statuspage:read", stdout=out, stderr=err)
    token = out.getvalue().strip()
    assert token.startswith("ops_")
    assert "not shown again" in err.getvalue()
    me = api.get("/api/v1/me/", token=token).json()
    assert me["user"] == "rob" and me["scopes"] == ["oncall:read", "statuspage:read"]


def test_create_api_token_command_explains_bad_scopes(rob):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="Unknown scope"):
        call_command("create_api_token", "rob", "--scopes", "root")
