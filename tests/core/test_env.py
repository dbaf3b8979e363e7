"""Environment readers: pure, no database."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from opsportal.core.env import database_from_url, env_bool, env_int, env_list


def test_env_bool_reads_common_spellings(monkeypatch):
    for raw, expected in [
        ("1", True),
        ("yes", True),
        ("On", True),
        ("0", False),
        ("false", False),
        ("", False),
    ]:
        monkeypatch.setenv("FLAG", raw)
        assert env_bool("FLAG") is expected


def test_env_bool_rejects_nonsense_with_a_clear_message(monkeypatch):
    monkeypatch.setenv("FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="FLAG must be a boolean"):
        env_bool("FLAG")


def test_env_int_default_and_error(monkeypatch):
    monkeypatch.delenv("PORT", raising=False)
    assert env_int("PORT", 8000) == 8000
    monkeypatch.setenv("PORT", "eighty")
    with pytest.raises(ImproperlyConfigured, match="PORT must be an integer"):
        env_int("PORT", 8000)


def test_env_list_splits_and_trims(monkeypatch):
    monkeypatch.setenv("ALLOWED_HOSTS", " status.example.com, ,portal.example.com ")
    assert env_list("ALLOWED_HOSTS") == ["status.example.com", "portal.example.com"]


def test_database_from_url_postgres():
    config = database_from_url("postgres://ops:s%40cret@db.internal:6432/opsportal?sslmode=require")
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["USER"], config["PASSWORD"], config["HOST"], config["PORT"]) == (
        "ops",
        "s@cret",
        "db.internal",
        "6432",
    )
    assert config["NAME"] == "opsportal"
    assert config["OPTIONS"] == {"sslmode": "require"}


def test_database_from_url_sqlite_paths():
    assert database_from_url("sqlite:////srv/ops/db.sqlite3")["NAME"] == "/srv/ops/db.sqlite3"
    assert database_from_url("sqlite:///var/db.sqlite3")["NAME"] == "var/db.sqlite3"


def test_database_from_url_rejects_unknown_scheme():
    with pytest.raises(ImproperlyConfigured, match="not supported"):
        database_from_url("mysql://root@localhost/ops")
