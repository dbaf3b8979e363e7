"""Two years of planned change for bench/history.py (issue 11): maintenance windows (deploys and flags join here as
issue 12 lands).

About four windows a week over two years (400 at full scale), each on one to five components with its
scheduled → in progress → completed updates (one in twenty cancelled before it started), and a few upcoming. A
completed window put its components under maintenance for its span: those changes go into the components' status
history with the incidents' (history_data._status_history chains them in time order).
"""

from __future__ import annotations

import datetime
import random
from collections import Counter

from opsportal.changes.lifecycle import MaintenanceStatus
from opsportal.changes.models import MaintenanceUpdate, MaintenanceWindow
from statuspage.models import ComponentStatus

WINDOWS = 400
UPCOMING = 3
WORK = [
    ("Database upgrade for {c}", "Writes to {c} may be delayed by up to a minute while we fail over."),
    ("Network maintenance on {c}", "Brief connection resets are possible on {c}."),
    ("Certificate rotation for {c}", "No impact expected; {c} may answer slowly for a few seconds."),
    ("Storage migration for {c}", "Reports and exports from {c} are paused during the window."),
]


def generate_maintenance(
    *, users, components, rng: random.Random, since, now, scale, status_events, counts: Counter
):
    """Write the windows; add their under-maintenance spans to `status_events` (component id → [(at, status)])."""
    n = max(8, round(WINDOWS * scale))
    M = MaintenanceStatus
    windows, plans = [], []
    starts = sorted(since + datetime.timedelta(days=rng.uniform(1, (now - since).days - 2)) for _ in range(n))
    starts += [now + datetime.timedelta(days=2 + 3 * k) for k in range(UPCOMING)]
    for k, start in enumerate(starts):
        start = start.replace(minute=0, second=0, microsecond=0)
        end = start + datetime.timedelta(hours=rng.choice([1, 2, 2, 4]))
        affected = rng.sample(components, rng.randint(1, min(5, len(components))))
        title, body = rng.choice(WORK)
        where = affected[0].name
        author = rng.choice(users)
        if start > now:
            status = M.SCHEDULED
        elif k % 20 == 7:
            status = M.CANCELLED
        else:
            status = M.COMPLETED
        done = status == M.COMPLETED
        windows.append(
            MaintenanceWindow(
                title=title.format(c=where),
                body=body.format(c=where),
                scheduled_for=start,
                scheduled_until=end,
                status=status,
                previous_statuses={str(c.pk): ComponentStatus.OPERATIONAL for c in affected} if done else {},
                started_at=start if done else None,
                completed_at=end if done else None,
                created_by=author,
                created_at=start - datetime.timedelta(days=rng.uniform(2, 14)),
            )
        )
        plans.append((affected, author, status))
    MaintenanceWindow.objects.bulk_create(windows)
    through = MaintenanceWindow.components.through
    links, updates = [], []
    for window, (affected, author, status) in zip(windows, plans, strict=True):
        links += [through(maintenancewindow_id=window.pk, component_id=c.pk) for c in affected]
        steps = [(M.SCHEDULED, window.created_at, "Scheduled.")]
        if status == M.COMPLETED:
            steps += [
                (M.IN_PROGRESS, window.scheduled_for, "The maintenance has started."),
                (M.COMPLETED, window.scheduled_until, "The maintenance is complete."),
            ]
            for component in affected:
                status_events[component.pk] += [
                    (window.scheduled_for, ComponentStatus.UNDER_MAINTENANCE),
                    (window.scheduled_until, ComponentStatus.OPERATIONAL),
                ]
        elif status == M.CANCELLED:
            steps.append((M.CANCELLED, window.scheduled_for - datetime.timedelta(hours=3), "Cancelled."))
        updates += [
            MaintenanceUpdate(window=window, status=step, body=text, created_at=at, author=author)
            for step, at, text in steps
        ]
    through.objects.bulk_create(links)
    MaintenanceUpdate.objects.bulk_create(updates)
    counts["maintenance_windows"] = len(windows)
    counts["maintenance_updates"] = len(updates)
