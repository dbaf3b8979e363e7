"""RSS 2.0 and Atom feeds of the public history: incident updates and maintenance updates, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.template.defaultfilters import linebreaksbr
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed

from opsportal.core.text import one_line, xml_safe
from opsportal.incidents.selectors import public_incidents
from statuspage.public.api_v2_views import public_cors_view
from statuspage.selectors import maintenance_windows_recent
from statuspage.words import status_words

INCIDENTS_IN_FEED = 50
MAINTENANCES_IN_FEED = 50
ENTRIES_IN_FEED = 100


@dataclass(frozen=True)
class HistoryEntry:
    title: str
    description: str
    link: str
    guid: str
    published: datetime


def history_entries() -> list[HistoryEntry]:
    """Every public incident update and maintenance update of the most recent incidents and windows."""
    base = settings.PUBLIC_URL
    entries = []
    for incident in public_incidents()[:INCIDENTS_IN_FEED]:
        for update in incident.public_updates.all():
            label = status_words(update.status)
            entries.append(
                HistoryEntry(
                    title=f"{incident.public_title} — {label}",
                    description=update.body,
                    link=f"{base}/incidents/{incident.pk}/",
                    guid=f"{base}/incidents/{incident.pk}/#update-{update.pk}",
                    published=update.created_at,
                )
            )
    for window in maintenance_windows_recent(limit=MAINTENANCES_IN_FEED, include_cancelled=True):
        for update in window.updates.all():
            label = status_words(update.status)
            entries.append(
                HistoryEntry(
                    title=f"Maintenance: {window.title} — {label}",
                    description=update.body,
                    link=f"{base}/maintenance/{window.pk}/",
                    guid=f"{base}/maintenance/{window.pk}/#update-{update.pk}",
                    published=update.created_at,
                )
            )
    entries.sort(key=lambda entry: (entry.published, entry.guid), reverse=True)
    return entries[:ENTRIES_IN_FEED]


class HistoryRssFeed(Feed):
    feed_type = Rss201rev2Feed
    path = "/history.rss"
    item_guid_is_permalink = False

    def title(self) -> str:
        return f"{settings.STATUSPAGE_NAME}: incident and maintenance history"

    def link(self) -> str:
        return settings.PUBLIC_URL + "/"

    def feed_url(self) -> str:
        return settings.PUBLIC_URL + self.path

    def description(self) -> str:
        return f"Every public update about incidents and maintenance on {settings.STATUSPAGE_NAME}."

    def author_name(self) -> str:
        return settings.STATUSPAGE_NAME

    def items(self) -> list[HistoryEntry]:
        return history_entries()

    def item_title(self, item: HistoryEntry) -> str:
        # Rows stored before the input rules may hold control characters; XML cannot carry them at all.
        return one_line(item.title)

    def item_description(self, item: HistoryEntry) -> str:
        # RSS descriptions and Atom summaries are HTML to feed readers: the body goes in as escaped text
        # (line breaks kept), so "<b>" in an update reads as "<b>", not as markup.
        return linebreaksbr(xml_safe(item.description), autoescape=True)

    def item_link(self, item: HistoryEntry) -> str:
        return item.link

    def item_guid(self, item: HistoryEntry) -> str:
        return item.guid

    def item_pubdate(self, item: HistoryEntry) -> datetime:
        return item.published

    def item_updateddate(self, item: HistoryEntry) -> datetime:
        return item.published


class HistoryAtomFeed(HistoryRssFeed):
    feed_type = Atom1Feed
    path = "/history.atom"

    def subtitle(self) -> str:
        return self.description()


history_rss = public_cors_view("history.rss", HistoryRssFeed())
history_atom = public_cors_view("history.atom", HistoryAtomFeed())
