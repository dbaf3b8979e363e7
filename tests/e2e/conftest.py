"""End-to-end fixtures: the real server (`manage.py run_embedded`, plus Celery in production mode) on the
test database in a subprocess, a headless Chromium, and ways to sign a persona in.

The server and the browser live for the tests/e2e package only: a server left running would claim
timers that later tests create, and Playwright's sync API marks the main thread's event loop as running,
which would break async tests elsewhere in the suite.
"""

from __future__ import annotations

import ctypes
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import global_settings, settings
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
STARTUP_SECONDS = 20.0
PR_SET_PDEATHSIG = 1
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path

    def output(self, lines: int = 200) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=10)


# The servers now running; what they printed is attached to the report of any e2e test that fails.
_running: list[Process] = []


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    # pytest-django creates the test database only for tests it knows use one, and keeps each kind of
    # test together; every test that talks to the server uses the (committed) test database.
    for item in items:
        if "live_server_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.django_db(transaction=True))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed:
        for process in _running:
            report.sections.append((f"{process.name} output (last 200 lines)", process.output()))
    return report


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _database_url(db: dict) -> str:
    engine = db["ENGINE"].rsplit(".", 1)[-1]
    if engine == "sqlite3":
        return f"sqlite:///{Path(db['NAME']).resolve()}"  # an absolute path gives sqlite:////abs/path
    if engine == "postgresql":
        auth = quote(db.get("USER") or "", safe="")
        if db.get("PASSWORD"):
            auth += ":" + quote(db["PASSWORD"], safe="")
        port = f":{db['PORT']}" if db.get("PORT") else ""
        return f"postgres://{auth}@{db.get('HOST') or '127.0.0.1'}{port}/{quote(db['NAME'], safe='')}"
    raise RuntimeError(f"e2e tests do not know how to hand database engine {engine!r} to a subprocess")


def _die_with_parent() -> None:
    # A test run killed outright (CI timeout, kill -9) must not leave a server or worker behind: it would
    # hold the test database open and consume the next run's Redis queue.
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _start(name: str, command: list[str], env: dict, log_dir: Path) -> Process:
    log = log_dir / f"{name}.log"
    with log.open("wb") as out:
        popen = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent
        )
    process = Process(name, popen, log)
    _running.append(process)
    return process


def _wait_until(ready, *, what: str, processes: list[Process], timeout: float = STARTUP_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for process in processes:
            if process.popen.poll() is not None:
                pytest.fail(
                    f"{process.name} exited with code {process.popen.returncode} while waiting for {what}:\n"
                    f"{process.output()}",
                    pytrace=False,
                )
        if ready():
            return
        time.sleep(0.1)  # poll interval, bounded by the deadline
    outputs = "\n".join(f"--- {p.name} ---\n{p.output()}" for p in processes)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{outputs}", pytrace=False)


def _answers_healthz(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def _celery_worker_answers() -> bool:
    from opsportal.celery import app

    return bool(app.control.ping(timeout=0.5))


@pytest.fixture(scope="package")
def live_server_url(django_db_setup, django_db_blocker, tmp_path_factory):
    """Base URL of `manage.py run_embedded` serving the test database (and Celery in production mode).

    Tests that create data must use `transactional_db` so their rows are committed and visible here.
    """
    from django.db import connection

    with django_db_blocker.unblock():
        database_url = _database_url(connection.settings_dict)
    production = settings.RUNNING_MODE == "production"
    env = {key: value for key, value in os.environ.items() if key not in {"DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env.update(
        DEBUG="1",
        DATABASE_URL=database_url,
        PYTHONUNBUFFERED="1",
        LOG_LEVEL="WARNING",
        OPSPORTAL_MODE=settings.RUNNING_MODE,
    )
    if production:
        env["REDIS_URL"] = settings.REDIS_URL
    else:
        env.pop("REDIS_URL", None)
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env["PORT"] = str(port)
    log_dir = tmp_path_factory.mktemp("e2e-servers")
    started = [
        _start(
            "run_embedded",
            [sys.executable, "manage.py", "run_embedded", "--host", "127.0.0.1", "--port", str(port)],
            env,
            log_dir,
        )
    ]
    try:
        if production:
            # Timers fire only where beat and a worker run; --purge drops tasks a killed run left queued.
            started.append(
                _start(
                    "celery",
                    [
                        str(VENV_BIN / "celery"),
                        "-A",
                        "opsportal",
                        "worker",
                        "-Q",
                        "celery,paging",
                        "-B",
                        "--schedule",
                        str(log_dir / "celerybeat-schedule"),
                        "--pool",
                        "threads",
                        "--concurrency",
                        "2",
                        "--loglevel",
                        "WARNING",
                        "--purge",
                    ],
                    env,
                    log_dir,
                )
            )
        _wait_until(lambda: _answers_healthz(port), what=f"{base_url}/healthz", processes=started)
        if production:
            _wait_until(_celery_worker_answers, what="the Celery worker", processes=started)
        yield base_url
    finally:
        for process in started:
            process.stop()
            _running.remove(process)


@pytest.fixture
def real_password_hashing(settings):
    """Hash with the server's hashers: the suite's fast MD5 hasher is unknown to the server process."""
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS


@pytest.fixture
def session_cookie_for(transactional_db):
    """The session cookie value of a signed-in user, stored in the (committed) test database."""

    def make(user) -> str:
        client = Client()
        client.force_login(user)
        return client.cookies[settings.SESSION_COOKIE_NAME].value

    return make


@pytest.fixture(scope="package")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists() and not os.environ.get("CI_REQUIRE_BROWSER"):
        pytest.skip(f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)")

    # The sync API keeps an event loop marked as running in this thread, which trips Django's
    # async-safety check on every ORM call the tests make while the browser is open.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, live_server_url):
    """A fresh browser context (no cookies) on the live server; JavaScript errors land in page.js_errors."""
    from playwright.sync_api import expect

    expect.set_options(timeout=10_000)
    context = browser.new_context(base_url=live_server_url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.js_errors = []
    page.on("pageerror", lambda error: page.js_errors.append(str(error)))
    yield page
    context.close()
