"""A strict Content-Security-Policy on every response: pages, JSON, feeds, health, static files and errors."""

import pytest

STRICT = {
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/history.rss",
        "/api/v2/summary.json",
        "/api/v1/",
        "/api/v1/docs/",
        "/healthz",
        "/portal/login/",
        "/no-such-page/",
        "/static/css/opsportal.css",
    ],
)
def test_every_response_carries_the_strict_policy(client, path):
    response = client.get(path)
    policy = {part.strip() for part in response.headers["Content-Security-Policy"].split(";")}
    assert policy >= STRICT, path
    assert not any("unsafe-inline" in part or "unsafe-eval" in part for part in policy)
