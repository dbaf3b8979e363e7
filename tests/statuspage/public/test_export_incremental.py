"""The static export after a change writes only what changed, with .gz copies, and never leaves its directory."""

import gzip
import json
from datetime import datetime

import pytest
import time_machine
from django.core.management import call_command

from opsportal.incidents import services as incident_services
from statuspage.models import Component
from statuspage.public.export import FIXED_PATHS, export_statuspage, file_for
from statuspage.public.export_files import MANIFEST, UnsafeExportPath, export_lock, target_in

pytestmark = pytest.mark.django_db

NOW = "2026-11-27 14:00:00+00:00"
FIXED_FILES = {file_for(path) for path in FIXED_PATHS}


def _declare(actor, *, title, when, body="We are looking into it."):
    with time_machine.travel(when, tick=False):
        incident = incident_services.incident_declare(
            actor=actor, title=f"internal {title}", public_title=title, severity="P2"
        )
        incident_services.incident_post_update(
            actor=actor, incident=incident, status="investigating", body=body
        )
        incident_services.incident_post_update(
            actor=actor, incident=incident, status="resolved", body="Fixed."
        )
    return incident


@pytest.fixture
def history(rob):
    """Checkout errors in June, search slow in September, both resolved; today is Nov 27."""
    Component.objects.create(name="Checkout")
    june = _declare(rob, title="Checkout errors", when="2026-06-10 09:00:00+00:00")
    september = _declare(rob, title="Search slow", when="2026-09-03 09:00:00+00:00")
    return june, september


def _files(directory):
    """Every served file (not the manifest, the lock or temp files) with its bytes and mtime."""
    return {
        str(path.relative_to(directory)): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in directory.rglob("*")
        if path.is_file() and not path.name.startswith(".")
    }


def test_a_change_to_one_incident_renders_and_writes_only_what_shows_it(tmp_path, rob, history):
    june, september = history
    with time_machine.travel(NOW, tick=False):
        first = export_statuspage(tmp_path)
        before = _files(tmp_path)
        incident_services.incident_post_update(
            actor=rob, incident=june, status="resolved", body="Root cause: an expired certificate."
        )
        outcome = export_statuspage(tmp_path)

    assert first.full and f"incidents/{september.pk}/index.html" in first.written
    # Rendered: the pages every change may touch and the incident's own page. Not September's page, and no
    # history page: June's line there (title, status, start) reads the same.
    assert set(outcome.rendered) == FIXED_FILES - {"history/index.html"} | {f"incidents/{june.pk}/index.html"}
    # Written: only the files whose bytes changed: the June page, the feeds and the incidents JSON.
    assert set(outcome.written) == {
        f"incidents/{june.pk}/index.html",
        "history.rss",
        "history.atom",
        "api/v2/incidents.json",
    }
    after = _files(tmp_path)
    changed = {path for path in after if after[path] != before.get(path)}
    assert changed == set(outcome.written) | {
        f"{path}.gz" for path in outcome.written if f"{path}.gz" in after
    }
    assert "expired certificate" in (tmp_path / f"incidents/{june.pk}/index.html").read_text()
    assert after[f"incidents/{september.pk}/index.html"] == before[f"incidents/{september.pk}/index.html"]


def test_reopening_an_incident_re_renders_the_history_months_that_list_it(tmp_path, rob, history):
    june, _ = history
    with time_machine.travel(NOW, tick=False):
        export_statuspage(tmp_path)
        incident_services.incident_post_update(
            actor=rob, incident=june, status="investigating", body="The errors are back."
        )
        outcome = export_statuspage(tmp_path)
    june_pages = {"history/2026-06/index.html", "history/2026-07/index.html", "history/2026-08/index.html"}
    assert june_pages <= set(outcome.written)
    assert "history/2026-09/index.html" not in outcome.rendered
    assert "history/index.html" not in outcome.rendered  # Sep-Nov: June is not on it
    assert "Investigating" in (tmp_path / "history/2026-07/index.html").read_text()


def test_an_export_with_nothing_changed_renders_and_writes_nothing(tmp_path, history):
    with time_machine.travel(NOW, tick=False) as traveller:
        export_statuspage(tmp_path)
        before = _files(tmp_path)
        manifest = (tmp_path / MANIFEST).stat().st_mtime_ns
        traveller.shift(600)
        again = export_statuspage(tmp_path)
    assert (again.rendered, again.written, again.removed) == ([], [], [])
    assert _files(tmp_path) == before and (tmp_path / MANIFEST).stat().st_mtime_ns == manifest


def test_a_full_export_renders_everything_but_rewrites_no_unchanged_file(tmp_path, history):
    with time_machine.travel(NOW, tick=False):
        export_statuspage(tmp_path)
        before = _files(tmp_path)
        call_command("export_statuspage", str(tmp_path), "--full")
        full = export_statuspage(tmp_path, full=True)
    assert full.full and len(full.rendered) == len([p for p in before if not p.endswith(".gz")]) - 4  # assets
    assert full.written == [] and _files(tmp_path) == before


