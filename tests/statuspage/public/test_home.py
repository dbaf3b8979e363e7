"""The public status page: no login, components by group, status in words as well as colour."""

import pytest

from statuspage.models import Component, ComponentGroup

pytestmark = pytest.mark.django_db


def test_the_public_page_lists_components_by_group_with_status_words(client):
    checkout = ComponentGroup.objects.create(name="Checkout")
    Component.objects.create(name="Card payments", group=checkout, status="partial_outage")
    Component.objects.create(name="Internal billing job", group=checkout, showcase=False)
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Partial System Outage" in html
    assert "Card payments" in html and "Partial outage" in html
    assert "Internal billing job" not in html


def test_htmx_is_served_from_this_server(client):
    html = client.get("/").content.decode()
    assert 'src="/static/django_htmx/htmx-2.min.js"' in html
    assert "unpkg.com" not in html and "jsdelivr" not in html


def test_etags_match_lists_weak_tags_and_star(client):
    etag = client.get("/")["ETag"]
    for header in (etag, f'"other", {etag}', f"W/{etag}", "*"):
        assert client.get("/", headers={"If-None-Match": header}).status_code == 304, header
    assert client.get("/", headers={"If-None-Match": '"other"'}).status_code == 200


def test_pages_are_served_gzipped_to_clients_that_ask_with_their_own_etag(client):
    import gzip

    plain = client.get("/")
    packed = client.get("/", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert packed["Content-Encoding"] == "gzip" and packed["Vary"] == "Accept-Encoding"
    assert gzip.decompress(packed.content) == plain.content
    assert packed["ETag"] != plain["ETag"]
    again = client.get("/", headers={"Accept-Encoding": "gzip", "If-None-Match": packed["ETag"]})
    assert again.status_code == 304
