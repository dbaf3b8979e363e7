"""After a public change the page is rendered once, by one process, while everyone else is answered at once
with the previous page. Tier 2: the lock and the renderings live in real Redis."""

import threading

import pytest
import redis
from django.conf import settings
from django.http import HttpResponse
from django.test import RequestFactory

from statuspage.public import cache as public_cache
from statuspage.public import publishing
from statuspage.public.cache import cached_public_response

pytestmark = pytest.mark.tier2

factory = RequestFactory()


class Page:
    """A page whose render can be held open, counting how often it is rendered."""

    def __init__(self):
        self.renders = 0
        self.started = threading.Event()
        self.release = threading.Event()
        self.release.set()
        self.text = "first state"

    def render(self):
        self.renders += 1
        self.started.set()
        assert self.release.wait(10), "the test never let the render finish"
        return HttpResponse(f"<p>{self.text}</p>" * 100)


def get(page: Page, name: str = "home", **headers):
    return cached_public_response(factory.get("/", headers=headers), name, page.render)


def change(page: Page, text: str) -> None:
    page.text = text
    publishing._bump_and_broadcast("test")


def test_a_request_during_the_render_gets_the_previous_page_with_its_etag_at_once():
    page = Page()
    before = get(page)
    assert page.renders == 1
    change(page, "second state")
    page.release.clear()
    page.started.clear()
    answers = {}
    renderer = threading.Thread(target=lambda: answers.setdefault("renderer", get(page)))
    renderer.start()
    assert page.started.wait(5)

    during = get(page)  # this process's copy of the previous page
    public_cache._local.clear()  # as another process would: only Redis to go on
    elsewhere = get(page)
    revalidated = get(page, If_None_Match=before["ETag"])
    page.release.set()
    renderer.join(5)

    assert page.renders == 2  # the first state, then the second once
    for answer in (during, elsewhere):
        assert answer.status_code == 200 and b"first state" in answer.content
        assert answer["ETag"] == before["ETag"] and "X-Statuspage-Stale" not in answer
    assert revalidated.status_code == 304
    assert b"second state" in answers["renderer"].content
    after = get(page)
    assert b"second state" in after.content and after["ETag"] == answers["renderer"]["ETag"]
    assert page.renders == 2


def test_two_requests_at_once_after_a_change_render_once():
    page = Page()
    get(page)
    change(page, "second state")
    page.release.clear()
    page.started.clear()
    start = threading.Barrier(2)
    answers = []

    def request():
        start.wait(5)
        answers.append(get(page))
        page.release.set()  # whoever answered first lets the render finish

    threads = [threading.Thread(target=request) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert page.renders == 2  # one for the first state, one for the second
    assert sorted(b"second state" in answer.content for answer in answers) == [False, True]
    assert b"second state" in get(page).content and page.renders == 2


def test_redis_keeps_one_rendering_per_page_however_many_changes():
    page = Page()
    for n in range(5):
        change(page, f"state {n}")
        assert f"state {n}".encode() in get(page).content
        assert f"state {n}".encode() in get(page, name="incident:1").content
    with redis.Redis.from_url(settings.REDIS_URL) as client:
        kept = sorted(key.decode() for key in client.scan_iter("*statuspage:page:*"))
        assert [key.split(":", 2)[2] for key in kept] == [
            "statuspage:page:home",
            "statuspage:page:incident:1",
        ]
        assert all(0 < client.ttl(key) <= public_cache.KEEP_SECONDS for key in kept)
        assert not list(client.scan_iter("*statuspage:rendering:*"))  # every lock released


@pytest.mark.django_db
def test_many_public_changes_leave_a_bounded_number_of_keys_in_redis(client):
    # The real pages, each asked for plain and gzipped, after each of 40 changes: Redis ends with one
    # rendering per page (both encodings live in it), each with a TTL, the version, and no lock left.
    from statuspage.models import Component, ComponentGroup

    group = ComponentGroup.objects.create(name="Checkout")
    for n in range(5):
        Component.objects.create(name=f"Service {n}", group=group, position=n)
    pages = ["/", "/history/", "/history/?before=2026-01"]
    for _ in range(40):
        publishing._bump_and_broadcast("test")
        for path in pages:
            assert client.get(path).status_code == 200
            assert client.get(path, HTTP_ACCEPT_ENCODING="gzip")["Content-Encoding"] == "gzip"
    with redis.Redis.from_url(settings.REDIS_URL) as client_:
        keys = {key.decode().split(":", 2)[2]: client_.ttl(key) for key in client_.scan_iter("*statuspage:*")}
    assert sorted(keys) == [
        "statuspage:page:history:2026-01-01",
        "statuspage:page:history:latest",
        "statuspage:page:home",
        "statuspage:version",
    ]
    assert all(0 < keys[key] <= public_cache.KEEP_SECONDS for key in keys if key != "statuspage:version")