def test_every_gz_copy_decompresses_to_its_file_and_shares_its_mtime(tmp_path, history):
    with time_machine.travel(NOW, tick=False):
        export_statuspage(tmp_path)
    copies = sorted(tmp_path.rglob("*.gz"))
    assert {"index.html.gz", "history.rss.gz", "summary.json.gz"} <= {path.name for path in copies}
    for copy in copies:
        original = copy.with_name(copy.name.removesuffix(".gz"))
        assert gzip.decompress(copy.read_bytes()) == original.read_bytes()
        assert copy.read_bytes()[4:8] == b"\0\0\0\0"  # mtime 0: the same bytes on every export
        assert copy.stat().st_mtime_ns == original.stat().st_mtime_ns
    # Too small to be worth a copy: no .gz beside it.
    assert not (tmp_path / "api/v2/status.json.gz").exists()


def test_a_deleted_incident_loses_its_page_and_its_gz(tmp_path, history):
    june, september = history
    with time_machine.travel(NOW, tick=False):
        export_statuspage(tmp_path)
        assert (tmp_path / f"incidents/{june.pk}/index.html.gz").exists()
        june_id = june.pk
        june.delete()
        june.pk = june_id
        outcome = export_statuspage(tmp_path)
    assert f"incidents/{june.pk}/index.html" in outcome.removed
    assert not (tmp_path / f"incidents/{june.pk}").exists()
    # June was the oldest month of history: the history now starts in September.
    assert not (tmp_path / "history/2026-08").exists()
    assert "Search slow" in (tmp_path / "history/2026-09/index.html").read_text()
    assert str(june.pk) not in json.loads((tmp_path / MANIFEST).read_text())["incidents"]
    assert (tmp_path / f"incidents/{september.pk}/index.html").exists()


def test_internal_notes_and_titles_never_reach_an_exported_file(tmp_path, rob, history):
    june, _ = history
    with time_machine.travel(NOW, tick=False):
        incident_services.incident_add_note(
            actor=rob, incident=june, body="SECRET-NOTE: the db password rotated"
        )
        export_statuspage(tmp_path)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            text = path.read_bytes()
            text = gzip.decompress(text) if path.suffix == ".gz" else text
            assert b"SECRET-NOTE" not in text and b"internal Checkout" not in text, path


@pytest.mark.parametrize(
    "relative",
    [
        "../escape.html",
        "/etc/passwd",
        "incidents/../../escape.html",
        ".export-manifest.json",
        "a//b",
        "a\\..\\b",
    ],
)
def test_hostile_paths_cannot_leave_the_export_directory(tmp_path, relative):
    with pytest.raises(UnsafeExportPath):
        target_in(tmp_path, relative)


def test_a_hostile_manifest_removes_nothing_outside_and_is_rebuilt(tmp_path, history):
    export_dir = tmp_path / "export"
    outside = tmp_path / "keep.html"
    outside.write_text("mine")
    with time_machine.travel(NOW, tick=False):
        export_statuspage(export_dir)
        manifest = json.loads((export_dir / MANIFEST).read_text())
        manifest["files"]["../keep.html"] = {"sha256": "x", "gz": False}
        manifest["incidents"]["../../etc"] = ["x", "2026-01"]
        manifest["incidents"]["1"] = ["x", "../../etc"]
        manifest["windows"]["7"] = None
        (export_dir / MANIFEST).write_text(json.dumps(manifest))
        export_statuspage(export_dir)
    assert outside.read_text() == "mine"
    assert "../keep.html" not in json.loads((export_dir / MANIFEST).read_text())["files"]


def test_a_second_export_of_the_same_directory_waits_for_the_first(tmp_path):
    with export_lock(tmp_path), pytest.raises(TimeoutError), export_lock(tmp_path, wait=0.1):
        pass
    with export_lock(tmp_path, wait=0.1):
        pass  # free again once the first is done


def test_history_months_are_exported_for_the_static_older_links(tmp_path, history):
    with time_machine.travel(datetime.fromisoformat(NOW), tick=False):
        export_statuspage(tmp_path)
    months = sorted(p.parent.name for p in (tmp_path / "history").glob("*/index.html"))
    assert months == ["2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]
    assert "Checkout errors" in (tmp_path / "history/2026-08/index.html").read_text()
    assert "Checkout errors" not in (tmp_path / "history/2026-09/index.html").read_text()


def test_the_day_turning_re_renders_the_pages_every_change_touches_and_nothing_else(
    tmp_path, settings, history
):
    from statuspage.public.tasks import export_statuspage_files

    settings.STATUSPAGE_EXPORT_DIR = str(tmp_path)
    with time_machine.travel(NOW, tick=False) as traveller:
        export_statuspage_files()
        traveller.shift(24 * 3600)  # no change at all, but the uptime bars and "past days" moved
        outcome = export_statuspage(tmp_path)
    assert set(outcome.rendered) == FIXED_FILES
    assert "index.html" in outcome.written


def test_a_page_gone_by_the_time_it_is_rendered_is_skipped_not_a_crash(db):
    from django.test import RequestFactory

    from statuspage.public.export import _render

    assert _render(RequestFactory(), "/incidents/987654/") is None
